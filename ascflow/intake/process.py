"""How the intake process runs: log lines a request cannot forge, and no core dump that could hold a key.

The intake is open to the internet, so what it logs (a path, a header, an exception's text) may come from an
attacker. Every record goes through `EscapingFormatter`: control characters, line breaks included, are written
as escapes, and the lines of a traceback are indented, so only a record's own first line starts at column 0
and no request can add a line that looks like one of ours.
"""

from __future__ import annotations

import logging
import re
import resource
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONTINUATION = "    "


def escape(text: str) -> str:
    """`text` with every control character (C0, DEL, C1, Unicode line and paragraph separators) escaped."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class EscapingFormatter(logging.Formatter):
    """One line per record; tracebacks and stacks follow on indented lines, each escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        # uvicorn ends some messages with a line break of its own; it carries nothing.
        record.message = escape(record.message.rstrip("\n"))
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(stack_info)


def _indented(text: str) -> str:
    return "\n".join(CONTINUATION + escape(line) for line in text.split("\n"))


def log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's `log_config`: uvicorn's loggers, ascflow's and the root logger, all through the escaping
    formatter (uvicorn applies it with dictConfig, replacing what Prefect set up on import)."""
    handler = {"class": "logging.StreamHandler", "formatter": "escaped", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"escaped": {"()": f"{__name__}.EscapingFormatter", "fmt": LOG_FORMAT}},
        "handlers": {"stderr": handler},
        "loggers": {
            name: {"handlers": ["stderr"], "level": level, "propagate": False}
            for name in ("uvicorn", "uvicorn.access", "ascflow")
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


def disable_core_dumps() -> None:
    """A core dump of this process would hold whatever key was in memory when it died: allow none."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
