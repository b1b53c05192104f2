"""Price points, price schedules, territories and app availability (v2), with inline-created resources.

Apple's shapes (reference `first-release.md` §9-§10, spec `AppPriceScheduleCreateRequest`,
`AppAvailabilityV2CreateRequest`): a schedule is POSTed whole, with its manual prices inline in `included` and
linked from `relationships.manualPrices` by placeholder IDs (`${...}`); availability likewise with its
`territoryAvailabilities`. GUESS (README "The store listing"): the schedule's and availability's IDs equal the
app's, a new schedule replaces the old, automatic prices take the same price step in every other territory, a
second availability POST is a 409 (edit territories with PATCH /v1/territoryAvailabilities/{id}), territories not
listed are not available, and the texts of the 409s.
"""

from __future__ import annotations

from typing import Any

from ascflow.simulator.documents import ApiError, Errors, Json
from ascflow.simulator.listing_catalog import (
    PRICE_LADDER,
    TERRITORY_IDS,
    parse_price_point_id,
)
from ascflow.simulator.listing_rules import check_update
from ascflow.simulator.listing_state import add_availability, price_point
from ascflow.simulator.routes.reads import one, select
from ascflow.simulator.routing import Call, Reply, handles, ok
from ascflow.simulator.state import Resource, Team


@handles("GET", "/v1/apps/{id}/appPricePoints")
def list_price_points(call: Call) -> Reply:
    app = one(call, "apps")
    wanted = call.query.get("filter[territory]")
    territories = wanted.split(",") if wanted else TERRITORY_IDS
    points = [
        price_point(app.id, territory, index)
        for territory in territories
        if territory in TERRITORY_IDS
        for index in range(len(PRICE_LADDER))
    ]
    return Reply(200, call.render.collection(select(call, points)))


@handles("GET", "/v3/appPricePoints/{id}")
def read_price_point(call: Call) -> Reply:
    parsed = parse_price_point_id(call.ids[0])
    if parsed is None:
        raise ApiError(Errors.not_found("appPricePoints", call.ids[0]))
    return Reply(200, call.render.single(price_point(*parsed)))


def _inline(call: Call, type_: str, relationship: str) -> list[Json]:
    """The `included` resources the body links from `relationship`, in its order (Apple's inline create)."""
    included = {item.get("id"): item for item in call.body.get("included") or [] if item.get("type") == type_}
    linked = []
    for linkage in call.relationship(relationship) or []:
        item = included.get(linkage["id"])
        if item is None:
            raise ApiError(
                Errors.relationship_invalid(
                    f"The {type_} '{linkage['id']}' is not among the included resources: include it with the "
                    "same id",
                    relationship,
                )
            )
        linked.append(item)
    if len({item.get("id") for item in linked}) != len(linked):
        raise ApiError(Errors.relationship_invalid(f"Each of the {type_} may be linked once", relationship))
    return linked


def _related_id(item: Json, relationship: str) -> Any:
    return ((item.get("relationships") or {}).get(relationship) or {}).get("data", {}).get("id")


def _territory(call: Call) -> str:
    territory = call.related_id("baseTerritory")
    if territory not in TERRITORY_IDS:
        raise ApiError(
            Errors.relationship_invalid(f"territory with id '{territory}' cannot be found", "baseTerritory")
        )
    return str(territory)


@handles("POST", "/v1/appPriceSchedules")
def create_price_schedule(call: Call) -> Reply:
    team = call.team
    app = call.require_related("app", "apps")
    base = _territory(call)
    prices = []
    for item in _inline(call, "appPrices", "manualPrices"):
        parsed = parse_price_point_id(str(_related_id(item, "appPricePoint")))
        if parsed is None or parsed[0] != app.id:
            raise ApiError(
                Errors.relationship_invalid(
                    f"appPricePoint with id '{_related_id(item, 'appPricePoint')}' cannot be found for app "
                    f"'{app.id}': take an ID from GET /v1/apps/{app.id}/appPricePoints",
                    "manualPrices",
                )
            )
        prices.append((parsed, item.get("attributes") or {}))
    if not any(point[1] == base and not attrs.get("startDate") for point, attrs in prices):
        raise ApiError(
            Errors.relationship_invalid(
                f"The schedule needs a manual price in its base territory {base} without a start date (the "
                "current price).",
                "manualPrices",
            )
        )
    _drop_schedule(team, app)
    schedule = team.add(Resource("appPriceSchedules", app.id, {}, {"app": ("apps", app.id)}))
    schedule.relationships["baseTerritory"] = ("territories", base)
    schedule.relationships["manualPrices"] = [
        _add_price(team, app.id, territory, index, True, attrs) for (_, territory, index), attrs in prices
    ]
    base_index = next(point[2] for point, attrs in prices if point[1] == base and not attrs.get("startDate"))
    schedule.relationships["automaticPrices"] = [
        _add_price(team, app.id, territory, base_index, False, {})
        for territory in TERRITORY_IDS
        if territory != base
    ]
    return Reply(
        201, call.render.single(schedule), {"Location": f"{call.base_url}/v1/appPriceSchedules/{schedule.id}"}
    )


