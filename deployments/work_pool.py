"""Create the process work pool that prefect.yaml's deployments use, once (safe to run again)."""

from __future__ import annotations

from prefect import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists

WORK_POOL = "ascflow-process"


def ensure_work_pool(name: str = WORK_POOL) -> bool:
    """Return True when the pool was created, False when it already existed."""
    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
        except ObjectAlreadyExists:
            return False
    return True


if __name__ == "__main__":
    created = ensure_work_pool()
    print(f"work pool {WORK_POOL}: {'created' if created else 'already there'}")
