from __future__ import annotations

from ._base import Resource


class Auth(Resource):
    """Checking credentials (``/api/auth``)."""

    async def check(self) -> None:
        """Returns if the device accepts the credentials; raises
        :class:`~aiopikvm.AuthError` (401 or 403) if not."""
        await self._kvm.request("GET", "auth/check")
