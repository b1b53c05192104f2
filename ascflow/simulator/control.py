"""The /_simulator/ control API (never under /v1) and a small typed client for it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ascflow.simulator.faults import FaultPlan
from ascflow.simulator.listing_state import seed_app_listing
from ascflow.simulator.processes import advance
from ascflow.simulator.routes.people import accept_invitation
from ascflow.simulator.scenario import (
    AppSpec,
    BetaGroupSpec,
    BuildSpec,
    CertificateSpec,
    Delays,
    PersonSpec,
    Role,
    SubmissionSpec,
    VersionSpec,
)
from ascflow.simulator.seeding import (
    seed_app,
    seed_build,
    seed_certificate,
    seed_invitation,
    seed_submission,
    seed_user,
    seed_version,
)
from ascflow.simulator.state import Resource, Team
from ascflow.simulator.testflight_state import seed_app_testflight, seed_group

PREFIX = "/_simulator"


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key_id: str = Field(min_length=10, max_length=10)
    public_key_pem: str
    issuer_id: str | None = None
    role: Role = "ADMIN"
    active_after_seconds: float = Field(default=0.0, ge=0.0)


class Settings(BaseModel):
    """Team settings a test may change mid-run; `reset` restores the scenario's values."""

    model_config = ConfigDict(extra="forbid")

    agreements_ok: bool | None = None
    review_outcome: str | None = None
    beta_review_outcome: str | None = None
    rate_limit_per_hour: int | None = Field(default=None, ge=1)
    certificate_limits: dict[str, int] | None = None
    delays: Delays | None = None
    uses_non_exempt_encryption: bool | None = None
    taken_identifiers: list[str] | None = None


class LoggedEntry(Protocol):
    def as_json(self) -> dict[str, Any]: ...


class Controlled(Protocol):
    """What the control API acts on: the simulator app (named here so this module does not import app.py)."""

    @property
    def team(self) -> Team: ...

    @property
    def log(self) -> Sequence[LoggedEntry]: ...

    def reset(self) -> None: ...


class AppPrivacy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    published: bool = True


def handle_control(sim: Controlled, method: str, path: str, body: bytes) -> tuple[int, Any]:
    parts = path[len(PREFIX) + 1 :].strip("/").split("/")
    try:
        payload = json.loads(body) if body else {}
        return _route(sim, method, parts, payload)
    except (ValidationError, ValueError) as exc:
        return 400, {"error": str(exc)}
    except KeyError as exc:
        return 404, {"error": f"no such simulator object: {exc}"}


def _route(sim: Controlled, method: str, parts: list[str], payload: Any) -> tuple[int, Any]:
    team = sim.team
    match method, parts:
        case "POST", ["keys"]:
            key = NewKey.model_validate(payload)
            record = team.add_key(
                key.key_id,
                key.public_key_pem,
                issuer_id=key.issuer_id,
                role=key.role,
                active_after_seconds=key.active_after_seconds,
            )
            return 201, {"key_id": record.key_id, "issuer_id": record.issuer_id, "role": record.role}
        case "POST", ["keys", key_id, "activate"]:
            team.keys[key_id].active_at = team.now()
            return 200, {"key_id": key_id}
        case "PUT", ["faults"]:
            team.faults = FaultPlan.model_validate(payload)
            return 200, team.faults.model_dump()
        case "GET", ["requests"]:
            return 200, {"requests": [entry.as_json() for entry in sim.log]}
        case "POST", ["reset"]:
            sim.reset()
            return 200, {}
        case "GET", ["state"]:
            advance(team)
            return 200, team.snapshot()
        case "POST", ["invitations", invitation_id, "accept"]:
            user = accept_invitation(team, invitation_id)
            return 200, {"user_id": user.id}
        case "PATCH", ["settings"]:
            settings = Settings.model_validate(payload)
            changes = settings.model_dump(exclude_none=True, exclude={"agreements_ok"})
            if settings.agreements_ok is not None:
                team.agreements_ok = settings.agreements_ok
            if changes:
                team.scenario = type(team.scenario).model_validate(team.scenario.model_dump() | changes)
            return 200, {}
        case "POST", ["apps", app_id, "app-privacy"]:
            # The team member answering App Privacy and clicking Publish in the web UI: Apple's API cannot.
            app = team.get("apps", app_id)
            if app is None:
                raise KeyError(f"apps/{app_id}")
            app.hidden["appPrivacyPublished"] = AppPrivacy.model_validate(payload).published
            return 200, {"app_id": app_id, "published": app.hidden["appPrivacyPublished"]}
    return _seed(team, method, parts, payload) or (
        404,
        {"error": f"no control endpoint {method} {PREFIX}/{'/'.join(parts)}"},
    )


