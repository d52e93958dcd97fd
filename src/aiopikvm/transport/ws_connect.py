"""Opening ``/api/ws``: websockets' ``connect``, minus the ways it could leak credentials.

- Redirects are not followed. websockets follows them, to other hosts too, and strips only
  ``Authorization`` and ``Cookie`` on the way: kvmd's ``X-KVMD-Passwd`` would travel along.
  A 3xx is raised like any other refusal (kvmd redirects no correct API call).
- A pinned certificate (:class:`~aiopikvm.transport.pinning.PinnedSSLContext`) is checked
  before the handshake carries the credentials.
- websockets' debug log of the handshake shows credential headers as ``***``.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from websockets.asyncio import client

from ..errors import RequestInfo
from .pinning import PinnedSSLContext
from .redaction import HandshakeLogger

_LOGGER: Final = HandshakeLogger(logging.getLogger("websockets.client"))


class connect(client.connect):  # a drop-in for websockets.asyncio.client.connect
    def __init__(self, uri: str, **kwargs: Any) -> None:
        kwargs.setdefault("logger", _LOGGER)
        super().__init__(uri, **kwargs)

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc

    async def connect(self) -> client.ClientConnection:
        pinned = self.create_connection_kwargs.get("ssl")
        if isinstance(pinned, PinnedSSLContext):
            await pinned.verify_peer(
                self.uri, timeout=self.open_timeout, request=RequestInfo("GET", self.uri)
            )
        return await super().connect()
