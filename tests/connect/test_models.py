"""Documents built from Apple's spec parse into the models; unknown fields pass, missing relied-on ones fail."""

from __future__ import annotations

import copy

import pytest
from pydantic import SecretStr, ValidationError

from ascflow.connect import build_models, models
from ascflow.connect.build_models import Build, BuildUpload, BuildUploadFile
from ascflow.connect.models import (
    AppStoreReviewDetail,
    BuildProcessingState,
    Certificate,
    MalformedDocument,
    Profile,
    ReviewSubmissionItem,
    parse_many,
    parse_one,
    parse_optional,
)
from tests.fixtures.openapi import SPEC

MODELS: list[tuple[str, type[models.Resource]]] = [
    ("App", models.App),
    ("BundleId", models.BundleId),
    ("Certificate", models.Certificate),
    ("Profile", models.Profile),
    ("User", models.User),
    ("UserInvitation", models.UserInvitation),
    ("Build", build_models.Build),
    ("BuildUpload", build_models.BuildUpload),
    ("BuildUploadFile", build_models.BuildUploadFile),
    ("AppStoreVersion", models.AppStoreVersion),
    ("AppStoreVersionLocalization", models.AppStoreVersionLocalization),
    ("AppStoreReviewDetail", models.AppStoreReviewDetail),
    ("ReviewSubmission", models.ReviewSubmission),
    ("ReviewSubmissionItem", models.ReviewSubmissionItem),
]


@pytest.mark.parametrize(("schema", "model"), MODELS, ids=[name for name, _ in MODELS])
def test_single_resource_document_from_the_spec_parses(schema: str, model: type[models.Resource]) -> None:
    document = SPEC.example(f"{schema}Response")
    parsed = parse_one(model, document)
    assert parsed.id == document["data"]["id"]
    assert parsed.model_dump(by_alias=True)["type"] == document["data"]["type"]


@pytest.mark.parametrize(
    ("schema", "model"),
    [m for m in MODELS if m[0] != "AppStoreReviewDetail"],  # Apple has no collection of review details
    ids=[name for name, _ in MODELS if name != "AppStoreReviewDetail"],
)
def test_collection_document_from_the_spec_parses(schema: str, model: type[models.Resource]) -> None:
    document = SPEC.example(f"{schema}sResponse")
    parsed = parse_many(model, [document, document])
    assert [p.id for p in parsed] == [item["id"] for item in document["data"]] * 2


def test_spec_example_attributes_land_in_typed_fields() -> None:
    upload = parse_one(BuildUpload, SPEC.example("BuildUploadResponse"))
    assert upload.attributes.state.state is models.BuildUploadStateValue.AWAITING_UPLOAD
    assert upload.attributes.state.errors[0].code == "example"
    upload_file = parse_one(BuildUploadFile, SPEC.example("BuildUploadFileResponse"))
    operation = upload_file.attributes.upload_operations[0]
    assert (operation.method, operation.offset, operation.length) == ("example", 1, 1)
    assert operation.request_headers[0].name == "example"
    certificate = parse_one(Certificate, SPEC.example("CertificateResponse"))
    assert certificate.attributes.certificate_type is models.CertificateType.APPLE_PAY
    assert certificate.attributes.expiration_date.year == 2026


def test_unknown_attributes_and_members_are_ignored() -> None:
    document = copy.deepcopy(SPEC.example("BuildResponse"))
    document["data"]["attributes"]["somethingAppleAddedLater"] = {"nested": [1, 2]}
    document["data"]["relationships"]["brandNew"] = {"links": {"self": "x"}}
    document["data"]["meta"] = {"whatever": True}
    build = parse_one(Build, document)
    assert build.attributes.processing_state is BuildProcessingState.PROCESSING
    assert build.related_id("brandNew") is None


def test_a_missing_relied_on_attribute_fails_naming_it() -> None:
    document = copy.deepcopy(SPEC.example("BuildResponse"))
    del document["data"]["attributes"]["processingState"]
    with pytest.raises(ValidationError, match="processingState"):
        parse_one(Build, document)


def test_an_unknown_state_value_fails_instead_of_being_guessed() -> None:
    document = copy.deepcopy(SPEC.example("BuildResponse"))
    document["data"]["attributes"]["processingState"] = "HALF_DONE"
    with pytest.raises(ValidationError, match="processingState"):
        parse_one(Build, document)


def test_a_resource_of_another_type_is_rejected() -> None:
    document = copy.deepcopy(SPEC.example("CertificateResponse"))
    document["data"]["type"] = "profiles"
    with pytest.raises(ValidationError, match="type"):
        parse_one(Certificate, document)


