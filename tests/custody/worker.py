"""A custody worker in its own process (spawned by the race test): shares nothing but the data directory."""

from __future__ import annotations

from typing import Any

from ascflow.audit import Actor, open_audit_log
from ascflow.custody import open_custody
from ascflow.settings import Settings


def destroy_in_process(data_dir: str, custody_id: str, barrier: Any, results: Any) -> None:
    settings = Settings(data_dir=data_dir)
    custody = open_custody(settings, audit=open_audit_log(settings))
    barrier.wait(timeout=60)
    try:
        receipt = custody.destroy(custody_id, actor=Actor(kind="operator", id="alice"))
        results.put(("ok", receipt.model_dump_json()))
    except BaseException as exc:
        results.put(("error", type(exc).__name__))
