"""After full runs, no part of any customer key is anywhere the runs wrote: Prefect's database (the SQLite file,
its WAL, and a text dump of every table), result storage, the server's, runner's and worker's logs, the
artifacts, the audit trail, or custody's files (encrypted at rest, so never the key in clear).

Runs last in the suite (by module name), so it also covers the keys of every flow test before it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from prefect.client.schemas.objects import StateType

from tests.fixtures.canary import Canary
from tests.flows.stack import FinishedRun, FlowStack, state_of

pytestmark = pytest.mark.slow


def test_no_trace_of_any_customer_key_where_the_runs_wrote(flow_stack: FlowStack, e2e: FinishedRun) -> None:
    assert state_of(e2e.run) is StateType.COMPLETED
    databases = sorted(flow_stack.root.rglob("prefect.db"))
    assert flow_stack.prefect.home / "prefect.db" in databases
    dumps = {str(db): table_dump(db) for db in databases}
    # The dump is of the database that holds the runs: their parameters name the custody record.
    assert e2e.custody_id in dumps[str(flow_stack.prefect.home / "prefect.db")]
    with flow_stack.prefect.client() as client:
        artifacts = [(f"artifact {a.key}", f"{a.description}\n{a.data}") for a in client.read_artifacts()]
    assert artifacts, "the runs published no artifact"
    written = {p.relative_to(flow_stack.root).parts[0:2] for p in flow_stack.root.rglob("*") if p.is_file()}
    for place in (("prefect", "storage"), ("prefect", "logs"), ("data", "audit"), ("data", "custody")):
        assert place in written, f"nothing under {'/'.join(place)}: the scan would prove nothing there"

    findings = []
    for key in flow_stack.keys:
        canary = Canary.from_pem(key.p8)
        findings += canary.scan_tree(flow_stack.root)
        findings += canary.scan_strings(
            [*((f"table dump of {db}", text) for db, text in dumps.items()), *artifacts]
        )
    assert findings == [], "a customer key leaked:\n" + "\n".join(map(str, findings))


def table_dump(database: Path) -> str:
    """Every row of every table as text (values decoded as SQLite returns them), read-only."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return "\n".join(db.iterdump())