def test_a_document_without_data_is_reported_as_malformed() -> None:
    with pytest.raises(MalformedDocument, match="Profile"):
        parse_one(Profile, {"errors": []})
    with pytest.raises(MalformedDocument, match="Profile"):
        parse_many(Profile, [{"data": {"id": "1"}}])


def test_null_data_means_no_related_resource() -> None:
    assert parse_optional(AppStoreReviewDetail, {"data": None, "links": {}}) is None


def test_relationship_linkage_is_readable() -> None:
    profile = Profile.model_validate(
        {
            "type": "profiles",
            "id": "P1",
            "attributes": {"name": "n", "profileType": "IOS_APP_STORE", "profileState": "ACTIVE"},
            "relationships": {
                "bundleId": {"data": {"type": "bundleIds", "id": "B1"}},
                "certificates": {
                    "data": [{"type": "certificates", "id": "C1"}, {"type": "certificates", "id": "C2"}]
                },
                "devices": {"links": {"self": "https://example"}},
            },
        }
    )
    assert profile.related_id("bundleId") == "B1"
    assert profile.related_ids("certificates") == ["C1", "C2"]
    assert profile.related_id("certificates") is None
    assert profile.related_ids("devices") == []
    item = ReviewSubmissionItem.model_validate({"type": "reviewSubmissionItems", "id": "I"})
    assert item.related_id("appStoreVersion") is None


def test_presigned_upload_urls_and_demo_passwords_stay_out_of_reprs() -> None:
    upload_file = parse_one(BuildUploadFile, SPEC.example("BuildUploadFileResponse"))
    operation = upload_file.attributes.upload_operations[0].model_copy(
        update={"url": "https://upload.example/part?X-Signature=SECRETSIG"}
    )
    assert "SECRETSIG" not in repr(operation)
    assert "SECRETSIG" not in str(operation)
    detail = AppStoreReviewDetail.model_validate(
        {"type": "appStoreReviewDetails", "id": "D", "attributes": {"demoAccountPassword": "hunter2-demo"}}
    )
    assert isinstance(detail.attributes.demo_account_password, SecretStr)
    assert "hunter2-demo" not in repr(detail)


def test_upload_headers_are_given_exactly_and_an_incomplete_one_is_refused() -> None:
    operation = build_models.UploadOperation.model_validate(
        {
            "method": "PUT",
            "url": "https://upload.example/p",
            "offset": 0,
            "length": 3,
            "requestHeaders": [{"name": "Content-Type", "value": "application/octet-stream"}],
        }
    )
    assert operation.headers() == {"Content-Type": "application/octet-stream"}
    broken = operation.model_copy(update={"request_headers": [build_models.HttpHeader(name="X-Only-Name")]})
    with pytest.raises(MalformedDocument, match="header without name or value"):
        broken.headers()


def _attributes_model(model: type[models.Resource]) -> type[models.ApiModel]:
    annotation = model.model_fields["attributes"].annotation
    assert isinstance(annotation, type)
    assert issubclass(annotation, models.ApiModel)
    return annotation


@pytest.mark.parametrize(("schema", "model"), MODELS, ids=[name for name, _ in MODELS])
def test_apples_nulls_parse_except_where_the_pipeline_relies_on_a_value(
    schema: str, model: type[models.Resource]
) -> None:
    """Apple sends every attribute, null where unset: all but the relied-on (required) ones may be null."""
    attributes_model = _attributes_model(model)
    required = {
        field.alias or name for name, field in attributes_model.model_fields.items() if field.is_required()
    }
    document = copy.deepcopy(SPEC.example(f"{schema}Response"))
    attributes = document["data"]["attributes"]
    assert required <= set(attributes), f"{schema}: the model requires attributes the spec lacks"
    document["data"]["attributes"] = {k: (v if k in required else None) for k, v in attributes.items()}
    parsed = getattr(parse_one(model, document), "attributes")  # noqa: B009  (every model here has them)
    for name, field in attributes_model.model_fields.items():
        if (field.alias or name) not in required:
            assert getattr(parsed, name) in (None, []), f"{schema}.{name} should read a null as unset"
    for name in sorted(required):
        broken = copy.deepcopy(document)
        broken["data"]["attributes"][name] = None
        with pytest.raises(ValidationError):
            parse_one(model, broken)


def test_a_null_list_reads_as_empty() -> None:
    state = build_models.BuildUploadState.model_validate({"state": "COMPLETE", "errors": None, "infos": None})
    assert (state.errors, state.warnings, state.infos) == ([], [], [])
    user = models.UserAttributes.model_validate({"username": "a@example.com", "roles": None})
    assert user.roles == []
