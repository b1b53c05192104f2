"""Apply a store listing's texts idempotently: read what Apple holds, write only the difference.

Every action reads first and sends only the attributes that differ, so a rerun writes nothing; a write whose
outcome is unknown is read back before it is sent again. An input left as None is not managed: Apple keeps what
it holds (the spec gives no way to clear a category, and clearing a text Apple holds is not asked for).
Localizations Apple made with the app or the version (the primary locale's) are updated, never duplicated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from ascflow.connect.actions.common import ActionFailed, Ensured, create_once, update_once
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.listing_models import (
    EDITABLE_APP_INFO_STATES,
    AgeRatingDeclaration,
    AppInfo,
    AppInfoLocalization,
    AppListing,
    ContentRights,
    ListingReleaseType,
    VersionListing,
    VersionLocalizationListing,
)
from ascflow.connect.models import ApiModel


class AppInfoNotEditable(ActionFailed):
    """The app has no appInfo open to edits (every one is in review or live)."""


@dataclass(frozen=True)
class AppCategories:
    """The app's categories by Apple's appCategories ids (`PRODUCTIVITY`, `GAMES_PUZZLE`); at most two
    subcategories each (Apple has two slots per category)."""

    primary: str
    secondary: str | None = None
    primary_subcategories: tuple[str, ...] = ()
    secondary_subcategories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("primary_subcategories", "secondary_subcategories"):
            if len(getattr(self, name)) > 2:
                raise ValueError(f"{name}: Apple has two subcategory slots; give at most two")

    def relationships(self) -> dict[str, str]:
        """Apple's relationship name -> category id, for the categories given."""
        wanted = {"primaryCategory": self.primary, "secondaryCategory": self.secondary}
        for prefix, subcategories in (
            ("primary", self.primary_subcategories),
            ("secondary", self.secondary_subcategories),
        ):
            for slot, subcategory in zip(("One", "Two"), subcategories, strict=False):
                wanted[f"{prefix}Subcategory{slot}"] = subcategory
        return {name: value for name, value in wanted.items() if value is not None}


class AppInfoText(ApiModel):
    """One locale's app-level texts (`appInfoLocalizations`)."""

    name: str
    subtitle: str | None = None
    privacy_policy_url: str | None = None
    privacy_choices_url: str | None = None
    privacy_policy_text: str | None = None


class VersionText(ApiModel):
    """One locale's version texts (`appStoreVersionLocalizations`); `whats_new` is sent on updates only."""

    description: str | None = None
    keywords: str | None = None
    support_url: str | None = None
    marketing_url: str | None = None
    promotional_text: str | None = None
    whats_new: str | None = None


@dataclass(frozen=True)
class ListedAppInfo:
    """The editable appInfo, its localizations by locale (as read or created) and its age rating's id."""

    info: AppInfo
    localizations: Mapping[str, AppInfoLocalization] = field(default_factory=dict)
    age_rating_id: str | None = None


@dataclass(frozen=True)
class ListedVersion:
    """The version and its localizations by locale (their ids carry the screenshot sets)."""

    version: VersionListing
    localizations: Mapping[str, VersionLocalizationListing] = field(default_factory=dict)