def _add_price(
    team: Team, app_id: str, territory: str, index: int, manual: bool, attrs: Json
) -> tuple[str, str]:
    point = team.add(price_point(app_id, territory, index))
    price = team.add(
        Resource(
            "appPrices",
            team.new_id("appPrices"),
            {"manual": manual, "startDate": attrs.get("startDate"), "endDate": attrs.get("endDate")},
            {"appPricePoint": ("appPricePoints", point.id), "territory": ("territories", territory)},
        )
    )
    return ("appPrices", price.id)


def _drop_schedule(team: Team, app: Resource) -> None:
    for schedule in team.related(app, "appPriceSchedule"):
        for name in ("manualPrices", "automaticPrices"):
            for price in team.related(schedule, name):
                team.remove("appPrices", price.id)
        team.remove("appPriceSchedules", schedule.id)


@handles("POST", "/v2/appAvailabilities")
def create_availability(call: Call) -> Reply:
    team = call.team
    app = call.require_related("app", "apps")
    if team.related(app, "appAvailabilityV2"):
        raise ApiError(
            Errors.entity_error(
                f"The app already has an availability (appAvailabilities/{app.id}): change territories with "
                "PATCH /v1/territoryAvailabilities/{id}.",
                "/data/relationships/app",
            )
        )
    listed: dict[str, Json] = {}
    for item in _inline(call, "territoryAvailabilities", "territoryAvailabilities"):
        territory = _related_id(item, "territory")
        if territory not in TERRITORY_IDS:
            raise ApiError(
                Errors.relationship_invalid(
                    f"territory with id '{territory}' cannot be found (included {item.get('id')})",
                    "territoryAvailabilities",
                )
            )
        if territory in listed:
            raise ApiError(
                Errors.relationship_invalid(
                    f"territory '{territory}' is listed twice", "territoryAvailabilities"
                )
            )
        listed[territory] = item.get("attributes") or {}
    availability = add_availability(team, app, call.attributes["availableInNewTerritories"], listed)
    location = f"{call.base_url}/v2/appAvailabilities/{availability.id}"
    return Reply(201, call.render.single(availability), {"Location": location})


@handles("GET", "/v2/appAvailabilities/{id}")
def read_availability(call: Call) -> Reply:
    return Reply(200, call.render.single(one(call, "appAvailabilities")))


@handles("GET", "/v2/appAvailabilities/{id}/territoryAvailabilities")
def list_territory_availabilities(call: Call) -> Reply:
    availability = one(call, "appAvailabilities")
    return Reply(200, call.render.collection(call.team.related(availability, "territoryAvailabilities")))


@handles("GET", "/v2/appAvailabilities/{id}/relationships/territoryAvailabilities")
def territory_availability_linkage(call: Call) -> Reply:
    return Reply(200, call.render.linkage(one(call, "appAvailabilities"), "territoryAvailabilities"))


@handles("PATCH", "/v1/territoryAvailabilities/{id}")
def update_territory_availability(call: Call) -> Reply:
    entry = one(call, "territoryAvailabilities")
    check_update(call)
    entry.attributes.update(call.given(("available", "releaseDate", "preOrderEnabled")))
    entry.attributes["contentStatuses"] = ["AVAILABLE"] if entry.attributes["available"] else ["CANNOT_SELL"]
    return ok(call, entry)
