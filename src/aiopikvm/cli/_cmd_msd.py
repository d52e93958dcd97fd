"""Virtual media: ``msd list|upload|connect|disconnect|remove|download``."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from ._exit import CliError, ExitCode
from ._media import file_or_stdout, one_device
from ._run import execute, output

if TYPE_CHECKING:
    from .. import PiKVM

BUSY_WAIT = 5.0
"""Seconds connect/disconnect try again while kvmd answers 409 (MsdIsBusyError)."""
IMAGE_WAIT = 30.0
"""Seconds the storage may take to list a new image, or to forget a removed one."""
POLL = 0.1


def register(cli: click.Group) -> None:
    cli.add_command(msd)


@click.group()
def msd() -> None:
    """Virtual media: images in the device's storage, shown to the host as a drive."""


@contextlib.contextmanager
def _kvmd_errors() -> Iterator[None]:
    """kvmd answers an unknown image with 400 ``MsdUnknownImageError``: exit code 4; a
    change while the drive is plugged in with ``MsdConnectedError``: say what to do."""
    from ..errors import BadRequestError

    try:
        yield
    except BadRequestError as exc:
        if exc.error == "MsdUnknownImageError":
            raise CliError(str(exc), ExitCode.NOT_FOUND) from None
        if exc.error == "MsdConnectedError":
            hint = "unplug the drive first: pikvm msd disconnect"
            raise CliError(f"{exc} ({hint})", ExitCode.FAILED) from None
        raise


def _summary(state: Any) -> dict[str, Any]:
    drive = state.drive
    images = state.storage.images if state.storage is not None else {}
    return {
        "busy": state.busy,
        "drive": None
        if drive is None
        else {
            "image": drive.image.name if drive.image is not None else None,
            "connected": drive.connected,
            "cdrom": drive.cdrom,
            "rw": drive.rw,
        },
        "images": [
            {"name": name, **image.model_dump(mode="json", exclude={"name", "in_storage"})}
            for name, image in images.items()
        ],
    }


def _show(summary: dict[str, Any]) -> str:
    from rich.filesize import decimal

    drive = summary["drive"] or {}
    lines = []
    for image in summary["images"]:
        flags = [] if image["complete"] else ["incomplete"]
        if image["name"] == drive.get("image"):
            flags.append("connected" if drive["connected"] else "selected")
        lines.append(f"{image['name']}  {decimal(image['size'])}  {' '.join(flags)}".rstrip())
    kind = "CD-ROM" if drive.get("cdrom") else "flash drive" + (" (rw)" if drive.get("rw") else "")
    where = f"connected: {drive['image']}" if drive.get("connected") else "not connected"
    lines.append(f"drive: {kind}, {where}")
    return "\n".join(lines)


async def _state(kvm: PiKVM) -> dict[str, Any]:
    return _summary(await kvm.msd.get_state())


@msd.command("list")
@click.pass_context
def msd_list(ctx: click.Context) -> None:
    """The images in storage, and what the drive shows the host."""
    execute(ctx, output(ctx), _state, _show)


_mode = click.option(
    "--cdrom/--flash", default=None, help="Show it as a CD-ROM or a flash drive [unchanged]."
)


async def _connect(kvm: PiKVM, name: str | None, cdrom: bool | None, rw: bool | None) -> None:
    with _kvmd_errors():
        if name is not None or cdrom is not None or rw is not None:
            params: dict[str, Any] = {"cdrom": cdrom, "rw": rw}
            if name is not None:
                params["image"] = name
            await kvm.msd.set_params(**params, busy_wait=BUSY_WAIT)
        await kvm.msd.set_connected(True, busy_wait=BUSY_WAIT)


async def _until_unlisted(kvm: PiKVM, name: str) -> None:
    """Wait until the storage no longer lists ``name``: kvmd refuses an upload under a
    name its (lagging) storage watcher still lists (``MsdImageExistsError``)."""
    from ..errors import PiKVMTimeoutError

    loop = asyncio.get_running_loop()
    deadline = loop.time() + IMAGE_WAIT
    while True:
        storage = (await kvm.msd.get_state()).storage
        if storage is None or name not in storage.images:
            return
        if loop.time() >= deadline:
            raise PiKVMTimeoutError(
                f"the device still lists {name!r} {IMAGE_WAIT} s after removing it"
            )
        await asyncio.sleep(POLL)


