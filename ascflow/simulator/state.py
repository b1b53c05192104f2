"""The in-memory team: resources by type, keys, and the Apple-side processes that move over time."""

from __future__ import annotations

import base64
import itertools
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ascflow.simulator.clock import SimClock, iso
from ascflow.simulator.faults import FaultPlan
from ascflow.simulator.scenario import Scenario
from ascflow.simulator.signing import der, issue_certificate, new_secret, throwaway_public_key

Ref = tuple[str, str]
HOUR = 3600.0

# Versions in these states no longer block a new version on the same platform.
SETTLED_VERSION_STATES = {
    "READY_FOR_DISTRIBUTION",
    "REPLACED_WITH_NEW_VERSION",
    "ACCEPTED",
    "REMOVED_FROM_SALE",
}
RELEASED_VERSION_STATES = {"READY_FOR_DISTRIBUTION", "REPLACED_WITH_NEW_VERSION", "REMOVED_FROM_SALE"}
# appStoreState is deprecated but still sent; it differs from appVersionState for a few states.
APP_STORE_STATE = {
    "READY_FOR_DISTRIBUTION": "READY_FOR_SALE",
    "PROCESSING_FOR_DISTRIBUTION": "PROCESSING_FOR_APP_STORE",
    "ACCEPTED": "ACCEPTED",
}


@dataclass
class Resource:
    type: str
    id: str
    attributes: dict[str, Any]
    relationships: dict[str, Ref | list[Ref] | None] = field(default_factory=dict)
    # Facts Apple keeps but does not render as attributes (filter keys, upload bytes, timers).
    hidden: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApiKeyRecord:
    key_id: str
    issuer_id: str
    public_key: ec.EllipticCurvePublicKey
    role: str
    active_at: float


