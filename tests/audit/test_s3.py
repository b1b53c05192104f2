"""The S3 backend against moto's server over HTTP: Object Lock retention, conditional writes, verify."""

from __future__ import annotations

import json
import threading

import pytest

from ascflow.audit import AuditLog, AuditPosition, AuditWriteFailed, S3Backend, ServiceKey, open_audit_log
from ascflow.audit.verify import verify_log
from ascflow.settings import Settings
from tests.fixtures.aws import MotoAws


@pytest.fixture
def locked_bucket(aws: MotoAws) -> str:
    return aws.versioned_bucket(object_lock=True)


def s3_log(aws: MotoAws, bucket: str, key: ServiceKey, **options: object) -> AuditLog:
    backend = S3Backend(aws.client("s3"), bucket, retention_days=1, **options)  # type: ignore[arg-type]
    return AuditLog(backend, key, checkpoint_every=4)


def test_append_checkpoint_read_and_verify(aws: MotoAws, locked_bucket: str, service_key: ServiceKey, event):
    log = s3_log(aws, locked_bucket, service_key)
    positions = [log.append(event()) for _ in range(6)]
    log.checkpoint(reason="run-end")
    assert [p.seq for p in positions] == [1, 2, 3, 4, 5, 6]
    assert [r.hash for r in log.events()] == [p.hash for p in positions]
    assert [(c.n, c.size) for c in log.checkpoints()] == [(1, 4), (2, 6)]
    report = verify_log(log.backend, service_key.public)
    assert report.ok, report.summary()
    assert report.head == positions[-1]

    s3 = aws.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=locked_bucket)["Contents"]]
    assert "audit/events/000000000001.json" in keys
    assert "audit/checkpoints/000000000002.json" in keys
    head = s3.head_object(Bucket=locked_bucket, Key="audit/events/000000000003.json")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] is not None


def test_governance_mode_is_applied(aws: MotoAws, locked_bucket: str, service_key: ServiceKey, event) -> None:
    log = s3_log(aws, locked_bucket, service_key, retention_mode="GOVERNANCE")
    log.append(event())
    head = aws.client("s3").head_object(Bucket=locked_bucket, Key="audit/events/000000000001.json")
    assert head["ObjectLockMode"] == "GOVERNANCE"


def test_locked_event_cannot_be_deleted_and_a_delete_marker_is_flagged(
    aws: MotoAws, locked_bucket: str, service_key: ServiceKey, event
) -> None:
    log = s3_log(aws, locked_bucket, service_key)
    for _ in range(3):
        log.append(event())
    s3 = aws.client("s3")
    key = "audit/events/000000000002.json"
    version = s3.list_object_versions(Bucket=locked_bucket, Prefix=key)["Versions"][0]["VersionId"]
    with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=locked_bucket, Key=key, VersionId=version)
    s3.delete_object(
        Bucket=locked_bucket, Key=key
    )  # a plain DELETE only stacks a marker on the locked version
    report = verify_log(log.backend, service_key.public)
    assert (report.ok, report.first_bad_line) == (False, 2)
    assert "delete marker" in report.problem


def test_overwritten_event_is_detected(
    aws: MotoAws, locked_bucket: str, service_key: ServiceKey, event
) -> None:
    log = s3_log(aws, locked_bucket, service_key)
    for _ in range(3):
        log.append(event())
    s3 = aws.client("s3")
    key = "audit/events/000000000003.json"
    original = json.loads(s3.get_object(Bucket=locked_bucket, Key=key)["Body"].read())
    s3.put_object(Bucket=locked_bucket, Key=key, Body=json.dumps(original | {"outcome": "denied"}).encode())
    report = verify_log(log.backend, service_key.public)
    assert (report.ok, report.first_bad_line) == (False, 3)
    assert "overwritten" in report.problem
    assert report.location == f"s3://{locked_bucket}/{key}"


def test_writers_racing_on_one_bucket_keep_one_chain(
    aws: MotoAws, locked_bucket: str, service_key: ServiceKey, event
) -> None:
    logs = [s3_log(aws, locked_bucket, service_key) for _ in range(3)]  # separate backends: separate caches
    positions: list[AuditPosition] = []

    def writer(log: AuditLog) -> None:
        for _ in range(8):
            positions.append(log.append(event()))

    threads = [threading.Thread(target=writer, args=(log,)) for log in logs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.seq for p in positions) == list(range(1, 25))
    report = verify_log(logs[0].backend, service_key.public)
    assert report.ok, report.summary()
    assert report.events == 24


def test_bucket_without_object_lock_fails_closed(aws: MotoAws, service_key: ServiceKey, event) -> None:
    plain = aws.versioned_bucket(object_lock=False)
    log = s3_log(aws, plain, service_key)
    with pytest.raises(AuditWriteFailed, match="S3 refused"):
        log.append(event())
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket=plain)


def test_unreachable_s3_fails_closed(service_key: ServiceKey, event) -> None:
    backend = S3Backend.from_endpoint("http://127.0.0.1:9", "us-east-1", "nowhere")
    backend.s3.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(AuditWriteFailed):
        AuditLog(backend, service_key).append(event())


def test_open_audit_log_selects_s3_from_settings(aws: MotoAws, locked_bucket: str, tmp_path, event) -> None:
    settings = Settings(
        data_dir=tmp_path,
        audit_backend="s3",
        audit_bucket=locked_bucket,
        aws_endpoint_url=aws.endpoint_url,
    )
    log = open_audit_log(settings)
    assert log.append(event()).seq == 1
    assert isinstance(log.backend, S3Backend)
    assert verify_log(log.backend, log.key.public).ok
