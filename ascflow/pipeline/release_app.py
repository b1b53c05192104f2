"""The `release-app` deployment's work: release a version App Review approved for a manual release, and pause,
resume or complete its phased rollout; and when the customer's key is needed for that (kept) or not any more
(destroyed). Every write reads Apple's state first, so a rerun writes nothing."""

from __future__ import annotations

from typing import Literal

from ascflow.connect import Platform
from ascflow.connect.actions.apps import find_app
from ascflow.connect.actions.common import ActionFailed
from ascflow.connect.actions.release_control import ensure_phased_release, release_version
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.models import AppStoreVersion, AppVersionState
from ascflow.connect.testflight_models import PhasedReleaseState
from ascflow.errors import OperatorError
from ascflow.pipeline.context import StepContext
from ascflow.pipeline.job import ResourceRow, StepResult
from ascflow.pipeline.teardown import KeptKey, ReceiptSummary, keep_credentials

# As the onboarding request spells a version (OnboardingRequest.version).
VERSION_PATTERN = r"^\d+(\.\d+){0,2}$"
ReleaseAction = Literal["release", "pause", "resume", "complete"]
ROLLOUT: dict[str, PhasedReleaseState] = {
    "pause": PhasedReleaseState.PAUSED,
    "resume": PhasedReleaseState.ACTIVE,
    "complete": PhasedReleaseState.COMPLETE,
}
# A rollout in these states can still be paused, resumed or completed: that needs the key.
OPEN_ROLLOUT = frozenset({"INACTIVE", "ACTIVE", "PAUSED"})


class ReleaseControlResult(StepResult):
    action: ReleaseAction
    version_id: str
    version_state: str
    changed: bool
    phased_release_id: str | None = None
    phased_state: str | None = None

    @property
    def rollout_open(self) -> bool:
        return self.phased_state in OPEN_ROLLOUT

    def outcome(self) -> str:
        if self.action == "release":
            said = (
                "release requested" if self.changed else "already released or being released (nothing sent)"
            )
        else:
            said = f"phased release set to {self.phased_state}" if self.changed else "nothing to change"
        rollout = f", phased release {self.phased_state}" if self.phased_state else ""
        return f"{said} (version {self.version_state}{rollout})"

    def resources(self) -> list[ResourceRow]:
        rows = [ResourceRow("App Store version", self.version_id, self.version_state)]
        if self.phased_release_id is not None:
            rows.append(ResourceRow("phased release", self.phased_release_id, str(self.phased_state)))
        return rows


class KeyGone(OperatorError):
    """The key this run was given was destroyed before it ran: Apple cannot be asked."""

    def __init__(self, what: str, *, next_step: str, receipt: ReceiptSummary) -> None:
        self.receipt = receipt
        super().__init__(what, next_step=next_step)


class KeyNotHeld(OperatorError):
    """No key of this tenant and app is in custody under the given ID."""


NOT_HELD = [
    "## Credentials",
    "",
    "No key of this customer and app is in custody under the given ID; nothing was decrypted or destroyed.",
]


def release_command(
    tenant: str, bundle_id: str, version: str, custody_id: str, action: ReleaseAction = "release"
) -> str:
    """The operator's command for the release-app deployment (`ascflow runs release`), filled in."""
    return (
        f"ascflow runs release --tenant {tenant} --bundle-id {bundle_id} --version {version} "
        f"--custody-id {custody_id} --action {action}"
    )


def check_key(ctx: StepContext, custody_id: str, tenant: str, bundle_id: str) -> None:
    """Before any Apple call: the key is live and was handed over for this tenant and app."""
    stored = ctx.custody.receipt(custody_id)
    if stored is not None:
        receipt = ReceiptSummary.of(stored)
        raise KeyGone(
            f"The key in custody {custody_id} was destroyed at {receipt.destroyed_at:%Y-%m-%d %H:%M:%S} UTC "
            "(its receipt is below); nothing was asked of Apple.",
            next_step="If the release-app run that destroyed it released the version or completed the rollout "
            "(its summary says so), there is nothing left to do. Otherwise deposit a new key of the customer "
            "(ascflow custody deposit ...) and run release-app again with its custody ID.",
            receipt=receipt,
        )
    header = next((info for info in ctx.custody.list() if info.id == custody_id), None)
    if header is None or header.kind != "api_key":
        raise KeyNotHeld(
            f"No customer key is in custody as {custody_id}; nothing was asked of Apple.",
            next_step="Check the ID with ascflow custody list (the onboarding run's summary names it), or deposit "
            "a new key with ascflow custody deposit and give its custody ID.",
        )
    if header.tenant != tenant or header.app_bundle_id not in (None, bundle_id):
        app = header.app_bundle_id or "any app"
        raise KeyNotHeld(
            f"Custody {custody_id} holds a key handed over for {header.tenant} / {app}, not {tenant} / "
            f"{bundle_id}; nothing was asked of Apple.",
            next_step="Give the custody ID of this customer's key for this app (ascflow custody list).",
        )