@msd.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--name", help="The image's name on the device [FILE's name].")
@click.option("--connect", is_flag=True, help="Then select it and plug it into the host.")
@_mode
@click.option("--replace", is_flag=True, help="Remove an image of that name first.")
@click.pass_context
def msd_upload(
    ctx: click.Context,
    file: str,
    name: str | None,
    connect: bool,
    cdrom: bool | None,
    replace: bool,
) -> None:
    """Upload FILE into storage (a progress bar on stderr).

    Ctrl-C stops it and the device deletes the part it got (kvmd's remove_incomplete).
    With --connect a drive that shows another image is unplugged first.
    """
    name = name or os.path.basename(file)
    out = output(ctx)
    size = os.path.getsize(file)

    async def action(kvm: PiKVM) -> Any:
        state = await kvm.msd.get_state()
        drive, storage = state.drive, state.storage
        if connect and drive is not None and drive.connected:
            await kvm.msd.set_connected(False)
        elif drive is not None and drive.connected:
            raise CliError(
                "the drive is connected to the host, and kvmd takes no upload then: "
                "`pikvm msd disconnect` first, or give --connect",
                ExitCode.FAILED,
            )
        if storage is not None and name in storage.images:
            if not replace:
                raise CliError(
                    f"the device has an image {name!r} already: give --replace, or --name",
                    ExitCode.FAILED,
                )
            await kvm.msd.remove(name)
            await _until_unlisted(kvm, name)
        try:
            with out.progress(f"uploading {name}", size, transfer=True) as update:
                # remove_incomplete: an upload cut short (Ctrl-C, a dead link) leaves nothing.
                written = await kvm.msd.upload(name, file, remove_incomplete=True, progress=update)
        except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels, then raises it
            out.note(f"upload of {name} stopped: the device deletes the part it got")
            raise
        # Done when the storage lists it: the next command (connect, download) finds it.
        await kvm.msd.wait_for_image(written.name, timeout=IMAGE_WAIT)
        result: dict[str, Any] = {"image": written.model_dump(mode="json"), "connected": False}
        if connect:
            await _connect(kvm, written.name, cdrom, None)
            result["connected"] = True
        return result

    def show(result: dict[str, Any]) -> str:
        image = result["image"]
        text = f"uploaded {image['name']} ({image['written']} bytes)"
        return text + ("; connected to the host" if result["connected"] else "")

    execute(ctx, out, action, show, fleet=False)


@msd.command("connect")
@click.argument("name", required=False)
@_mode
@click.option("--rw", is_flag=True, default=None, help="A writable flash drive.")
@click.pass_context
def msd_connect(ctx: click.Context, name: str | None, cdrom: bool | None, rw: bool | None) -> None:
    """Plug the drive into the host, showing NAME (default: the selected image)."""

    async def action(kvm: PiKVM) -> Any:
        await _connect(kvm, name, cdrom, rw)
        return await _state(kvm)

    execute(ctx, output(ctx), action, lambda s: f"connected: {s['drive']['image']}")


@msd.command("disconnect")
@click.pass_context
def msd_disconnect(ctx: click.Context) -> None:
    """Unplug the drive from the host."""

    async def action(kvm: PiKVM) -> Any:
        await kvm.msd.set_connected(False, busy_wait=BUSY_WAIT)
        return await _state(kvm)

    execute(ctx, output(ctx), action, lambda _: "disconnected")


@msd.command("remove")
@click.argument("name")
@click.pass_context
def msd_remove(ctx: click.Context, name: str) -> None:
    """Delete the image NAME from storage."""

    async def action(kvm: PiKVM) -> Any:
        with _kvmd_errors():
            await kvm.msd.remove(name)
        await _until_unlisted(kvm, name)  # so that the next command sees it gone
        return {"removed": name}

    execute(ctx, output(ctx), action, lambda _: f"removed {name}")


@msd.command("download")
@click.argument("name")
@click.option("-o", "--output", "path", required=True, metavar="FILE", help="FILE, or - (stdout).")
@click.option("--compress", type=click.Choice(["lzma", "zstd"]), help="Compressed by the device.")
@click.pass_context
def msd_download(ctx: click.Context, name: str, path: str, compress: Any) -> None:
    """Save the image NAME to FILE (a progress bar on stderr)."""
    out = output(ctx)

    async def action(kvm: PiKVM) -> int:
        storage = (await kvm.msd.get_state()).storage
        image = storage.images.get(name) if storage is not None else None
        if storage is not None and image is None:
            raise CliError(
                f"the device has no image {name!r} (see `pikvm msd list`)", ExitCode.NOT_FOUND
            )
        total = image.size if image is not None and compress is None else 0
        done = 0
        with (
            file_or_stdout(path) as file,
            out.progress(f"downloading {name}", total or None, transfer=True) as update,
        ):
            async with contextlib.aclosing(
                kvm.msd.iter_download(name, compress=compress)
            ) as chunks:
                with _kvmd_errors():
                    async for chunk in chunks:
                        file.write(chunk)
                        done += len(chunk)
                        update(done, max(total, done))
        return done

    written = one_device(ctx, action)
    if path != "-":
        out.result(
            {"image": name, "file": path, "bytes": written},
            lambda r: f"saved {path} ({written} bytes)",
        )