def _wanted(text: ApiModel, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The attributes a text sets, by Apple's names (None: not managed)."""
    return {k: v for k, v in text.model_dump(by_alias=True, exclude_none=True).items() if k not in leave_out}


def _difference(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in wanted.items() if current.get(name) != value}


def _names(attributes: Mapping[str, Any]) -> str:
    return ", ".join(attributes)


def ensure_app_details(
    client: AppStoreConnect,
    app_id: str,
    content_rights: ContentRights,
    *,
    primary_locale: str | None = None,
) -> Ensured[AppListing]:
    """The app's content rights declaration (and primary locale when given). The resource says the app's
    primary locale, whose localizations Apple checks at submission."""
    app = client.app_listings.get(app_id)
    wanted = {"content_rights_declaration": content_rights, "primary_locale": primary_locale}
    diff = {n: v for n, v in wanted.items() if v is not None and getattr(app.attributes, n) != v}
    if not diff:
        return Ensured(app, created=False)

    def applied() -> bool:
        now = client.app_listings.get(app_id).attributes
        return all(getattr(now, n) == v for n, v in diff.items())

    update_once(
        lambda: client.app_listings.update(
            app_id,
            content_rights=content_rights if "content_rights_declaration" in diff else None,
            primary_locale=diff.get("primary_locale"),
        ),
        applied,
    )
    changes = tuple(f"app: {n.replace('_', ' ')} {v}" for n, v in diff.items())
    updated = app.model_copy(update={"attributes": app.attributes.model_copy(update=diff)})
    return Ensured(updated, created=False, changes=changes)


def _editable_info(infos: list[AppInfo], app_id: str) -> AppInfo:
    """The appInfo open to edits; else (the release went through: a rerun) the newest, which is only read."""
    found = next((i for i in infos if i.attributes.state in EDITABLE_APP_INFO_STATES), None)
    if found is None and not infos:
        raise AppInfoNotEditable(
            f"App {app_id} has no app information.", next_step="Check the app record in App Store Connect."
        )
    return found or infos[-1]


def _refuse_locked(info: AppInfo, app_id: str, what: str) -> None:
    if info.attributes.state not in EDITABLE_APP_INFO_STATES:
        raise AppInfoNotEditable(
            f"App {app_id}'s app information is {info.attributes.state.value}, so {what} cannot change now.",
            next_step="Create the app's next version in App Store Connect (it opens an editable app "
            "information), or wait until the version in review is released, then run this step again.",
        )


def _read_info(
    client: AppStoreConnect, app_id: str
) -> tuple[AppInfo, dict[str, AppInfoLocalization], AgeRatingDeclaration | None]:
    infos, localizations, ratings = client.app_infos.list_for_app(app_id)
    info = _editable_info(infos, app_id)
    mine = set(info.related_ids("appInfoLocalizations"))
    by_locale = {loc.attributes.locale: loc for loc in localizations if loc.id in mine}
    rating_id = info.related_id("ageRatingDeclaration")
    rating = next((r for r in ratings if r.id == rating_id), None)
    return info, by_locale, rating


def ensure_app_info(
    client: AppStoreConnect,
    app_id: str,
    categories: AppCategories,
    localizations: Mapping[str, AppInfoText],
    age_rating: Mapping[str, object],
) -> Ensured[ListedAppInfo]:
    """The editable appInfo's categories, its localizations per locale and the age rating answers (by
    Apple's attribute names, every one the listing gives, None included: kidsAgeBand null = not for kids)."""
    info, by_locale, rating = _read_info(client, app_id)
    changes: list[str] = []

    categories_wanted = categories.relationships()
    category_diff = {n: v for n, v in categories_wanted.items() if info.related_id(n) != v}
    if category_diff:

        def categories_applied() -> bool:
            now = _read_info(client, app_id)[0]
            return all(now.related_id(n) == v for n, v in category_diff.items())

        _refuse_locked(info, app_id, "its categories")
        update_once(lambda: client.app_infos.set_categories(info.id, category_diff), categories_applied)
        changes.append("categories: " + ", ".join(f"{n} {v}" for n, v in category_diff.items()))

    listed = dict(by_locale)
    for locale, text in localizations.items():
        current = by_locale.get(locale)
        if current is None or _difference(_wanted(text), current.attributes.model_dump(by_alias=True)):
            _refuse_locked(info, app_id, f"its {locale} name and texts")
        made = _ensure_info_localization(client, info.id, locale, text, current)
        listed[locale] = made.resource
        changes.extend(made.changes)

    if rating is None:
        rating = client.age_ratings.for_info(info.id)
    rating_diff = _difference(age_rating, rating.attributes)
    if rating_diff:
        _refuse_locked(info, app_id, "its age rating")
        rating_id = rating.id

        def rating_applied() -> bool:
            return not _difference(rating_diff, client.age_ratings.for_info(info.id).attributes)

        update_once(lambda: client.age_ratings.update(rating_id, rating_diff), rating_applied)
        summary = _names(rating_diff) if len(rating_diff) <= 3 else f"{len(rating_diff)} answers"
        changes.append(f"age rating: {summary}")
    return Ensured(ListedAppInfo(info, listed, rating.id), created=False, changes=tuple(changes))


def _ensure_info_localization(
    client: AppStoreConnect,
    info_id: str,
    locale: str,
    text: AppInfoText,
    current: AppInfoLocalization | None,
) -> Ensured[AppInfoLocalization]:
    texts = client.app_info_localizations
    return _ensure_text(
        current,
        _wanted(text),
        find=lambda: next(iter(texts.list_for_info(info_id, locale=locale)), None),
        create=lambda wanted: texts.create(info_id=info_id, locale=locale, attributes=wanted),
        update=texts.update,
        label=f"app information ({locale})",
    )


L = TypeVar("L", AppInfoLocalization, VersionLocalizationListing)


def _ensure_text(
    current: L | None,
    wanted: Mapping[str, Any],
    *,
    find: Callable[[], L | None],
    create: Callable[[Mapping[str, Any]], L],
    update: Callable[[str, Mapping[str, Any]], object],
    label: str,
) -> Ensured[L]:
    """One locale's texts: created when missing, else only the attributes that differ PATCHed (read back
    after an unknown outcome before writing again)."""
    if current is None:
        return Ensured(
            create_once(lambda: create(wanted), find), created=True, changes=(f"{label}: created",)
        )
    diff = _difference(wanted, current.attributes.model_dump(by_alias=True))
    if not diff:
        return Ensured(current, created=False)

    def applied() -> bool:
        now = find()
        return now is not None and not _difference(diff, now.attributes.model_dump(by_alias=True))

    localization_id = current.id
    update_once(lambda: update(localization_id, diff), applied)
    return Ensured(current, created=False, changes=(f"{label}: {_names(diff)}",))


def ensure_version_listing(
    client: AppStoreConnect,
    version_id: str,
    copyright: str,
    release_type: ListingReleaseType,
    earliest_release_date: datetime | None,
    localizations: Mapping[str, VersionText],
    first_version: bool,
) -> Ensured[ListedVersion]:
    """The version's copyright and release type (with its date when SCHEDULED; give an aware datetime), then
    each locale's texts. On a first version What's New is never sent: Apple refuses it (reference §7)."""
    if (release_type == "SCHEDULED") != (earliest_release_date is not None):
        raise ValueError(
            "earliest_release_date: give it exactly when release_type is SCHEDULED "
            f"(release_type {release_type}, date {earliest_release_date})"
        )
    version, texts = client.version_listings.get(version_id)
    changes: list[str] = []
    current = version.attributes
    version_diff: dict[str, Any] = {}
    if current.copyright != copyright:
        version_diff["copyright"] = copyright
    if current.release_type != release_type:
        version_diff["release_type"] = release_type
    if earliest_release_date is not None and current.earliest_release_date != earliest_release_date:
        version_diff["earliest_release_date"] = earliest_release_date
    if version_diff:

        def version_applied() -> bool:
            now = client.version_listings.get(version_id)[0].attributes
            return all(getattr(now, name) == value for name, value in version_diff.items())

        # Before the localizations, as fastlane does (Apple sometimes refuses releaseType after them).
        update_once(lambda: client.version_listings.update(version_id, **version_diff), version_applied)
        changes.append(f"version: {', '.join(version_diff).replace('_', ' ')}")

    by_locale = {text.attributes.locale: text for text in texts}
    leave_out = frozenset({"whatsNew"}) if first_version else frozenset()
    listed = dict(by_locale)
    for locale, text in localizations.items():
        made = _ensure_version_text(
            client, version_id, locale, _wanted(text, leave_out=leave_out), by_locale.get(locale)
        )
        listed[locale] = made.resource
        changes.extend(made.changes)
    return Ensured(ListedVersion(version, listed), created=False, changes=tuple(changes))


def _ensure_version_text(
    client: AppStoreConnect,
    version_id: str,
    locale: str,
    wanted: Mapping[str, Any],
    current: VersionLocalizationListing | None,
) -> Ensured[VersionLocalizationListing]:
    texts = client.version_texts
    return _ensure_text(
        current,
        wanted,
        find=lambda: next(iter(texts.list_for_version(version_id, locale=locale)), None),
        create=lambda attributes: texts.create(version_id=version_id, locale=locale, attributes=attributes),
        update=texts.update,
        label=f"version texts ({locale})",
    )
