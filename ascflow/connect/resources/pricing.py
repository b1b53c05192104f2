"""Price points, price schedules, territories and app availability v2 (reference first-release.md §9-§10).

Schedules and availabilities are created whole, with their prices and territory availabilities created inline:
each included resource carries a placeholder id `${...}` that the primary resource's relationship refers to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ascflow.connect.errors import NotFound
from ascflow.connect.listing_models import (
    AppAvailability,
    AppPrice,
    AppPricePoint,
    AppPriceSchedule,
    Territory,
    TerritoryAvailability,
    parse_included,
)
from ascflow.connect.models import parse_many, parse_one, parse_optional
from ascflow.connect.resources.base import ResourceGroup, linkage, request_document


class AppPricePoints(ResourceGroup):
    def for_territory(self, app_id: str, territory: str) -> Iterator[AppPricePoint]:
        """The app's price points in one territory, page by page: a caller stops reading once it found its own."""
        path = f"/v1/apps/{app_id}/appPricePoints"
        for page in self._session.paginate(path, {"filter[territory]": territory}):
            yield from parse_many(AppPricePoint, [page])


class AppPriceSchedules(ResourceGroup):
    def for_app(self, app_id: str) -> AppPriceSchedule | None:
        """The app's schedule with its base territory; None when the app has none (a new app)."""
        try:
            document = self._session.get(f"/v1/apps/{app_id}/appPriceSchedule", {"include": "baseTerritory"})
        except NotFound:
            return None
        return parse_optional(AppPriceSchedule, document)

    def manual_prices(self, schedule_id: str, territory: str) -> tuple[list[AppPrice], list[AppPricePoint]]:
        """The schedule's manual prices in `territory`, with their price points (included)."""
        params = {"filter[territory]": territory, "include": "appPricePoint,territory"}
        pages = list(self._session.paginate(f"/v1/appPriceSchedules/{schedule_id}/manualPrices", params))
        return parse_many(AppPrice, pages), parse_included(AppPricePoint, pages)

    def create(self, *, app_id: str, base_territory: str, price_point_id: str) -> AppPriceSchedule:
        """A schedule with one manual price in the base territory, effective now (no start or end date)."""
        placeholder = "${price}"
        body: dict[str, Any] = request_document(
            "appPriceSchedules",
            relationships={
                "app": linkage("apps", app_id),
                "baseTerritory": linkage("territories", base_territory),
                "manualPrices": [linkage("appPrices", placeholder)],
            },
        )
        body["included"] = [
            {
                "type": "appPrices",
                "id": placeholder,
                "attributes": {"startDate": None, "endDate": None},
                "relationships": {"appPricePoint": {"data": linkage("appPricePoints", price_point_id)}},
            }
        ]
        return parse_one(AppPriceSchedule, self._session.post("/v1/appPriceSchedules", body))


class Territories(ResourceGroup):
    def list(self) -> list[Territory]:
        return parse_many(Territory, self._session.paginate("/v1/territories"))


class AppAvailabilities(ResourceGroup):
    def for_app(self, app_id: str) -> AppAvailability | None:
        try:
            document = self._session.get(f"/v1/apps/{app_id}/appAvailabilityV2")
        except NotFound:
            return None
        return parse_optional(AppAvailability, document)

    def territory_availabilities(self, availability_id: str) -> list[TerritoryAvailability]:
        """Every territory's availability, with its `territory` linkage."""
        path = f"/v2/appAvailabilities/{availability_id}/territoryAvailabilities"
        return parse_many(TerritoryAvailability, self._session.paginate(path, {"include": "territory"}))

    def create(
        self, *, app_id: str, available_in_new_territories: bool, territories: Sequence[str]
    ) -> AppAvailability:
        """Available in exactly `territories` (inline territory availabilities, released at once)."""
        placeholders = {territory: f"${{{territory}}}" for territory in territories}
        body: dict[str, Any] = request_document(
            "appAvailabilities",
            attributes={"availableInNewTerritories": available_in_new_territories},
            relationships={
                "app": linkage("apps", app_id),
                "territoryAvailabilities": [
                    linkage("territoryAvailabilities", p) for p in placeholders.values()
                ],
            },
        )
        body["included"] = [
            {
                "type": "territoryAvailabilities",
                "id": placeholder,
                "attributes": {"available": True, "releaseDate": None, "preOrderEnabled": False},
                "relationships": {"territory": {"data": linkage("territories", territory)}},
            }
            for territory, placeholder in placeholders.items()
        ]
        return parse_one(AppAvailability, self._session.post("/v2/appAvailabilities", body))


class TerritoryAvailabilities(ResourceGroup):
    def set_available(self, territory_availability_id: str, available: bool) -> None:
        attributes: Mapping[str, Any] = {"available": available}
        body = request_document(
            "territoryAvailabilities", id_=territory_availability_id, attributes=attributes
        )
        self._session.patch(f"/v1/territoryAvailabilities/{territory_availability_id}", body)
