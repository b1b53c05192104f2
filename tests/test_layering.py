"""DESIGN.md's dependency direction, checked on the source: flows -> tasks -> ascflow.*."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path} imports {name}"
        for path, names in imported_modules(package).items()
        for name in sorted(names)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("ascflow", ("flows", "tasks", "deployments")),
        ("ascflow/simulator", ("ascflow.connect",)),
        ("ascflow/connect", ("prefect", "ascflow.simulator")),
        ("tasks", ("flows", "deployments")),
    ],
)
def test_dependency_direction(package: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(package, forbidden) == []


def test_checker_sees_a_forbidden_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("from ascflow.connect.keys import ApiKey\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert offenders("pkg", ("ascflow.connect",)) == ["pkg/m.py imports ascflow.connect.keys"]


def test_the_local_backends_need_no_boto3(tmp_path: Path) -> None:
    """boto3 is the `aws` extra: without it, everything but the S3 and KMS backends must import and work."""
    script = """
import sys
sys.modules["boto3"] = sys.modules["botocore"] = None  # as if the aws extra were not installed
import ascflow.cli, ascflow.intake.app, flows.onboard, flows.access_poller, flows.cleanup, deployments.serve
from ascflow.audit import open_audit_log
from ascflow.custody import open_custody
from ascflow.settings import Settings
settings = Settings(data_dir=sys.argv[1])
print(type(open_custody(settings, audit=open_audit_log(settings)).store).__name__)
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "LocalStore"
