"""What every step needs: who is acting, the audit log, custody, and an App Store Connect client for a key."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from ascflow.audit import Action, Actor, AuditEvent, AuditLog, AuditPosition, Target, open_audit_log
from ascflow.audit.events import Outcome
from ascflow.connect import ApiKey, AppStoreConnect, RequestRecord, Session
from ascflow.custody import Custody, open_custody
from ascflow.settings import Settings, get_settings


@dataclass
class AppleCalls:
    """Apple requests made by one step (every attempt counts: it spends the customer's hourly budget)."""

    by_method: Counter[str] = field(default_factory=Counter)
    rate_limit_remaining: int | None = None
    # A step may send independent requests together (actions.common.at_once): each is counted once.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def observe(self, record: RequestRecord) -> None:
        with self._lock:
            self.by_method[record.method] += 1
            if record.rate_limit_remaining is not None:
                self.rate_limit_remaining = record.rate_limit_remaining

    @property
    def total(self) -> int:
        return sum(self.by_method.values())


@dataclass
class StepContext:
    """One step of one run for one tenant. Cheap to build again after a resume."""

    tenant: str
    run_id: str
    actor: Actor
    settings: Settings = field(default_factory=get_settings)
    calls: AppleCalls = field(default_factory=AppleCalls)
    team_ref: str | None = None

    @cached_property
    def audit(self) -> AuditLog:
        return open_audit_log(self.settings)

    @cached_property
    def custody(self) -> Custody:
        return open_custody(self.settings, audit=self.audit)

    def record(
        self,
        action: Action,
        outcome: Outcome,
        *,
        custody_id: str | None = None,
        apple_type: str | None = None,
        apple_id: str | None = None,
        error_code: str | None = None,
    ) -> AuditPosition:
        """Write the audit event; raises when it cannot, so the step is not reported done (fail closed)."""
        target = Target(custody_id=custody_id, apple_type=apple_type, apple_id=apple_id, run_id=self.run_id)
        event = AuditEvent(
            actor=self.actor,
            action=action,
            tenant=self.tenant,
            target=target,
            outcome=outcome,
            error_code=error_code,
        )
        return self.audit.append(event)

    def team_reference(self) -> str:
        """The customer's team, known once a client for its key was opened in this step."""
        if self.team_ref is None:
            raise RuntimeError("team_reference() is known only inside `with ctx.apple(custody_id)`")
        return self.team_ref

    @contextmanager
    def apple(self, custody_id: str) -> Iterator[AppStoreConnect]:
        """A client for the customer's key, decrypted for the length of this block only."""
        credentials = self.custody.open(custody_id, actor=self.actor)
        issuer_id = credentials.issuer_id.get_secret_value()
        key = ApiKey.from_p8(
            credentials.p8.get_secret_value(), key_id=credentials.key_id, issuer_id=issuer_id
        )
        del credentials
        self.team_ref = team_reference(issuer_id)
        session = Session(
            key,
            base_url=self.settings.asc_base_url,
            on_request=self.calls.observe,
            retry=self.settings.retry_policy(),
        )
        with AppStoreConnect(session) as client:
            yield client


def team_reference(issuer_id: str) -> str:
    """Names the customer's team in records that outlive the key, without keeping the issuer ID itself."""
    return "team-" + hashlib.sha256(issuer_id.encode()).hexdigest()[:40]
