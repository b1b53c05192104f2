"""The run summary: what the operator reads at the end of a run (a Prefect artifact), built from step results
in the order of the step list."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ascflow import errors
from ascflow.pipeline import steps as step_list
from ascflow.pipeline.job import Step, StepResult
from ascflow.pipeline.teardown import KeptKey, ReceiptSummary


class RunSummary(BaseModel):
    tenant: str
    bundle_id: str
    version: str
    run_id: str
    steps: dict[str, Step[Any]] = {}
    waits: list[str] = []
    receipt: ReceiptSummary | None = None
    kept: KeptKey | None = None

    def result(self, step: str) -> Any:
        """The result of a step this run finished (KeyError if it did not)."""
        return self.steps[step].result

    @property
    def apple_calls(self) -> int:
        return sum(step.apple_calls for step in self.steps.values())

    def _in_order(self) -> list[tuple[step_list.StepDef, Step[Any]]]:
        return [(d, self.steps[d.name]) for d in step_list.STEPS if d.name in self.steps]

    def markdown(self) -> str:
        lines = [
            f"# {self.bundle_id} {self.version} for {self.tenant}",
            "",
            "| step | outcome | Apple calls | seconds |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {d.title} | {s.result.outcome()} | {s.apple_calls} | {s.seconds:.1f} |"
            for d, s in self._in_order()
        ]
        lines += [f"| wait | {wait} | | |" for wait in self.waits]
        lines += ["", f"Apple calls in all: **{self.apple_calls}**", "", "## Apple resources", ""]
        lines += ["| resource | ID | this run |", "|---|---|---|"]
        lines += [
            f"| {row.what} | `{row.apple_id}` | {row.this_run} |"
            for _, s in self._in_order()
            for row in s.result.resources()
        ]
        lines += ["", *credentials_markdown(self.receipt, self.kept)]
        return "\n".join(lines) + "\n"


def credentials_markdown(receipt: ReceiptSummary | None, kept: KeptKey | None = None) -> list[str]:
    """Where the customer's key is: destroyed (its deletion receipt), kept on purpose for what comes next, or
    left in custody after a failure."""
    lines = ["## Credentials", ""]
    if kept is not None:
        return [*lines, *kept_markdown(kept)]
    if receipt is None:
        return [
            *lines,
            "The customer's key stays in custody until it expires, so the run can be retried once the cause is "
            "fixed; a retry creates nothing twice at Apple. The credential-cleanup deployment destroys it at "
            "expiry, and destroy-credentials destroys it now.",
        ]
    r = receipt
    return [
        *lines,
        f"Destroyed at {r.destroyed_at:%Y-%m-%d %H:%M:%S} UTC: key `{r.key_id}` (fingerprint "
        f"`{r.key_fingerprint[:16]}…`), {r.removed} cop{'y' if r.removed == 1 else 'ies'} removed and "
        f"verified absent; signed receipt for custody `{r.custody_id}`, audit position "
        f"{r.audit_seq} (`{r.audit_hash[:16]}…`).",
        "",
        f"**Tell the customer:** {r.next_step}",
    ]


def kept_markdown(kept: KeptKey) -> list[str]:
    return [
        f"Kept in custody on purpose: key `{kept.key_id}`, custody `{kept.custody_id}`, until "
        f"{kept.expires_at:%Y-%m-%d %H:%M} UTC (its expiry), because {kept.why}",
        "",
        f"**Next step:** `{kept.command}` ({kept.destroyed_when}). From the Prefect UI: Deployments > "
        "release-app > Run, with the same values.",
        "",
        "After its expiry the key is never opened again and the hourly credential-cleanup deployment destroys it "
        "(destroy-credentials destroys it now); the command then needs a new key: deposit it (ascflow custody "
        "deposit ...) and give its custody ID instead.",
    ]


def release_markdown(
    tenant: str,
    bundle_id: str,
    version: str,
    result: StepResult,
    receipt: ReceiptSummary | None,
    kept: KeptKey | None,
) -> str:
    """The release-app run's summary: what Apple now has, and where the key is (destroyed, or kept for the
    rollout)."""
    lines = [
        f"# release-app of {bundle_id} {version} for {tenant}",
        "",
        f"**Outcome:** {result.outcome()}",
        "",
        "| resource | ID | state |",
        "|---|---|---|",
        *(f"| {row.what} | `{row.apple_id}` | {row.this_run} |" for row in result.resources()),
        "",
        *credentials_markdown(receipt, kept),
    ]
    return "\n".join(lines) + "\n"


def failure_markdown(
    tenant: str,
    bundle_id: str,
    version: str,
    error: BaseException | None,
    receipt: ReceiptSummary | None,
    credentials: list[str] | None = None,
) -> str:
    """What the operator reads when a run fails: what went wrong, what to do, and where the key is (destroyed,
    with its receipt, or still in custody: from what happened, never assumed)."""
    if isinstance(error, errors.OperatorError):
        what, next_step = error.what, error.next_step
    else:
        what = str(error).splitlines()[0] if error and str(error) else "The run failed."
        next_step = "Read the run's logs for the failing step, fix it, and retry."
    lines = [
        f"# {bundle_id} {version} for {tenant}: failed",
        "",
        f"**What happened:** {what}",
        "",
        f"**Next step:** {next_step}",
        "",
        *(credentials if credentials is not None else credentials_markdown(receipt)),
    ]
    return "\n".join(lines) + "\n"


def refused_markdown(tenant: str, bundle_id: str, version: str, refused: ValidationError) -> str:
    """A request refused when the run started: each field with its rule; nothing was done, the key untouched."""
    problems = [
        f"- `{'.'.join(str(part) for part in problem['loc']) or 'request'}`: {problem['msg']}"
        for problem in refused.errors(include_input=False)
    ]
    lines = [
        f"# {bundle_id} {version} for {tenant}: request refused",
        "",
        "**What happened:** the request breaks the form's rules; the run stopped before its first step: nothing "
        "was sent to Apple and the key in custody was not touched.",
        "",
        *problems,
        "",
        "**Next step:** fix these fields and start a new run (ascflow runs start checks a request before it "
        "starts anything).",
    ]
    return "\n".join(lines) + "\n"
