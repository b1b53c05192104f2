import os

import pytest
from xdist.scheduler import LoadFileScheduling

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

pytest_plugins = [
    "tests.fixtures.keys",
    "tests.fixtures.aws",
    "tests.fixtures.canary",
    "tests.fixtures.simulator",
]

# Each of these areas shares one Prefect server (a package-scoped stack, stopped after the area's last test: an
# idle Prefect server keeps a fifth of a core busy). Under pytest-xdist (`make test` runs two workers) the whole
# area goes to one worker, so its server starts once, and the flow suite's canary scan sees every run it made.
ONE_WORKER_AREAS = frozenset({"flows", "intake", "operator"})


class AreaScheduling(LoadFileScheduling):
    """xdist's file-by-file scheduling, with each Prefect-backed area as one unit of work. (xdist's `loadgroup`
    marks do not reach its scheduler under pytest 9, which keeps node IDs elsewhere.)"""

    def _split_scope(self, nodeid: str) -> str:
        parts = nodeid.split("/")
        if len(parts) > 2 and parts[0] == "tests" and parts[1] in ONE_WORKER_AREAS:
            return f"tests/{parts[1]}"
        return super()._split_scope(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> AreaScheduling:
    return AreaScheduling(config, log)
