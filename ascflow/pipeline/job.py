"""What a step is given and what it gives back: the run's request and the results of the steps it needs; a
result, or a wait for something outside the run (Apple, the customer, a person)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, Field

from ascflow.pipeline.request import OnboardingRequest
from ascflow.pipeline.waiting import WaitKind

T = TypeVar("T")


class ResourceRow(NamedTuple):
    """One Apple resource a step made sure of, as the summary lists it."""

    what: str
    apple_id: str
    this_run: str  # "created", "reused", "uploaded", ...


def made(created: bool) -> str:
    return "created" if created else "reused"


class StepResult(BaseModel):
    """What every step's result tells the summary: its outcome in a few words, and the Apple resources."""

    def outcome(self) -> str:
        return "done"

    def resources(self) -> list[ResourceRow]:
        return []


R = TypeVar("R", bound=StepResult)


class Wait(BaseModel):
    """A step cannot finish yet: the run suspends (holding no worker) and runs the step again once resumed."""

    kind: WaitKind
    description: str = Field(description="Markdown shown with the Resume form: why, and who must do what.")
    form: Literal["check", "build"] = Field(
        default="check", description="The Resume form: a plain check again, or the build handed over."
    )
    timeout_seconds: int | None = None
    submission_id: str | None = None


class Step(BaseModel, Generic[T]):
    """A step's result with what it cost: Apple requests (each attempt counts) and wall time."""

    result: T
    apple_calls: int
    seconds: float


class Job(BaseModel):
    """A step's input: the request, the key's custody ID, the results of the steps it needs, by step name."""

    request: OnboardingRequest
    custody_id: str
    results: Mapping[str, Any] = {}
    waited_since: datetime | None = Field(
        default=None, description="When this step's first wait began: a resumed run's limits count from it."
    )
    resumed_with: dict[str, Any] = Field(
        default_factory=dict, description="What the Resume form of this step's last wait was answered with."
    )

    def optional(self, step: str, kind: type[R]) -> R | None:
        """The result of an earlier step that may not have run for this request (its `applies` said no)."""
        return self.get(step, kind) if step in self.results else None

    def get(self, step: str, kind: type[R]) -> R:
        """The result of an earlier step this one declared it needs."""
        found = self.results.get(step)
        if not isinstance(found, kind):
            raise LookupError(f"step result {step!r} ({kind.__name__}) is not among this step's inputs")
        return found
