"""The offline checks of a listing: the rules that join fields or read files, before any Apple call.

`check_listing` returns every problem it finds (an empty list means Apple's known rules are met); it sends
nothing anywhere and only reads the screenshots (local files, or S3 objects when given settings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from ascflow.listing import apple
from ascflow.listing.model import Categories, Listing, Release
from ascflow.listing.problems import ListingInvalid, Problem
from ascflow.listing.screenshots import image_facts, image_problems, md5_hex
from ascflow.listing.source import (
    ListingSource,
    LocationUnreadable,
    read_listing_data,
    read_location,
    resolve,
    validate_listing,
)

if TYPE_CHECKING:
    from ascflow.settings import Settings


ScreenshotSets = Mapping[Any, Mapping[Any, Sequence[str]]]  # locale -> display type -> locations


def inspect_listing(
    source: ListingSource,
    settings: Settings | None = None,
    *,
    needs_ipad: bool = False,
    update: bool = False,
    environ: Mapping[str, str] | None = None,
) -> tuple[Listing | None, list[Problem]]:
    """Load and check in one pass: the listing (None when invalid) and every problem found.

    When the file does not validate, its screenshots are still read, wherever they are named well enough to
    find, so that a wrong field and a wrong image are reported together rather than one after the other.
    """
    try:
        data = read_listing_data(source, settings)
    except ListingInvalid as invalid:
        return None, invalid.problems
    try:
        listing = validate_listing(data)
    except ListingInvalid as invalid:
        return None, invalid.problems + _screenshots(_findable_sets(data), source.base, settings)
    problems = check_listing(
        listing, source.base, settings=settings, needs_ipad=needs_ipad, update=update, environ=environ
    )
    return listing, problems


def check_listing(
    listing: Listing,
    base: str | Path,
    *,
    settings: Settings | None = None,
    needs_ipad: bool = False,
    update: bool = False,
    environ: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Every problem Apple would refuse in this listing, found offline.

    base: what relative screenshot paths are relative to (the listing file's folder or s3:// prefix).
    needs_ipad: the build runs on iPad, so the 13" iPad set is required.
    update: the version is not the app's first, so every locale needs What's New.
    environ: where the demo account's password is looked up (None: not checked, e.g. off the worker).
    """
    found = _locales(listing, update)
    found += _categories(listing.categories)
    found += _release(listing.release, datetime.now(UTC))
    found += _demo_account(listing, environ)
    found += _required_sets(listing, needs_ipad)
    sets = {locale: dict(text.screenshots) for locale, text in listing.localizations.items()}
    found += _screenshots(sets, base, settings)
    return found


def _locales(listing: Listing, update: bool) -> list[Problem]:
    found = []
    if listing.primary_locale not in listing.localizations:
        found.append(
            Problem(
                field="localizations",
                message=f"has no entry for the primary locale {listing.primary_locale}",
                next_step=f"Add localizations.{listing.primary_locale}, or set primary_locale to one you list.",
            )
        )
    if update:
        found += [
            Problem(
                field=f"localizations.{locale}.whats_new",
                message="is missing; Apple requires What's New in every locale of an update",
                next_step="Say what changed in this version, in this locale's language.",
            )
            for locale, text in listing.localizations.items()
            if text.whats_new is None
        ]
    return found


def _categories(categories: Categories) -> list[Problem]:
    found = []
    if categories.secondary == categories.primary:
        found.append(
            Problem(
                field="categories.secondary",
                message="is the same as the primary category",
                next_step="Choose another secondary category, or remove it (it is optional).",
            )
        )
    for which, parent, subs in (
        ("primary", categories.primary, categories.primary_subcategories),
        ("secondary", categories.secondary, categories.secondary_subcategories),
    ):
        for index, sub in enumerate(subs):
            if parent is None or not sub.startswith(f"{parent}_"):
                found.append(
                    Problem(
                        field=f"categories.{which}_subcategories.{index}",
                        message=f"{sub} is not a subcategory of {parent or 'an absent category'}",
                        next_step="Subcategories exist under GAMES and STICKERS only: pick one of its own "
                        "subcategories, or remove it.",
                    )
                )
        if len(set(subs)) != len(subs):
            found.append(
                Problem(
                    field=f"categories.{which}_subcategories",
                    message="names the same subcategory twice",
                    next_step="Give two different subcategories, or one.",
                )
            )
    return found


