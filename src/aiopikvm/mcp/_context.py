"""What every tool call goes through: finding its device, the safety checks its kind needs,
the audit line, and turning the outcome — a result, a refusal, an error — into what the
agent reads (an error says what to do; a wait that gave up shows the screen)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mcp_types import CallToolResult, ImageContent, TextContent

from ..errors import PiKVMError
from ._audit import Audit
from ._device import Device
from ._safety import Refused, Safety

Kind = Literal["look", "input", "power", "media"]
Body = Callable[[Device], Awaitable[CallToolResult]]
KeyParser = Callable[[str], list[str]]
"""``"ctrl+alt+del"`` -> kvmd's key names; raises an exception whose message says why not."""


def text_result(data: Mapping[str, Any] | str) -> CallToolResult:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)])


def image_content(jpeg: bytes) -> ImageContent:
    return ImageContent(
        type="image", data=base64.b64encode(jpeg).decode("ascii"), mime_type="image/jpeg"
    )


@dataclass
class Context:
    """The server's devices (the first is the default), settings, audit log and key names."""

    devices: dict[str, Device]
    safety: Safety
    audit: Audit
    keys: KeyParser

    def device(self, name: str | None) -> Device:
        if name is None:
            return next(iter(self.devices.values()))
        try:
            return self.devices[name]
        except KeyError:
            known = ", ".join(self.devices)
            raise Refused(f"no device {name!r} on this server (list_devices: {known})") from None

    async def call(
        self,
        tool: str,
        kind: Kind,
        arguments: dict[str, Any],
        body: Body,
        *,
        force: bool = False,
        check: Callable[[Device], None] | None = None,
    ) -> CallToolResult:
        """``body(device)`` for the tool, after ``check(device)`` (the arguments' own
        test, before anything is sent) and the checks of its ``kind``."""
        started = time.monotonic()
        name = arguments.get("device")
        try:
            device = self.device(name)
            name = device.name
            if check is not None:
                check(device)
            if kind == "input":
                await self._may_input(device, force)
                device.takeover.sent()
                try:
                    result = await body(device)
                finally:
                    device.takeover.sent()
            else:
                result = await body(device)
        except Refused as exc:
            self.audit.write(
                tool, name, arguments, "refused", seconds=_since(started), detail=str(exc)
            )
            return _error(f"refused: {exc}")
        except (PiKVMError, ValueError) as exc:
            self.audit.write(
                tool, name, arguments, "error", seconds=_since(started), detail=str(exc)
            )
            return await _failure(exc, self.devices.get(name or ""))
        except Exception as exc:  # a key name the parser refused, a missing OCR: say so
            self.audit.write(
                tool, name, arguments, "error", seconds=_since(started), detail=str(exc)
            )
            return _error(str(exc) or type(exc).__name__)
        self.audit.write(tool, name, arguments, "ok", seconds=_since(started))
        return result

    async def _may_input(self, device: Device, force: bool) -> None:
        if self.safety.read_only:
            raise Refused("this server is read-only: it only looks at the screen")
        device.rate.take()
        if not force:
            reason = await device.human()
            if reason is not None:
                raise Refused(reason)


def _since(started: float) -> float:
    return time.monotonic() - started


def _error(text: str, *extra: ImageContent) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text), *extra], is_error=True)


async def _failure(exc: Exception, device: Device | None) -> CallToolResult:
    """An error as the agent reads it; a wait that gave up adds the screen as it was."""
    snapshot = getattr(exc, "last_snapshot", None)
    if isinstance(snapshot, bytes) and device is not None:
        picture, geometry = await device.picture(snapshot)
        note = json.dumps({"screenshot": geometry.describe()})
        return _error(f"{exc}\nthe screen when it gave up: {note}", image_content(picture))
    return _error(str(exc))
