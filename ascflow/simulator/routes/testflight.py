"""TestFlight groups, testers and invitations (testflight_state.py keeps them; the README says where each rule
comes from). Group membership works from either side (`betaGroups/{id}/relationships/betaTesters`,
`betaTesters/{id}/relationships/betaGroups`, the same for builds); adding what is there already, or removing
what is not, changes nothing (JSON:API)."""

from __future__ import annotations

import re
from collections.abc import Callable

from ascflow.simulator.documents import ApiError, Errors, Json, error
from ascflow.simulator.listing_rules import check_attributes, check_update
from ascflow.simulator.routes.reads import one
from ascflow.simulator.routing import Call, Reply, created, handles, no_content, ok
from ascflow.simulator.state import Resource, Team
from ascflow.simulator.testflight_state import (
    add_group,
    add_tester,
    beta_states,
    forget,
    is_team_member,
    link,
    set_public_link,
    tester_by_email,
    unlink,
)

GROUP_ATTRIBUTES = (
    "isInternalGroup", "hasAccessToAllBuilds", "publicLinkEnabled", "publicLinkLimitEnabled", "publicLinkLimit",
    "feedbackEnabled", "iosBuildsAvailableForAppleSiliconMac", "iosBuildsAvailableForAppleVision",
)  # fmt: skip
STATE_TITLE = "The request cannot be fulfilled because of the state of another resource."
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def state_error(detail: str, pointer: str | None = None) -> tuple[int, Json]:
    extra = {"source": {"pointer": pointer}} if pointer else {}
    return error(409, "STATE_ERROR", STATE_TITLE, detail, **extra)


def _refs(call: Call, relationship: str | None = None) -> list[tuple[str, str]]:
    """The identifier objects a relationship body (or a create's relationship) names."""
    linkage = call.body.get("data") if relationship is None else call.relationship(relationship)
    return [(ref["type"], ref["id"]) for ref in linkage or []]


def _existing(call: Call, refs: list[tuple[str, str]], relationship: str) -> list[Resource]:
    found = []
    for type_, id_ in refs:
        resource = call.team.get(type_, id_)
        if resource is None:
            raise ApiError(
                Errors.relationship_invalid(f"{type_[:-1]} with id '{id_}' cannot be found", relationship)
            )
        found.append(resource)
    return found


# ---- rules for joining a group ----


def check_member(team: Team, group: Resource, tester: Resource) -> None:
    """Only team members (App Store Connect users) can be testers in an internal group (recorded status and
    title: free2z/zuu#876 answered 409 STATE_ERROR; the detail is a GUESS)."""
    if group.attributes["isInternalGroup"] and not is_team_member(team, tester.attributes["email"]):
        raise ApiError(
            state_error(
                f"'{tester.attributes['email']}' is not a user of this team: the internal group "
                f"'{group.attributes['name']}' accepts only App Store Connect users. Invite them as a user, or "
                "add them to an external group.",
                "/data",
            )
        )


def check_group_build(team: Team, group: Resource, build: Resource) -> None:
    """A group takes the app's own testable builds; an internal group that gets every build takes none by hand
    (recorded 422: MobAI-App/ios-builder#24; the texts GUESS)."""
    if team.related_refs(build, "app") != team.related_refs(group, "app"):
        raise ApiError(
            Errors.relationship_invalid(f"build with id '{build.id}' belongs to another app", "builds")
        )
    if group.attributes["isInternalGroup"] and group.attributes.get("hasAccessToAllBuilds"):
        raise ApiError(
            error(
                422,
                "ENTITY_UNPROCESSABLE",
                "The request entity is not processable",
                f"The internal group '{group.attributes['name']}' has access to all builds: builds cannot be "
                "added to it.",
            )
        )
    if build.attributes["processingState"] != "VALID":
        raise ApiError(Errors.build_not_processed())
    if beta_states(team, build)[0] == "MISSING_EXPORT_COMPLIANCE":
        raise ApiError(
            state_error(
                "You must provide a value for the attribute 'usesNonExemptEncryption' with this request",
                "/data",
            )
        )


def _join(team: Team, group: Resource, relationship: str, other: Resource) -> None:
    if relationship == "betaTesters":
        check_member(team, group, other)
    else:
        check_group_build(team, group, other)
    link(team, group, relationship, other)


# ---- betaGroups ----


@handles("POST", "/v1/betaGroups")
def create_group(call: Call) -> Reply:
    team = call.team
    app = call.require_related("app", "apps")
    check_attributes(call)
    name = call.attributes["name"]
    if any(g.attributes["name"] == name for g in team.related(app, "betaGroups")):
        raise ApiError(
            Errors.entity_error(
                f"A beta group named '{name}' exists for this app already.", "/data/attributes/name"
            )
        )
    internal = bool(call.attributes.get("isInternalGroup"))
    if internal and call.attributes.get("publicLinkEnabled"):
        raise ApiError(
            Errors.attribute_invalid(
                "/data/attributes/publicLinkEnabled", "An internal group cannot have a public link."
            )
        )
    testers = _existing(call, _refs(call, "betaTesters"), "betaTesters")
    builds = _existing(call, _refs(call, "builds"), "builds")
    attributes = {k: v for k, v in call.given(GROUP_ATTRIBUTES).items() if v is not None}
    group = add_group(team, app, name, internal, attributes)
    try:
        for tester in testers:
            _join(team, group, "betaTesters", tester)
        for build in builds:
            _join(team, group, "builds", build)
    except ApiError:
        forget(team, group)
        raise
    return created(call, group)


