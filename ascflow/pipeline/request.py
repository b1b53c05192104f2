"""What an operator (or another system) asks for: references and app facts only, never a secret.

The models render as forms in the Prefect UI, so every field has a title, a description and constraints that
Prefect checks before a run is created.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ascflow.connect import UserRole
from ascflow.connect.actions.team import Invitee as AppleInvitee
from ascflow.connect.models import AppStoreReviewDetailAttributes
from ascflow.contracts import CUSTODY_ID_PATTERN, app_lock
from ascflow.listing import ListingSource
from ascflow.listing.model import DemoAccount

TENANT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
BUNDLE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.-]{0,154}$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$"
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
BUILD_NUMBER_PATTERN = r"^\d+(\.\d+){0,2}$"

Locale = Annotated[str, Field(pattern=LOCALE_PATTERN)]
WhatsNew = Annotated[str, Field(min_length=1, max_length=4000)]
BetaDescription = Annotated[str, Field(min_length=1, max_length=4000)]

# ACCOUNT_HOLDER cannot be given by invitation; the add-on permissions are not primary roles.
InviteeRole = Literal[
    "ADMIN", "APP_MANAGER", "DEVELOPER", "MARKETING", "SALES", "FINANCE", "CUSTOMER_SUPPORT"
]


class Invitee(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        pattern=EMAIL_PATTERN, title="E-mail", description="The Apple ID the person signs in with."
    )
    first_name: str = Field(min_length=1, max_length=64, title="First name")
    last_name: str = Field(min_length=1, max_length=64, title="Last name")
    roles: list[InviteeRole] = Field(
        default=["DEVELOPER"], min_length=1, title="Roles in the customer's team"
    )
    all_apps_visible: bool = Field(default=False, title="Sees all apps")
    provisioning_allowed: bool = Field(
        default=False,
        title="Provisioning allowed",
        description="Access to certificates, identifiers and profiles.",
    )
    add_missing_roles: bool = Field(
        default=False,
        title="Add missing roles to a member",
        description="If the person is already in the customer's team without some of these roles, add them "
        "(no role is ever taken away). Otherwise the summary reports the roles they have.",
    )

    def apple(self) -> AppleInvitee:
        """The invitation as the client sends it (the field names are the same; roles become Apple's enum)."""
        fields = self.model_dump(exclude={"roles", "add_missing_roles"})
        return AppleInvitee(**fields, roles=[UserRole(r) for r in self.roles])


class BuildSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(
        default=None,
        title="Build file",
        description="Local path or s3://bucket/key of the .ipa; empty to use a build already uploaded.",
        max_length=1024,
    )
    build_number: str = Field(
        pattern=BUILD_NUMBER_PATTERN, title="Build number", description="CFBundleVersion of the build."
    )
    wait_for_build: bool = Field(
        default=False,
        title="Wait for the build",
        description="Suspend after signing and the invitations until the build system, signing with the exported "
        "identity, hands over the .ipa or uploads the build itself.",
    )


class ReviewContact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: str = Field(min_length=1, max_length=64)
    last_name: str = Field(min_length=1, max_length=64)
    phone: str = Field(pattern=r"^\+?[0-9 ()-]{6,32}$", description="Apple's reviewer may call this number.")
    email: str = Field(pattern=EMAIL_PATTERN)
    notes: str = Field(default="", max_length=4000, description="Notes for Apple's reviewer.")

    def apple(self) -> AppStoreReviewDetailAttributes:
        """The one place these fields get Apple's names (the client model turns them into camelCase)."""
        return AppStoreReviewDetailAttributes(
            contact_first_name=self.first_name,
            contact_last_name=self.last_name,
            contact_phone=self.phone,
            contact_email=self.email,
            notes=self.notes or None,
        )


class Tester(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(pattern=EMAIL_PATTERN, title="E-mail", description="The address TestFlight invites.")
    first_name: str = Field(min_length=1, max_length=64, title="First name")
    last_name: str = Field(min_length=1, max_length=64, title="Last name")

    def row(self) -> tuple[str, str, str]:
        return (self.email, self.first_name, self.last_name)


class InternalGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="Publishing team", min_length=1, max_length=64, title="Internal group name")
    testers: list[Tester] = Field(
        default_factory=list,
        max_length=100,
        title="Internal testers",
        description="Members of the customer's team; empty: the request's invitees (each once they are a "
        "member: Apple takes only App Store Connect users in an internal group).",
    )


class ExternalGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, title="External group name")
    testers: list[Tester] = Field(default_factory=list, max_length=500, title="External testers")
    description: dict[Locale, BetaDescription] = Field(
        min_length=1,
        title="Beta app description, per locale",
        description="What testers read about the app; Apple requires the app's primary locale.",
    )
    review_contact: ReviewContact = Field(
        title="Beta App Review contact", description="Its notes are the notes for Beta App Review."
    )
    demo_account: DemoAccount | None = Field(
        default=None,
        title="Demo account",
        description="Only when the app needs a sign-in: the account's name and the worker's environment "
        "variable holding its password.",
    )


class TestFlight(BaseModel):
    model_config = ConfigDict(extra="forbid")

    whats_new: dict[Locale, WhatsNew] = Field(
        default_factory=dict,
        title="What to Test, per locale",
        description='What testers are asked to try in this build, e.g. {"en-US": "The new level editor."}.',
    )
    internal_group: InternalGroup | None = Field(
        default_factory=InternalGroup,
        title="Internal testing",
        description="The team tests the build in this internal group; empty for no internal testing.",
    )
    external_group: ExternalGroup | None = Field(
        default=None,
        title="External testing",
        description="Testers outside the team; the build goes to Beta App Review first.",
    )


