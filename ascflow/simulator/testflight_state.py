"""What Apple keeps for TestFlight: beta groups and testers (many-to-many, kept on both sides), the per-app beta
review detail, the per-build beta detail and its states, and beta app review moving over Apple time.

Exists without a call (GUESS where said): every app has its `betaAppReviewDetail` (documented: no POST, reference
§15) whose id is the app's (GUESS); every build has its `buildBetaDetail` whose id is the build's (recorded: a 404
"There is no resource of type 'buildBetaDetails' with id '<build id>'", codemagic-ci-cd/cli-tools#346).
"""

from __future__ import annotations

from ascflow.simulator.scenario import AppSpec, BetaGroupSpec
from ascflow.simulator.state import PROCESSES, REVERSE, SEEDERS, Resource, Team

REVERSE.update(
    {
        ("apps", "betaGroups"): ("betaGroups", "app"),
        ("apps", "betaAppLocalizations"): ("betaAppLocalizations", "app"),
        ("apps", "betaAppReviewDetail"): ("betaAppReviewDetails", "app"),
        ("builds", "betaBuildLocalizations"): ("betaBuildLocalizations", "build"),
        ("builds", "buildBetaDetail"): ("buildBetaDetails", "build"),
        ("builds", "betaAppReviewSubmission"): ("betaAppReviewSubmissions", "build"),
    }
)

# Many-to-many relationships, each kept on both resources: (type, relationship) -> relationship on the other side.
BOTH_SIDES = {
    ("betaGroups", "betaTesters"): "betaGroups",
    ("betaTesters", "betaGroups"): "betaTesters",
    ("betaGroups", "builds"): "betaGroups",
    ("builds", "betaGroups"): "builds",
    ("betaTesters", "builds"): "individualTesters",
    ("builds", "individualTesters"): "builds",
}
BETA_STATE = {  # betaReviewState -> externalBuildState
    "WAITING_FOR_REVIEW": "WAITING_FOR_BETA_REVIEW",
    "IN_REVIEW": "IN_BETA_REVIEW",
    "APPROVED": "BETA_APPROVED",
    "REJECTED": "BETA_REJECTED",
}


def link(team: Team, resource: Resource, relationship: str, other: Resource) -> None:
    """Add `other` to a many-to-many relationship of `resource`, on both sides; present already: nothing."""
    back = BOTH_SIDES[(resource.type, relationship)]
    for one, name, two in ((resource, relationship, other), (other, back, resource)):
        refs = team.related_refs(one, name)
        if (two.type, two.id) not in refs:
            one.relationships[name] = [*refs, (two.type, two.id)]
    _tester_apps(team, resource if resource.type == "betaTesters" else other)


def unlink(team: Team, resource: Resource, relationship: str, other: Resource) -> None:
    back = BOTH_SIDES[(resource.type, relationship)]
    for one, name, two in ((resource, relationship, other), (other, back, resource)):
        one.relationships[name] = [ref for ref in team.related_refs(one, name) if ref != (two.type, two.id)]
    _tester_apps(team, resource if resource.type == "betaTesters" else other)


def _tester_apps(team: Team, tester: Resource) -> None:
    """A tester's apps are those of their groups and individual builds."""
    if tester.type != "betaTesters":
        return
    apps: list[tuple[str, str]] = []
    for other in team.related(tester, "betaGroups") + team.related(tester, "builds"):
        for ref in team.related_refs(other, "app"):
            if ref not in apps:
                apps.append(ref)
    tester.relationships["apps"] = apps


def forget(team: Team, resource: Resource) -> None:
    """Remove a group or tester with every link to it."""
    for (type_, relationship), _ in BOTH_SIDES.items():
        if type_ == resource.type:
            for other in team.related(resource, relationship):
                unlink(team, resource, relationship, other)
    team.remove(resource.type, resource.id)


