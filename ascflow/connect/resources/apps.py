"""Apps (read only: app records are created by the customer in App Store Connect)."""

from __future__ import annotations

from ascflow.connect.models import App, parse_many, parse_one
from ascflow.connect.resources.base import ResourceGroup


class Apps(ResourceGroup):
    def list(self, *, bundle_id: str | None = None) -> list[App]:
        """Apps whose bundle ID *contains* `bundle_id`: Apple's filter is not exact; callers compare."""
        params = {"filter[bundleId]": bundle_id} if bundle_id is not None else {}
        return parse_many(App, self._session.paginate("/v1/apps", params))

    def get(self, app_id: str) -> App:
        return parse_one(App, self._session.get(f"/v1/apps/{app_id}"))
