"""Seeded fault injection: the same plan and seed replay the same faults on the same requests."""

from __future__ import annotations

import fnmatch
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

FaultKind = Literal["latency", "server_error", "rate_limit", "reset", "hang", "drop_after_write"]


class FaultRule(BaseModel):
    """One kind of fault for the requests it matches.

    `path` is a glob on the URL path (`/v1/certificates*`); `methods` empty means every method. With `count`
    set, the rule fires on the next `count` matching requests (each still subject to `probability`) and then
    stops.
    """

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    path: str = "/v1/*"
    methods: list[str] = Field(default_factory=list)
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    count: int | None = Field(default=None, ge=0)
    latency_seconds: float = Field(default=0.2, ge=0.0, description="wall seconds added by `latency`")
    hang_seconds: float = Field(default=30.0, ge=0.0, description="wall seconds a `hang` holds the answer")
    status: int = Field(default=500, ge=500, le=599, description="the status of a `server_error`")
    retry_after: int | None = Field(default=None, ge=0, description="a `Retry-After` header on `rate_limit`")

    def matches(self, method: str, path: str) -> bool:
        if self.methods and method.upper() not in {m.upper() for m in self.methods}:
            return False
        return fnmatch.fnmatchcase(path, self.path)


class FaultPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    rules: list[FaultRule] = Field(default_factory=list)

    _rng: random.Random = PrivateAttr()
    _remaining: list[int | None] = PrivateAttr()

    def model_post_init(self, context: object, /) -> None:
        self._rng = random.Random(self.seed)
        self._remaining = [rule.count for rule in self.rules]

    def draw(self, method: str, path: str) -> list[FaultRule]:
        """The faults that hit this request; advances the seeded generator once per matching rule."""
        fired: list[FaultRule] = []
        for index, rule in enumerate(self.rules):
            remaining = self._remaining[index]
            if remaining == 0 or not rule.matches(method, path):
                continue
            if self._rng.random() >= rule.probability:
                continue
            if remaining is not None:
                self._remaining[index] = remaining - 1
            fired.append(rule)
        return fired
