"""Typed views of the store-listing resources: app infos, their localizations, age rating, version texts,
screenshots, price points and schedules, territories and availability (spec 4.4.1 schema names in each docstring).

As in `ascflow.connect.models`: unknown fields are ignored, everything Apple may leave unset may be null, and what
the actions branch on (ids, types, states) is required.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar, get_args

from pydantic import Field

from ascflow.connect.build_models import AssetDeliveryState, UploadOperation
from ascflow.connect.models import ApiModel, NullableList, Resource

ContentRights = Literal["DOES_NOT_USE_THIRD_PARTY_CONTENT", "USES_THIRD_PARTY_CONTENT"]
ListingReleaseType = Literal["MANUAL", "AFTER_APPROVAL", "SCHEDULED"]


class AppInfoState(StrEnum):
    ACCEPTED = "ACCEPTED"
    DEVELOPER_REJECTED = "DEVELOPER_REJECTED"
    IN_REVIEW = "IN_REVIEW"
    PENDING_RELEASE = "PENDING_RELEASE"
    PREPARE_FOR_SUBMISSION = "PREPARE_FOR_SUBMISSION"
    READY_FOR_DISTRIBUTION = "READY_FOR_DISTRIBUTION"
    READY_FOR_REVIEW = "READY_FOR_REVIEW"
    REJECTED = "REJECTED"
    REPLACED_WITH_NEW_INFO = "REPLACED_WITH_NEW_INFO"
    WAITING_FOR_REVIEW = "WAITING_FOR_REVIEW"


# fastlane's App#fetch_edit_app_info (reference first-release.md §2.1): the appInfo still open to edits.
EDITABLE_APP_INFO_STATES = frozenset(
    {
        AppInfoState.PREPARE_FOR_SUBMISSION,
        AppInfoState.DEVELOPER_REJECTED,
        AppInfoState.REJECTED,
        AppInfoState.WAITING_FOR_REVIEW,
    }
)


class AppListingAttributes(ApiModel):
    """`App` attributes the listing sets (the app's other attributes are in `models.AppAttributes`)."""

    name: str | None = None
    primary_locale: str | None = None
    content_rights_declaration: ContentRights | None = None


class AppListing(Resource):
    type: Literal["apps"]
    attributes: AppListingAttributes = Field(default_factory=AppListingAttributes)


class AppInfoAttributes(ApiModel):
    state: AppInfoState


class AppInfo(Resource):
    """`AppInfo`: its category relationships carry linkage only when the read included them."""

    type: Literal["appInfos"]
    attributes: AppInfoAttributes


class AppInfoLocalizationAttributes(ApiModel):
    locale: str
    name: str | None = None
    subtitle: str | None = None
    privacy_policy_url: str | None = None
    privacy_choices_url: str | None = None
    privacy_policy_text: str | None = None


class AppInfoLocalization(Resource):
    type: Literal["appInfoLocalizations"]
    attributes: AppInfoLocalizationAttributes


class AgeRatingDeclaration(Resource):
    """`AgeRatingDeclaration`: its 29 answers by Apple's names, compared as given (the set grows each year)."""

    type: Literal["ageRatingDeclarations"]
    attributes: dict[str, Any] = Field(default_factory=dict)


class VersionListingAttributes(ApiModel):
    """`AppStoreVersion` attributes the listing sets, and the state that says whether it can still change."""

    version_string: str
    app_version_state: str | None = None
    copyright: str | None = None
    release_type: ListingReleaseType | None = None
    earliest_release_date: datetime | None = None


class VersionListing(Resource):
    type: Literal["appStoreVersions"]
    attributes: VersionListingAttributes


class VersionLocalizationListingAttributes(ApiModel):
    locale: str
    description: str | None = None
    keywords: str | None = None
    marketing_url: str | None = None
    promotional_text: str | None = None
    support_url: str | None = None
    whats_new: str | None = None


class VersionLocalizationListing(Resource):
    """`AppStoreVersionLocalization` with every text the listing sets."""

    type: Literal["appStoreVersionLocalizations"]
    attributes: VersionLocalizationListingAttributes


class AppScreenshotSetAttributes(ApiModel):
    screenshot_display_type: str


class AppScreenshotSet(Resource):
    """`AppScreenshotSet`; `related_ids("appScreenshots")` is the display order when the read included them."""

    type: Literal["appScreenshotSets"]
    attributes: AppScreenshotSetAttributes


class AppScreenshotAttributes(ApiModel):
    file_size: int | None = None
    file_name: str | None = None
    source_file_checksum: str | None = None
    upload_operations: NullableList[UploadOperation]
    asset_delivery_state: AssetDeliveryState | None = None


class AppScreenshot(Resource):
    type: Literal["appScreenshots"]
    attributes: AppScreenshotAttributes = Field(default_factory=AppScreenshotAttributes)


class AppPricePointAttributes(ApiModel):
    customer_price: str | None = None
    proceeds: str | None = None


class AppPricePoint(Resource):
    """`AppPricePointV3`: an opaque id (never built by hand) and the price as Apple's decimal string."""

    type: Literal["appPricePoints"]
    attributes: AppPricePointAttributes = Field(default_factory=AppPricePointAttributes)


class AppPriceSchedule(Resource):
    type: Literal["appPriceSchedules"]


class AppPriceAttributes(ApiModel):
    manual: bool | None = None
    start_date: date | None = None
    end_date: date | None = None


class AppPrice(Resource):
    """`AppPriceV2`: one price of a schedule, pointing at its price point and territory when included."""

    type: Literal["appPrices"]
    attributes: AppPriceAttributes = Field(default_factory=AppPriceAttributes)


class TerritoryAttributes(ApiModel):
    currency: str | None = None


class Territory(Resource):
    type: Literal["territories"]
    attributes: TerritoryAttributes = Field(default_factory=TerritoryAttributes)


class AppAvailabilityAttributes(ApiModel):
    available_in_new_territories: bool | None = None


class AppAvailability(Resource):
    """`AppAvailabilityV2`."""

    type: Literal["appAvailabilities"]
    attributes: AppAvailabilityAttributes = Field(default_factory=AppAvailabilityAttributes)


class TerritoryAvailabilityAttributes(ApiModel):
    available: bool | None = None
    release_date: date | None = None
    pre_order_enabled: bool | None = None
    content_statuses: NullableList[str]


class TerritoryAvailability(Resource):
    type: Literal["territoryAvailabilities"]
    attributes: TerritoryAvailabilityAttributes = Field(default_factory=TerritoryAvailabilityAttributes)


R = TypeVar("R", bound=Resource)


def parse_included(model: type[R], pages: Iterable[Mapping[str, Any]]) -> list[R]:
    """The resources of `model`'s type among the documents' `included` (Apple sends no `included` when none)."""
    (type_,) = get_args(model.model_fields["type"].annotation)
    return [
        model.model_validate(item)
        for page in pages
        for item in page.get("included") or []
        if isinstance(item, Mapping) and item.get("type") == type_
    ]
