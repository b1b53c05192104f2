"""A last line of defence: log records that carry something shaped like key material are scrubbed as they are
made, whoever logs them (our code, Prefect, httpx, a library's debug line).

Nothing in ascflow logs a secret on purpose; this catches the accident. `redactions` counts what it caught, so a
test that sees it move has found a leak to fix at its source.
"""

from __future__ import annotations

import logging
import re
import threading

PATTERNS = (
    # A PEM block of any private key, whole or cut, with real or escaped newlines.
    re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.DOTALL
    ),
    # The DER prefix every PKCS#8 EC P-256 key shares (Apple's and cryptography's forms), with its body.
    re.compile(r"MIG[HT]AgEAMBMGByqGSM49AgEGCCqGSM49AwEH[A-Za-z0-9+/=\\n\s]*"),
    # A signed JWT: three base64url parts, the first an encoded JSON header.
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
)
MARK = "[redacted by ascflow]"

_lock = threading.Lock()
_installed = False
redactions = 0


def scrub(text: str) -> tuple[str, int]:
    total = 0
    for pattern in PATTERNS:
        text, count = pattern.subn(MARK, text)
        total += count
    return text, total


def install() -> None:
    """Wrap the log record factory once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        make_record = logging.getLogRecordFactory()

        def scrubbing_factory(*args: object, **kwargs: object) -> logging.LogRecord:
            global redactions
            record = make_record(*args, **kwargs)
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return record  # a malformed call; the handler reports it as logging always has
            cleaned, count = scrub(message)
            if count:
                with _lock:
                    redactions += count
                record.msg, record.args = cleaned, None
            return record

        logging.setLogRecordFactory(scrubbing_factory)
        _installed = True
