"""The app's price (a price schedule with one manual price in its base territory) and its availability.

Both are read first and written only when they differ. Apple has no PATCH for either whole: a new price
schedule replaces the old one (POST), and availability is created once, then changed per territory
(PATCH /v1/territoryAvailabilities/{id}); `availableInNewTerritories` cannot be changed through the API.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from ascflow.connect.actions.common import ActionFailed, Ensured, create_once, update_once
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.listing_models import AppAvailability, AppPrice, AppPricePoint, AppPriceSchedule


def _amount(point: AppPricePoint) -> Decimal | None:
    # Apple's decimal strings ("0.0", "0.99"); the format of zero is not settled (reference §16c), so compare numbers.
    try:
        return Decimal(point.attributes.customer_price or "")
    except InvalidOperation:
        return None


def _in_effect(price: AppPrice) -> bool:
    today = datetime.now(UTC).date()
    start, end = price.attributes.start_date, price.attributes.end_date
    return (start is None or start <= today) and (end is None or today < end)


def _schedule_with_price(
    client: AppStoreConnect, app_id: str, base_territory: str, amount: Decimal
) -> tuple[AppPriceSchedule | None, bool]:
    """The app's schedule (None: it has none), and whether it charges `amount` in `base_territory` now."""
    schedule = client.price_schedules.for_app(app_id)
    if schedule is None or schedule.related_id("baseTerritory") != base_territory:
        return schedule, False
    prices, points = client.price_schedules.manual_prices(schedule.id, base_territory)
    by_id = {point.id: point for point in points}
    charged = [by_id.get(p.related_id("appPricePoint") or "") for p in prices if _in_effect(p)]
    return schedule, any(point is not None and _amount(point) == amount for point in charged)


def ensure_price(
    client: AppStoreConnect, app_id: str, base_territory: str, customer_price: Decimal | str
) -> Ensured[AppPriceSchedule]:
    """A schedule whose current manual price in `base_territory` (a territory id: `USA`) is `customer_price`
    (`0` for free); Apple derives every other territory's price from it."""
    try:
        amount = Decimal(str(customer_price))
    except InvalidOperation:
        raise ValueError(
            f"customer_price: {customer_price!r} is not a decimal amount such as 0 or 0.99"
        ) from None
    schedule, matches = _schedule_with_price(client, app_id, base_territory, amount)
    if schedule is not None and matches:
        return Ensured(schedule, created=False)
    point = next(
        (p for p in client.price_points.for_territory(app_id, base_territory) if _amount(p) == amount), None
    )
    if point is None:
        raise ActionFailed(
            f"Apple offers no price of {amount} in {base_territory} for app {app_id}.",
            next_step="Choose a price from Apple's price points for that territory (App Store Connect, Pricing "
            "and Availability, lists them) and set it in the listing.",
        )
    point_id = point.id

    def find() -> AppPriceSchedule | None:
        found, applied = _schedule_with_price(client, app_id, base_territory, amount)
        return found if applied else None

    made = create_once(
        lambda: client.price_schedules.create(
            app_id=app_id, base_territory=base_territory, price_point_id=point_id
        ),
        find,
    )
    change = f"price: {amount} in {base_territory}" + (
        " (replaced the previous schedule)" if schedule else ""
    )
    return Ensured(made, created=schedule is None, changes=(change,))


def ensure_availability(
    client: AppStoreConnect,
    app_id: str,
    territories: Collection[str] | None,
    available_in_new_territories: bool,
) -> Ensured[AppAvailability]:
    """Available in exactly `territories` (ids such as `USA`; None: every territory Apple lists), and in new
    territories Apple adds when `available_in_new_territories`."""
    availability = client.availabilities.for_app(app_id)
    if availability is None:
        listed = sorted(territories) if territories is not None else [t.id for t in client.territories.list()]
        made = create_once(
            lambda: client.availabilities.create(
                app_id=app_id, available_in_new_territories=available_in_new_territories, territories=listed
            ),
            lambda: client.availabilities.for_app(app_id),
        )
        scope = "every territory" if territories is None else f"{len(listed)} territories"
        return Ensured(made, created=True, changes=(f"availability: {scope}",))

    if availability.attributes.available_in_new_territories != available_in_new_territories:
        raise ActionFailed(
            f"App {app_id} is set {'not ' if not availability.attributes.available_in_new_territories else ''}"
            "to become available in new territories, and Apple's API cannot change that.",
            next_step="Change it in App Store Connect (Pricing and Availability) or in the listing, then run "
            "this step again.",
        )
    entries = client.availabilities.territory_availabilities(availability.id)
    by_territory = {t: e for e in entries if (t := e.related_id("territory")) is not None}
    wanted = set(territories) if territories is not None else set(by_territory)
    unknown = sorted(wanted - set(by_territory))
    if unknown:
        raise ActionFailed(
            f"Apple lists no territory {', '.join(unknown)} for app {app_id}.",
            next_step="Use Apple's territory ids (three letters, such as USA or GBR) in the listing.",
        )
    changes: list[str] = []
    for territory, entry in sorted(by_territory.items()):
        available = territory in wanted
        if entry.attributes.available is not available:
            _set_available(client, availability.id, entry.id, available)
            changes.append(f"availability: {'added' if available else 'removed'} {territory}")
    return Ensured(availability, created=False, changes=tuple(changes))


def _set_available(client: AppStoreConnect, availability_id: str, entry_id: str, available: bool) -> None:
    def applied() -> bool:
        now = client.availabilities.territory_availabilities(availability_id)
        return any(e.id == entry_id and e.attributes.available is available for e in now)

    update_once(lambda: client.territory_availabilities.set_available(entry_id, available), applied)
