"""What every resource group shares: the session, and Apple's JSON:API request envelope."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ascflow.connect.session import Session

Linkage = dict[str, str]


class ResourceGroup:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _probe(self, collection: str) -> None:
        """One cheap read of a collection: returns, or raises what Apple answers this key there (401 for a key
        it does not accept, 403 for a role or an agreement the key's team lacks)."""
        self._session.get(collection, {"limit": 1})


def linkage(type_: str, id_: str) -> Linkage:
    return {"type": type_, "id": id_}


def request_document(
    type_: str,
    *,
    id_: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    relationships: Mapping[str, Linkage | list[Linkage]] | None = None,
) -> dict[str, Any]:
    """`{"data": {...}}` as Apple takes it; attributes left as None are not sent (Apple would clear them)."""
    data: dict[str, Any] = {"type": type_}
    if id_ is not None:
        data["id"] = id_
    if attributes is not None:
        data["attributes"] = {name: value for name, value in attributes.items() if value is not None}
    if relationships:
        data["relationships"] = {name: {"data": value} for name, value in relationships.items()}
    return {"data": data}


def comma_list(values: Iterable[str]) -> str:
    """Apple's array parameters (`style: form, explode: false`) are one comma-separated value."""
    return ",".join(values)