@dataclass
class Team:
    scenario: Scenario
    clock: SimClock
    resources: dict[str, dict[str, Resource]] = field(default_factory=dict)
    keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    calls: dict[str, deque[float]] = field(default_factory=dict)
    faults: FaultPlan = field(default_factory=FaultPlan)
    upload_secret: bytes = field(default_factory=new_secret)
    agreements_ok: bool = True
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(6_400_000_001))

    # ---- store ----
    def add(self, resource: Resource) -> Resource:
        self.resources.setdefault(resource.type, {})[resource.id] = resource
        return resource

    def get(self, type_: str, id_: str) -> Resource | None:
        return self.resources.get(type_, {}).get(id_)

    def all(self, type_: str) -> list[Resource]:
        return list(self.resources.get(type_, {}).values())

    def remove(self, type_: str, id_: str) -> None:
        self.resources.get(type_, {}).pop(id_, None)

    def new_id(self, type_: str) -> str:
        return str(next(self._numbers)) if type_ == "apps" else str(uuid.uuid4())

    def now(self) -> float:
        return self.clock.now()

    def now_iso(self) -> str:
        return iso(self.now())

    # ---- keys and rate limit ----
    def add_key(
        self,
        key_id: str,
        public_key_pem: str,
        *,
        issuer_id: str | None,
        role: str,
        active_after_seconds: float,
    ) -> ApiKeyRecord:
        public_key = serialization.load_pem_public_key(public_key_pem.encode())
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
            raise ValueError(
                f"key {key_id}: the public key must be an EC P-256 key (an App Store Connect .p8)"
            )
        record = ApiKeyRecord(
            key_id, issuer_id or self.scenario.issuer_id, public_key, role, self.now() + active_after_seconds
        )
        self.keys[key_id] = record
        return record

    def count_call(self, key_id: str) -> tuple[int, int, bool]:
        """Count one request on the key's rolling hour: (limit, remaining after it, allowed)."""
        now = self.now()
        window = self.calls.setdefault(key_id, deque())
        while window and window[0] <= now - HOUR:
            window.popleft()
        limit = self.scenario.rate_limit_per_hour
        if len(window) >= limit:
            return limit, 0, False
        window.append(now)
        return limit, limit - len(window), True

    # ---- moving state ----
    def advance(self) -> None:
        """Move every Apple-side process whose time has come (called before each request is handled).

        Each step is timed from when the previous one was due, not from when someone looked, so a long gap
        between requests moves a process through all the steps it would have taken.
        """
        now = self.now()
        delays = self.scenario.delays
        for upload in self.all("buildUploads"):
            due = upload.hidden.get("due")
            if upload.attributes["state"]["state"] == "PROCESSING" and due is not None and due <= now:
                self._complete_upload(upload, due)
        for build in self.all("builds"):
            due = build.hidden.get("due")
            if build.attributes["processingState"] == "PROCESSING" and due is not None and due <= now:
                build.attributes["processingState"] = "VALID"
        for submission in self.all("reviewSubmissions"):
            while (due := submission.hidden.get("due")) is not None and due <= now:
                state = submission.attributes["state"]
                if state == "WAITING_FOR_REVIEW":
                    self._set_submission(submission, "IN_REVIEW", due + delays.review_seconds)
                elif state == "IN_REVIEW":
                    self._finish_review(submission)
                else:  # CANCELING
                    self._set_submission(submission, "COMPLETE", None)

    def _complete_upload(self, upload: Resource, now: float) -> None:
        upload.attributes["state"]["state"] = "COMPLETE"
        upload.hidden.pop("due", None)
        app_ref = upload.relationships["app"]
        assert isinstance(app_ref, tuple)
        build = self.add(
            Resource(
                "builds",
                self.new_id("builds"),
                {
                    "version": upload.attributes["cfBundleVersion"],
                    "uploadedDate": iso(now),
                    "expirationDate": iso(now + 90 * 86400),
                    "expired": False,
                    "minOsVersion": "17.0",
                    "processingState": "PROCESSING",
                    "buildAudienceType": "APP_STORE_ELIGIBLE",
                    "usesNonExemptEncryption": self.scenario.uses_non_exempt_encryption,
                },
                {"app": app_ref, "buildUpload": ("buildUploads", upload.id)},
                {
                    "preReleaseVersion.version": upload.attributes["cfBundleShortVersionString"],
                    "preReleaseVersion.platform": upload.attributes["platform"],
                    "due": now + self.scenario.delays.build_processing_seconds,
                },
            )
        )
        upload.relationships["build"] = ("builds", build.id)
        for ref in self.related_refs(upload, "buildUploadFiles"):
            file = self.get(*ref)
            if file is not None:
                file.attributes["assetDeliveryState"]["state"] = "COMPLETE"

    def _set_submission(self, submission: Resource, state: str, due: float | None) -> None:
        submission.attributes["state"] = state
        submission.hidden["due"] = due
        version = self.version_of(submission)
        if version is not None and state in {"WAITING_FOR_REVIEW", "IN_REVIEW"}:
            self.set_version_state(version, state)

    def _finish_review(self, submission: Resource) -> None:
        approved = self.scenario.review_outcome == "COMPLETE"
        self._set_submission(submission, "COMPLETE" if approved else "UNRESOLVED_ISSUES", None)
        for item in self.items_of(submission):
            item.attributes["state"] = "APPROVED" if approved else "REJECTED"
        version = self.version_of(submission)
        if version is not None:
            if not approved:
                self.set_version_state(version, "REJECTED")
            elif version.attributes.get("releaseType") == "MANUAL":
                self.set_version_state(version, "PENDING_DEVELOPER_RELEASE")
            else:
                self.set_version_state(version, "READY_FOR_DISTRIBUTION")

    # ---- relationships ----
    def related_refs(self, resource: Resource, relationship: str) -> list[Ref]:
        """Linkage of a relationship: stored forward, or found by the reverse relationship."""
        if relationship in resource.relationships:
            value = resource.relationships[relationship]
            if value is None:
                return []
            return list(value) if isinstance(value, list) else [value]
        reverse = REVERSE.get((resource.type, relationship))
        if reverse is None:
            return []
        other_type, back = reverse
        return [
            (other_type, other.id)
            for other in self.all(other_type)
            if other.relationships.get(back) == (resource.type, resource.id)
        ]

    def related(self, resource: Resource, relationship: str) -> list[Resource]:
        found = (self.get(*ref) for ref in self.related_refs(resource, relationship))
        return [r for r in found if r is not None]

    def items_of(self, submission: Resource) -> list[Resource]:
        return self.related(submission, "items")

    def version_of(self, submission: Resource) -> Resource | None:
        for item in self.items_of(submission):
            versions = self.related(item, "appStoreVersion")
            if versions:
                return versions[0]
        return None

    def set_version_state(self, version: Resource, state: str) -> None:
        version.attributes["appVersionState"] = state
        version.attributes["appStoreState"] = APP_STORE_STATE.get(state, state)

    # ---- snapshot for the control API ----
    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return {
            type_: [
                {"id": r.id, "attributes": r.attributes, "relationships": _plain_rels(r.relationships)}
                for r in items.values()
            ]
            for type_, items in self.resources.items()
        }


