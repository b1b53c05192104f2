"""A version after App Review approved it: waiting for the developer or the scheduled date, processing for
distribution, live (replacing the previous live version), and its phased release over Apple's 7 days.

Sources: the release types and states are documented (spec enums, reference first-release §14); the phased
release's 7 days and the 30-day pause limit are Apple's documented rules (App Store Connect Help, "Release a
version update in phases"); the rest is GUESS and said so where chosen.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ascflow.simulator.clock import iso
from ascflow.simulator.state import PROCESSES, REVERSE, Resource, Team

REVERSE[("appStoreVersions", "appStoreVersionPhasedRelease")] = (
    "appStoreVersionPhasedReleases",
    "appStoreVersion",
)

DAY = 86400.0
PHASE_DAYS = 7
MAX_PAUSE = 30 * DAY
LIVE_STATES = {"READY_FOR_DISTRIBUTION", "REPLACED_WITH_NEW_VERSION", "REMOVED_FROM_SALE"}


def release_date(version: Resource) -> float | None:
    """`earliestReleaseDate` as a timestamp (a date-time without an offset is read as UTC)."""
    value = version.attributes.get("earliestReleaseDate")
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def version_approved(team: Team, version: Resource, at: float) -> None:
    """Approved at `at`: MANUAL waits for the developer, SCHEDULED for its date, AFTER_APPROVAL goes live.

    GUESS: a SCHEDULED version waits as PENDING_DEVELOPER_RELEASE (so a release request can release it early),
    then goes through PROCESSING_FOR_DISTRIBUTION at its date; a date already past releases it at once.
    """
    release_type = version.attributes.get("releaseType")
    scheduled = release_date(version) if release_type == "SCHEDULED" else None
    if release_type == "MANUAL" or (scheduled is not None and scheduled > at):
        team.set_version_state(version, "PENDING_DEVELOPER_RELEASE")
        version.hidden["release_at"] = scheduled
    else:
        went_live(team, version, at)


def release_requested(team: Team, version: Resource) -> None:
    """The developer released it: PROCESSING_FOR_DISTRIBUTION for `release_processing_seconds`, then live."""
    start_processing(team, version, team.now())


def start_processing(team: Team, version: Resource, at: float) -> None:
    team.set_version_state(version, "PROCESSING_FOR_DISTRIBUTION")
    version.hidden["release_at"] = None
    version.hidden["live_at"] = at + team.scenario.delays.release_processing_seconds


def went_live(team: Team, version: Resource, at: float) -> None:
    """Live at `at`: the app's previous live version is replaced, a phased release starts (GUESS: both INACTIVE
    and ACTIVE ones start at release)."""
    version.hidden["live_at"] = None
    for app_ref in team.related_refs(version, "app"):
        app = team.get(*app_ref)
        for other in team.related(app, "appStoreVersions") if app else []:
            same_platform = other.attributes["platform"] == version.attributes["platform"]
            if (
                other is not version
                and same_platform
                and other.attributes["appVersionState"] == "READY_FOR_DISTRIBUTION"
            ):
                team.set_version_state(other, "REPLACED_WITH_NEW_VERSION")
    team.set_version_state(version, "READY_FOR_DISTRIBUTION")
    for phased in team.related(version, "appStoreVersionPhasedRelease"):
        if phased.attributes["phasedReleaseState"] in {"INACTIVE", "ACTIVE"}:
            phased.attributes.update(phasedReleaseState="ACTIVE", startDate=iso(at), currentDayNumber=1)
            phased.hidden.update(start=at, paused=0.0, paused_at=None)


def paused_seconds(phased: Resource, now: float) -> float:
    paused_at = phased.hidden.get("paused_at")
    total: float = phased.hidden.get("paused", 0.0) + (now - paused_at if paused_at is not None else 0.0)
    return min(total, MAX_PAUSE)


def pause(phased: Resource, now: float) -> None:
    phased.hidden["paused_at"] = now
    phased.attributes["phasedReleaseState"] = "PAUSED"


def resume(phased: Resource, now: float) -> None:
    phased.hidden.update(paused=paused_seconds(phased, now), paused_at=None)
    phased.attributes["phasedReleaseState"] = "ACTIVE"


def complete(phased: Resource, now: float) -> None:
    """Released to everyone (GUESS: the day number stays where the rollout was)."""
    if phased.hidden.get("paused_at") is not None:
        resume(phased, now)
    phased.attributes["phasedReleaseState"] = "COMPLETE"


def _move_phased(phased: Resource, now: float) -> None:
    """Day N of 7 counts active days only; a pause ends by itself once the pauses add up to 30 days (GUESS:
    Apple documents the limit, not what follows). `totalPauseDuration` is in whole days (GUESS: the unit is
    not documented)."""
    start = phased.hidden.get("start")
    if start is None or phased.attributes["phasedReleaseState"] == "COMPLETE":
        return
    if phased.hidden.get("paused_at") is not None and paused_seconds(phased, now) >= MAX_PAUSE:
        resume(phased, now)
    paused = paused_seconds(phased, now)
    active = now - start - paused
    phased.attributes["totalPauseDuration"] = int(paused // DAY)
    if active >= PHASE_DAYS * DAY:
        phased.attributes.update(phasedReleaseState="COMPLETE", currentDayNumber=PHASE_DAYS)
    else:
        phased.attributes["currentDayNumber"] = 1 + int(active // DAY)


def move_releases(team: Team, now: float) -> None:
    """Scheduled dates arrive, processing for distribution ends, phased releases count their days."""
    for version in team.all("appStoreVersions"):
        release_at = version.hidden.get("release_at")
        if (
            release_at is not None
            and release_at <= now
            and version.attributes["appVersionState"] == "PENDING_DEVELOPER_RELEASE"
        ):
            start_processing(team, version, release_at)
        live_at = version.hidden.get("live_at")
        if live_at is not None and live_at <= now:
            went_live(team, version, live_at)
    for phased in team.all("appStoreVersionPhasedReleases"):
        _move_phased(phased, now)


PROCESSES.append(move_releases)
