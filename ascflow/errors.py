"""The one base of every error an operator (or a customer) reads: what happened, Apple's code if Apple answered,
and the next step, which must be an action that works in the state the error leaves."""

from __future__ import annotations

from typing import Any


class OperatorError(Exception):
    """An error with a next step. Survives Prefect's pickling of task and flow failures with all its fields."""

    def __init__(self, what: str, *, next_step: str) -> None:
        self.what = what
        self.next_step = next_step
        super().__init__(self._message())

    @property
    def code(self) -> str | None:
        """Apple's error code, or None when Apple did not answer this (ours are named by the class)."""
        return None

    def _message(self) -> str:
        return f"{self.what}\nNext step: {self.next_step}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's default pickling replays only positional args, losing keyword-only ones and extra fields.
        return (_restore, (type(self), dict(self.__dict__)))


def _restore(cls: type[OperatorError], state: dict[str, Any]) -> OperatorError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._message())
    return error