def _plain_rels(rels: dict[str, Ref | list[Ref] | None]) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for name, value in rels.items():
        if isinstance(value, list):
            plain[name] = [ref[1] for ref in value]
        else:
            plain[name] = value[1] if value else None
    return plain


# (type, relationship) -> (related type, relationship on it pointing back)
REVERSE: dict[tuple[str, str], tuple[str, str]] = {
    ("apps", "builds"): ("builds", "app"),
    ("apps", "buildUploads"): ("buildUploads", "app"),
    ("apps", "appStoreVersions"): ("appStoreVersions", "app"),
    ("apps", "reviewSubmissions"): ("reviewSubmissions", "app"),
    ("bundleIds", "profiles"): ("profiles", "bundleId"),
    ("bundleIds", "app"): ("apps", "bundleIdResource"),
    ("buildUploads", "buildUploadFiles"): ("buildUploadFiles", "buildUpload"),
    ("builds", "appStoreVersion"): ("appStoreVersions", "build"),
    ("appStoreVersions", "appStoreVersionLocalizations"): ("appStoreVersionLocalizations", "appStoreVersion"),
    ("appStoreVersions", "appStoreReviewDetail"): ("appStoreReviewDetails", "appStoreVersion"),
    ("reviewSubmissions", "items"): ("reviewSubmissionItems", "reviewSubmission"),
}


def build_team(scenario: Scenario, clock: SimClock | None = None) -> Team:
    """The team as the scenario declares it, at Apple time now."""
    team = Team(scenario=scenario, clock=clock or SimClock(scenario.time_scale))
    team.agreements_ok = scenario.agreements_ok
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
    now = team.now()
    for spec in scenario.bundle_ids:
        add_bundle_id(team, spec.identifier, spec.name, spec.platform)
    for app_spec in scenario.apps:
        bundle = next(
            (b for b in team.all("bundleIds") if b.attributes["identifier"] == app_spec.bundle_id), None
        )
        if bundle is None:
            bundle = add_bundle_id(team, app_spec.bundle_id, app_spec.name, "IOS")
        app = team.add(
            Resource(
                "apps",
                app_spec.id or team.new_id("apps"),
                {
                    "name": app_spec.name,
                    "bundleId": app_spec.bundle_id,
                    "sku": app_spec.sku,
                    "primaryLocale": app_spec.primary_locale,
                    "isOrEverWasMadeForKids": False,
                    "contentRightsDeclaration": "DOES_NOT_USE_THIRD_PARTY_CONTENT",
                },
                {"bundleIdResource": ("bundleIds", bundle.id)},
            )
        )
        for version in app_spec.versions:
            add_version(team, app, version.platform, version.version_string, version.state, None)
    for cert_spec in scenario.certificates:
        add_certificate(team, cert_spec.certificate_type, throwaway_public_key(), cert_spec.name)
    for person in scenario.users:
        add_user(team, person.email, person.first_name, person.last_name, list(person.roles))
    for person in scenario.invitations:
        team.add(
            Resource(
                "userInvitations",
                team.new_id("userInvitations"),
                {
                    "email": person.email,
                    "firstName": person.first_name,
                    "lastName": person.last_name,
                    "roles": list(person.roles),
                    "allAppsVisible": True,
                    "provisioningAllowed": False,
                    "expirationDate": iso(now + 30 * 86400),
                },
            )
        )
    return team


