"""aiopikvm without asyncio: the same client, blocking.

    from aiopikvm.sync import PiKVM

    with PiKVM("https://pikvm.local", user="admin", passwd="admin") as kvm:
        kvm.atx.power_on(wait=True)
        with kvm.ws() as ws:
            ws.send_key("Enter")

Each client runs the async one on an event loop of its own, in a daemon thread; its
methods take the same arguments and return the same models, and raise the same
exceptions (:mod:`aiopikvm.errors`). A client may be shared by several threads.
"""

from __future__ import annotations

from ._client import PiKVM
from ._websocket import PiKVMWebSocket

__all__ = ["PiKVM", "PiKVMWebSocket"]
