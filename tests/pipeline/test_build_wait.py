"""Waiting for the build, without Prefect: the run stops after signing and the invitations with a wait for the
build; the build system's answer (an .ipa) lets it go on, or a build it uploaded itself is found at Apple."""

from __future__ import annotations

from ascflow.pipeline.request import BuildSource
from ascflow.pipeline.steps import run_in_process
from ascflow.simulator.scenario import BuildSpec
from tests.fixtures.ipa import build_ipa
from tests.pipeline.conftest import deposit, request_for

NOT_REVIEW = frozenset({"await-review"})


def waiting_request(simulator):
    request = request_for(simulator, None)
    return request.model_copy(update={"build": BuildSource(build_number="7", wait_for_build=True)})


def test_the_run_waits_after_signing_and_the_invitations_then_takes_the_handed_over_ipa(
    simulator, make_context, tmp_path
):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = waiting_request(simulator)
    done, wait = run_in_process(ctx, request, custody_id, skip=NOT_REVIEW)
    assert wait is not None
    assert (wait.kind, wait.form) == ("build", "build")
    assert {"ensure-signing", "invite-team"} <= done.keys()
    assert "upload-build" not in done
    assert "ascflow signing export" in wait.description

    ipa = build_ipa(tmp_path / "Signed.ipa", simulator.bundle_id, request.version, "7")
    done, wait = run_in_process(
        make_context(simulator),
        request,
        custody_id,
        skip=NOT_REVIEW,
        answers={"await-build": {"ipa": str(ipa)}},
    )
    assert wait is None
    assert done["await-build"].outcome() == "build 7 handed over as a file"
    assert done["upload-build"].build_uploaded_now  # type: ignore[attr-defined]
    assert done["submit-for-review"].submission_state == "WAITING_FOR_REVIEW"  # type: ignore[attr-defined]


def test_a_build_the_build_system_uploaded_itself_is_found_at_apple(simulator, make_context):
    ctx = make_context(simulator)
    custody_id = deposit(ctx, simulator.admin_key)
    request = waiting_request(simulator)
    simulator.control.add_build(
        simulator.app_id,
        BuildSpec(version=request.version, build_number="7", uses_non_exempt_encryption=False),
    )
    done, wait = run_in_process(ctx, request, custody_id, skip=NOT_REVIEW)
    assert wait is None
    assert done["await-build"].outcome() == "build 7 found at Apple"
    assert not done["upload-build"].build_uploaded_now  # type: ignore[attr-defined]
    assert not [
        r for r in simulator.control.requests() if r.path == "/v1/buildUploads" and r.method == "POST"
    ]
