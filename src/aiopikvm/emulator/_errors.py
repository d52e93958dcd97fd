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
