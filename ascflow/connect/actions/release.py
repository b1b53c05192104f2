"""The App Store version to submit: the editable version, its build, `whatsNew` and review details."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from ascflow.connect.actions.common import ActionFailed, create_once, find_or_create, update_once
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.models import (
    EDITABLE_VERSION_STATES,
    IN_REVIEW_VERSION_STATES,
    AppStoreReviewDetail,
    AppStoreVersion,
    AppStoreVersionLocalization,
    Platform,
)
from ascflow.connect.resources.versions import ReleaseType


class VersionNotEditable(ActionFailed):
    """The version is already with Apple's review with another build, so it cannot be changed now."""


@dataclass(frozen=True)
class EnsuredVersion:
    version: AppStoreVersion
    created: bool
    version_string_changed: bool
    build_attached: bool


def ensure_version(
    client: AppStoreConnect,
    *,
    app_id: str,
    version_string: str,
    build_id: str,
    platform: Platform = Platform.IOS,
    release_type: ReleaseType | None = None,
) -> EnsuredVersion:
    """Reuse the platform's one editable version (renamed if needed) or create it; attach the build and set
    how it is released after approval."""
    versions = client.versions.list_for_app(app_id=app_id, platform=platform)
    settled = next(
        (
            v
            for v in versions
            if v.attributes.version_string == version_string
            and v.attributes.app_version_state not in EDITABLE_VERSION_STATES
        ),
        None,
    )
    if settled is not None:
        # A rerun after submitting (or after the review): nothing may change, but it must be our build.
        state = settled.attributes.app_version_state
        if client.versions.build_id(settled.id) != build_id:
            raise VersionNotEditable(
                f"Version {version_string} is already {state.value} with another build.",
                next_step=(
                    "Wait for that review to end or cancel it in App Store Connect; if that version is "
                    "already released, publish under a new version string."
                    if state in IN_REVIEW_VERSION_STATES
                    else "That version has been through review: publish under a new version string."
                ),
            )
        return EnsuredVersion(settled, created=False, version_string_changed=False, build_attached=False)

    def editable(listed: list[AppStoreVersion]) -> AppStoreVersion | None:
        return next((v for v in listed if v.attributes.app_version_state in EDITABLE_VERSION_STATES), None)

    found = editable(versions)
    created = found is None
    version = found or create_once(
        lambda: client.versions.create(
            app_id=app_id, platform=platform, version_string=version_string, release_type=release_type
        ),
        lambda: editable(client.versions.list_for_app(app_id=app_id, platform=platform)),
    )
    version_id = version.id
    renamed = version.attributes.version_string != version_string
    if renamed:
        update_once(
            lambda: client.versions.update(version_id, version_string=version_string),
            lambda: client.versions.get(version_id).attributes.version_string == version_string,
        )
        version = client.versions.get(version_id)
    if release_type is not None and version.attributes.release_type != release_type:
        update_once(
            lambda: client.versions.update(version_id, release_type=release_type),
            lambda: client.versions.get(version_id).attributes.release_type == release_type,
        )
        version = client.versions.get(version_id)
    attached = client.versions.build_id(version_id) != build_id
    if attached:
        update_once(
            lambda: client.versions.attach_build(version_id, build_id),
            lambda: client.versions.build_id(version_id) == build_id,
        )
    return EnsuredVersion(version, created, version_string_changed=renamed, build_attached=attached)


@dataclass(frozen=True)
class EnsuredLocalization:
    localization: AppStoreVersionLocalization
    created: bool
    updated: bool


def ensure_localizations(
    client: AppStoreConnect, version_id: str, whats_new: Mapping[str, str]
) -> list[EnsuredLocalization]:
    """Set `whatsNew` per locale: PATCH the localizations Apple copied over, create only missing locales."""
    existing = {loc.attributes.locale: loc for loc in client.localizations.list_for_version(version_id)}
    return [
        _ensure_locale(client, version_id, locale, text, existing.get(locale))
        for locale, text in whats_new.items()
    ]


def _ensure_locale(
    client: AppStoreConnect,
    version_id: str,
    locale: str,
    text: str,
    current: AppStoreVersionLocalization | None,
) -> EnsuredLocalization:
    def find() -> AppStoreVersionLocalization | None:
        listed = client.localizations.list_for_version(version_id)
        return next((loc for loc in listed if loc.attributes.locale == locale), None)

    if current is None:
        made = create_once(
            lambda: client.localizations.create(version_id=version_id, locale=locale, whats_new=text), find
        )
        return EnsuredLocalization(made, created=True, updated=False)
    if current.attributes.whats_new == text:
        return EnsuredLocalization(current, created=False, updated=False)

    def applied() -> bool:
        found = find()
        return found is not None and found.attributes.whats_new == text

    localization_id = current.id
    update_once(lambda: client.localizations.set_whats_new(localization_id, text), applied)
    return EnsuredLocalization(current, created=False, updated=True)


@dataclass(frozen=True)
class ReviewContact:
    """Who Apple's reviewers contact, and the demo account they sign in with (if the app needs one)."""

    first_name: str
    last_name: str
    phone: str
    email: str
    demo_account_name: str | None = None
    demo_account_password: SecretStr | None = None
    notes: str | None = None

    def attributes(self) -> dict[str, object]:
        demo = self.demo_account_name is not None
        return {
            "contactFirstName": self.first_name,
            "contactLastName": self.last_name,
            "contactPhone": self.phone,
            "contactEmail": self.email,
            "demoAccountRequired": demo,
            "demoAccountName": self.demo_account_name,
            "demoAccountPassword": (
                self.demo_account_password.get_secret_value() if self.demo_account_password else None
            ),
            "notes": self.notes,
        }


@dataclass(frozen=True)
class EnsuredReviewDetail:
    detail: AppStoreReviewDetail
    created: bool
    updated: bool


def _matches(detail: AppStoreReviewDetail, contact: ReviewContact) -> bool:
    have = detail.attributes
    password = have.demo_account_password.get_secret_value() if have.demo_account_password else None
    current = {
        "contactFirstName": have.contact_first_name,
        "contactLastName": have.contact_last_name,
        "contactPhone": have.contact_phone,
        "contactEmail": have.contact_email,
        "demoAccountRequired": have.demo_account_required,
        "demoAccountName": have.demo_account_name,
        "demoAccountPassword": password,
        "notes": have.notes,
    }
    return all(current[name] == value for name, value in contact.attributes().items() if value is not None)


def ensure_review_details(
    client: AppStoreConnect, version_id: str, contact: ReviewContact
) -> EnsuredReviewDetail:
    made = find_or_create(
        lambda: client.review_details.for_version(version_id),
        lambda: client.review_details.create(version_id=version_id, attributes=contact.attributes()),
    )
    detail = made.resource
    if made.created or _matches(detail, contact):
        return EnsuredReviewDetail(detail, created=made.created, updated=False)
    detail_id = detail.id

    def applied() -> bool:
        current = client.review_details.for_version(version_id)
        return current is not None and _matches(current, contact)

    update_once(lambda: client.review_details.update(detail_id, attributes=contact.attributes()), applied)
    return EnsuredReviewDetail(detail, created=False, updated=True)