def _release(release: Release, now: datetime) -> list[Problem]:
    date = release.earliest_release_date
    field = "release.earliest_release_date"
    if release.type != "SCHEDULED":
        if date is None:
            return []
        return [
            Problem(
                field=field,
                message=f"is set, but the release type is {release.type}",
                next_step="Remove it, or set release.type to SCHEDULED.",
            )
        ]
    if date is None:
        return [
            Problem(
                field=field,
                message="is missing; a SCHEDULED release needs it",
                next_step="Give a future time with its UTC offset, e.g. 2027-03-01T09:00:00Z, or choose "
                "AFTER_APPROVAL or MANUAL.",
            )
        ]
    if date.tzinfo is None:
        return [
            Problem(
                field=field,
                message="has no UTC offset, so the time is ambiguous",
                next_step="Write it with its offset, e.g. 2027-03-01T09:00:00Z or 2027-03-01T10:00:00+01:00.",
            )
        ]
    if date <= now:
        return [
            Problem(
                field=field,
                message=f"is in the past ({date.isoformat()}, now {now.replace(microsecond=0).isoformat()})",
                next_step="Give a future time, or choose AFTER_APPROVAL to release as soon as Apple approves.",
            )
        ]
    return []


def _demo_account(listing: Listing, environ: Mapping[str, str] | None) -> list[Problem]:
    account = listing.review.demo_account
    if account is None or environ is None or account.password(environ) is not None:
        return []
    return [
        Problem(
            field="review.demo_account.password_env",
            message=f"names the variable {account.password_env}, which is not set here",
            next_step="Set it in the worker's environment (from your secrets manager), never in the listing file.",
        )
    ]


def _required_sets(listing: Listing, needs_ipad: bool) -> list[Problem]:
    primary = listing.localizations.get(listing.primary_locale)
    if primary is None:
        return []  # reported by _locales
    field = f"localizations.{listing.primary_locale}.screenshots"
    found = []
    if not any(kind in primary.screenshots for kind in apple.IPHONE_REQUIRED_ANY_OF):
        found.append(
            Problem(
                field=field,
                message='has no iPhone set; Apple requires APP_IPHONE_67 (6.9") or APP_IPHONE_65 (6.5") in the '
                "primary locale",
                next_step="Add an APP_IPHONE_67 list of 1 to 10 screenshots of 1320x2868 (or 1290x2796, 1260x2736).",
            )
        )
    if needs_ipad and apple.IPAD_REQUIRED not in primary.screenshots:
        found.append(
            Problem(
                field=field,
                message=f'has no {apple.IPAD_REQUIRED} (13" iPad) set; the build runs on iPad',
                next_step=f"Add an {apple.IPAD_REQUIRED} list of screenshots of 2064x2752 or 2048x2732.",
            )
        )
    return found


def _findable_sets(data: Any) -> dict[str, dict[str, list[str]]]:
    """From a listing that did not validate: the screenshot sets whose locale, type and paths are well formed."""
    known_types = set(get_args(apple.ScreenshotDisplayType))
    localizations = data.get("localizations") if isinstance(data, dict) else None
    found: dict[str, dict[str, list[str]]] = {}
    for locale, text in (localizations or {}).items() if isinstance(localizations, dict) else ():
        sets = text.get("screenshots") if isinstance(text, dict) else None
        for display_type, locations in (sets or {}).items() if isinstance(sets, dict) else ():
            if display_type in known_types and isinstance(locations, list):
                paths = [item for item in locations if isinstance(item, str) and item.strip()]
                if len(paths) == len(locations) and all(_well_formed(p) for p in paths):
                    found.setdefault(str(locale), {})[display_type] = paths
    return found


def _well_formed(location: str) -> bool:
    return location.startswith("s3://") or "://" not in location


def _screenshots(sets: ScreenshotSets, base: str | Path, settings: Settings | None) -> list[Problem]:
    found = []
    for locale, by_type in sets.items():
        for display_type, locations in by_type.items():
            field = f"localizations.{locale}.screenshots.{display_type}"
            if not apple.accepted_sizes(display_type):
                found.append(
                    Problem(
                        field=field,
                        message="is a display type whose sizes ascflow does not know (watch, TV, Mac, Vision Pro)",
                        next_step="Remove this set: ascflow publishes iPhone and iPad apps.",
                    )
                )
                continue
            seen: dict[str, int] = {}
            for index, location in enumerate(locations):
                try:
                    data = read_location(resolve(location, base), settings)
                except LocationUnreadable as exc:
                    found.append(
                        Problem(field=f"{field}.{index}", message=exc.message, next_step=exc.next_step)
                    )
                    continue
                checksum = md5_hex(data)
                if checksum in seen:
                    found.append(
                        Problem(
                            field=f"{field}.{index}",
                            message=f"is the same image as item {seen[checksum]} of this set",
                            next_step="Remove the copy: each screenshot of a set must be a different image.",
                        )
                    )
                seen.setdefault(checksum, index)
                found += [
                    Problem(field=f"{field}.{index}", message=f"{location} {what}", next_step=step)
                    for what, step in image_problems(image_facts(data), display_type)
                ]
    return found
