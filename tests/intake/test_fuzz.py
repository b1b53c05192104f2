"""A short fuzz run in every `make test`: hostile uploads over real HTTP, and the key loader on hostile bytes.

The long run is `python -m benchmarks.fuzz_intake --cases N`; both use tests/intake/fuzzing.py.
"""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.simulator import RunningSimulator
from tests.intake.conftest import IntakeServer, intake_settings
from tests.intake.fuzzing import UNLIMITED, fuzz_key_loader, fuzz_uploads, prefect_down

UPLOAD_CASES = 200
KEY_CASES = 500


def test_hostile_uploads_get_no_server_error_and_leave_nothing_stored(
    tmp_path: Path, simulator: RunningSimulator
) -> None:
    # Prefect is down: a key that survives the fuzzing is kept in custody and handed over later.
    settings = intake_settings(tmp_path / "data", simulator.base_url, **UNLIMITED)
    server = IntakeServer(settings, prefect_down).start()
    try:
        tally = fuzz_uploads(server, simulator.bundle_id, UPLOAD_CASES)
    finally:
        server.stop()
    assert tally.cases == UPLOAD_CASES
    assert tally.server_errors == 0, tally.first_failure
    assert tally.stored_after_refusal == 0, tally.first_failure
    refused = sum(n for status, n in tally.statuses.items() if status.startswith("4"))
    assert refused > UPLOAD_CASES // 2, tally.statuses  # the cases reached the intake's own checks


def test_the_key_loader_answers_hostile_bytes_with_a_refusal_or_a_key() -> None:
    tally = fuzz_key_loader(KEY_CASES)
    assert tally.cases == KEY_CASES
    assert tally.server_errors == 0, tally.first_failure
    assert tally.statuses["refused:p8"] > KEY_CASES // 3, tally.statuses  # most reach the key checks
