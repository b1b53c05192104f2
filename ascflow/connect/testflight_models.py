"""Typed views of what follows the upload: TestFlight's beta resources, and the version's phased release and
release request (spec 4.4.1 schema names in each docstring).

As in `ascflow.connect.models`: unknown fields are ignored, every attribute Apple may leave unset may be null,
and what the actions branch on (ids, types, states, a group's name, a localization's locale) is required.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from ascflow.connect.models import ApiModel, AppStoreReviewDetailAttributes, Resource


class BetaReviewState(StrEnum):
    """`BetaReviewState`: a beta app review submission's state."""

    WAITING_FOR_REVIEW = "WAITING_FOR_REVIEW"
    IN_REVIEW = "IN_REVIEW"
    REJECTED = "REJECTED"
    APPROVED = "APPROVED"


class PhasedReleaseState(StrEnum):
    """`PhasedReleaseState`: INACTIVE until the version is released, then ACTIVE for Apple's 7-day rollout."""

    INACTIVE = "INACTIVE"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    COMPLETE = "COMPLETE"


class BetaBuildLocalizationAttributes(ApiModel):
    locale: str
    whats_new: str | None = None


class BetaBuildLocalization(Resource):
    """`BetaBuildLocalization`: a build's "What to Test" text in one locale."""

    type: Literal["betaBuildLocalizations"]
    attributes: BetaBuildLocalizationAttributes


class BetaGroupAttributes(ApiModel):
    name: str
    created_date: datetime | None = None
    is_internal_group: bool | None = None
    has_access_to_all_builds: bool | None = None
    public_link_enabled: bool | None = None
    public_link: str | None = None
    feedback_enabled: bool | None = None


class BetaGroup(Resource):
    """`BetaGroup`."""

    type: Literal["betaGroups"]
    attributes: BetaGroupAttributes


class BetaTesterAttributes(ApiModel):
    # A tester who joined through a public link may have no e-mail address Apple shows.
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    invite_type: str | None = None
    state: str | None = None


class BetaTester(Resource):
    """`BetaTester`: one per person and team; the groups it is in are relationships."""

    type: Literal["betaTesters"]
    attributes: BetaTesterAttributes = Field(default_factory=BetaTesterAttributes)


# The beta review's contact has exactly the App Store review detail's attributes (spec 4.4.1).
BetaAppReviewDetailAttributes = AppStoreReviewDetailAttributes


class BetaAppReviewDetail(Resource):
    """`BetaAppReviewDetail`: Apple makes one per app (there is no POST)."""

    type: Literal["betaAppReviewDetails"]
    attributes: BetaAppReviewDetailAttributes = Field(default_factory=BetaAppReviewDetailAttributes)


class BetaAppLocalizationAttributes(ApiModel):
    locale: str
    description: str | None = None
    feedback_email: str | None = None
    marketing_url: str | None = None
    privacy_policy_url: str | None = None
    tv_os_privacy_policy: str | None = None


class BetaAppLocalization(Resource):
    """`BetaAppLocalization`: the app's test information ("Beta App Description") in one locale."""

    type: Literal["betaAppLocalizations"]
    attributes: BetaAppLocalizationAttributes


class BetaAppReviewSubmissionAttributes(ApiModel):
    beta_review_state: BetaReviewState
    submitted_date: datetime | None = None


class BetaAppReviewSubmission(Resource):
    """`BetaAppReviewSubmission`: a build sent to Beta App Review (one per build)."""

    type: Literal["betaAppReviewSubmissions"]
    attributes: BetaAppReviewSubmissionAttributes


class PhasedReleaseAttributes(ApiModel):
    phased_release_state: PhasedReleaseState
    start_date: datetime | None = None
    total_pause_duration: int | None = None
    current_day_number: int | None = None


class PhasedRelease(Resource):
    """`AppStoreVersionPhasedRelease`: at most one per version."""

    type: Literal["appStoreVersionPhasedReleases"]
    attributes: PhasedReleaseAttributes


class ReleaseRequest(Resource):
    """`AppStoreVersionReleaseRequest`: has no attributes; making one releases a version Apple approved."""

    type: Literal["appStoreVersionReleaseRequests"]
