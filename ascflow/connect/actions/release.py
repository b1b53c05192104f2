"""The App Store version to submit: the editable version, its build, `whatsNew` and review details."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from ascflow.connect.actions.common import ActionFailed, Ensured, create_once, find_or_create, update_once
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.models import (
    EDITABLE_VERSION_STATES,
    IN_REVIEW_VERSION_STATES,
    AppStoreReviewDetail,
    AppStoreReviewDetailAttributes,
    AppStoreVersion,
    AppStoreVersionLocalization,
    AppVersionState,
    Platform,
)
from ascflow.connect.resources.versions import ReleaseType


class VersionNotEditable(ActionFailed):
    """The version is already with Apple's review with another build, so it cannot be changed now."""


# A version in one of these states reached the App Store: an app that has one is past its first release, so
# Apple requires What's New on its next version and refuses it on the first.
RELEASED_VERSION_STATES = frozenset(
    {
        AppVersionState.PROCESSING_FOR_DISTRIBUTION,
        AppVersionState.READY_FOR_DISTRIBUTION,
        AppVersionState.REPLACED_WITH_NEW_VERSION,
    }
)
# The deprecated appStoreState still tells a removed-from-sale version apart (appVersionState has no such value).
RELEASED_APP_STORE_STATES = frozenset(
    {
        "PROCESSING_FOR_APP_STORE",
        "READY_FOR_SALE",
        "REPLACED_WITH_NEW_VERSION",
        "REMOVED_FROM_SALE",
        "DEVELOPER_REMOVED_FROM_SALE",
    }
)


def is_first_version(
    client: AppStoreConnect, *, app_id: str, platform: Platform = Platform.IOS, version_id: str | None = None
) -> bool:
    """From Apple's state, not a flag: no version of the app on `platform` (other than `version_id`, the one
    being prepared) ever reached the store. A rejected first version followed by another before any release
    is still a first release."""
    return never_released(
        client.versions.list_for_app(app_id=app_id, platform=platform), version_id=version_id
    )


def never_released(versions: Iterable[AppStoreVersion], *, version_id: str | None = None) -> bool:
    """`is_first_version` on the app's versions as already read."""
    return not any(
        v.id != version_id
        and (
            v.attributes.app_version_state in RELEASED_VERSION_STATES
            or v.attributes.app_store_state in RELEASED_APP_STORE_STATES
        )
        for v in versions
    )


def ensure_version(
    client: AppStoreConnect,
    *,
    app_id: str,
    version_string: str,
    build_id: str,
    platform: Platform = Platform.IOS,
    release_type: ReleaseType | None = None,
    rename: bool = True,
    listed: list[AppStoreVersion] | None = None,
    builds: Mapping[str, str | None] | None = None,
) -> Ensured[AppStoreVersion]:
    """Reuse the platform's one editable version (renamed if needed) or create it with the build; attach the
    build and set how it is released after approval. `changes` says in words what changed on a version that
    was there. `listed` is the app's versions on `platform` as the caller just read them (saves a read), and
    `builds` their builds' ids as that read included them (saves reading each one's build)."""
    versions = client.versions.list_for_app(app_id=app_id, platform=platform) if listed is None else listed
    read_with_builds = builds if builds is not None and listed is not None else {}

    def build_of(version_id: str) -> str | None:
        if version_id in read_with_builds:
            return read_with_builds[version_id]
        return client.versions.build_id(version_id)

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
        if build_of(settled.id) != build_id:
            raise VersionNotEditable(
                f"Version {version_string} is already {state.value} with another build.",
                next_step=(
                    "Wait for that review to end or cancel it in App Store Connect; if that version is "
                    "already released, publish under a new version string."
                    if state in IN_REVIEW_VERSION_STATES
                    else "That version has been through review: publish under a new version string."
                ),
            )
        return Ensured(settled, created=False)

    def editable(listed: list[AppStoreVersion]) -> AppStoreVersion | None:
        return next((v for v in listed if v.attributes.app_version_state in EDITABLE_VERSION_STATES), None)

    found = editable(versions)
    created = found is None
    # Made by this create's answer: it carries the build. Found on reading back after an unknown outcome: the
    # build is checked like on any version that was there.
    answered: list[AppStoreVersion] = []

    def create() -> AppStoreVersion:
        made = client.versions.create(
            app_id=app_id,
            platform=platform,
            version_string=version_string,
            release_type=release_type,
            build_id=build_id,
        )
        answered.append(made)
        return made

    version = found or create_once(
        create, lambda: editable(client.versions.list_for_app(app_id=app_id, platform=platform))
    )
    version_id = version.id
    changes: list[str] = []
    if version.attributes.version_string != version_string:
        if not rename:
            raise VersionNotEditable(
                f"The app's editable version is {version.attributes.version_string}, not {version_string}; "
                "it was left as it is.",
                next_step=f"Ask the customer whether version {version.attributes.version_string} may become "
                f"{version_string}; if so, run again with editable_version `reuse` (it renames it), or publish "
                f"as {version.attributes.version_string}.",
            )
        changes.append(
            f"renamed the editable version {version.attributes.version_string} to {version_string}"
        )
        update_once(
            lambda: client.versions.update(version_id, version_string=version_string),
            lambda: client.versions.get(version_id).attributes.version_string == version_string,
        )
        version = client.versions.get(version_id)
    if release_type is not None and version.attributes.release_type != release_type:
        if not created:
            changes.append(f"release type {version.attributes.release_type} -> {release_type}")
        update_once(
            lambda: client.versions.update(version_id, release_type=release_type),
            lambda: client.versions.get(version_id).attributes.release_type == release_type,
        )
        version = client.versions.get(version_id)
    if not answered and build_of(version_id) != build_id:
        changes.append(f"attached build {build_id}")
        update_once(
            lambda: client.versions.attach_build(version_id, build_id),
            lambda: client.versions.build_id(version_id) == build_id,
        )
    return Ensured(version, created, changes=() if created else tuple(changes))


