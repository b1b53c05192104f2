"""Custody IDs: minted here, and the only outside text custody ever puts in a path or a message."""

from __future__ import annotations

import re
import uuid

CUSTODY_ID = re.compile(r"[0-9a-f]{32}")


def new_custody_id() -> str:
    return uuid.uuid4().hex


def is_custody_id(value: object) -> bool:
    return isinstance(value, str) and CUSTODY_ID.fullmatch(value) is not None
