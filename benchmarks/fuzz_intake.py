"""A long fuzz run of the intake: hostile uploads over real HTTP, and the key loader on hostile bytes.

    .venv/bin/python -m benchmarks.fuzz_intake [--cases 2000] [--key-cases 5000]

The intake runs under uvicorn on loopback with the simulator as Apple and Prefect down (a key that survives
the fuzzing is kept and would be handed over later). Prints the cases run, the server errors (an answer of 500
or more, or an error uvicorn logged) and the records stored for refused inputs; exits 1 unless both are 0.
The cases are described in tests/intake/fuzzing.py; `make test` runs 200 of them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from ascflow.simulator.server import SimulatorServer
from tests.fixtures.keys import make_customer_key
from tests.fixtures.simulator import DEFAULT_BUNDLE_ID, default_scenario
from tests.intake.conftest import IntakeServer, intake_settings
from tests.intake.fuzzing import UNLIMITED, Tally, fuzz_key_loader, fuzz_uploads, prefect_down


def report(name: str, tally: Tally, seconds: float, *, over_http: bool) -> None:
    print(f"{name}: {tally.cases} cases in {seconds:.1f} s")
    print(f"  server errors: {tally.server_errors}")
    if over_http:
        print(f"  records stored for refused inputs: {tally.stored_after_refusal}")
        print(f"  keys accepted (and stored): {tally.accepted}")
        print(f"  slowest answer: {tally.slowest_seconds:.2f} s")
    print(f"  answers: {dict(sorted(tally.statuses.items()))}")
    if tally.first_failure:
        print(f"  first failure: {tally.first_failure}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="upload cases")
    parser.add_argument("--key-cases", type=int, default=5000, help="key loader cases")
    args = parser.parse_args()
    logging.getLogger("python_multipart").setLevel(logging.ERROR)  # it warns about every broken body

    with (
        tempfile.TemporaryDirectory() as folder,
        SimulatorServer(default_scenario(make_customer_key())) as apple,
    ):
        settings = intake_settings(Path(folder) / "data", apple.base_url, **UNLIMITED)
        server = IntakeServer(settings, prefect_down).start()
        try:
            started = time.monotonic()
            uploads = fuzz_uploads(server, DEFAULT_BUNDLE_ID, args.cases)
            report("uploads", uploads, time.monotonic() - started, over_http=True)
        finally:
            server.stop()
    started = time.monotonic()
    keys = fuzz_key_loader(args.key_cases)
    report("key loader", keys, time.monotonic() - started, over_http=False)
    failed = uploads.server_errors + uploads.stored_after_refusal + keys.server_errors
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
