"""The exit codes of ``pikvm``, and which error gives which."""

from __future__ import annotations

import enum

from ..errors import (
    AuthError,
    BusyError,
    InvalidInputError,
    NotFoundError,
    PiKVMConnectionError,
    PiKVMTimeoutError,
    UntypableTextError,
    WaitTimeoutError,
)


class ExitCode(enum.IntEnum):
    """What ``pikvm`` exits with. A fleet exits with the code its failed devices share,
    or ``FAILED`` when they differ."""

    OK = 0
    FAILED = 1
    """The device refused or failed the command (any other error)."""
    USAGE = 2
    """A bad flag or argument, a missing or broken profile, a bad config file."""
    AUTH = 3
    """The device refused the credentials (401/403), or no password was found."""
    NOT_FOUND = 4
    """The device has no such thing (404: an image, a GPIO channel, ...)."""
    BUSY = 5
    """The device is busy with another operation (409)."""
    TIMEOUT = 6
    """The device did not answer in time, or what was awaited did not happen."""
    CONNECTION = 7
    """The device could not be reached, TLS failed, or the link broke."""
    UNTYPABLE = 8
    """The text has characters the layout cannot type: nothing was typed."""
    INTERRUPTED = 130
    """Ctrl-C (SIGINT)."""


class CliError(Exception):
    """A failure of the command line itself (config, password sources): one line, a code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code


def code_for(error: BaseException) -> ExitCode:
    """The exit code for an error a command ended with."""
    # Order matters: UntypableTextError is an InvalidInputError, PiKVMTimeoutError a
    # PiKVMConnectionError.
    checks: tuple[tuple[type[BaseException], ExitCode], ...] = (
        (CliError, ExitCode.USAGE),
        (UntypableTextError, ExitCode.UNTYPABLE),
        (InvalidInputError, ExitCode.USAGE),
        (AuthError, ExitCode.AUTH),
        (NotFoundError, ExitCode.NOT_FOUND),
        (BusyError, ExitCode.BUSY),
        (PiKVMTimeoutError, ExitCode.TIMEOUT),
        (WaitTimeoutError, ExitCode.TIMEOUT),
        (PiKVMConnectionError, ExitCode.CONNECTION),
        (KeyboardInterrupt, ExitCode.INTERRUPTED),
    )
    if isinstance(error, CliError):
        return error.code
    for kind, code in checks:
        if isinstance(error, kind):
            return code
    return ExitCode.FAILED