def ensure_localizations(
    client: AppStoreConnect,
    version_id: str,
    whats_new: Mapping[str, str],
    listed: list[AppStoreVersionLocalization] | None = None,
) -> list[Ensured[AppStoreVersionLocalization]]:
    """Set `whatsNew` per locale: PATCH the localizations Apple copied over, create only missing locales.
    `listed` is the version's localizations as the caller just read them (saves a read)."""
    if listed is None:
        listed = client.localizations.list_for_version(version_id)
    existing = {loc.attributes.locale: loc for loc in listed}
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
) -> Ensured[AppStoreVersionLocalization]:
    def find() -> AppStoreVersionLocalization | None:
        listed = client.localizations.list_for_version(version_id)
        return next((loc for loc in listed if loc.attributes.locale == locale), None)

    if current is None:
        made = create_once(
            lambda: client.localizations.create(version_id=version_id, locale=locale, whats_new=text), find
        )
        return Ensured(made, created=True)
    if current.attributes.whats_new == text:
        return Ensured(current, created=False)

    def applied() -> bool:
        found = find()
        return found is not None and found.attributes.whats_new == text

    localization_id = current.id
    update_once(lambda: client.localizations.set_whats_new(localization_id, text), applied)
    return Ensured(current, created=False, changes=(f"What's New ({locale})",))


def review_attributes(contact: AppStoreReviewDetailAttributes) -> dict[str, object]:
    """The review detail's attributes as Apple names them, for a request body: the one place a password is
    revealed, and only the fields the caller set (Apple would clear the others)."""
    attributes = contact.model_dump(by_alias=True, exclude_none=True)
    if contact.demo_account_password is not None:
        attributes["demoAccountPassword"] = contact.demo_account_password.get_secret_value()
    return attributes


def _matches(detail: AppStoreReviewDetail, contact: AppStoreReviewDetailAttributes) -> bool:
    have = detail.attributes.model_dump()
    return all(have[name] == value for name, value in contact.model_dump(exclude_none=True).items())


def ensure_review_details(
    client: AppStoreConnect,
    version_id: str,
    contact: AppStoreReviewDetailAttributes,
    current: AppStoreReviewDetail | Literal["unread"] | None = "unread",
) -> Ensured[AppStoreReviewDetail]:
    """`current` is the version's review detail as the caller just read it (None: it has none), which saves
    reading it here; after a create with an unknown outcome it is read back all the same."""

    def find() -> AppStoreReviewDetail | None:
        return client.review_details.for_version(version_id)

    def create() -> AppStoreReviewDetail:
        return client.review_details.create(version_id=version_id, attributes=review_attributes(contact))

    if isinstance(current, str):  # "unread"
        made = find_or_create(find, create)
    elif current is None:
        made = Ensured(create_once(create, find), created=True)
    else:
        made = Ensured(current, created=False)
    detail = made.resource
    if made.created or _matches(detail, contact):
        return made
    detail_id = detail.id

    def applied() -> bool:
        current = client.review_details.for_version(version_id)
        return current is not None and _matches(current, contact)

    update_once(
        lambda: client.review_details.update(detail_id, attributes=review_attributes(contact)), applied
    )
    return Ensured(detail, created=False, changes=("review contact",))
