"""Finding the customer's app record (it cannot be created through the API)."""

from __future__ import annotations

from ascflow.connect.actions.common import ActionFailed
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.models import App


class AppRecordMissing(ActionFailed):
    """No app record with exactly this bundle ID is visible to the key."""


def find_app(client: AppStoreConnect, bundle_id: str) -> App:
    # Apple's filter[bundleId] also returns com.example.app.widget for com.example.app.
    exact = [app for app in client.apps.list(bundle_id=bundle_id) if app.attributes.bundle_id == bundle_id]
    if not exact:
        raise AppRecordMissing(
            f"No app record with bundle ID {bundle_id!r} exists in the customer's App Store Connect account "
            "(or the key cannot see it).",
            next_step=(
                f"Ask the customer to create the app in App Store Connect > Apps > New App with bundle ID "
                f"{bundle_id!r} (apps cannot be created through the API), then retry this step."
            ),
        )
    return exact[0]
