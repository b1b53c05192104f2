"""The Apple operations the simulator serves, read off its handler registry (the README's list is this table).

`python -m ascflow.simulator.operations` prints the table; `--write README` replaces the table in that file
between the markers. Every other operation of Apple's spec answers 501 `SIMULATOR.NOT_IMPLEMENTED`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import ascflow.simulator.routes  # noqa: F401  (importing it registers the handlers)
from ascflow.simulator.routing import HANDLERS
from ascflow.simulator.spec import load_spec

BEGIN = "<!-- simulated-operations:begin (python -m ascflow.simulator.operations --write README) -->"
END = "<!-- simulated-operations:end -->"
METHOD_ORDER = ("GET", "POST", "PATCH", "PUT", "DELETE")


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str


def simulated_operations() -> list[Operation]:
    """Every registered handler as the spec names it, by path then method."""
    spec = load_spec()
    return sorted(
        (Operation(method, template, spec.operation_id(method, template)) for method, template in HANDLERS),
        key=lambda op: (op.template, METHOD_ORDER.index(op.method)),
    )


def markdown_table() -> str:
    rows = [f"| `{op.method}` | `{op.template}` | `{op.operation_id}` |" for op in simulated_operations()]
    return "\n".join(["| method | path | operationId |", "|---|---|---|", *rows])


def readme_table(text: str) -> str:
    """The table between the markers of a README."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def write_readme(path: Path) -> None:
    text = path.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    path.write_text(f"{text[:start]}\n{markdown_table()}\n{text[end:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, metavar="README", help="replace the table in this file")
    args = parser.parse_args(argv)
    if args.write is None:
        print(markdown_table())
    else:
        write_readme(args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
