"""Applying the store listing at Apple, as three steps: the app (content rights, categories, names, age
rating), its price and availability, and the version (copyright, release, texts, screenshots). Each reads what
Apple holds and writes only the difference, so a rerun writes nothing and uploads no screenshot twice."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from ascflow.audit import Action
from ascflow.connect.actions.common import Ensured
from ascflow.connect.actions.listing import (
    AppCategories,
    AppInfoText,
    VersionText,
    ensure_app_details,
    ensure_app_info,
    ensure_version_listing,
)
from ascflow.connect.actions.pricing import ensure_availability, ensure_price
from ascflow.connect.actions.screenshots import ensure_screenshots
from ascflow.listing import read_location, resolve
from ascflow.listing.model import Localization
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.credentials import CredentialCheck
from ascflow.pipeline.job import Job, StepResult
from ascflow.pipeline.listing import ListingChecked
from ascflow.pipeline.version import VersionResult


class ListingApplied(StepResult):
    """What a listing step wrote, in words (empty: Apple already held it all)."""

    changes: list[str] = Field(default_factory=list)

    def outcome(self) -> str:
        return "; ".join(self.changes) if self.changes else "nothing to change"


def apply_app_listing(ctx: StepContext, job: Job) -> ListingApplied:
    listing = job.get("check-listing", ListingChecked).listing
    app_id = _app_id(job)
    with ctx.apple(job.custody_id) as client:
        details = ensure_app_details(
            client, app_id, listing.content_rights, primary_locale=listing.primary_locale
        )
        info = ensure_app_info(
            client,
            app_id,
            AppCategories(
                primary=listing.categories.primary,
                secondary=listing.categories.secondary,
                primary_subcategories=tuple(listing.categories.primary_subcategories),
                secondary_subcategories=tuple(listing.categories.secondary_subcategories),
            ),
            {
                locale: AppInfoText(
                    name=text.name, subtitle=text.subtitle, privacy_policy_url=str(text.privacy_policy_url)
                )
                for locale, text in listing.localizations.items()
            },
            listing.age_rating.model_dump(by_alias=True, exclude_none=True),
        )
        _record(ctx, [details, info], "apps", app_id)
    return ListingApplied(changes=[*details.changes, *info.changes])


def apply_pricing(ctx: StepContext, job: Job) -> ListingApplied:
    listing = job.get("check-listing", ListingChecked).listing
    app_id = _app_id(job)
    territories = listing.availability.territories
    with ctx.apple(job.custody_id) as client:
        price = ensure_price(client, app_id, listing.price.base_territory, listing.price.customer_price)
        availability = ensure_availability(
            client,
            app_id,
            None if territories == "all" else list(territories),
            listing.availability.available_in_new_territories,
        )
        _record(ctx, [price, availability], "apps", app_id)
    return ListingApplied(changes=[*price.changes, *availability.changes])


def apply_version_listing(ctx: StepContext, job: Job) -> ListingApplied:
    """The version's texts, then each locale's screenshots (matched by checksum; Apple's copies of images the
    listing no longer names are deleted only with `replace_screenshots`)."""
    checked = job.get("check-listing", ListingChecked)
    listing = checked.listing
    version = job.get("prepare-version", VersionResult)
    with ctx.apple(job.custody_id) as client:
        listed = ensure_version_listing(
            client,
            version.version_id,
            listing.copyright,
            listing.release.type,
            listing.release.earliest_release_date,
            {locale: _version_text(text) for locale, text in listing.localizations.items()},
            version.first_version,
        )
        results: list[Ensured[Any]] = [listed]
        for locale, text in listing.localizations.items():
            for display_type, locations in text.screenshots.items():
                files = _files(ctx, job, locations)
                shots = ensure_screenshots(
                    client,
                    listed.resource.localizations[locale].id,
                    display_type,
                    files,
                    listing.replace_screenshots,
                    poll_interval=ctx.settings.poll_interval_seconds,
                )
                results.append(shots)
        _record(ctx, results, "appStoreVersions", version.version_id)
    return ListingApplied(changes=[change for result in results for change in result.changes])


def _version_text(text: Localization) -> VersionText:
    return VersionText(
        description=text.description,
        keywords=text.keywords,
        support_url=str(text.support_url),
        marketing_url=str(text.marketing_url) if text.marketing_url else None,
        promotional_text=text.promotional_text,
        whats_new=text.whats_new,
    )


def _files(ctx: StepContext, job: Job, locations: Sequence[str]) -> list[tuple[str, bytes]]:
    source = job.request.listing
    base = source.base if source is not None else "."
    return [
        (posixpath.basename(str(location)), read_location(resolve(str(location), base), ctx.settings))
        for location in locations
    ]


def _app_id(job: Job) -> str:
    app_id = job.get("validate-credentials", CredentialCheck).app_id
    if app_id is None:
        raise LookupError("a key that works has found the app (validate-credentials gives its ID)")
    return app_id


def _record(ctx: StepContext, results: Sequence[Ensured[Any]], apple_type: str, apple_id: str) -> None:
    if any(result.created or result.changes for result in results):
        ctx.record(Action.LISTING_APPLIED, "success", apple_type=apple_type, apple_id=apple_id)
