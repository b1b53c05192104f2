"""The dependency rules of docs/architecture.md, checked on the source: flows -> tasks -> ascflow.*.

Library packages never import Prefect (orchestration stays in flows/ and tasks/; the intake service alone talks
to a Prefect server), ascflow/ never imports the top-level folders, the simulator shares no code with the client
it is the yardstick of, and no two modules of ascflow/ import each other, directly or through others.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The customer-facing service and the operator's commands start and resume runs through Prefect's client; they
# are not library code.
PREFECT_CLIENTS = {"intake", "operator"}


def library_packages() -> list[str]:
    """Every package of ascflow/ except the Prefect clients: a new package is covered without editing this."""
    return sorted(
        f"ascflow/{path.parent.name}"
        for path in (ROOT / "ascflow").glob("*/__init__.py")
        if path.parent.name not in PREFECT_CLIENTS
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Import statements outside `if TYPE_CHECKING:` blocks, at any depth (a function-level import counts)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), str(path))


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in _runtime_imports(_parse(path)):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif node.module and node.level == 0:
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


def module_graph(package: str) -> dict[str, set[str]]:
    """Module name -> the modules of `package` it imports by name (a parent package's own `__init__` is not
    counted for importing one of its submodules, or every package that re-exports would be a cycle)."""
    paths = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in (ROOT / package).rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in _runtime_imports(_parse(path)):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = module.split(".")
            base = base if is_package else base[:-1]
            if node.level:
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            submodules = {f"{stem}.{alias.name}" for alias in node.names} & paths.keys()
            names = {alias.name for alias in node.names} - {m.rsplit(".", 1)[1] for m in submodules}
            # `from pkg import sub` needs pkg.sub; pkg itself only when a name is not a submodule.
            targets.update(submodules | ({stem} if names else set()))
        graph[module] = {t for t in targets if t in paths and t != module}
    return graph


def import_cycles(package: str) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted; empty when acyclic."""
    graph = module_graph(package)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                connect(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            connect(module)
    return sorted(cycles)


def test_every_library_package_is_checked() -> None:
    packages = library_packages()
    assert {"ascflow/connect", "ascflow/pipeline", "ascflow/custody", "ascflow/audit"} <= set(packages)
    assert "ascflow/simulator" in packages


@pytest.mark.parametrize("package", library_packages())
def test_library_packages_do_not_import_prefect(package: str) -> None:
    assert offenders(package, ("prefect",)) == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("ascflow", ("flows", "tasks", "deployments")),
        ("ascflow/simulator", ("ascflow.connect",)),
        ("ascflow/connect", ("ascflow.simulator",)),
        ("tasks", ("flows", "deployments")),
    ],
)
def test_dependency_direction(package: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(package, forbidden) == []


def test_no_import_cycle_in_ascflow() -> None:
    assert import_cycles("ascflow") == []


def test_checker_sees_a_forbidden_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import prefect\n"
        "def later():\n    from ascflow.connect.keys import ApiKey\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert offenders("pkg", ("ascflow.connect", "prefect")) == ["pkg/m.py imports ascflow.connect.keys"]


def test_checker_sees_a_cycle_through_relative_and_package_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("from . import c\n")
    (package / "sub" / "c.py").write_text("from .. import a\nimport pkg.d\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert import_cycles("pkg") == [["pkg.a", "pkg.sub.b", "pkg.sub.c"]]


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
