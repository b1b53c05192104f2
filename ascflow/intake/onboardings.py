"""The intake's own small store: which onboardings exist, their active link, run and custody record.

SQLite in the data directory, through the standard library. It holds references and app facts only: the
operator's request (which carries no secret), the link nonce, the run's ID and the custody ID; never a key,
key ID, issuer ID or anything else a customer sends.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ascflow.pipeline.request import OnboardingRequest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS onboardings (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    bundle_id TEXT NOT NULL,
    request TEXT NOT NULL,
    link_nonce TEXT NOT NULL,
    link_expires_at TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    flow_run_id TEXT,
    custody_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS used_forms (
    form_nonce TEXT PRIMARY KEY,
    onboarding_id TEXT NOT NULL,
    used_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS onboardings_by_age ON onboardings (created_at, id);
"""


@dataclass(frozen=True)
class Onboarding:
    id: str
    request: OnboardingRequest
    link_nonce: str
    link_expires_at: datetime
    attempt: int
    flow_run_id: str | None
    custody_id: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def tenant(self) -> str:
        return self.request.tenant

    @property
    def bundle_id(self) -> str:
        return self.request.bundle_id

    @property
    def idempotency_key(self) -> str:
        """One run per onboarding and attempt: a double click, a retried request, a racing tab start one run."""
        return f"intake:{self.id}:{self.attempt}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class OnboardingStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        with self.connect() as db:
            db.executescript(_SCHEMA)
        path.chmod(0o600)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode (`BEGIN` explicitly for a transaction), closed on exit."""
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout = 30000")
            yield db

    def create(self, request: OnboardingRequest, link_nonce: str, link_expires_at: datetime) -> Onboarding:
        onboarding_id = uuid.uuid4().hex
        now = _now()
        with self.connect() as db:
            db.execute(
                "INSERT INTO onboardings (id, tenant, bundle_id, request, link_nonce, link_expires_at,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    onboarding_id,
                    request.tenant,
                    request.bundle_id,
                    request.model_dump_json(),
                    link_nonce,
                    link_expires_at.isoformat(),
                    now,
                    now,
                ),
            )
        return self.get(onboarding_id)

    def get(self, onboarding_id: str) -> Onboarding:
        with self.connect() as db:
            row = db.execute("SELECT * FROM onboardings WHERE id = ?", (onboarding_id,)).fetchone()
        if row is None:
            raise KeyError(onboarding_id)
        return _onboarding(row)

    def find(self, onboarding_id: str) -> Onboarding | None:
        try:
            return self.get(onboarding_id)
        except KeyError:
            return None

    def page(self, limit: int, after: str | None = None) -> list[Onboarding]:
        """Up to `limit` onboardings, oldest first, after the one with ID `after` (the last of the previous
        page). Keyed on (created_at, id), so onboardings created meanwhile neither repeat nor shift a page."""
        start = ("", "")
        with self.connect() as db:
            if after is not None:
                start = db.execute("SELECT created_at, id FROM onboardings WHERE id = ?", (after,)).fetchone()
                if start is None:
                    raise KeyError(after)
            rows = db.execute(
                "SELECT * FROM onboardings WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?",
                (*start, limit),
            ).fetchall()
        return [_onboarding(row) for row in rows]

    def list(self) -> list[Onboarding]:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM onboardings ORDER BY created_at, id").fetchall()
        return [_onboarding(row) for row in rows]

    def replace_link(self, onboarding_id: str, link_nonce: str, link_expires_at: datetime) -> Onboarding:
        self._update(onboarding_id, link_nonce=link_nonce, link_expires_at=link_expires_at.isoformat())
        return self.get(onboarding_id)

    def set_run(self, onboarding_id: str, flow_run_id: str) -> Onboarding:
        self._update(onboarding_id, flow_run_id=flow_run_id)
        return self.get(onboarding_id)

    def next_attempt(self, onboarding_id: str) -> Onboarding:
        with self.connect() as db:
            db.execute(
                "UPDATE onboardings SET attempt = attempt + 1, updated_at = ? WHERE id = ?",
                (_now(), onboarding_id),
            )
        return self.get(onboarding_id)

    def claim_custody(self, onboarding_id: str, custody_id: str) -> bool:
        """Record the key's custody ID unless another upload got there first (two tabs, two clicks)."""
        with self.connect() as db:
            changed = db.execute(
                "UPDATE onboardings SET custody_id = ?, updated_at = ? WHERE id = ? AND custody_id IS NULL",
                (custody_id, _now(), onboarding_id),
            ).rowcount
        return changed == 1

    def clear_custody(self, onboarding_id: str) -> Onboarding:
        """Forget a destroyed key, so the customer's link asks for a new one."""
        with self.connect() as db:
            db.execute(
                "UPDATE onboardings SET custody_id = NULL, updated_at = ? WHERE id = ?",
                (_now(), onboarding_id),
            )
        return self.get(onboarding_id)

    def use_form(self, onboarding_id: str, form_nonce: str) -> bool:
        """Spend a rendered form: true the first time only, so a replayed form is refused."""
        try:
            with self.connect() as db:
                db.execute(
                    "INSERT INTO used_forms (form_nonce, onboarding_id, used_at) VALUES (?, ?, ?)",
                    (form_nonce, onboarding_id, _now()),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def _update(self, onboarding_id: str, **columns: str) -> None:
        assignments = ", ".join(f"{name} = ?" for name in columns)  # names come from this module only
        with self.connect() as db:
            changed = db.execute(
                f"UPDATE onboardings SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
                (*columns.values(), _now(), onboarding_id),
            ).rowcount
        if changed != 1:
            raise KeyError(onboarding_id)


def _onboarding(row: sqlite3.Row) -> Onboarding:
    return Onboarding(
        id=row["id"],
        request=OnboardingRequest.model_validate_json(row["request"]),
        link_nonce=row["link_nonce"],
        link_expires_at=datetime.fromisoformat(row["link_expires_at"]),
        attempt=row["attempt"],
        flow_run_id=row["flow_run_id"],
        custody_id=row["custody_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )
