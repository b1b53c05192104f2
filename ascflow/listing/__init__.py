"""The listing file: an app's App Store listing, validated and checked offline before any Apple call.

For the steps that apply a listing (no Prefect here; the package reads files and S3, never Apple):

    from ascflow.listing import ListingSource, inspect_listing, load_listing

    source = request.listing                      # ListingSource: path, s3://bucket/key, or inline mapping
    # The check step: every problem at once (fields, cross-field rules, screenshot files); nothing sent anywhere.
    listing, problems = inspect_listing(source, settings, needs_ipad=..., update=..., environ=os.environ)
    for problem in problems: problem.field, problem.message, problem.next_step   # str(problem) says all three
    # The apply steps, once the check passed: the same Listing (or raises ListingInvalid(.problems)).
    listing = load_listing(source, settings)

`check_listing(listing, base, ...)` runs the checks beyond the model on a Listing already loaded.

What the model gives the apply steps:
- `listing.localizations[locale]`: `name`, `subtitle`, `privacy_policy_url` (appInfoLocalizations);
  `description`, `keywords`, `support_url`, `marketing_url`, `promotional_text`, `whats_new`
  (appStoreVersionLocalizations; never send `whats_new` on the first version); `screenshots[display_type]`:
  ordered locations, made absolute by `resolve(location, source.base)` and read by `read_location(...)`;
  `md5_hex(bytes)` is Apple's `sourceFileChecksum`, to match what Apple already holds.
- `listing.categories`, `listing.content_rights`, `listing.copyright`, `listing.release` (`type`,
  `earliest_release_date`), `listing.price` (`base_territory`, `customer_price`, `.free`), `listing.availability`
  (`territories`: "all" or codes; `available_in_new_territories`), `listing.review.contact`, `.notes`.
- `listing.age_rating.model_dump(by_alias=True, exclude_none=True)`: the attributes of the
  ageRatingDeclarations PATCH, with Apple's names.
- `listing.review.demo_account`: `name`, and `password(os.environ)` -> `SecretStr | None`. The password is
  never in the file or a parameter: the file names the worker's environment variable that holds it
  (`password_env`), and the value is read only when Apple is called; `.get_secret_value()` goes straight
  into the request body. Its presence means demoAccountRequired = true.

Apple's facts (limits, locales, categories, display types and pixel sizes) and their sources: `apple.py`.
"""

from ascflow.listing.checks import check_listing, inspect_listing
from ascflow.listing.model import Listing, listing_json_schema
from ascflow.listing.problems import ListingInvalid, Problem
from ascflow.listing.screenshots import md5_hex, write_example_screenshots
from ascflow.listing.source import ListingSource, LocationUnreadable, load_listing, read_location, resolve

__all__ = [
    "Listing",
    "ListingInvalid",
    "ListingSource",
    "LocationUnreadable",
    "Problem",
    "check_listing",
    "inspect_listing",
    "listing_json_schema",
    "load_listing",
    "md5_hex",
    "read_location",
    "resolve",
    "write_example_screenshots",
]
