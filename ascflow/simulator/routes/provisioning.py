"""Bundle IDs, certificates and profiles, with Apple's limits and conflicts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from ascflow.simulator.documents import ApiError, Errors
from ascflow.simulator.routes.reads import one
from ascflow.simulator.routing import Call, Reply, created, handles, no_content, ok
from ascflow.simulator.signing import CsrError, parse_csr, profile_content
from ascflow.simulator.state import (
    Resource,
    add_bundle_id,
    add_certificate,
    certificate_label,
    issue_team_certificate,
)

# Profile types a distribution certificate must sign, and the certificate types that qualify.
DISTRIBUTION_PROFILES = {
    "IOS_APP_STORE",
    "IOS_APP_ADHOC",
    "TVOS_APP_STORE",
    "MAC_APP_STORE",
    "IOS_APP_INHOUSE",
}
DISTRIBUTION_CERTIFICATES = {"DISTRIBUTION", "IOS_DISTRIBUTION"}
PROFILE_PLATFORM = {"IOS": "iOS", "TVOS": "tvOS", "MAC": "OSX"}


@handles("POST", "/v1/bundleIds")
def create_bundle_id(call: Call) -> Reply:
    identifier = call.attributes["identifier"]
    taken_here = any(b.attributes["identifier"] == identifier for b in call.team.all("bundleIds"))
    if taken_here or identifier in call.team.scenario.taken_identifiers:
        raise ApiError(
            Errors.attribute_invalid(
                "/data/attributes/identifier",
                f"An App ID with Identifier '{identifier}' is not available. Please enter a different string.",
            )
        )
    bundle = add_bundle_id(call.team, identifier, call.attributes["name"], call.attributes["platform"])
    return created(call, bundle)


@handles("PATCH", "/v1/bundleIds/{id}")
def update_bundle_id(call: Call) -> Reply:
    bundle = one(call, "bundleIds")
    if "name" in call.attributes:
        bundle.attributes["name"] = call.attributes["name"]
    return ok(call, bundle)


@handles("DELETE", "/v1/bundleIds/{id}")
def delete_bundle_id(call: Call) -> Reply:
    bundle = one(call, "bundleIds")
    if call.team.related(bundle, "app"):
        raise ApiError(
            Errors.entity_error(
                f"The App ID '{bundle.attributes['identifier']}' is used by an app and cannot be deleted."
            )
        )
    for profile in call.team.related(bundle, "profiles"):
        call.team.remove("profiles", profile.id)
    call.team.remove("bundleIds", bundle.id)
    return no_content()


@handles("POST", "/v1/certificates")
def create_certificate(call: Call) -> Reply:
    certificate_type = call.attributes["certificateType"]
    try:
        csr = parse_csr(call.attributes["csrContent"])
    except CsrError as exc:
        raise ApiError(Errors.attribute_invalid("/data/attributes/csrContent", str(exc))) from exc
    limit = call.team.scenario.certificate_limits.get(certificate_type)
    current = [
        c for c in call.team.all("certificates") if c.attributes["certificateType"] == certificate_type
    ]
    if limit is not None and len([c for c in current if not c.hidden.get("gone")]) >= limit:
        label = "Distribution" if certificate_type == "DISTRIBUTION" else certificate_label(certificate_type)
        raise ApiError(
            Errors.entity_error(
                f"You already have a current {label} certificate or a pending certificate request."
            )
        )
    cert = issue_team_certificate(call.team, certificate_type, csr)
    return created(call, add_certificate(call.team, certificate_type, cert))


@handles("PATCH", "/v1/certificates/{id}")
def update_certificate(call: Call) -> Reply:
    certificate = one(call, "certificates")
    if "activated" in call.attributes:
        certificate.attributes["activated"] = call.attributes["activated"]
    return ok(call, certificate)


@handles("DELETE", "/v1/certificates/{id}")
def revoke_certificate(call: Call) -> Reply:
    certificate = one(call, "certificates")
    certificate.hidden["gone"] = True
    # "Provisioning profiles that contain a revoked certificate become invalid."
    for profile in call.team.all("profiles"):
        if ("certificates", certificate.id) in call.team.related_refs(profile, "certificates"):
            profile.attributes["profileState"] = "INVALID"
    return no_content()


@handles("POST", "/v1/profiles")
def create_profile(call: Call) -> Reply:
    team = call.team
    name = call.attributes["name"]
    profile_type = call.attributes["profileType"]
    bundle = call.require_related("bundleId", "bundleIds")
    linkage = call.relationship("certificates") or []
    certificates: list[Resource] = []
    for ref in linkage:
        certificate = team.get("certificates", ref.get("id", ""))
        if certificate is None or certificate.hidden.get("gone"):
            raise ApiError(
                Errors.relationship_invalid(
                    f"certificate with id '{ref.get('id')}' cannot be found", "certificates"
                )
            )
        certificates.append(certificate)
    if not certificates:
        raise ApiError(
            Errors.relationship_invalid("A profile needs at least one certificate.", "certificates")
        )
    if any(p.attributes["name"] == name for p in team.all("profiles")):
        raise ApiError(
            Errors.entity_error(
                f"Multiple profiles found with the name '{name}'. Please remove the duplicate profiles and try again.",
                "/data/attributes/name",
            )
        )
    platform_word = profile_type.split("_")[0]
    bundle_platform = bundle.attributes["platform"]
    if platform_word in {"IOS", "TVOS"} and bundle_platform not in {"IOS", "UNIVERSAL"}:
        raise ApiError(
            Errors.entity_error(
                f"You are not allowed to create '{PROFILE_PLATFORM[platform_word]}' profile with App ID "
                f"'{bundle.attributes['identifier']}'."
            )
        )
    if profile_type in DISTRIBUTION_PROFILES and any(
        c.attributes["certificateType"] not in DISTRIBUTION_CERTIFICATES for c in certificates
    ):
        raise ApiError(
            Errors.relationship_invalid(
                "A distribution profile can only include distribution certificates.", "certificates"
            )
        )
    now = datetime.fromtimestamp(team.now(), UTC)
    expires = min(
        [now + timedelta(days=365)]
        + [datetime.fromisoformat(c.attributes["expirationDate"]) for c in certificates]
    )
    profile_uuid = str(uuid.uuid4())
    scenario = team.scenario
    content = profile_content(
        name=name,
        uuid=profile_uuid,
        team_id=scenario.team_id,
        team_name=scenario.team_name,
        bundle_identifier=bundle.attributes["identifier"],
        app_id_name=bundle.attributes["name"],
        certificates_der=[c.hidden["der"] for c in certificates],
        created=now,
        expires=expires,
        platform=PROFILE_PLATFORM.get(platform_word, platform_word),
    )
    profile = team.add(
        Resource(
            "profiles",
            team.new_id("profiles"),
            {
                "name": name,
                "platform": "IOS" if platform_word in {"IOS", "TVOS"} else "MAC_OS",
                "profileType": profile_type,
                "profileState": "ACTIVE",
                "profileContent": content,
                "uuid": profile_uuid,
                "createdDate": team.now_iso(),
                "expirationDate": expires.strftime("%Y-%m-%dT%H:%M:%S.000+00:00"),
            },
            {
                "bundleId": ("bundleIds", bundle.id),
                "certificates": [("certificates", c.id) for c in certificates],
                "devices": [],
            },
        )
    )
    return created(call, profile)


@handles("DELETE", "/v1/profiles/{id}")
def delete_profile(call: Call) -> Reply:
    call.team.remove("profiles", one(call, "profiles").id)
    return no_content()