class OnboardingRequest(BaseModel):
    """One customer app to publish. Carries references and app facts; the key stays in custody."""

    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(pattern=TENANT_PATTERN, title="Tenant", description="Customer slug, e.g. acme-games.")
    custody_id: str | None = Field(
        default=None,
        title="Custody ID",
        description="The customer's uploaded key; empty to wait for the upload on the intake page.",
        pattern=CUSTODY_ID_PATTERN,
    )
    bundle_id: str = Field(pattern=BUNDLE_ID_PATTERN, title="Bundle ID", description="e.g. com.acme.game")
    platform: Literal["IOS"] = Field(default="IOS", title="Platform")
    version: str = Field(pattern=r"^\d+(\.\d+){0,2}$", title="Version", description="e.g. 1.2.0")
    build: BuildSource
    listing: ListingSource | None = Field(
        default=None,
        title="Store listing",
        description="The app's listing file (path or s3:// URL) or the listing inline: texts, screenshots, "
        "category, age rating, price, availability, review contact, release. Required for a first release.",
    )
    whats_new: dict[Locale, WhatsNew] = Field(
        default_factory=dict,
        title="What's New, per locale",
        description='Without a listing: required by Apple for every update, e.g. {"en-US": "Bug fixes."}. '
        "With a listing, What's New is the listing's.",
    )
    review_contact: ReviewContact | None = Field(
        default=None,
        title="App Review contact",
        description="Without a listing: who Apple's reviewer contacts. With a listing, the listing's.",
    )
    invitees: list[Invitee] = Field(default_factory=list, max_length=50, title="Team to invite")
    editable_version: Literal["reuse", "stop"] = Field(
        default="reuse",
        title="The customer's own editable version",
        description="If the app already has an editable version with another version string: reuse it (it is "
        "renamed, and the summary and audit trail say so) or stop before changing it.",
    )
    uses_non_exempt_encryption: bool = Field(
        default=False,
        title="Uses non-exempt encryption",
        description="The export-compliance answer for the build.",
    )
    release_type: Literal["MANUAL", "AFTER_APPROVAL", "SCHEDULED"] | None = Field(
        default=None,
        title="Release",
        description="Without a listing: MANUAL, AFTER_APPROVAL (the default) or SCHEDULED (with the earliest "
        "release date). With a listing, the listing's.",
    )
    earliest_release_date: datetime | None = Field(
        default=None,
        title="Earliest release date",
        description="With SCHEDULED only: a future time with its UTC offset, e.g. 2027-03-01T09:00Z.",
    )
    phased_release: bool = Field(
        default=False,
        title="Phased release",
        description="Release the update to users over Apple's 7 days instead of to everyone at once.",
    )
    testflight: TestFlight | None = Field(
        default=None,
        title="TestFlight",
        description="Test the uploaded build first: What to Test, internal and external groups.",
    )
    app_store: bool = Field(
        default=True,
        title="Submit to the App Store",
        description="Off: TestFlight only; no version, listing or App Review submission.",
    )
    destroy_credentials: Literal["after_submission", "after_review"] = Field(
        default="after_review",
        title="Destroy the key",
        description="After submission, or after Apple's review ends (watching it needs the key).",
    )
    access_wait_hours: float = Field(
        default=48.0,
        gt=0,
        le=24 * 14,
        title="Wait for Apple access (hours)",
        description="How long to wait for a key that Apple has not activated yet before giving up.",
    )

    @field_validator("earliest_release_date")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("give the time with its UTC offset, e.g. 2027-03-01T09:00Z")
        if value <= datetime.now(UTC):
            raise ValueError(
                f"{value.isoformat()} is in the past; Apple releases a SCHEDULED version no earlier than this "
                "date: give a future time"
            )
        return value

    @model_validator(mode="after")
    def _options_fit(self) -> OnboardingRequest:
        if (self.release_type == "SCHEDULED") != (self.earliest_release_date is not None):
            raise ValueError(
                "earliest_release_date: give it exactly when release_type is SCHEDULED (with a listing, the "
                "listing's release holds both)"
            )
        if not self.app_store:
            if self.testflight is None:
                raise ValueError("app_store: off without testflight leaves nothing to do; ask for TestFlight")
            stray = [name for name in ("listing", "release_type", "phased_release") if getattr(self, name)]
            if stray:
                raise ValueError(
                    f"{', '.join(stray)}: only for the App Store submission, and app_store is off; leave them "
                    "out or turn app_store on"
                )
        return self

    @model_validator(mode="after")
    def _one_source_each(self) -> OnboardingRequest:
        # The listing, when given, is the one place for these; two places could disagree.
        if self.listing is not None:
            given = [
                name
                for name, value in (
                    ("whats_new", self.whats_new),
                    ("review_contact", self.review_contact),
                    ("release_type", self.release_type),
                )
                if value
            ]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: given in the request and the listing; with a listing, give them "
                    "in the listing file only"
                )
        elif self.review_contact is None and self.app_store:
            raise ValueError(
                "review_contact: required without a listing (Apple's reviewer must reach someone)"
            )
        return self

    @property
    def concurrency_key(self) -> str:
        """Two runs for the same tenant and app must never work at Apple at once."""
        return app_lock(self.tenant, self.bundle_id)
