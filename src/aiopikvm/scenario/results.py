"""What a run gives back: a result per step (with its filmstrip), and the run's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import PiKVMError

Status = Literal["passed", "failed", "skipped"]


class ScenarioAssertionError(PiKVMError):
    """An ``assert`` step found the screen without what it looked for; ``last_text`` is
    what the screen read."""

    def __init__(self, message: str, *, last_text: str = "") -> None:
        super().__init__(message)
        self.last_text = last_text


class StepFailedError(PiKVMError):
    """A scenario's step failed: ``step`` is its :class:`StepResult` (number, name, why),
    ``cause`` the error it ended with, ``result`` the whole :class:`RunResult`."""

    def __init__(self, message: str, *, step: StepResult, result: RunResult, cause: BaseException):
        super().__init__(message)
        self.step = step
        self.result = result
        self.cause = cause


@dataclass
class Frame:
    """A picture of the screen (JPEG or PNG bytes) taken during a step."""

    label: str
    data: bytes = field(repr=False)
    time: float = 0.0


@dataclass
class StepResult:
    number: int
    """1-based, as the reports count."""
    kind: str
    label: str
    status: Status = "skipped"
    started: float = 0.0
    duration: float = 0.0
    attempts: int = 0
    message: str | None = None
    """Why it failed; for a passed step, what it did (``upload skipped: identical``)."""
    error_type: str | None = None
    ocr_text: str | None = None
    frames: list[Frame] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    """Files saved for this step (its screenshots; on failure the screen, its text, the
    last frames)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "name": self.label,
            "status": self.status,
            "started": self.started,
            "duration": round(self.duration, 3),
            "attempts": self.attempts,
            "message": self.message,
            "error_type": self.error_type,
            "artifacts": self.artifacts,
        }


@dataclass
class RunResult:
    name: str
    steps: list[StepResult]
    started: float = 0.0
    duration: float = 0.0
    output_dir: str | None = None
    error: BaseException | None = None
    """What the failed step ended with (None when the run passed)."""

    @property
    def ok(self) -> bool:
        return all(step.status == "passed" for step in self.steps)

    @property
    def failed(self) -> StepResult | None:
        return next((step for step in self.steps if step.status == "failed"), None)

    def as_dict(self) -> dict[str, Any]:
        failed = self.failed
        return {
            "name": self.name,
            "ok": self.ok,
            "started": self.started,
            "duration": round(self.duration, 3),
            "failed_step": None if failed is None else failed.number,
            "output_dir": self.output_dir,
            "steps": [step.as_dict() for step in self.steps],
        }
