"""H.264 access units as kvmd-media sends them (Annex B): which NAL units one holds.

ustreamer's encoder opens every keyframe with the SPS (NAL type 7; the recorded
``media_ws_pure`` frames start ``00000001 27``) and the PPS before the IDR slice (type 5);
a delta frame is a non-IDR slice (type 1, ``00000001 21``).
"""

from __future__ import annotations

from typing import Final

NAL_IDR: Final = 5
NAL_SPS: Final = 7
_START: Final = b"\x00\x00\x01"


def nal_types(data: bytes) -> list[int]:
    """The types of the NAL units in an Annex B access unit, in order."""
    types: list[int] = []
    at = data.find(_START)
    while at >= 0 and at + 3 < len(data):
        types.append(data[at + 3] & 0x1F)
        at = data.find(_START, at + 3)
    return types


def is_keyframe(data: bytes) -> bool:
    """Whether a decoder can start at this access unit: it carries an SPS or an IDR slice."""
    types = nal_types(data)
    return NAL_SPS in types or NAL_IDR in types