def is_team_member(team: Team, email: str) -> bool:
    return any(
        u.attributes["username"].lower() == email.lower()
        for u in team.all("users")
        if not u.hidden.get("gone")
    )


def tester_by_email(team: Team, email: str) -> Resource | None:
    return next((t for t in team.all("betaTesters") if t.attributes["email"].lower() == email.lower()), None)


def add_group(
    team: Team, app: Resource, name: str, internal: bool, attributes: dict[str, object]
) -> Resource:
    values: dict[str, object] = {
        "name": name,
        "createdDate": team.now_iso(),
        "isInternalGroup": internal,
        "hasAccessToAllBuilds": False,
        "publicLinkEnabled": False,
        "publicLinkLimitEnabled": False,
        "feedbackEnabled": True,
        "iosBuildsAvailableForAppleSiliconMac": False,
        "iosBuildsAvailableForAppleVision": False,
    }
    values.update(attributes)
    group = team.add(Resource("betaGroups", team.new_id("betaGroups"), values, {"app": ("apps", app.id)}))
    set_public_link(group)
    return group


def set_public_link(group: Resource) -> None:
    """A public link exists while it is enabled (Apple's form https://testflight.apple.com/join/<8 characters>)."""
    if group.attributes.get("publicLinkEnabled"):
        link_id = group.attributes.get("publicLinkId") or group.id.replace("-", "")[:8].upper()
        group.attributes.update(
            publicLinkId=link_id, publicLink=f"https://testflight.apple.com/join/{link_id}"
        )
    else:
        group.attributes.update(publicLinkId=None, publicLink=None)


def add_tester(team: Team, email: str, first: str | None, last: str | None) -> Resource:
    return team.add(
        Resource(
            "betaTesters",
            team.new_id("betaTesters"),
            {
                "email": email,
                "firstName": first,
                "lastName": last,
                "inviteType": "EMAIL",
                "state": "NOT_INVITED",
                "appDevices": [],
            },
            {"apps": [], "betaGroups": [], "builds": []},
        )
    )


def seed_group(team: Team, app: Resource, spec: BetaGroupSpec) -> Resource:
    """A group the scenario (or the control API) says the team made, with its testers."""
    if spec.internal:
        strangers = [t.email for t in spec.testers if not is_team_member(team, t.email)]
        members = {u.email.lower() for u in team.scenario.users}
        strangers = [email for email in strangers if email.lower() not in members]
        if strangers:
            raise ValueError(
                f"beta_groups: {spec.name} is internal, and {strangers} are not team users; add them under users "
                "or make the group external"
            )
    group = add_group(team, app, spec.name, spec.internal, {})
    for tester_spec in spec.testers:
        tester = tester_by_email(team, tester_spec.email) or add_tester(
            team, tester_spec.email, tester_spec.first_name, tester_spec.last_name
        )
        link(team, group, "betaTesters", tester)
    return group


def seed_app_testflight(team: Team, app: Resource, spec: AppSpec) -> None:
    ensure_details(team)
    for group in spec.beta_groups:
        seed_group(team, app, group)


def _seed_scenario(team: Team) -> None:
    specs = {spec.bundle_id: spec for spec in team.scenario.apps}
    for app in team.all("apps"):
        spec = specs.get(app.attributes["bundleId"])
        if spec is not None:
            seed_app_testflight(team, app, spec)
    ensure_details(team)


def ensure_details(team: Team) -> None:
    """The per-app beta review detail and the per-build beta detail Apple keeps without a call."""
    for app in team.all("apps"):
        if team.get("betaAppReviewDetails", app.id) is None:
            team.add(
                Resource(
                    "betaAppReviewDetails", app.id, {"demoAccountRequired": False}, {"app": ("apps", app.id)}
                )
            )
    for build in team.all("builds"):
        if team.get("buildBetaDetails", build.id) is None:
            team.add(
                Resource(
                    "buildBetaDetails", build.id, {"autoNotifyEnabled": True}, {"build": ("builds", build.id)}
                )
            )