def control_release(
    ctx: StepContext, custody_id: str, bundle_id: str, version: str, action: ReleaseAction
) -> ReleaseControlResult:
    with ctx.apple(custody_id) as client:
        found = find_version(client, bundle_id, version)
        if action == "release":
            released = release_version(client, found.id)
            phased = client.phased_releases.for_version(found.id)
            return ReleaseControlResult(
                action=action,
                version_id=found.id,
                version_state=released.resource.attributes.app_version_state.value,
                changed=released.created,
                phased_release_id=phased.id if phased else None,
                phased_state=phased.attributes.phased_release_state.value if phased else None,
            )
        _check_rollout(client, found, action)
        ensured = ensure_phased_release(client, found.id, ROLLOUT[action])
        state = client.versions.get(found.id).attributes.app_version_state.value
    return ReleaseControlResult(
        action=action,
        version_id=found.id,
        version_state=state,
        changed=ensured.created or ensured.updated,
        phased_release_id=ensured.resource.id,
        phased_state=ensured.resource.attributes.phased_release_state.value,
    )


def find_version(client: AppStoreConnect, bundle_id: str, version: str) -> AppStoreVersion:
    app_id = find_app(client, bundle_id).id
    versions = client.versions.list_for_app(app_id=app_id, platform=Platform.IOS)
    found = next((v for v in versions if v.attributes.version_string == version), None)
    if found is None:
        raise ActionFailed(
            f"The app {bundle_id} has no version {version} at Apple.",
            next_step="Check the version string (the onboarding request's version), then run the release again.",
        )
    return found


def _check_rollout(client: AppStoreConnect, version: AppStoreVersion, action: ReleaseAction) -> None:
    """A rollout is paused, resumed or completed only once it runs: the version live, with a phased release."""
    state = version.attributes.app_version_state
    number = version.attributes.version_string
    if client.phased_releases.for_version(version.id) is None:
        raise ActionFailed(
            f"Version {number} has no phased release, so there is no rollout to {action} (nothing was changed).",
            next_step="Nothing to do: without a phased release Apple releases a version to everyone at once. Ask "
            "for phased_release in the onboarding request of the next version.",
        )
    if state is not AppVersionState.READY_FOR_DISTRIBUTION:
        raise ActionFailed(
            f"Version {number} is {state.value}: its phased rollout starts only once it is live "
            f"(READY_FOR_DISTRIBUTION), so it cannot be {action}d yet (nothing was changed).",
            next_step="Release it first (release-app with --action release) if it waits for the developer, wait "
            "until it is live, then run this again.",
        )


def after_release(
    ctx: StepContext, result: ReleaseControlResult, tenant: str, bundle_id: str, version: str, custody_id: str
) -> KeptKey | None:
    """The key is kept while a phased rollout can still be paused, resumed or completed; otherwise it has done
    its last job and the flow destroys it (None)."""
    if not result.rollout_open:
        return None
    return keep_credentials(
        ctx,
        custody_id,
        why=(
            "the phased rollout starts once Apple has the version live, and may then be paused, resumed or "
            "completed."
            if result.phased_state == PhasedReleaseState.INACTIVE.value
            else f"the phased rollout is {result.phased_state} and may still be paused, resumed or completed."
        ),
        command=release_command(tenant, bundle_id, version, custody_id, "complete"),
        destroyed_when="releases the version to everyone now, then destroys the key; --action pause or resume "
        "keep it. Apple completes the rollout by itself after 7 days",
    )


def manual_release_kept(
    ctx: StepContext, tenant: str, bundle_id: str, version: str, custody_id: str, *, phased: bool
) -> KeptKey:
    """What the onboarding run says when App Review approved a MANUAL release: the key waits for it."""
    after = (
        "once the phased rollout is complete (--action complete), the release-app run destroys the key"
        if phased
        else "once Apple has taken the release request, the release-app run destroys the key and its summary "
        "shows the receipt"
    )
    return keep_credentials(
        ctx,
        custody_id,
        why=f"version {version} is approved and held for a manual release (PENDING_DEVELOPER_RELEASE): "
        "releasing it needs the key.",
        command=release_command(tenant, bundle_id, version, custody_id),
        destroyed_when=after,
    )
