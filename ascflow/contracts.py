"""Names that several parts agree on (the flows, the intake, the poller, the CLI, prefect.yaml): each in one
place, so a rename cannot leave one side behind."""

from __future__ import annotations

ONBOARD_FLOW = "onboard-app"
# Deployments as `flow name/deployment name`, the form Prefect's API looks them up by; prefect.yaml declares them.
ONBOARD_DEPLOYMENT = f"{ONBOARD_FLOW}/onboard-app"
POLLER_DEPLOYMENT = "access-poller/access-poller"
CLEANUP_DEPLOYMENT = "credential-cleanup/credential-cleanup"
DESTROY_DEPLOYMENT = "destroy-credentials/destroy-credentials"
RELEASE_FLOW = "release-app"
RELEASE_DEPLOYMENT = f"{RELEASE_FLOW}/release-app"
DEPLOYMENTS = (
    ONBOARD_DEPLOYMENT,
    POLLER_DEPLOYMENT,
    CLEANUP_DEPLOYMENT,
    DESTROY_DEPLOYMENT,
    RELEASE_DEPLOYMENT,
)

# The pause key of a run that waits for the customer's upload; the intake resumes runs paused with it.
AWAIT_CREDENTIALS_KEY = "await-credentials"

# Custody record IDs as every form and API accepts them.
CUSTODY_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


def app_lock(tenant: str, bundle_id: str) -> str:
    """The lock that keeps two runs for one tenant and app (onboarding or release) from working at Apple at once."""
    return f"ascflow-onboard-{tenant}-{bundle_id.lower().replace('.', '-')}"[:120]