def _compliance_state(team: Team, build: Resource) -> str | None:
    """The state both audiences share while the build cannot be tested yet, else None."""
    processing = build.attributes["processingState"]
    if processing == "PROCESSING":
        return "PROCESSING"
    if processing in {"FAILED", "INVALID"}:
        return "PROCESSING_EXCEPTION"
    if build.attributes.get("expired"):
        return "EXPIRED"
    uses = build.attributes.get("usesNonExemptEncryption")
    if uses is None or (uses and not team.related(build, "appEncryptionDeclaration")):
        return "MISSING_EXPORT_COMPLIANCE"
    return None


def beta_states(team: Team, build: Resource) -> tuple[str, str]:
    """(internalBuildState, externalBuildState). IN_BETA_TESTING is never reached: no simulated tester installs."""
    blocked = _compliance_state(team, build)
    if blocked is not None:
        return blocked, blocked
    submissions = team.related(build, "betaAppReviewSubmission")
    external = (
        BETA_STATE[submissions[0].attributes["betaReviewState"]]
        if submissions
        else "READY_FOR_BETA_SUBMISSION"
    )
    return "READY_FOR_BETA_TESTING", external


def _move_beta_reviews(team: Team, now: float) -> None:
    delays = team.scenario.delays
    for submission in team.all("betaAppReviewSubmissions"):
        while (due := submission.hidden.get("due")) is not None and due <= now:
            if submission.attributes["betaReviewState"] == "WAITING_FOR_REVIEW":
                submission.attributes["betaReviewState"] = "IN_REVIEW"
                submission.hidden["due"] = due + delays.beta_review_seconds
            else:
                submission.attributes["betaReviewState"] = team.scenario.beta_review_outcome
                submission.hidden["due"] = None


def available_to(team: Team, tester: Resource) -> bool:
    """A build reaches the tester: through an internal group, any testable build; through an external group or
    individually, a beta-approved one (GUESS: Apple's rule for later builds of an approved version is not
    simulated, each build is reviewed)."""
    for group in team.related(tester, "betaGroups"):
        internal = group.attributes["isInternalGroup"]
        for build in team.related(group, "builds"):
            states = beta_states(team, build)
            if (internal and states[0] == "READY_FOR_BETA_TESTING") or states[1] == "BETA_APPROVED":
                return True
    return any(beta_states(team, b)[1] == "BETA_APPROVED" for b in team.related(tester, "builds"))


def _distribute_automatically(team: Team) -> None:
    """An internal group with access to all builds gets each testable build of its app uploaded after the group
    was made (recorded: MobAI-App/ios-builder#24)."""
    for group in team.all("betaGroups"):
        if not (group.attributes["isInternalGroup"] and group.attributes.get("hasAccessToAllBuilds")):
            continue
        for app in team.related(group, "app"):
            for build in team.related(app, "builds"):
                fresh = build.attributes["uploadedDate"] >= group.attributes["createdDate"]
                if fresh and beta_states(team, build)[0] == "READY_FOR_BETA_TESTING":
                    link(team, group, "builds", build)


def move_testflight(team: Team, now: float) -> None:
    """Beta reviews move on; each build's beta detail and each tester's state follow (called by advance())."""
    ensure_details(team)
    _move_beta_reviews(team, now)
    _distribute_automatically(team)
    for detail in team.all("buildBetaDetails"):
        build = team.get("builds", detail.id)
        if build is not None:
            internal, external = beta_states(team, build)
            detail.attributes.update(internalBuildState=internal, externalBuildState=external)
    for tester in team.all("betaTesters"):
        # NOT_INVITED until a build is there for them or an invitation is sent (recorded: MobAI-App/ios-builder#24).
        if tester.attributes["state"] == "NOT_INVITED" and available_to(team, tester):
            tester.attributes["state"] = "INVITED"


SEEDERS.append(_seed_scenario)
PROCESSES.append(move_testflight)
