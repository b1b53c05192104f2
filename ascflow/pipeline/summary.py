"""The run summary: what the operator reads at the end of a run (a Prefect artifact), built from step results
in the order of the step list."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ascflow import errors
from ascflow.pipeline import steps as step_list
from ascflow.pipeline.job import Step
from ascflow.pipeline.teardown import ReceiptSummary


class RunSummary(BaseModel):
    tenant: str
    bundle_id: str
    version: str
    run_id: str
    steps: dict[str, Step[Any]] = {}
    waits: list[str] = []
    receipt: ReceiptSummary | None = None

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
        lines += ["", *credentials_markdown(self.receipt)]
        return "\n".join(lines) + "\n"


def credentials_markdown(receipt: ReceiptSummary | None) -> list[str]:
    """Where the customer's key is, from its deletion receipt if there is one."""
    lines = ["## Credentials", ""]
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


def failure_markdown(
    tenant: str, bundle_id: str, version: str, error: BaseException | None, receipt: ReceiptSummary | None
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
        *credentials_markdown(receipt),
    ]
    return "\n".join(lines) + "\n"
