"""Every wait a run can be in has a phase on the customer's status page (a wait without one answered 500)."""

from __future__ import annotations

from typing import get_args

from ascflow.intake.status import PHASES, WAIT_PHASES, Phase
from ascflow.pipeline.waiting import WaitKind


def test_every_kind_of_wait_has_a_phase_with_its_words() -> None:
    assert set(WAIT_PHASES) == set(get_args(WaitKind))
    assert set(PHASES) == set(get_args(Phase))
    for kind, phase in WAIT_PHASES.items():
        headline, waiting_on, next_words = PHASES[phase]
        assert headline, kind
        assert next_words, kind
        assert waiting_on in ("you", "us", "Apple"), kind


def test_the_waits_on_apple_say_so_and_the_others_do_not() -> None:
    on_apple = {kind for kind, phase in WAIT_PHASES.items() if PHASES[phase][1] == "Apple"}
    assert on_apple == {"access", "beta-review", "review"}
