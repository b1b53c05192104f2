"""What a suspended run says about its wait, without a Prefect run: the state message made from the wait's
description (the run's page shows it), and the summary's wait rows with how long each wait lasted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prefect.client.schemas.objects import StateType
from prefect.states import Running, State, Suspended

from ascflow.pipeline.credentials import WHAT_TO_DO
from ascflow.pipeline.refusals import explain_app_privacy_wait
from ascflow.pipeline.waiting import (
    Waiting,
    explain_access_wait,
    explain_credentials_wait,
    explain_review_wait,
)
from flows.waiting import _duration, state_message, wait_line

SINCE = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("description", "message"),
    [
        (
            explain_access_wait("not_active_yet", WHAT_TO_DO["not_active_yet"]),
            "Waiting for Apple to accept the customer's key. Apple's answer: not active yet.",
        ),
        (
            explain_review_wait("sub-1", "WAITING_FOR_REVIEW"),
            "Waiting for Apple's review. Review submission sub-1 is WAITING_FOR_REVIEW.",
        ),
        (
            explain_credentials_wait("acme", "com.acme.game"),
            "Waiting for the customer's key. acme has not uploaded the App Store Connect key for com.acme.game yet.",
        ),
        (
            explain_app_privacy_wait("6400000100", ["pat@acme.example"]),
            "Waiting for the App Privacy answers. Apple refuses to review the app until its App Privacy answers "
            "are published, and Apple's API cannot set them: a person does it in App Store Connect.",
        ),
    ],
)
def test_the_state_message_says_what_the_run_waits_for_in_one_line(description: str, message: str) -> None:
    assert state_message(description) == message


def test_a_long_description_gives_a_short_message() -> None:
    message = state_message("### Waiting for the build\n\n" + "word " * 200)
    assert len(message) == 240
    assert message.startswith("Waiting for the build. word word")
    assert message.endswith("…")


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "0 s"), (119, "119 s"), (120, "2 min"), (7199, "119 min"), (7200, "2.0 h"), (27 * 3600, "27.0 h")],
)
def test_a_duration_in_words(seconds: int, words: str) -> None:
    assert _duration(timedelta(seconds=seconds)) == words


def waiting(kind: str, step: str | None) -> Waiting:
    return Waiting.model_validate(
        {"kind": kind, "step": step, "tenant": "acme", "bundle_id": "com.acme.game", "since": SINCE}
    )


def at(seconds: float) -> datetime:
    return SINCE + timedelta(seconds=seconds)


# A run's states as the server keeps them: the review wait (pause key await-review-1) suspended, resumed 95 s
# later by the poller, then the rerun; out of order, as a read may return them.
HISTORY: list[State[Any]] = [
    Running(timestamp=at(100)),
    Suspended(pause_key="await-review-1", timestamp=at(1)),
    Running(timestamp=at(-30)),
    State(type=StateType.SCHEDULED, name="Resuming", timestamp=at(96)),
]


def test_a_wait_row_says_since_when_and_how_long_the_wait_lasted() -> None:
    # Measured from the Suspended state to the state after it, on the server's clock: the rerun step that finds
    # the review ended never passes its wait again, so nothing else marks the end.
    assert wait_line("await-review-1", waiting("review", "await-review"), HISTORY, at(5 * 3600)) == (
        "review (await-review), since 2026-01-02 03:04:06 UTC, waited 95 s"
    )


def test_a_wait_not_resumed_yet_lasts_until_now() -> None:
    states = [*HISTORY, Suspended(pause_key="submit-for-review-1", timestamp=at(200))]
    line = wait_line(
        "submit-for-review-1", waiting("app-privacy", "submit-for-review"), states, at(200 + 720)
    )
    assert (
        line == "app-privacy (submit-for-review), since 2026-01-02 03:07:25 UTC, waited 12 min, still waiting"
    )
