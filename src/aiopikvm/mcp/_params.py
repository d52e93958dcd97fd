"""The arguments the tools share, with the JSON schema and the words an agent reads."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

X = Annotated[
    int,
    Field(ge=0, description="Pixels from the left edge of your last screenshot (0..width-1)."),
]
Y = Annotated[
    int,
    Field(ge=0, description="Pixels from the top edge of your last screenshot (0..height-1)."),
]
Button = Annotated[Literal["left", "right", "middle"], Field(description="The mouse button.")]
Force = Annotated[
    bool,
    Field(
        description=(
            "Send input although a human seems to be using the device (another session is "
            "open on it, or input arrived that this server did not send). Only when you "
            "know you may take over."
        )
    ),
]
DeviceName = Annotated[
    str | None,
    Field(description="The device to use (see list_devices); omit for the server's first."),
]
Region = Annotated[
    list[int] | None,
    Field(
        min_length=4,
        max_length=4,
        description=(
            "Only this box, [left, top, right, bottom] in screenshot pixels (right and "
            "bottom excluded); omit for the whole screen."
        ),
    ),
]
Regex = Annotated[
    bool, Field(description="text is a regular expression (Python's), not a substring.")
]
Timeout = Annotated[
    float, Field(gt=0, le=600, description="Seconds to wait at most before giving up.")
]
Confirm = Annotated[
    bool,
    Field(description="Must be true: you have checked that this is what should happen now."),
]
