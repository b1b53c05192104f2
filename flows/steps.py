"""Running the step list inside a flow: in order, background steps beside the rest; a step that must wait
suspends the run until it is resumed, then runs again."""

from __future__ import annotations

from typing import Any

from prefect.futures import PrefectFuture

from ascflow.pipeline import steps
from ascflow.pipeline.build_wait import BUILD_FORM, BuildArrived
from ascflow.pipeline.job import Job, Step, Wait
from ascflow.pipeline.request import OnboardingRequest
from ascflow.pipeline.summary import RunSummary
from ascflow.pipeline.waiting import ResumeCheck, Waiting
from flows.waiting import suspend_until_resumed, waits_of_this_run
from tasks.apple import step_task


class StepRunner:
    def __init__(self, request: OnboardingRequest, custody_id: str, summary: RunSummary) -> None:
        self.request = request
        self.custody_id = custody_id
        self.summary = summary
        self.started: dict[str, PrefectFuture[Step[Any]]] = {}
        self.finishing: set[str] = set()
        self.waits = waits_of_this_run()

    def run_all(self) -> None:
        for step in steps.STEPS:
            if not step.applies(self.request):
                continue
            for earlier in list(self.started):
                if earlier in step.needs or not steps.step_named(earlier).background:
                    self.finish(earlier)
            # What a step waits for beyond `needs` is decided from their results, finished by now.
            for earlier in step.waits_for(self.results()):
                self.finish(earlier)
            self.started[step.name] = self._submit(step, attempt=0)
        for name in list(self.started):
            self.finish(name)

    def finish(self, name: str) -> None:
        """Wait for a started step; while it asks to wait, suspend the run and run the step again."""
        if name in self.summary.steps or name not in self.started or name in self.finishing:
            return
        self.finishing.add(name)
        step = steps.step_named(name)
        done = self.started[name].result()
        attempt = 0
        while isinstance(done.result, Wait):
            # A suspended run's process ends: steps still running beside this one finish first.
            for other in list(self.started):
                if other != name:
                    self.finish(other)
            attempt += 1
            wait: Wait = done.result
            answer = suspend_until_resumed(
                Waiting.of(
                    self.request,
                    wait.kind,
                    step=name,
                    custody_id=self.custody_id,
                    submission_id=wait.submission_id,
                ),
                BuildArrived if wait.form == BUILD_FORM else ResumeCheck,
                key=f"{name}-{attempt}",
                description=wait.description,
                timeout_seconds=wait.timeout_seconds,
            )
            handed = answer.model_dump(exclude_none=True) if isinstance(answer, BuildArrived) else {}
            done = self._submit(step, attempt, resumed_with=handed).result()
        self.summary.steps[name] = done

    def results(self) -> dict[str, Any]:
        return {name: self.summary.result(name) for name in self.summary.steps}

    def _submit(
        self, step: steps.StepDef, attempt: int, resumed_with: dict[str, Any] | None = None
    ) -> PrefectFuture[Step[Any]]:
        job = Job(
            resumed_with=resumed_with or {},
            request=self.request,
            custody_id=self.custody_id,
            results={n: self.summary.result(n) for n in step.needs if n in self.summary.steps},
            waited_since=next((w.since for w in self.waits if w.step == step.name), None),
        )
        return step_task(step).submit(step.name, job, attempt)
