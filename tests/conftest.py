import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

pytest_plugins = [
    "tests.fixtures.keys",
    "tests.fixtures.aws",
    "tests.fixtures.canary",
    "tests.fixtures.simulator",
]
