"""TestFlight and release resources made as a client makes them, for tests that need one of each."""

from __future__ import annotations

import httpx

from tests.simulator.helpers import body

CONTACT = {
    "contactFirstName": "Rae",
    "contactLastName": "Lee",
    "contactPhone": "+1 555 0100",
    "contactEmail": "rae@example.com",
}


def seed_testflight(api: httpx.Client, app_id: str, build_id: str, version_id: str) -> None:
    """A group with the build and a tester, What to Test, the beta app description and contact, a beta review
    submission, and a phased release on the (not yet released) version."""
    group = api.post(
        "/v1/betaGroups",
        json=body("betaGroups", {"name": "Friends"}, app=("apps", app_id), builds=[("builds", build_id)]),
    )
    assert group.status_code == 201, group.text
    tester = api.post(
        "/v1/betaTesters",
        json=body(
            "betaTesters",
            {"email": "pat@example.net", "firstName": "Pat", "lastName": "Lee"},
            betaGroups=[("betaGroups", group.json()["data"]["id"])],
        ),
    )
    assert tester.status_code == 201, tester.text
    writes = [
        api.post(
            "/v1/betaBuildLocalizations",
            json=body(
                "betaBuildLocalizations", {"locale": "en-US", "whatsNew": "Sync."}, build=("builds", build_id)
            ),
        ),
        api.post(
            "/v1/betaAppLocalizations",
            json=body(
                "betaAppLocalizations", {"locale": "en-US", "description": "Try it."}, app=("apps", app_id)
            ),
        ),
        api.patch(
            f"/v1/betaAppReviewDetails/{app_id}", json=body("betaAppReviewDetails", CONTACT, id_=app_id)
        ),
        api.post(
            "/v1/betaAppReviewSubmissions", json=body("betaAppReviewSubmissions", build=("builds", build_id))
        ),
        api.post(
            "/v1/appStoreVersionPhasedReleases",
            json=body(
                "appStoreVersionPhasedReleases",
                {"phasedReleaseState": "INACTIVE"},
                appStoreVersion=("appStoreVersions", version_id),
            ),
        ),
    ]
    for response in writes:
        assert response.status_code in {200, 201}, response.text
