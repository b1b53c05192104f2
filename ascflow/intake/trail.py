"""The audit trail's index for the status page and the operator list: what they read, without the whole log.

For each tenant and reference (a run ID or a custody ID) the index keeps the first event of each action: its
sequence number, time and outcome. That is all the pages show of the trail (`status.py`: each step once, in
the order first reached). The log stays the record: the index is derived from it, holds only the log's own
constrained identifiers, action names, times and outcomes (no secret, no free text), and is rebuilt from the
log at will (`rebuild`), by itself when the log no longer chains to where the index stopped reading.

It is brought up to date when a page is read: the log is read only after the last event the index took in
(`AuditLog.events_after`), so a page costs what was appended since the last page, not the log's length. It is
a SQLite file of its own beside the onboarding store, in WAL mode without an fsync per commit: a commit lost to
a power cut only moves the cursor back, and the next page reads those events again. Deleting the file is
always safe; the next page rebuilds it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ascflow.audit import Action, AuditLog, AuditRecord, CursorLost, LogCursor
from ascflow.intake.onboardings import Onboarding

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trail_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    byte_offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trail_firsts (
    tenant TEXT NOT NULL,
    ref TEXT NOT NULL,
    action TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time TEXT NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (tenant, ref, action)
) WITHOUT ROWID;
"""
ACTIONS = {action.value: action for action in Action}  # a dict lookup: Action(value) costs a page 10x more
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
    def __init__(self, path: Path, audit: AuditLog) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)  # before SQLite opens it: its WAL files take the database file's mode
        path.chmod(0o600)
        self.path = path
        self.audit = audit
        self._local = threading.local()
        with self.connect() as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, kept open: closing the last one checkpoints the WAL, an fsync a page."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("PRAGMA synchronous = NORMAL")  # in WAL mode: no fsync per commit, never corrupt
            self._local.db = db
        yield db

    def first_events(self, onboarding: Onboarding) -> list[FirstEvent]:
        """The onboarding's first event of each action, in log order, as of the last `catch_up`."""
        return self.first_events_of([onboarding])[onboarding.id]

    def first_events_of(self, onboardings: Sequence[Onboarding]) -> dict[str, list[FirstEvent]]:
        """`first_events` of each onboarding of a page, by onboarding ID, on one connection."""
        found: dict[str, list[FirstEvent]] = {}
        with self.connect() as db:
            for onboarding in onboardings:
                rows = db.execute(
                    "SELECT action, seq, time, outcome FROM trail_firsts"
                    " WHERE tenant = ? AND ref IN (?, ?) ORDER BY seq",
                    (onboarding.tenant, *refs(onboarding)),
                )
                first: dict[Action, FirstEvent] = {}
                for name, seq, time, outcome in rows:
                    action = ACTIONS[name]
                    if action not in first:
                        first[action] = FirstEvent(action, seq, time, outcome)
                found[onboarding.id] = list(first.values())
        return found

    def catch_up(self) -> int:
        """Take in the events appended since the last call; how many. Rebuilds when the log was replaced."""
        try:
            if next(iter(self.audit.events_after(self._cursor())), None) is None:
                return 0  # the common case: one small read of the log's tail, no write lock
        except CursorLost:
            pass  # rebuilt below, under the lock
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")  # one writer at a time; the next finds the cursor moved
            try:
                try:
                    taken = self._take(db, self.audit.events_after(self._cursor(db)))
                except CursorLost:
                    # The log does not chain to where we stopped (replaced, or restored from a backup): it is
                    # the record, so start over from its first event. A second refusal means it is damaged.
                    db.execute("DELETE FROM trail_firsts")
                    db.execute("DELETE FROM trail_cursor")
                    taken = self._take(db, self.audit.events_after(LogCursor()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return taken

    def rebuild(self) -> int:
        """Forget everything and read the whole log again; how many events it took in."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM trail_firsts")
            db.execute("DELETE FROM trail_cursor")
            db.execute("COMMIT")
        return self.catch_up()

    def _cursor(self, db: sqlite3.Connection | None = None) -> LogCursor:
        if db is None:
            with self.connect() as own:
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
