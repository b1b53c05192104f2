"""TestFlight for an uploaded build: What to Test, beta groups and testers, the app's test information, beta
review details and beta app review submissions (reference first-release.md §15).

As elsewhere, a write sends only the attributes it is given: Apple clears an attribute sent as null.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence

from ascflow.connect.models import parse_many, parse_one
from ascflow.connect.resources.base import ResourceGroup, comma_list, linkage, request_document
from ascflow.connect.testflight_models import (
    BetaAppLocalization,
    BetaAppReviewDetail,
    BetaAppReviewSubmission,
    BetaBuildLocalization,
    BetaGroup,
    BetaTester,
)

# Filter values go in the query string: a handful of addresses per request keeps it short.
EMAILS_PER_QUERY = 20


class BetaBuildLocalizations(ResourceGroup):
    """`betaBuildLocalizations`: a build's What to Test per locale."""

    def list_for_build(self, build_id: str) -> list[BetaBuildLocalization]:
        path = f"/v1/builds/{build_id}/betaBuildLocalizations"
        return parse_many(BetaBuildLocalization, self._session.paginate(path))

    def create(self, *, build_id: str, locale: str, whats_new: str) -> BetaBuildLocalization:
        body = request_document(
            "betaBuildLocalizations",
            attributes={"locale": locale, "whatsNew": whats_new},
            relationships={"build": linkage("builds", build_id)},
        )
        return parse_one(BetaBuildLocalization, self._session.post("/v1/betaBuildLocalizations", body))

    def update(self, localization_id: str, whats_new: str) -> None:
        body = request_document(
            "betaBuildLocalizations", id_=localization_id, attributes={"whatsNew": whats_new}
        )
        self._session.patch(f"/v1/betaBuildLocalizations/{localization_id}", body)


class BetaGroups(ResourceGroup):
    """`betaGroups` of an app, the builds each may test and the testers in it."""

    def list_for_app(self, app_id: str) -> list[BetaGroup]:
        return parse_many(BetaGroup, self._session.paginate(f"/v1/apps/{app_id}/betaGroups"))

    def create(self, *, app_id: str, name: str, internal: bool) -> BetaGroup:
        body = request_document(
            "betaGroups",
            attributes={"name": name, "isInternalGroup": internal},
            relationships={"app": linkage("apps", app_id)},
        )
        return parse_one(BetaGroup, self._session.post("/v1/betaGroups", body))

    def build_ids(self, group_id: str) -> list[str]:
        path = f"/v1/betaGroups/{group_id}/relationships/builds"
        return [linked for page in self._session.paginate(path) for linked in _linked_ids(page)]

    def add_builds(self, group_id: str, build_ids: Sequence[str]) -> None:
        body = {"data": [linkage("builds", build_id) for build_id in build_ids]}
        self._session.post(f"/v1/betaGroups/{group_id}/relationships/builds", body)

    def testers(self, group_id: str) -> list[BetaTester]:
        return parse_many(BetaTester, self._session.paginate(f"/v1/betaGroups/{group_id}/betaTesters"))

    def add_testers(self, group_id: str, tester_ids: Sequence[str]) -> None:
        body = {"data": [linkage("betaTesters", tester_id) for tester_id in tester_ids]}
        self._session.post(f"/v1/betaGroups/{group_id}/relationships/betaTesters", body)


class BetaTesters(ResourceGroup):
    """`betaTesters`: one per person for the team (whichever app they test), invited through groups."""

    def list(self, *, emails: Iterable[str]) -> builtins.list[BetaTester]:
        """The team's testers with one of these addresses (Apple's filter matches the address exactly)."""
        wanted = builtins.list(dict.fromkeys(emails))
        found: builtins.list[BetaTester] = []
        for start in range(0, len(wanted), EMAILS_PER_QUERY):
            params = {"filter[email]": comma_list(wanted[start : start + EMAILS_PER_QUERY])}
            found.extend(parse_many(BetaTester, self._session.paginate("/v1/betaTesters", params)))
        return found

    def create(self, *, email: str, first_name: str, last_name: str, group_id: str) -> BetaTester:
        """A new tester in the group; Apple invites them by e-mail when the group has a build to test."""
        body = request_document(
            "betaTesters",
            attributes={"email": email, "firstName": first_name, "lastName": last_name},
            relationships={"betaGroups": [linkage("betaGroups", group_id)]},
        )
        return parse_one(BetaTester, self._session.post("/v1/betaTesters", body))


class BetaAppReviewDetails(ResourceGroup):
    """`betaAppReviewDetails`: the contact and demo account Beta App Review uses; one per app, read and PATCHed."""

    def for_app(self, app_id: str) -> BetaAppReviewDetail:
        return parse_one(BetaAppReviewDetail, self._session.get(f"/v1/apps/{app_id}/betaAppReviewDetail"))

    def update(self, detail_id: str, attributes: Mapping[str, object]) -> None:
        body = request_document("betaAppReviewDetails", id_=detail_id, attributes=attributes)
        self._session.patch(f"/v1/betaAppReviewDetails/{detail_id}", body)


class BetaAppLocalizations(ResourceGroup):
    """`betaAppLocalizations`: the app's test information per locale (the description external testing needs)."""

    def list_for_app(self, app_id: str) -> list[BetaAppLocalization]:
        return parse_many(
            BetaAppLocalization, self._session.paginate(f"/v1/apps/{app_id}/betaAppLocalizations")
        )

    def create(self, *, app_id: str, locale: str, attributes: Mapping[str, object]) -> BetaAppLocalization:
        body = request_document(
            "betaAppLocalizations",
            attributes={"locale": locale, **attributes},
            relationships={"app": linkage("apps", app_id)},
        )
        return parse_one(BetaAppLocalization, self._session.post("/v1/betaAppLocalizations", body))

    def update(self, localization_id: str, attributes: Mapping[str, object]) -> None:
        body = request_document("betaAppLocalizations", id_=localization_id, attributes=attributes)
        self._session.patch(f"/v1/betaAppLocalizations/{localization_id}", body)


class BetaAppReviewSubmissions(ResourceGroup):
    """`betaAppReviewSubmissions`: a build sent to Beta App Review, found by its build."""

    def for_build(self, build_id: str) -> BetaAppReviewSubmission | None:
        # The collection with filter[build] (required there) rather than the to-one path, which may answer
        # 404 or `data: null` for a build never submitted.
        params = {"filter[build]": build_id}
        found = parse_many(
            BetaAppReviewSubmission, self._session.paginate("/v1/betaAppReviewSubmissions", params)
        )
        return found[0] if found else None

    def create(self, build_id: str) -> BetaAppReviewSubmission:
        body = request_document(
            "betaAppReviewSubmissions", relationships={"build": linkage("builds", build_id)}
        )
        return parse_one(BetaAppReviewSubmission, self._session.post("/v1/betaAppReviewSubmissions", body))


def _linked_ids(page: Mapping[str, object]) -> list[str]:
    """The ids of a to-many relationship page (`{"data": [{"type", "id"}, ...]}`)."""
    data = page.get("data")
    if not isinstance(data, list):
        return []
    return [str(item["id"]) for item in data if isinstance(item, Mapping) and "id" in item]
