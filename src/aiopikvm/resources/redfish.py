from __future__ import annotations

from ._base import Resource


class Redfish(Resource):
    """The DMTF Redfish API kvmd serves (``/api/redfish/v1``): plain JSON, no envelope."""
