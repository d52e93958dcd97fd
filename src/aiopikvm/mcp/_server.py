"""The MCP server: its tools for the settings given, and running it over stdio or HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from mcp.server.mcpserver import MCPServer

from .._version import __version__
from . import _tools_device, _tools_input, _tools_screen
from ._audit import Audit
from ._context import Context, KeyParser
from ._device import Device
from ._safety import Safety

INSTRUCTIONS: Final = """\
You operate a real computer through a PiKVM: you see its screen and use its keyboard and
mouse as a person at it would. Start with screenshot (or device_info). Coordinates are pixels
of your latest screenshot; find_text gives where a label or a button's text is, to click
its center. After an action, wait_for_text or wait_for_screen instead of guessing how long
it takes. Type with type_text (exact characters, for the host's layout);
shortcuts with press_keys. If input is refused because a human is using the machine, stop
and ask; use force only when told you may. Power and media changes need confirm: true.
"""


def build(devices: Sequence[Device], safety: Safety, audit: Audit, keys: KeyParser) -> MCPServer:
    """The server for ``devices`` (the first is the default), with the tools ``safety``
    allows: without input, power and media tools when read-only. The caller closes the
    devices (:meth:`Device.aclose`) once it is done serving."""
    ctx = Context({device.name: device for device in devices}, safety, audit, keys)

    app: MCPServer = MCPServer(
        "pikvm",
        title="PiKVM",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )
    _tools_screen.register(app, ctx)
    if not safety.read_only:
        _tools_input.register(app, ctx)
    _tools_device.register(app, ctx, read_only=safety.read_only)
    return app
