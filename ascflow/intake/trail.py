"""The audit trail's index for the status page and the operator list: what they read, without the whole log.

For each tenant and reference (a run ID or a custody ID) the index keeps the first event of each action: its
sequence number, time and outcome. That is all the pages show of the trail (`status.py`: each step once, in
the order first reached). The log stays the record: the index is derived from it, holds only the log's own
constrained identifiers, action names, times and outcomes (no secret, no free text), and is rebuilt from the
log at will (`rebuild`), by itself when the log no longer chains to where the index stopped reading.

It lives in the intake's SQLite store and is brought up to date when a page is read: the log is read only
after the last event the index took in (`AuditLog.events_after`), so a page costs what was appended since the
last page, not the log's length.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from ascflow.audit import Action, AuditLog, AuditRecord, CursorLost, LogCursor
from ascflow.intake.onboardings import Onboarding, OnboardingStore

BATCH = 5000  # rows per insert while catching up: bounds the memory a long catch-up holds


@dataclass(frozen=True)
class FirstEvent:
    action: Action
    seq: int
    time: str
    outcome: str


def refs(onboarding: Onboarding) -> tuple[str, str]:
    """The references the onboarding's events carry: its current run, and its key in custody ("" if none)."""
    run = f"run:{onboarding.flow_run_id}" if onboarding.flow_run_id else ""
    return run, f"custody:{onboarding.custody_id}" if onboarding.custody_id else ""


def _rows(record: AuditRecord) -> list[tuple[str, str, str, int, str, str]]:
    target = record.target
    keys = [f"run:{target.run_id}"] if target.run_id else []
    keys += [f"custody:{target.custody_id}"] if target.custody_id else []
    return [
        (record.tenant, key, record.action.value, record.seq, record.time, record.outcome) for key in keys
    ]


class TrailIndex:
    def __init__(self, store: OnboardingStore, audit: AuditLog) -> None:
        self.store = store
        self.audit = audit

    def first_events(self, onboarding: Onboarding) -> list[FirstEvent]:
        """The onboarding's first event of each action, in log order, as of the last `catch_up`."""
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT action, seq, time, outcome FROM trail_firsts"
                " WHERE tenant = ? AND ref IN (?, ?) ORDER BY seq",
                (onboarding.tenant, *refs(onboarding)),
            ).fetchall()
        first: dict[Action, FirstEvent] = {}
        for action, seq, time, outcome in rows:
            first.setdefault(Action(action), FirstEvent(Action(action), seq, time, outcome))
        return list(first.values())

    def catch_up(self) -> int:
        """Take in the events appended since the last call; how many. Rebuilds when the log was replaced."""
        try:
            if next(iter(self.audit.events_after(self._cursor())), None) is None:
                return 0  # the common case: one small read of the log's tail, no write lock on the store
        except CursorLost:
            pass  # rebuilt below, under the lock
        with self.store.connect() as db:
            db.execute("BEGIN IMMEDIATE")  # one writer at a time; the next finds the cursor moved
            try:
                try:
                    taken = self._take(db, self.audit.events_after(self._cursor(db)))
                except CursorLost:
                    # The log does not chain to where we stopped (replaced, or restored from a backup): it is
                    # the record, so start over from its first event. A second refusal means it is damaged.
                    db.execute("DELETE FROM trail_firsts")
                    taken = self._take(db, self.audit.events_after(LogCursor()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return taken

    def rebuild(self) -> int:
        """Forget everything and read the whole log again; how many events it took in."""
        with self.store.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM trail_firsts")
            db.execute("DELETE FROM trail_cursor")
            db.execute("COMMIT")
        return self.catch_up()

    def _cursor(self, db: sqlite3.Connection | None = None) -> LogCursor:
        if db is None:
            with self.store.connect() as own:
                return self._cursor(own)
        row = db.execute("SELECT seq, hash, byte_offset FROM trail_cursor WHERE id = 1").fetchone()
        return LogCursor(*row) if row else LogCursor()

    def _take(self, db: sqlite3.Connection, events: Iterable[tuple[AuditRecord, LogCursor]]) -> int:
        taken = 0
        last: LogCursor | None = None
        rows: list[tuple[str, str, str, int, str, str]] = []
        for record, cursor in events:
            rows += _rows(record)
            taken, last = taken + 1, cursor
            if len(rows) >= BATCH:
                self._insert(db, rows)
        self._insert(db, rows)
        if last is not None:
            db.execute(
                "INSERT INTO trail_cursor (id, seq, hash, byte_offset) VALUES (1, ?, ?, ?) ON CONFLICT (id)"
                " DO UPDATE SET seq = excluded.seq, hash = excluded.hash, byte_offset = excluded.byte_offset",
                last,
            )
        return taken

    @staticmethod
    def _insert(db: sqlite3.Connection, rows: list[tuple[str, str, str, int, str, str]]) -> None:
        # Events arrive in log order: the first row of a (tenant, ref, action) is the one to keep.
        db.executemany("INSERT OR IGNORE INTO trail_firsts VALUES (?, ?, ?, ?, ?, ?)", rows)
        rows.clear()
