import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

pytest_plugins = [
    "tests.fixtures.keys",
    "tests.fixtures.aws",
    "tests.fixtures.canary",
    "tests.fixtures.simulator",
]

TESTS = Path(__file__).parent
# Each of these areas shares one Prefect server for the whole session: under pytest-xdist (`make test` runs two
# workers) its tests stay on one worker, so the server starts once, and the flow suite's canary scan sees every
# run the suite made.
ONE_WORKER_AREAS = frozenset({"flows", "intake", "operator"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        area = item.path.relative_to(TESTS).parts[0]
        if area in ONE_WORKER_AREAS:
            item.add_marker(pytest.mark.xdist_group(area))
