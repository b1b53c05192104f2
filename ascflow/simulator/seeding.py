"""Apple-side state a scenario declares, and the control API's way to add more of it mid-run.

Both go through the same functions: an app with its builds, versions and review submissions; users; invitations;
certificates someone else made. Seeded builds, versions and submissions are what Apple would hold had they been
made through the API earlier; the ones still moving (a PROCESSING build, a submission waiting for or in review)
move on over Apple time from now.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509

from ascflow.simulator.clock import SimClock, iso
from ascflow.simulator.scenario import (
    AppSpec,
    BuildSpec,
    CertificateSpec,
    PersonSpec,
    Scenario,
    SubmissionSpec,
    VersionSpec,
)
from ascflow.simulator.signing import throwaway_public_key
from ascflow.simulator.state import (
    SEEDERS,
    Resource,
    Team,
    add_build,
    add_bundle_id,
    add_certificate,
    add_user,
    add_version,
    issue_team_certificate,
)

INVITATION_LIFETIME = 30 * 86400
# A seeded submission's items: decided once the review ended, else waiting with it.
ITEM_STATE = {"COMPLETE": "APPROVED", "UNRESOLVED_ISSUES": "REJECTED"}


def build_team(scenario: Scenario, clock: SimClock | None = None) -> Team:
    """The team as the scenario declares it, at Apple time now."""
    team = Team(scenario=scenario, clock=clock or SimClock(scenario.time_scale))
    team.agreements_ok = scenario.agreements_ok
    team.named_app_ids = {app.id for app in scenario.apps if app.id is not None}
    team.faults = scenario.faults.model_copy(deep=True)
    team.faults.model_post_init(None)
    for key in scenario.keys:
        team.add_key(
            key.key_id,
            key.public_pem(),
            issuer_id=key.issuer_id,
            role=key.role,
            active_after_seconds=key.active_after_seconds,
        )
    for spec in scenario.bundle_ids:
        add_bundle_id(team, spec.identifier, spec.name, spec.platform)
    for app_spec in scenario.apps:
        seed_app(team, app_spec)
    for seeder in SEEDERS:
        seeder(team)
    for cert_spec in scenario.certificates:
        seed_certificate(team, cert_spec)
    for person in scenario.users:
        seed_user(team, person)
    for person in scenario.invitations:
        seed_invitation(team, person)
    return team


def seed_app(team: Team, spec: AppSpec) -> Resource:
    """The app record (the API cannot make one) with its bundle ID, builds, versions and submissions."""
    app_id = _free_id(team, "apps", spec.id)
    bundle = next((b for b in team.all("bundleIds") if b.attributes["identifier"] == spec.bundle_id), None)
    if bundle is None:
        bundle = add_bundle_id(team, spec.bundle_id, spec.name, "IOS")
    app = team.add(
        Resource(
            "apps",
            app_id,
            {
                "name": spec.name,
                "bundleId": spec.bundle_id,
                "sku": spec.sku,
                "primaryLocale": spec.primary_locale,
                "isOrEverWasMadeForKids": False,
                "contentRightsDeclaration": "DOES_NOT_USE_THIRD_PARTY_CONTENT",
            },
            {"bundleIdResource": ("bundleIds", bundle.id)},
        )
    )
    for build in spec.builds:
        seed_build(team, app, build)
    for version in spec.versions:
        seed_version(team, app, version)
    for submission in spec.review_submissions:
        seed_submission(team, app, submission)
    return app


def seed_build(team: Team, app: Resource, spec: BuildSpec) -> Resource:
    taken = any(
        b.attributes["version"] == spec.build_number
        and b.hidden["preReleaseVersion.platform"] == spec.platform
        for b in team.related(app, "builds")
    )
    if taken:
        raise ValueError(
            f"builds: app {app.id} has a {spec.platform} build numbered {spec.build_number!r} already; "
            "give another build_number"
        )
    return add_build(
        team,
        app,
        id_=_free_id(team, "builds", spec.id),
        short_version=spec.version,
        build_number=spec.build_number,
        platform=spec.platform,
        uploaded=team.now(),
        processing_state=spec.processing_state,
        uses_non_exempt_encryption=spec.uses_non_exempt_encryption,
        expired=spec.expired,
    )


def seed_version(team: Team, app: Resource, spec: VersionSpec) -> Resource:
    build: Resource | None = None
    if spec.build_number is not None:
        build = next(
            (
                b
                for b in team.related(app, "builds")
                if b.attributes["version"] == spec.build_number
                and b.hidden["preReleaseVersion.platform"] == spec.platform
            ),
            None,
        )
        if build is None:
            raise ValueError(
                f"versions: app {app.id} has no {spec.platform} build numbered {spec.build_number!r}; "
                "seed the build first"
            )
    localizations = None
    if spec.localizations is not None:
        localizations = [
            {
                "locale": loc.locale,
                "description": loc.description,
                "keywords": loc.keywords,
                "marketingUrl": loc.marketing_url,
                "supportUrl": loc.support_url,
                "promotionalText": loc.promotional_text,
                "whatsNew": loc.whats_new,
            }
            for loc in spec.localizations
        ]
    attributes: dict[str, Any] = {"releaseType": spec.release_type}
    if spec.copyright is not None:  # else copied from the previous version, as Apple does
        attributes["copyright"] = spec.copyright
    version = add_version(
        team,
        app,
        spec.platform,
        spec.version_string,
        spec.state,
        attributes,
        localizations,
        id_=_free_id(team, "appStoreVersions", spec.id),
    )
    if build is not None:
        version.relationships["build"] = ("builds", build.id)
    # Screenshots of the seeded localizations are added here, once the screenshot routes exist.
    return version


def seed_submission(team: Team, app: Resource, spec: SubmissionSpec) -> Resource:
    versions = {
        v.attributes["versionString"]: v
        for v in team.related(app, "appStoreVersions")
        if v.attributes["platform"] == spec.platform
    }
    missing = [item for item in spec.items if item not in versions]
    if missing:
        raise ValueError(
            f"review_submissions: app {app.id} has no {spec.platform} versions {missing}; seed the versions first"
        )
    now = team.now()
    delays = team.scenario.delays
    attributes: dict[str, Any] = {"platform": spec.platform, "state": spec.state}
    if spec.state != "READY_FOR_REVIEW":
        attributes["submittedDate"] = iso(now)
    due = {
        "WAITING_FOR_REVIEW": now + delays.review_wait_seconds,
        "IN_REVIEW": now + delays.review_seconds,
        "CANCELING": now + 60,
    }.get(spec.state)
    submission = team.add(
        Resource(
            "reviewSubmissions",
            _free_id(team, "reviewSubmissions", spec.id),
            attributes,
            {"app": ("apps", app.id)},
            {"due": due},
        )
    )
    for version_string in spec.items:
        team.add(
            Resource(
                "reviewSubmissionItems",
                team.new_id("reviewSubmissionItems"),
                {"state": ITEM_STATE.get(spec.state, "READY_FOR_REVIEW")},
                {
                    "reviewSubmission": ("reviewSubmissions", submission.id),
                    "appStoreVersion": ("appStoreVersions", versions[version_string].id),
                },
            )
        )
        submission.relationships["appStoreVersionForReview"] = (
            "appStoreVersions",
            versions[version_string].id,
        )
    return submission


def seed_user(team: Team, spec: PersonSpec) -> Resource:
    if any(u.attributes["username"].lower() == spec.email.lower() for u in team.all("users")):
        raise ValueError(f"users: {spec.email} is a member of the team already")
    return add_user(
        team,
        spec.email,
        spec.first_name,
        spec.last_name,
        list(spec.roles),
        all_apps_visible=spec.all_apps_visible,
        provisioning_allowed=spec.provisioning_allowed,
    )


def seed_invitation(team: Team, spec: PersonSpec) -> Resource:
    return team.add(
        Resource(
            "userInvitations",
            team.new_id("userInvitations"),
            {
                "email": spec.email,
                "firstName": spec.first_name,
                "lastName": spec.last_name,
                "roles": list(spec.roles),
                "allAppsVisible": spec.all_apps_visible,
                "provisioningAllowed": bool(spec.provisioning_allowed),
                "expirationDate": iso(team.now() + INVITATION_LIFETIME),
            },
        )
    )


def seed_certificate(team: Team, spec: CertificateSpec) -> Resource:
    """Someone else's certificate: the one given, or one the simulator's CA issues for a key nobody here holds."""
    if spec.certificate_pem is not None:
        cert = x509.load_pem_x509_certificate(spec.certificate_pem.encode())
    else:
        cert = issue_team_certificate(team, spec.certificate_type, throwaway_public_key())
    return add_certificate(team, spec.certificate_type, cert, spec.name)


def _free_id(team: Team, type_: str, wanted: str | None) -> str:
    """The id a seeded resource's spec names (so tests can point at it), or a new one."""
    if wanted is None:
        return team.new_id(type_)
    if team.get(type_, wanted) is not None:
        raise ValueError(f"{type_}: id {wanted!r} is taken; give another id or none")
    return wanted
