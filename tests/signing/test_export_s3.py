"""The signing bundle as one SSE-KMS object in S3 (moto, server mode) behind a short-lived presigned URL."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ascflow.audit import Actor
from ascflow.signing.errors import ExportRefused
from ascflow.signing.export import export_to_s3
from tests.fixtures.aws import MotoAws
from tests.pipeline.conftest import TENANT
from tests.signing.conftest import Signed
from tests.signing.test_export import expected_files


def plain_bucket(aws: MotoAws) -> str:
    name = f"ascflow-builds-{uuid.uuid4().hex[:12]}"
    aws.client("s3").create_bucket(Bucket=name)
    return name


def check_bundle(signed: Signed, url: str) -> None:
    """Fetch the presigned URL as a build machine would, and check the .p12 inside is Apple's certificate."""
    download = httpx.get(url, timeout=30)
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        files = {name.partition("/")[2]: archive.read(name) for name in archive.namelist()}
        modes = {(info.external_attr >> 16) & 0o777 for info in archive.infolist()}
    assert set(files) == expected_files(signed.bundle_id)
    assert modes == {0o600}
    _, certificate, _ = pkcs12.load_key_and_certificates(
        files["distribution.p12"], files["distribution.p12.password"]
    )
    assert certificate is not None
    assert certificate.public_bytes(serialization.Encoding.DER) == signed.issued_certificate_der()
    assert files[f"{signed.bundle_id}.mobileprovision"] == signed.issued_profile()


def test_export_to_s3_is_one_sse_kms_object_behind_a_short_lived_url(
    signed_in_s3: Signed, aws: MotoAws
) -> None:
    signed = signed_in_s3
    bucket = plain_bucket(aws)
    exported = export_to_s3(
        signed.ctx.custody,
        signed.settings,
        tenant=TENANT,
        bundle_id=signed.bundle_id,
        to=f"s3://{bucket}/signing/ci/",
        actor=Actor(kind="operator", id="alice"),
        url_lifetime=timedelta(minutes=5),
    )
    assert exported.s3.bucket == bucket
    assert exported.s3.key.startswith(f"signing/ci/{TENANT}/{signed.bundle_id}/signing-")
    head = aws.client("s3").head_object(Bucket=bucket, Key=exported.s3.key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(signed.settings.kms_key_id or "no key")
    assert parse_qs(urlsplit(exported.s3.url).query)["X-Amz-Expires"] == ["300"]
    check_bundle(signed, exported.s3.url)
    [event] = [e for e in signed.ctx.audit.events() if e.action == "signing.identity_exported"]
    assert event.target.destination == f"s3://{bucket}/{exported.s3.key}"
    assert event.target.custody_id == signed.result.signing_custody_id


def test_a_bucket_that_does_not_exist_is_named_and_nothing_is_audited(signed_in_s3: Signed) -> None:
    signed = signed_in_s3
    with pytest.raises(ExportRefused) as refused:
        export_to_s3(
            signed.ctx.custody,
            signed.settings,
            tenant=TENANT,
            bundle_id=signed.bundle_id,
            to="s3://no-such-bucket-here/signing",
            actor=Actor(kind="operator", id="alice"),
        )
    assert refused.value.what.startswith("Could not write s3://no-such-bucket-here/signing/")
    assert refused.value.what.endswith(": NoSuchBucket.")
    assert [e for e in signed.ctx.audit.events() if e.action == "signing.identity_exported"] == []
