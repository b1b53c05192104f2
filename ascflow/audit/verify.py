"""Verify a trail: the chain line by line, then every checkpoint against the chain and the trusted key.

Detects an edited line (its hash no longer matches), a removed or reordered line (sequence numbers out of
step), a cut tail and a rewrite (a signed checkpoint covers more, or other, lines than the log holds).
Events after the last checkpoint are reported as unsealed: only a later checkpoint or an external anchor
(a position printed on a receipt, `expect`) can vouch for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from ascflow.audit.backends import START, AuditBackend, AuditPosition, StoredLine
from ascflow.audit.chain import GENESIS, line_of, recompute
from ascflow.audit.checkpoint import Checkpoint
from ascflow.audit.events import AuditRecord
from ascflow.audit.signing import ServicePublicKey


@dataclass
class VerifyReport:
    ok: bool
    first_bad_line: int | None = None
    problem: str = ""
    location: str | None = None
    first_bad_checkpoint: int | None = None
    events: int = 0
    checkpoints: int = 0
    sealed: int = 0
    head: AuditPosition = START
    tenant_events: dict[str, int] = field(default_factory=dict)

    @property
    def unsealed(self) -> int:
        """Events after the last checkpoint: no signature vouches for them yet."""
        return self.events - self.sealed

    def summary(self) -> str:
        if self.ok:
            return (
                f"OK: {self.events} event{'s' if self.events != 1 else ''}, chain intact; {self.checkpoints} "
                f"signed checkpoint{'s' if self.checkpoints != 1 else ''} cover{'s' if self.checkpoints == 1 else ''} "
                f"{self.sealed}; {self.unsealed} after the last checkpoint; "
                f"head {self.head.seq}:{self.head.hash}"
            )
        parts = [f"line {self.first_bad_line}"] if self.first_bad_line else []
        parts += [f"checkpoint {self.first_bad_checkpoint}"] if self.first_bad_checkpoint else []
        where = f" ({', '.join(parts)})" if parts else ""
        return f"FAILED{where}: {self.problem}" + (f" [{self.location}]" if self.location else "")


def _parse_record(data: bytes) -> AuditRecord | str:
    try:
        record = AuditRecord.model_validate_json(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) or "line" for err in exc.errors()})
        return f"not a valid audit record (bad field(s): {', '.join(fields)})"
    if line_of(record) != data:
        return "the line is not in canonical form: it was rewritten by hand"
    return record


def verify_log(
    backend: AuditBackend,
    public_key: ServicePublicKey,
    *,
    expect: Iterable[AuditPosition] = (),
) -> VerifyReport:
    """Check the whole trail in `backend`; the report names the first bad line (1-based) and why."""
    report = VerifyReport(ok=True)
    # Checkpoints first: the trail only grows, so every checkpoint read now covers events read next, even
    # while the service keeps appending.
    checkpoints = list(backend.read_checkpoints())
    heads: list[str] = [GENESIS]  # heads[k] is the hash after k events
    for number, stored in enumerate(backend.read_events(), start=1):
        report.events = number
        parsed = stored.problem or _parse_record(stored.data)
        if isinstance(parsed, str):
            return _fail(report, number, parsed, stored.location)
        if parsed.seq != number:
            why = "a line before it is missing" if parsed.seq > number else "it repeats or comes out of order"
            return _fail(
                report, number, f"holds seq {parsed.seq} where seq {number} belongs: {why}", stored.location
            )
        if parsed.prev_hash != heads[-1]:
            return _fail(
                report,
                number,
                "its prev_hash is not the hash of the line before it: this line, or the one before it "
                "(edited and re-hashed), was altered",
                stored.location,
            )
        if recompute(parsed) != parsed.hash:
            return _fail(
                report, number, "its content does not match its hash: the line was edited", stored.location
            )
        heads.append(parsed.hash)
        report.tenant_events[parsed.tenant] = report.tenant_events.get(parsed.tenant, 0) + 1
    report.head = AuditPosition(len(heads) - 1, heads[-1])
    _check_checkpoints(report, checkpoints, public_key, heads)
    if report.ok:
        _check_anchors(report, heads, expect)
    return report


def _fail(report: VerifyReport, line: int, problem: str, location: str) -> VerifyReport:
    report.ok = False
    report.first_bad_line = line
    report.problem = problem
    report.location = location
    return report


def _check_checkpoints(
    report: VerifyReport, checkpoints: list[StoredLine], public_key: ServicePublicKey, heads: list[str]
) -> None:
    prev = GENESIS
    for number, stored in enumerate(checkpoints, start=1):
        report.checkpoints = number
        problem = stored.problem
        checkpoint: Checkpoint | None = None
        if problem is None:
            try:
                checkpoint = Checkpoint.model_validate_json(stored.data)
            except ValidationError:
                problem = "not a valid checkpoint"
        if checkpoint is not None:
            problem = _checkpoint_problem(checkpoint, stored.data, number, prev, public_key, heads)
        if problem or checkpoint is None:
            report.ok = False
            report.first_bad_checkpoint = number
            report.problem = problem or "not a valid checkpoint"
            report.location = stored.location
            if (
                checkpoint is not None
                and checkpoint.size > len(heads) - 1
                and checkpoint.signature_valid(public_key)
            ):
                report.first_bad_line = len(heads)  # the first line the checkpoint vouches for that is gone
            return
        report.sealed = checkpoint.size
        prev = checkpoint.line_hash()


def _checkpoint_problem(
    checkpoint: Checkpoint,
    data: bytes,
    number: int,
    prev: str,
    public_key: ServicePublicKey,
    heads: list[str],
) -> str | None:
    if checkpoint.line() != data:
        return "the checkpoint is not in canonical form: it was rewritten by hand"
    if checkpoint.key != public_key.fingerprint:
        return f"signed by key {checkpoint.key[:16]}…, not the trusted key {public_key.fingerprint[:16]}…"
    if not checkpoint.signature_valid(public_key):
        return "its signature does not verify: the checkpoint was altered or forged"
    if checkpoint.n != number:
        return f"is numbered {checkpoint.n} where {number} belongs: a checkpoint is missing or out of order"
    if checkpoint.prev != prev:
        return "does not chain to the checkpoint before it"
    if checkpoint.size > len(heads) - 1:
        return (
            f"vouches for {checkpoint.size} events but the log holds {len(heads) - 1}: "
            "the tail of the log was cut"
        )
    if heads[checkpoint.size] != checkpoint.head:
        return f"its head differs from the log's hash at seq {checkpoint.size}: the log was rewritten"
    return None


def _check_anchors(report: VerifyReport, heads: list[str], expect: Iterable[AuditPosition]) -> None:
    for anchor in expect:
        if anchor.seq > len(heads) - 1:
            report.ok = False
            report.first_bad_line = len(heads)
            report.problem = (
                f"a receipt shows seq {anchor.seq} but the log ends at {len(heads) - 1}: cut tail"
            )
            return
        if heads[anchor.seq] != anchor.hash:
            report.ok = False
            report.first_bad_line = anchor.seq
            report.problem = f"a receipt shows another hash at seq {anchor.seq}: the log was rewritten"
            return
