"""`POST /api/signing/export` on the operator API, served by uvicorn on loopback: a URL, never the secrets."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from tests.fixtures.aws import MotoAws
from tests.intake.conftest import OPERATOR_TOKEN, IntakeServer, NoPrefect
from tests.pipeline.conftest import TENANT
from tests.signing.conftest import Signed
from tests.signing.test_export import expected_files, secrets_of
from tests.signing.test_export_s3 import check_bundle, plain_bucket


def test_the_operator_api_hands_out_a_url_never_the_secrets(signed_in_s3: Signed, aws: MotoAws) -> None:
    signed = signed_in_s3
    bucket = plain_bucket(aws)
    settings = signed.settings.model_copy(update={"intake_operator_token": SecretStr(OPERATOR_TOKEN)})
    server = IntakeServer(settings, NoPrefect()).start()
    body = {
        "tenant": TENANT,
        "bundle_id": signed.bundle_id,
        "to_s3": f"s3://{bucket}/signing",
        "url_minutes": 10,
    }
    try:
        with server.operator() as api:
            answer = api.post("/api/signing/export", json=body)
        stranger = httpx.post(f"{server.base_url}/api/signing/export", json=body, timeout=30)
    finally:
        server.stop()
    assert answer.status_code == 201, answer.text
    out = answer.json()
    assert set(out) == {
        "object",
        "url",
        "url_expires_at",
        "certificate_id",
        "profile_name",
        "team_id",
        "files",
        "audit_seq",
    }
    assert out["object"].startswith(f"s3://{bucket}/signing/{TENANT}/{signed.bundle_id}/")
    assert out["certificate_id"] == signed.result.certificate_id
    assert set(out["files"]) == expected_files(signed.bundle_id)
    assert secrets_of(signed).scan_text(answer.text, "API answer") == []
    check_bundle(signed, out["url"])
    [event] = [e for e in signed.ctx.audit.events() if e.action == "signing.identity_exported"]
    assert (event.actor.kind, event.actor.id) == ("api", "operator-api")
    assert stranger.status_code == 401
    assert len(aws.client("s3").list_objects_v2(Bucket=bucket)["Contents"]) == 1


def test_the_operator_api_refuses_without_the_s3_backend(signed: Signed) -> None:
    settings = signed.settings.model_copy(update={"intake_operator_token": SecretStr(OPERATOR_TOKEN)})
    server = IntakeServer(settings, NoPrefect()).start()
    try:
        with server.operator() as api:
            answer = api.post(
                "/api/signing/export",
                json={"tenant": TENANT, "bundle_id": signed.bundle_id, "to_s3": "s3://acme-builds/signing"},
            )
    finally:
        server.stop()
    assert answer.status_code == 409
    assert "Export to S3 needs the S3 backend (ASCFLOW_CUSTODY_BACKEND=s3)" in answer.json()["detail"]
    assert "Next step: Export to a directory with --out DIR" in answer.json()["detail"]
    assert [e for e in signed.ctx.audit.events() if e.action == "signing.identity_exported"] == []