def _seed(team: Team, method: str, parts: list[str], payload: Any) -> tuple[int, Any] | None:
    """Apple-side state added mid-run, in the scenario file's format (see seeding.py)."""
    created: Resource
    match method, parts:
        case "POST", ["apps"]:
            spec = AppSpec.model_validate(payload)
            created = seed_app(team, spec)
            seed_app_listing(team, created, spec.app_privacy_published)
            seed_app_testflight(team, created, spec)
        case "POST", ["apps", app_id, "builds"]:
            created = seed_build(team, _app(team, app_id), BuildSpec.model_validate(payload))
        case "POST", ["apps", app_id, "versions"]:
            created = seed_version(team, _app(team, app_id), VersionSpec.model_validate(payload))
        case "POST", ["apps", app_id, "reviewSubmissions"]:
            created = seed_submission(team, _app(team, app_id), SubmissionSpec.model_validate(payload))
        case "POST", ["apps", app_id, "betaGroups"]:
            created = seed_group(team, _app(team, app_id), BetaGroupSpec.model_validate(payload))
        case "POST", ["users"]:
            created = seed_user(team, PersonSpec.model_validate(payload))
        case "POST", ["invitations"]:
            created = seed_invitation(team, PersonSpec.model_validate(payload))
        case "POST", ["certificates"]:
            created = seed_certificate(team, CertificateSpec.model_validate(payload))
        case _:
            return None
    return 201, {"id": created.id}


def _app(team: Team, app_id: str) -> Resource:
    app = team.get("apps", app_id)
    if app is None:
        raise KeyError(f"apps/{app_id}")
    return app


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int | None
    key_id: str | None
    time: float
    fault: str | None


class ControlClient:
    """A typed client of /_simulator/ over real HTTP."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=f"{base_url}{PREFIX}", timeout=10.0)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise RuntimeError(
                f"simulator control {method} {path} failed ({response.status_code}): {response.text}"
            )
        return response.json()

    def add_key(
        self,
        key_id: str,
        public_key_pem: str,
        *,
        issuer_id: str | None = None,
        role: str = "ADMIN",
        active_after_seconds: float = 0.0,
    ) -> None:
        self._call(
            "POST",
            "/keys",
            {
                "key_id": key_id,
                "public_key_pem": public_key_pem,
                "issuer_id": issuer_id,
                "role": role,
                "active_after_seconds": active_after_seconds,
            },
        )

    def activate_key(self, key_id: str) -> None:
        self._call("POST", f"/keys/{key_id}/activate")

    def set_faults(self, plan: FaultPlan) -> None:
        self._call("PUT", "/faults", plan.model_dump())

    def clear_faults(self) -> None:
        self.set_faults(FaultPlan())

    def requests(self) -> list[LoggedRequest]:
        return [LoggedRequest(**entry) for entry in self._call("GET", "/requests")["requests"]]

    def reset(self) -> None:
        self._call("POST", "/reset")

    def state(self) -> dict[str, list[dict[str, Any]]]:
        result: dict[str, list[dict[str, Any]]] = self._call("GET", "/state")
        return result

    def accept_invitation(self, invitation_id: str) -> str:
        """Accept as the invitee would; returns the new user's ID."""
        user_id: str = self._call("POST", f"/invitations/{invitation_id}/accept")["user_id"]
        return user_id

    def add_app(self, app: AppSpec) -> str:
        """Seed an app record (with its builds, versions, submissions) as the scenario would; returns its id."""
        return self._seed("/apps", app)

    def add_build(self, app_id: str, build: BuildSpec) -> str:
        return self._seed(f"/apps/{app_id}/builds", build)

    def add_version(self, app_id: str, version: VersionSpec) -> str:
        return self._seed(f"/apps/{app_id}/versions", version)

    def add_review_submission(self, app_id: str, submission: SubmissionSpec) -> str:
        return self._seed(f"/apps/{app_id}/reviewSubmissions", submission)

    def add_beta_group(self, app_id: str, group: BetaGroupSpec) -> str:
        """A TestFlight group the team made (with its testers); returns its id."""
        return self._seed(f"/apps/{app_id}/betaGroups", group)

    def add_user(self, user: PersonSpec) -> str:
        return self._seed("/users", user)

    def add_invitation(self, invitation: PersonSpec) -> str:
        return self._seed("/invitations", invitation)

    def add_certificate(self, certificate: CertificateSpec) -> str:
        """Someone else's certificate (it counts towards the limit); returns its id."""
        return self._seed("/certificates", certificate)

    def _seed(self, path: str, spec: BaseModel) -> str:
        created: str = self._call("POST", path, spec.model_dump(mode="json"))["id"]
        return created

    def set_agreements(self, ok: bool) -> None:
        self._call("PATCH", "/settings", {"agreements_ok": ok})

    def update_settings(self, **settings: Any) -> None:
        """Change team settings mid-run (see `Settings`): review_outcome, rate_limit_per_hour, delays, ..."""
        self._call("PATCH", "/settings", settings)

    def set_review_outcomes(self, *, review: str | None = None, beta_review: str | None = None) -> None:
        """What App Review (COMPLETE or UNRESOLVED_ISSUES) and Beta App Review (APPROVED or REJECTED) decide for
        reviews that end from now on."""
        self.update_settings(
            **{k: v for k, v in {"review_outcome": review, "beta_review_outcome": beta_review}.items() if v}
        )

    def publish_app_privacy(self, app_id: str, published: bool = True) -> None:
        """Publish (or withdraw) the app's App Privacy answers, as a team member does in the web UI."""
        self._call("POST", f"/apps/{app_id}/app-privacy", {"published": published})
