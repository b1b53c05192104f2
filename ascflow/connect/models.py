"""Typed views of the App Store Connect resources the pipeline reads.

Apple adds attributes and relationships over time, so every model ignores fields it does not know. Apple
renders every attribute of a resource, `null` where unset, so everything else may be null (a null list reads
as empty). What the pipeline branches on (identifiers, types, states) is required and typed, so a document that
lacks it fails loudly here rather than deep inside an action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel


class MalformedDocument(ValueError):
    """Apple answered with a document that lacks what the client relies on."""


def _null_as_empty(value: Any) -> Any:
    return [] if value is None else value


T = TypeVar("T")
# A list attribute Apple may send as null (unset): read as empty, so callers need no None check.
NullableList = Annotated[list[T], BeforeValidator(_null_as_empty), Field(default_factory=list)]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True)


class Platform(StrEnum):
    IOS = "IOS"
    MAC_OS = "MAC_OS"
    TV_OS = "TV_OS"
    VISION_OS = "VISION_OS"


class BundleIdPlatform(StrEnum):
    IOS = "IOS"
    MAC_OS = "MAC_OS"
    UNIVERSAL = "UNIVERSAL"
    SERVICES = "SERVICES"


class CertificateType(StrEnum):
    DISTRIBUTION = "DISTRIBUTION"
    IOS_DISTRIBUTION = "IOS_DISTRIBUTION"
    IOS_DEVELOPMENT = "IOS_DEVELOPMENT"
    DEVELOPMENT = "DEVELOPMENT"
    MAC_APP_DEVELOPMENT = "MAC_APP_DEVELOPMENT"
    MAC_APP_DISTRIBUTION = "MAC_APP_DISTRIBUTION"
    MAC_INSTALLER_DISTRIBUTION = "MAC_INSTALLER_DISTRIBUTION"
    DEVELOPER_ID_APPLICATION = "DEVELOPER_ID_APPLICATION"
    DEVELOPER_ID_APPLICATION_G2 = "DEVELOPER_ID_APPLICATION_G2"
    DEVELOPER_ID_KEXT = "DEVELOPER_ID_KEXT"
    DEVELOPER_ID_KEXT_G2 = "DEVELOPER_ID_KEXT_G2"
    APPLE_PAY = "APPLE_PAY"
    APPLE_PAY_MERCHANT_IDENTITY = "APPLE_PAY_MERCHANT_IDENTITY"
    APPLE_PAY_PSP_IDENTITY = "APPLE_PAY_PSP_IDENTITY"
    APPLE_PAY_RSA = "APPLE_PAY_RSA"
    IDENTITY_ACCESS = "IDENTITY_ACCESS"
    PASS_TYPE_ID = "PASS_TYPE_ID"
    PASS_TYPE_ID_WITH_NFC = "PASS_TYPE_ID_WITH_NFC"


# Both sign App Store builds; Apple counts them against the same distribution-certificate limit.
APP_STORE_CERTIFICATE_TYPES = (CertificateType.DISTRIBUTION, CertificateType.IOS_DISTRIBUTION)


class ProfileState(StrEnum):
    ACTIVE = "ACTIVE"
    INVALID = "INVALID"


class UserRole(StrEnum):
    ADMIN = "ADMIN"
    FINANCE = "FINANCE"
    ACCOUNT_HOLDER = "ACCOUNT_HOLDER"
    SALES = "SALES"
    MARKETING = "MARKETING"
    APP_MANAGER = "APP_MANAGER"
    DEVELOPER = "DEVELOPER"
    ACCESS_TO_REPORTS = "ACCESS_TO_REPORTS"
    CUSTOMER_SUPPORT = "CUSTOMER_SUPPORT"
    CREATE_APPS = "CREATE_APPS"
    CLOUD_MANAGED_DEVELOPER_ID = "CLOUD_MANAGED_DEVELOPER_ID"
    CLOUD_MANAGED_APP_DISTRIBUTION = "CLOUD_MANAGED_APP_DISTRIBUTION"
    GENERATE_INDIVIDUAL_KEYS = "GENERATE_INDIVIDUAL_KEYS"


class BuildProcessingState(StrEnum):
    PROCESSING = "PROCESSING"
    FAILED = "FAILED"
    INVALID = "INVALID"
    VALID = "VALID"


class BuildUploadStateValue(StrEnum):
    AWAITING_UPLOAD = "AWAITING_UPLOAD"
    PROCESSING = "PROCESSING"
    FAILED = "FAILED"
    COMPLETE = "COMPLETE"


class AssetDeliveryStateValue(StrEnum):
    AWAITING_UPLOAD = "AWAITING_UPLOAD"
    UPLOAD_COMPLETE = "UPLOAD_COMPLETE"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"


class ChecksumAlgorithm(StrEnum):
    MD5 = "MD5"
    SHA_256 = "SHA_256"


class AppVersionState(StrEnum):
    ACCEPTED = "ACCEPTED"
    DEVELOPER_REJECTED = "DEVELOPER_REJECTED"
    IN_REVIEW = "IN_REVIEW"
    INVALID_BINARY = "INVALID_BINARY"
    METADATA_REJECTED = "METADATA_REJECTED"
    PENDING_APPLE_RELEASE = "PENDING_APPLE_RELEASE"
    PENDING_DEVELOPER_RELEASE = "PENDING_DEVELOPER_RELEASE"
    PREPARE_FOR_SUBMISSION = "PREPARE_FOR_SUBMISSION"
    PROCESSING_FOR_DISTRIBUTION = "PROCESSING_FOR_DISTRIBUTION"
    READY_FOR_DISTRIBUTION = "READY_FOR_DISTRIBUTION"
    READY_FOR_REVIEW = "READY_FOR_REVIEW"
    REJECTED = "REJECTED"
    REPLACED_WITH_NEW_VERSION = "REPLACED_WITH_NEW_VERSION"
    WAITING_FOR_EXPORT_COMPLIANCE = "WAITING_FOR_EXPORT_COMPLIANCE"
    WAITING_FOR_REVIEW = "WAITING_FOR_REVIEW"


# States in which metadata and the build can still be changed (only one per platform exists at a time).
EDITABLE_VERSION_STATES = frozenset(
    {
        AppVersionState.PREPARE_FOR_SUBMISSION,
        AppVersionState.DEVELOPER_REJECTED,
        AppVersionState.REJECTED,
        AppVersionState.METADATA_REJECTED,
        AppVersionState.INVALID_BINARY,
    }
)
# States of a version already handed to review: a rerun after submitting finds it here.
IN_REVIEW_VERSION_STATES = frozenset(
    {
        AppVersionState.READY_FOR_REVIEW,
        AppVersionState.WAITING_FOR_EXPORT_COMPLIANCE,
        AppVersionState.WAITING_FOR_REVIEW,
        AppVersionState.IN_REVIEW,
    }
)


class ReviewSubmissionState(StrEnum):
    READY_FOR_REVIEW = "READY_FOR_REVIEW"
    WAITING_FOR_REVIEW = "WAITING_FOR_REVIEW"
    IN_REVIEW = "IN_REVIEW"
    UNRESOLVED_ISSUES = "UNRESOLVED_ISSUES"
    CANCELING = "CANCELING"
    COMPLETING = "COMPLETING"
    COMPLETE = "COMPLETE"


# Resource linkage and relationships (JSON:API).


class Linkage(ApiModel):
    type: str
    id: str


class Relationship(ApiModel):
    data: Linkage | list[Linkage] | None = None


class Resource(ApiModel):
    id: str
    relationships: dict[str, Relationship] = Field(default_factory=dict)

    def related_id(self, name: str) -> str | None:
        """The id a to-one relationship points at, when the document carried its linkage."""
        relationship = self.relationships.get(name)
        if relationship is None or not isinstance(relationship.data, Linkage):
            return None
        return relationship.data.id

    def related_ids(self, name: str) -> list[str]:
        relationship = self.relationships.get(name)
        if relationship is None or not isinstance(relationship.data, list):
            return []
        return [linkage.id for linkage in relationship.data]


# Apps and signing.


class AppAttributes(ApiModel):
    name: str | None = None
    bundle_id: str
    sku: str | None = None
    primary_locale: str | None = None


class App(Resource):
    type: Literal["apps"]
    attributes: AppAttributes


class BundleIdAttributes(ApiModel):
    name: str | None = None
    identifier: str
    platform: BundleIdPlatform
    seed_id: str | None = None


class BundleId(Resource):
    type: Literal["bundleIds"]
    attributes: BundleIdAttributes


class CertificateAttributes(ApiModel):
    name: str | None = None
    display_name: str | None = None
    certificate_type: CertificateType
    serial_number: str
    platform: BundleIdPlatform | None = None
    expiration_date: datetime
    certificate_content: str
    activated: bool | None = None


class Certificate(Resource):
    type: Literal["certificates"]
    attributes: CertificateAttributes


class ProfileAttributes(ApiModel):
    name: str
    platform: BundleIdPlatform | None = None
    profile_type: str
    profile_state: ProfileState
    profile_content: str | None = None
    uuid: str | None = None
    created_date: datetime | None = None
    expiration_date: datetime | None = None


class Profile(Resource):
    type: Literal["profiles"]
    attributes: ProfileAttributes


# Users and invitations.


class UserAttributes(ApiModel):
    username: str
    first_name: str | None = None
    last_name: str | None = None
    roles: NullableList[str]
    all_apps_visible: bool | None = None
    provisioning_allowed: bool | None = None


class User(Resource):
    type: Literal["users"]
    attributes: UserAttributes


class UserInvitationAttributes(ApiModel):
    email: str
    first_name: str | None = None
    last_name: str | None = None
    expiration_date: datetime | None = None
    roles: NullableList[str]
    all_apps_visible: bool | None = None
    provisioning_allowed: bool | None = None


class UserInvitation(Resource):
    type: Literal["userInvitations"]
    attributes: UserInvitationAttributes


# App Store versions and their metadata.


class AppStoreVersionAttributes(ApiModel):
    platform: Platform
    version_string: str
    app_version_state: AppVersionState
    app_store_state: str | None = None
    copyright: str | None = None
    release_type: str | None = None
    created_date: datetime | None = None


class AppStoreVersion(Resource):
    type: Literal["appStoreVersions"]
    attributes: AppStoreVersionAttributes


class AppStoreVersionLocalizationAttributes(ApiModel):
    locale: str
    description: str | None = None
    keywords: str | None = None
    promotional_text: str | None = None
    whats_new: str | None = None


class AppStoreVersionLocalization(Resource):
    type: Literal["appStoreVersionLocalizations"]
    attributes: AppStoreVersionLocalizationAttributes


class AppStoreReviewDetailAttributes(ApiModel):
    contact_first_name: str | None = None
    contact_last_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    demo_account_name: str | None = None
    demo_account_password: SecretStr | None = None
    demo_account_required: bool | None = None
    notes: str | None = None


class AppStoreReviewDetail(Resource):
    type: Literal["appStoreReviewDetails"]
    attributes: AppStoreReviewDetailAttributes = Field(default_factory=AppStoreReviewDetailAttributes)


class ReviewSubmissionAttributes(ApiModel):
    platform: Platform | None = None
    submitted_date: datetime | None = None
    state: ReviewSubmissionState


class ReviewSubmission(Resource):
    type: Literal["reviewSubmissions"]
    attributes: ReviewSubmissionAttributes


class ReviewSubmissionItemAttributes(ApiModel):
    state: str | None = None


class ReviewSubmissionItem(Resource):
    type: Literal["reviewSubmissionItems"]
    attributes: ReviewSubmissionItemAttributes = Field(default_factory=ReviewSubmissionItemAttributes)


# Reading documents.

R = TypeVar("R", bound=Resource)


def parse_one(model: type[R], document: Mapping[str, Any]) -> R:
    data = document.get("data")
    if not isinstance(data, Mapping):
        raise MalformedDocument(
            f"expected one {model.__name__} in the response's `data`, got {type(data).__name__}"
        )
    return model.model_validate(data)


def parse_optional(model: type[R], document: Mapping[str, Any]) -> R | None:
    """A to-one related resource that may not exist (Apple answers `data: null`)."""
    if document.get("data") is None:
        return None
    return parse_one(model, document)


def parse_many(model: type[R], pages: Iterable[Mapping[str, Any]]) -> list[R]:
    found: list[R] = []
    for page in pages:
        data = page.get("data")
        if not isinstance(data, list):
            raise MalformedDocument(f"expected a list of {model.__name__} in the response's `data`")
        found.extend(model.model_validate(item) for item in data)
    return found