def add_bundle_id(team: Team, identifier: str, name: str, platform: str) -> Resource:
    return team.add(
        Resource(
            "bundleIds",
            team.new_id("bundleIds"),
            {"identifier": identifier, "name": name, "platform": platform, "seedId": team.scenario.team_id},
        )
    )


CERTIFICATE_NAMES = {
    "DISTRIBUTION": "Apple Distribution",
    "IOS_DISTRIBUTION": "iPhone Distribution",
    "DEVELOPMENT": "Apple Development",
    "IOS_DEVELOPMENT": "iPhone Developer",
}


def certificate_label(certificate_type: str) -> str:
    return CERTIFICATE_NAMES.get(certificate_type, certificate_type.replace("_", " ").title())


def add_certificate(team: Team, certificate_type: str, public_key: Any, name: str | None = None) -> Resource:
    scenario = team.scenario
    label = certificate_label(certificate_type)
    common_name = f"{label}: {scenario.team_name} ({scenario.team_id})"
    not_before = datetime.fromtimestamp(team.now(), UTC)
    cert = issue_certificate(public_key, common_name, scenario.team_id, scenario.team_name, not_before)
    platform = "IOS" if certificate_type.startswith("IOS_") else None
    attributes: dict[str, Any] = {
        "name": name or common_name,
        "certificateType": certificate_type,
        "displayName": scenario.team_name,
        "serialNumber": format(cert.serial_number, "X"),
        "expirationDate": iso(cert.not_valid_after_utc.timestamp()),
        "certificateContent": _b64(der(cert)),
        "activated": True,
    }
    if platform:
        attributes["platform"] = platform
    return team.add(
        Resource("certificates", team.new_id("certificates"), attributes, hidden={"der": der(cert)})
    )


def add_user(team: Team, email: str, first: str, last: str, roles: list[str]) -> Resource:
    return team.add(
        Resource(
            "users",
            team.new_id("users"),
            {
                "username": email,
                "firstName": first,
                "lastName": last,
                "roles": roles,
                "allAppsVisible": True,
                "provisioningAllowed": "ADMIN" in roles,
            },
        )
    )


def add_version(
    team: Team,
    app: Resource,
    platform: str,
    version_string: str,
    state: str,
    attributes: dict[str, Any] | None,
) -> Resource:
    version = team.add(
        Resource(
            "appStoreVersions",
            team.new_id("appStoreVersions"),
            {
                "platform": platform,
                "versionString": version_string,
                "releaseType": "AFTER_APPROVAL",
                "reviewType": "APP_STORE",
                "downloadable": True,
                "createdDate": team.now_iso(),
                "copyright": None,
                **(attributes or {}),
            },
            {"app": ("apps", app.id), "build": None},
        )
    )
    team.set_version_state(version, state)
    # Apple copies the primary-locale localization into each new version.
    team.add(
        Resource(
            "appStoreVersionLocalizations",
            team.new_id("appStoreVersionLocalizations"),
            {
                "locale": app.attributes["primaryLocale"],
                "description": f"{app.attributes['name']}.",
                "whatsNew": None,
            },
            {"appStoreVersion": ("appStoreVersions", version.id)},
        )
    )
    return version


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
