"""The run summary: what the operator reads at the end of a run (a Prefect artifact), built from step results."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ascflow.pipeline.credentials import CredentialCheck
from ascflow.pipeline.publish import PublishResult, ReviewStatus
from ascflow.pipeline.signing import SigningResult
from ascflow.pipeline.team import InviteResult
from ascflow.pipeline.teardown import ReceiptSummary

T = TypeVar("T")


class Step(BaseModel, Generic[T]):
    """A step's result with what it cost: Apple requests (each attempt counts) and wall time."""

    result: T
    apple_calls: int
    seconds: float


class RunSummary(BaseModel):
    tenant: str
    bundle_id: str
    version: str
    run_id: str
    credentials: Step[CredentialCheck] | None = None
    waits: list[str] = []
    signing: Step[SigningResult] | None = None
    team: Step[list[InviteResult]] | None = None
    publish: Step[PublishResult] | None = None
    review: Step[ReviewStatus] | None = None
    receipt: ReceiptSummary | None = None

    @property
    def apple_calls(self) -> int:
        steps = (self.credentials, self.signing, self.team, self.publish, self.review)
        return sum(step.apple_calls for step in steps if step is not None)

    def markdown(self) -> str:
        lines = [
            f"# {self.bundle_id} {self.version} for {self.tenant}",
            "",
            "| step | outcome | Apple calls | seconds |",
            "|---|---|---|---|",
        ]
        if self.credentials:
            lines.append(self._row("validate credentials", self.credentials.result.verdict, self.credentials))
        for wait in self.waits:
            lines.append(f"| wait | {wait} | | |")
        if self.signing:
            lines.append(self._row("ensure signing", "done", self.signing))
        if self.team:
            lines.append(self._row("invite team", f"{len(self.team.result)} invitee(s)", self.team))
        if self.publish:
            lines.append(self._row("publish", self.publish.result.submission_state, self.publish))
        if self.review:
            lines.append(self._row("await review", self.review.result.state, self.review))
        lines += ["", f"Apple calls in all: **{self.apple_calls}**", "", "## Apple resources", ""]
        lines += ["| resource | ID | this run |", "|---|---|---|"]
        if self.signing:
            s = self.signing.result
            lines += [
                f"| bundle ID | `{s.bundle_id_resource}` | {_made(s.bundle_id_created)} |",
                f"| distribution certificate (serial {s.certificate_serial}) | `{s.certificate_id}` | "
                f"{_made(s.certificate_created)} |",
                f"| App Store profile {s.profile_name} | `{s.profile_id}` | {_made(s.profile_created)} |",
            ]
        if self.team:
            lines += [
                f"| invitation {i.email} | `{i.apple_id}` | {i.status.value} |" for i in self.team.result
            ]
        if self.publish:
            p = self.publish.result
            lines += [
                f"| build | `{p.build_id}` | {'uploaded' if p.build_uploaded_now else 'reused'} |",
                f"| App Store version | `{p.version_id}` | {_made(p.version_created)} |",
                f"| review submission | `{p.submission_id}` | {_made(p.submission_created)} |",
            ]
        lines += ["", "## Credentials", ""]
        if self.receipt:
            r = self.receipt
            lines += [
                f"Destroyed at {r.destroyed_at:%Y-%m-%d %H:%M:%S} UTC: key `{r.key_id}` (fingerprint "
                f"`{r.key_fingerprint[:16]}…`), {r.removed} cop{'y' if r.removed == 1 else 'ies'} removed and "
                f"verified absent; signed receipt for custody `{r.custody_id}`, audit position "
                f"{r.audit_seq} (`{r.audit_hash[:16]}…`).",
                "",
                f"**Tell the customer:** {r.next_step}",
            ]
        else:
            lines.append("Still in custody (see the run's state); the cleanup sweep destroys it at expiry.")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _row(name: str, outcome: str, step: Step[Any]) -> str:
        return f"| {name} | {outcome} | {step.apple_calls} | {step.seconds:.1f} |"


def _made(created: bool) -> str:
    return "created" if created else "reused"


def failure_markdown(tenant: str, bundle_id: str, version: str, error: BaseException | None) -> str:
    """What the operator reads when a run fails: what went wrong, what to do, and where the key is."""
    what = getattr(error, "what", None) or (str(error).splitlines()[0] if error else "The run failed.")
    next_step = (
        getattr(error, "next_step", None) or "Read the run's logs for the failing step, fix it, and retry."
    )
    return (
        f"# {bundle_id} {version} for {tenant}: failed\n\n"
        f"**What happened:** {what}\n\n"
        f"**Next step:** {next_step}\n\n"
        "The customer's key stays in custody until it expires, so the run can be retried once the cause is fixed; "
        "a retry creates nothing twice at Apple. The credential-cleanup deployment destroys it at expiry, and "
        "destroy-credentials destroys it now.\n"
    )