@handles("PATCH", "/v1/betaGroups/{id}")
def update_group(call: Call) -> Reply:
    group = one(call, "betaGroups")
    check_update(call)
    changes = {k: v for k, v in call.attributes.items() if v is not None}
    if group.attributes["isInternalGroup"] and changes.get("publicLinkEnabled"):
        raise ApiError(
            Errors.attribute_invalid(
                "/data/attributes/publicLinkEnabled", "An internal group cannot have a public link."
            )
        )
    group.attributes.update(changes)
    set_public_link(group)
    return ok(call, group)


@handles("DELETE", "/v1/betaGroups/{id}")
def delete_group(call: Call) -> Reply:
    forget(call.team, one(call, "betaGroups"))
    return no_content()


def _members(owner_type: str, relationship: str, adding: bool) -> Callable[[Call], Reply]:
    """POST or DELETE on a to-many membership linkage, from the group's, the tester's or the build's side."""

    def handler(call: Call) -> Reply:
        owner = one(call, owner_type)
        others = _existing(call, _refs(call), relationship)
        for other in others:
            group, name, member = (
                (owner, relationship, other)
                if owner_type == "betaGroups"
                else (other, _group_side(owner), owner)
            )
            if owner_type == "betaTesters" and relationship == "builds":
                if adding:
                    link(call.team, owner, "builds", other)
                else:
                    unlink(call.team, owner, "builds", other)
            elif adding:
                _join(call.team, group, name, member)
            else:
                unlink(call.team, group, name, member)
        return no_content()

    return handler


def _group_side(member: Resource) -> str:
    return "betaTesters" if member.type == "betaTesters" else "builds"


for _owner, _relationship in (
    ("betaGroups", "betaTesters"),
    ("betaGroups", "builds"),
    ("betaTesters", "betaGroups"),
    ("betaTesters", "builds"),
    ("builds", "betaGroups"),
):
    _path = f"/v1/{_owner}/{{id}}/relationships/{_relationship}"
    handles("POST", _path)(_members(_owner, _relationship, adding=True))
    handles("DELETE", _path)(_members(_owner, _relationship, adding=False))


# ---- betaTesters ----


@handles("POST", "/v1/betaTesters")
def create_tester(call: Call) -> Reply:
    """Apple documents a tester as created into groups or builds (GUESS: neither is refused; an e-mail that is a
    tester already is 409, so the client adds that tester to the group instead)."""
    team = call.team
    check_attributes(call)
    email = call.attributes["email"]
    if not EMAIL.match(email):
        raise ApiError(
            Errors.attribute_invalid("/data/attributes/email", f"'{email}' is not a valid email address.")
        )
    existing = tester_by_email(team, email)
    if existing is not None:
        raise ApiError(
            Errors.entity_error(
                f"A beta tester with the email '{email}' exists already (id '{existing.id}'): add that tester to "
                "the group with POST /v1/betaGroups/{id}/relationships/betaTesters.",
                "/data/attributes/email",
            )
        )
    groups = _existing(call, _refs(call, "betaGroups"), "betaGroups")
    builds = _existing(call, _refs(call, "builds"), "builds")
    if not groups and not builds:
        raise ApiError(Errors.relationship_required("betaGroups"))
    tester = add_tester(team, email, call.attributes.get("firstName"), call.attributes.get("lastName"))
    try:
        for group in groups:
            _join(team, group, "betaTesters", tester)
        for build in builds:
            link(team, tester, "builds", build)
    except ApiError:
        forget(team, tester)
        raise
    return created(call, tester)


@handles("DELETE", "/v1/betaTesters/{id}")
def delete_tester(call: Call) -> Reply:
    forget(call.team, one(call, "betaTesters"))
    return no_content()


@handles("POST", "/v1/betaTesterInvitations")
def invite_tester(call: Call) -> Reply:
    """A (re)sent TestFlight invitation: the tester must test this app (GUESS text); they are INVITED."""
    team = call.team
    app = call.require_related("app", "apps")
    tester = call.require_related("betaTester", "betaTesters")
    if ("apps", app.id) not in team.related_refs(tester, "apps"):
        raise ApiError(
            Errors.relationship_invalid(
                f"betaTester with id '{tester.id}' is not a tester of app '{app.id}': add them to a group first",
                "betaTester",
            )
        )
    tester.attributes["state"] = "INVITED"
    invitation = team.add(
        Resource(
            "betaTesterInvitations",
            team.new_id("betaTesterInvitations"),
            {},
            {"app": ("apps", app.id), "betaTester": ("betaTesters", tester.id)},
        )
    )
    return created(call, invitation)
