"""`ensure_price` and `ensure_availability` against the simulator over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest

from ascflow.connect.actions.common import ActionFailed
from ascflow.connect.actions.pricing import ensure_availability, ensure_price
from ascflow.simulator.faults import FaultPlan, FaultRule
from tests.connect.conftest import Apple
from tests.connect.first_release import FirstRelease, start_first_release


@pytest.fixture
def release(make_apple: Callable[..., Apple]) -> FirstRelease:
    return start_first_release(make_apple)


def current_price(release: FirstRelease, territory: str = "USA") -> str | None:
    client = release.apple.client
    schedule = client.price_schedules.for_app(release.app_id)
    assert schedule is not None
    _, points = client.price_schedules.manual_prices(schedule.id, territory)
    return points[0].attributes.customer_price if points else None


def available(release: FirstRelease) -> set[str]:
    client = release.apple.client
    availability = client.availabilities.for_app(release.app_id)
    assert availability is not None
    entries = client.availabilities.territory_availabilities(availability.id)
    return {str(e.related_id("territory")) for e in entries if e.attributes.available}


def test_a_free_app_gets_a_schedule_once(release: FirstRelease) -> None:
    made = ensure_price(release.apple.client, release.app_id, "USA", Decimal(0))
    assert made.created
    assert made.changes == ("price: 0 in USA",)
    assert Decimal(current_price(release) or "x") == 0
    (body,) = [json.loads(r.content) for r in release.api_calls() if r.method == "POST"]
    assert body["data"]["relationships"]["baseTerritory"]["data"] == {"type": "territories", "id": "USA"}
    assert body["included"][0]["attributes"] == {"startDate": None, "endDate": None}

    mark = len(release.apple.transport.requests)
    again = ensure_price(release.apple.client, release.app_id, "USA", "0.00")
    assert (again.created, again.changes) == (False, ())
    assert release.writes(mark) == []


def test_a_new_price_replaces_the_schedule_and_pages_to_find_its_point(release: FirstRelease) -> None:
    ensure_price(release.apple.client, release.app_id, "USA", Decimal(0))
    mark = len(release.apple.transport.requests)
    # 9900 is far down Apple's list of about 680 points: past the first page of 200.
    changed = ensure_price(release.apple.client, release.app_id, "USA", Decimal(9900))
    assert changed.changes == ("price: 9900 in USA (replaced the previous schedule)",)
    assert not changed.created
    assert release.writes(mark) == ["POST /v1/appPriceSchedules"]
    pages = [r for r in release.api_calls(mark) if r.url.path.endswith("/appPricePoints")]
    assert len(pages) > 1
    assert Decimal(current_price(release) or "x") == 9900


def test_a_price_apple_does_not_offer_is_refused_without_a_write(release: FirstRelease) -> None:
    with pytest.raises(ActionFailed, match=r"no price of 0\.123 in USA") as refused:
        ensure_price(release.apple.client, release.app_id, "USA", "0.123")
    assert "price points" in refused.value.next_step
    assert release.writes() == []
    with pytest.raises(ValueError, match="customer_price"):
        ensure_price(release.apple.client, release.app_id, "USA", "free")


def test_availability_everywhere_then_narrowed_per_territory(release: FirstRelease) -> None:
    client = release.apple.client
    made = ensure_availability(client, release.app_id, None, True)
    assert made.created
    everywhere = {t.id for t in client.territories.list()}
    assert available(release) == everywhere

    mark = len(release.apple.transport.requests)
    assert ensure_availability(client, release.app_id, None, True).changes == ()
    assert release.writes(mark) == []

    narrowed = ensure_availability(client, release.app_id, everywhere - {"FRA"}, True)
    assert narrowed.changes == ("availability: removed FRA",)
    assert available(release) == everywhere - {"FRA"}
    assert [w.split()[0] for w in release.writes(mark)] == ["PATCH"]


def test_availability_in_listed_territories_only(release: FirstRelease) -> None:
    client = release.apple.client
    ensure_availability(client, release.app_id, ["USA", "GBR"], False)
    assert available(release) == {"USA", "GBR"}
    mark = len(release.apple.transport.requests)
    assert ensure_availability(client, release.app_id, ["GBR", "USA"], False).changes == ()
    with pytest.raises(ActionFailed, match="new territories") as refused:
        ensure_availability(client, release.app_id, ["USA", "GBR"], True)
    assert "App Store Connect" in refused.value.next_step
    with pytest.raises(ActionFailed, match="no territory XXX"):
        ensure_availability(client, release.app_id, ["USA", "XXX"], False)
    assert release.writes(mark) == []


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("/v1/appPriceSchedules", lambda c, app: ensure_price(c, app, "USA", Decimal(0))),
        ("/v2/appAvailabilities", lambda c, app: ensure_availability(c, app, ["USA"], True)),
    ],
)
def test_a_lost_answer_makes_no_second_schedule_or_availability(
    make_apple: Callable[..., Apple], path: str, action: Callable[..., object]
) -> None:
    rule = FaultRule(kind="drop_after_write", path=path, methods=["POST"], count=1)
    release = start_first_release(make_apple, faults=FaultPlan(rules=[rule]))
    action(release.apple.client, release.app_id)
    assert [r.fault for r in release.apple.log()].count("drop_after_write") == 1
    assert release.writes() == [f"POST {path}"]
