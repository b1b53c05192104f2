"""The store listing: checked offline before any Apple call (the run's first step), and what the version step
takes from it (the App Review details). Applying it at Apple is `ascflow/pipeline/listing_apply.py`."""

from __future__ import annotations

import os

from ascflow.connect.models import AppStoreReviewDetailAttributes
from ascflow.errors import OperatorError
from ascflow.listing import Listing, Problem, inspect_listing
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import Job, StepResult


class ListingRejected(OperatorError):
    """The listing file would be refused by Apple (or cannot be read): every problem, nothing sent to Apple."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            f"The listing has {len(problems)} problem(s); nothing was sent to Apple:\n"
            + "\n".join(f"- {p.field}: {p.message}. {p.next_step}" for p in problems),
            next_step="Fix each field named above in the listing file (`ascflow listing check FILE` shows the "
            "same list), then retry the run.",
        )


class ListingChecked(StepResult):
    listing: Listing

    def outcome(self) -> str:
        shots = sum(
            len(files) for loc in self.listing.localizations.values() for files in loc.screenshots.values()
        )
        return f"{len(self.listing.localizations)} locale(s), {shots} screenshot(s) checked"


def check_listing(ctx: StepContext, job: Job) -> ListingChecked:
    source = job.request.listing
    if source is None:
        raise LookupError("check-listing runs only for requests with a listing")
    # The demo account's password is checked for presence here (the worker's environment); never read out.
    listing, problems = inspect_listing(source, ctx.settings, environ=os.environ)
    if problems or listing is None:
        raise ListingRejected(problems)
    return ListingChecked(listing=listing)


def review_details_of(listing: Listing) -> AppStoreReviewDetailAttributes:
    """The listing's App Review information in Apple's names; the demo password read at the moment of use."""
    review = listing.review
    demo = review.demo_account
    return AppStoreReviewDetailAttributes(
        contact_first_name=review.contact.first_name,
        contact_last_name=review.contact.last_name,
        contact_phone=review.contact.phone,
        contact_email=review.contact.email,
        demo_account_required=demo is not None,
        demo_account_name=demo.name if demo else None,
        demo_account_password=demo.password(os.environ) if demo else None,
        notes=review.notes,
    )
