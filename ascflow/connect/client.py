"""`AppStoreConnect`: one session (one key, one connection pool) and the resource groups on top of it."""

from __future__ import annotations

from types import TracebackType

from ascflow.connect.resources.apps import Apps
from ascflow.connect.resources.builds import Builds, BuildUploads
from ascflow.connect.resources.bundle_ids import BundleIds
from ascflow.connect.resources.certificates import Certificates
from ascflow.connect.resources.listing import (
    AgeRatingDeclarations,
    AppInfoLocalizations,
    AppInfos,
    AppListings,
    VersionListings,
    VersionTexts,
)
from ascflow.connect.resources.pricing import (
    AppAvailabilities,
    AppPricePoints,
    AppPriceSchedules,
    Territories,
    TerritoryAvailabilities,
)
from ascflow.connect.resources.profiles import Profiles
from ascflow.connect.resources.release import PhasedReleases, ReleaseRequests
from ascflow.connect.resources.review_submissions import ReviewSubmissions
from ascflow.connect.resources.screenshots import AppScreenshots, AppScreenshotSets
from ascflow.connect.resources.testflight import (
    BetaAppLocalizations,
    BetaAppReviewDetails,
    BetaAppReviewSubmissions,
    BetaBuildLocalizations,
    BetaGroups,
    BetaTesters,
)
from ascflow.connect.resources.users import UserInvitations, Users
from ascflow.connect.resources.versions import (
    AppStoreReviewDetails,
    AppStoreVersionLocalizations,
    AppStoreVersions,
)
from ascflow.connect.session import Session


class AppStoreConnect:
    """The App Store Connect API for one key. Build the `Session` with the key and options; this owns it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.apps = Apps(session)
        self.bundle_ids = BundleIds(session)
        self.certificates = Certificates(session)
        self.profiles = Profiles(session)
        self.users = Users(session)
        self.invitations = UserInvitations(session)
        self.builds = Builds(session)
        self.build_uploads = BuildUploads(session)
        self.versions = AppStoreVersions(session)
        self.localizations = AppStoreVersionLocalizations(session)
        self.review_details = AppStoreReviewDetails(session)
        self.review_submissions = ReviewSubmissions(session)
        # The store listing (first releases): texts, age rating, screenshots, price and availability.
        self.app_listings = AppListings(session)
        self.app_infos = AppInfos(session)
        self.app_info_localizations = AppInfoLocalizations(session)
        self.age_ratings = AgeRatingDeclarations(session)
        self.version_listings = VersionListings(session)
        self.version_texts = VersionTexts(session)
        self.screenshot_sets = AppScreenshotSets(session)
        self.screenshots = AppScreenshots(session)
        self.price_points = AppPricePoints(session)
        self.price_schedules = AppPriceSchedules(session)
        self.territories = Territories(session)
        self.availabilities = AppAvailabilities(session)
        self.territory_availabilities = TerritoryAvailabilities(session)
        # After the upload: TestFlight for the build, and release control for the approved version.
        self.beta_build_localizations = BetaBuildLocalizations(session)
        self.beta_groups = BetaGroups(session)
        self.beta_testers = BetaTesters(session)
        self.beta_app_localizations = BetaAppLocalizations(session)
        self.beta_review_details = BetaAppReviewDetails(session)
        self.beta_review_submissions = BetaAppReviewSubmissions(session)
        self.phased_releases = PhasedReleases(session)
        self.release_requests = ReleaseRequests(session)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> AppStoreConnect:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
