"""The errors kvmd answers with its JSON envelope.

The wire shows only the exception's class name (``error``) and its text (``error_msg``),
so the class names here are kvmd's, letter for letter, and each carries the HTTP status
kvmd's request wrapper gives it.
"""

from __future__ import annotations

from typing import ClassVar


class KvmdError(Exception):
    """Base of every error the emulator reports in kvmd's envelope."""

    status: ClassVar[int] = 400


class ValidatorError(KvmdError):
    """A query or form value kvmd's validators refuse (400)."""


class OperationError(KvmdError):
    """An operation the device cannot perform in its current state (400)."""


class IsBusyError(KvmdError):
    """The subsystem is already doing something (409)."""

    status = 409


class AtxIsBusyError(IsBusyError):
    def __init__(self) -> None:
        super().__init__("Performing another ATX operation, please try again later")


class MsdIsBusyError(IsBusyError):
    def __init__(self) -> None:
        super().__init__("Performing another MSD operation, please try again later")


class AtxDisabledError(OperationError):
    def __init__(self) -> None:
        super().__init__("ATX is disabled")


class LogReaderDisabledError(OperationError):
    def __init__(self) -> None:
        super().__init__("LogReader is disabled")


class OcrError(OperationError):
    """kvmd's OCR failing; on a device without Tesseract, every recognition."""


class MsdDisabledError(OperationError):
    def __init__(self) -> None:
        super().__init__("MSD is disabled")


class MsdConnectedError(OperationError):
    def __init__(self) -> None:
        super().__init__("MSD is connected to Server, but shouldn't for this operation")


class MsdDisconnectedError(OperationError):
    def __init__(self) -> None:
        super().__init__("MSD is disconnected from Server, but should be for this operation")


class MsdImageNotSelected(OperationError):
    def __init__(self) -> None:
        super().__init__("The image is not selected")


class MsdUnknownImageError(OperationError):
    def __init__(self) -> None:
        super().__init__("The image is not found in the storage")


class MsdImageExistsError(OperationError):
    def __init__(self) -> None:
        super().__init__("This image is already exists")


class UnauthorizedError(KvmdError):
    """No credentials at all (401)."""

    status = 401

    def __init__(self) -> None:
        super().__init__("Unauthorized")


class ForbiddenError(KvmdError):
    """Credentials that were present but wrong (403)."""

    status = 403

    def __init__(self) -> None:
        super().__init__("Forbidden")


class UnavailableError(KvmdError):
    """A service behind kvmd cannot answer, e.g. a snapshot with no video (503)."""

    status = 503

    def __init__(self) -> None:
        super().__init__("Service Unavailable")


class StreamerQualityNotSupported(OperationError):
    def __init__(self) -> None:
        super().__init__("This streamer does not support quality settings")


class StreamerResolutionNotSupported(OperationError):
    def __init__(self) -> None:
        super().__init__("This streamer does not support resolution settings")


class StreamerH264NotSupported(OperationError):
    def __init__(self) -> None:
        super().__init__("This streamer does not support H264")


class HttpError(KvmdError):
    """kvmd's own refusal of a request it cannot route to an operation (Redfish ids, bodies)."""


class GpioChannelNotFoundError(OperationError):
    def __init__(self) -> None:
        super().__init__("GPIO channel is not found")


class GpioSwitchNotSupported(OperationError):
    def __init__(self) -> None:
        super().__init__("This GPIO channel does not support switching")


class GpioPulseNotSupported(OperationError):
    def __init__(self) -> None:
        super().__init__("This GPIO channel does not support pulsing")


class GpioChannelIsBusyError(IsBusyError):
    def __init__(self) -> None:
        super().__init__(
            "Performing another GPIO operation on this channel, please try again later"
        )


class SwitchUnknownEdidError(OperationError):
    def __init__(self) -> None:
        super().__init__("No specified EDID ID found")
