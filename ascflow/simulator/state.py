"""The in-memory team: resources by type, keys and their rate limit, relationships, and the makers of resources
that the routes, the processes (processes.py) and the scenario seeding (seeding.py) share."""

from __future__ import annotations

import base64
import itertools
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ascflow.simulator.clock import SimClock, iso
from ascflow.simulator.faults import FaultPlan
from ascflow.simulator.scenario import Scenario
from ascflow.simulator.signing import der, issue_certificate, new_secret

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
    # App ids the scenario names, kept free while apps before them get numbered ones.
    named_app_ids: set[str] = field(default_factory=set)
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
        """A fresh id: numeric for apps (as Apple's), skipping any a seeded or named app holds; else a UUID."""
        if type_ != "apps":
            return str(uuid.uuid4())
        number = str(next(self._numbers))
        while self.get(type_, number) is not None or number in self.named_app_ids:
            number = str(next(self._numbers))
        return number

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


# Parts of Apple's model kept in modules of their own (the store listing) plug in here when imported: seeders
# run once the scenario's apps exist, processes move with advance().
SEEDERS: list[Callable[[Team], None]] = []
PROCESSES: list[Callable[[Team, float], None]] = []


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


def issue_team_certificate(team: Team, certificate_type: str, public_key: Any) -> x509.Certificate:
    """A certificate for the key, signed by the simulator's CA and named as Apple names the team's."""
    scenario = team.scenario
    common_name = f"{certificate_label(certificate_type)}: {scenario.team_name} ({scenario.team_id})"
    not_before = datetime.fromtimestamp(team.now(), UTC)
    return issue_certificate(public_key, common_name, scenario.team_id, scenario.team_name, not_before)


def add_certificate(
    team: Team, certificate_type: str, cert: x509.Certificate, name: str | None = None
) -> Resource:
    common_names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    attributes: dict[str, Any] = {
        "name": name or (str(common_names[0].value) if common_names else certificate_label(certificate_type)),
        "certificateType": certificate_type,
        "displayName": team.scenario.team_name,
        "serialNumber": format(cert.serial_number, "X"),
        "expirationDate": iso(cert.not_valid_after_utc.timestamp()),
        "certificateContent": _b64(der(cert)),
        "activated": True,
    }
    if certificate_type.startswith("IOS_"):
        attributes["platform"] = "IOS"
    return team.add(
        Resource("certificates", team.new_id("certificates"), attributes, hidden={"der": der(cert)})
    )


def add_user(
    team: Team,
    email: str,
    first: str,
    last: str,
    roles: list[str],
    *,
    all_apps_visible: bool = True,
    provisioning_allowed: bool | None = None,
) -> Resource:
    return team.add(
        Resource(
            "users",
            team.new_id("users"),
            {
                "username": email,
                "firstName": first,
                "lastName": last,
                "roles": roles,
                "allAppsVisible": all_apps_visible,
                "provisioningAllowed": "ADMIN" in roles
                if provisioning_allowed is None
                else provisioning_allowed,
            },
        )
    )


# What a new version copies from the previous one's localizations (whatsNew is per version).
INHERITED_LOCALIZATION = ("description", "keywords", "marketingUrl", "supportUrl", "promotionalText")


def add_version(
    team: Team,
    app: Resource,
    platform: str,
    version_string: str,
    state: str,
    attributes: dict[str, Any] | None,
    localizations: list[dict[str, Any]] | None = None,
    id_: str | None = None,
) -> Resource:
    """A new version as Apple makes one: it copies the latest earlier version's copyright and localizations
    (without whatsNew); the first version gets the primary locale. `localizations` replaces that default."""
    earlier = [v for v in team.related(app, "appStoreVersions") if v.attributes["platform"] == platform]
    previous = earlier[-1] if earlier else None
    version = team.add(
        Resource(
            "appStoreVersions",
            id_ or team.new_id("appStoreVersions"),
            {
                "platform": platform,
                "versionString": version_string,
                "releaseType": "AFTER_APPROVAL",
                "reviewType": "APP_STORE",
                "downloadable": True,
                "createdDate": team.now_iso(),
                "copyright": previous.attributes.get("copyright") if previous else None,
                **(attributes or {}),
            },
            {"app": ("apps", app.id), "build": None},
        )
    )
    team.set_version_state(version, state)
    if localizations is None and previous is not None:
        localizations = [
            {"locale": loc.attributes["locale"]}
            | {name: loc.attributes.get(name) for name in INHERITED_LOCALIZATION}
            for loc in team.related(previous, "appStoreVersionLocalizations")
        ]
    if localizations is None:
        localizations = [{"locale": app.attributes["primaryLocale"]}]  # empty: the listing is the developer's
    for localization in localizations:
        team.add(
            Resource(
                "appStoreVersionLocalizations",
                team.new_id("appStoreVersionLocalizations"),
                {"whatsNew": None} | localization,
                {"appStoreVersion": ("appStoreVersions", version.id)},
            )
        )
    return version


def add_build(
    team: Team,
    app: Resource,
    *,
    short_version: str,
    build_number: str,
    platform: str,
    uploaded: float,
    processing_state: str,
    uses_non_exempt_encryption: bool | None,
    min_os_version: str | None = None,
    expired: bool = False,
    id_: str | None = None,
) -> Resource:
    """A build of the app; a PROCESSING one turns VALID after the scenario's build processing delay."""
    hidden: dict[str, Any] = {
        "preReleaseVersion.version": short_version,
        "preReleaseVersion.platform": platform,
    }
    if processing_state == "PROCESSING":
        hidden["due"] = uploaded + team.scenario.delays.build_processing_seconds
    return team.add(
        Resource(
            "builds",
            id_ or team.new_id("builds"),
            {
                "version": build_number,
                "uploadedDate": iso(uploaded),
                "expirationDate": iso(uploaded + 90 * 86400),
                "expired": expired,
                "minOsVersion": min_os_version or "17.0",
                "processingState": processing_state,
                "buildAudienceType": "APP_STORE_ELIGIBLE",
                "usesNonExemptEncryption": uses_non_exempt_encryption,
            },
            {"app": ("apps", app.id)},
            hidden,
        )
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
