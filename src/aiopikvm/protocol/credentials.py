"""What kvmd accepts as a user name and a password, checked before anything is sent."""

from __future__ import annotations

import re
from typing import Final

USER_PATTERN: Final = re.compile(r"^[a-z_]([a-z0-9@._-]*[a-z0-9_-])?$")
PASSWD_MAX: Final = 512


def user_problem(user: str) -> str | None:
    """Why kvmd would refuse this user name, or ``None``."""
    if not USER_PATTERN.fullmatch(user):
        return "kvmd user names are lowercase letters, digits and @._- (like a Unix login)"
    return None


def passwd_problem(passwd: str) -> str | None:
    """Why kvmd would refuse this password, or ``None``; never echoes the password."""
    if len(passwd) > PASSWD_MAX:
        return f"kvmd passwords are at most {PASSWD_MAX} characters"
    if not all(" " <= ch <= "~" for ch in passwd):
        return "kvmd passwords are printable ASCII only"
    return None
