"""`scripts/ensure-chromium` (run by the intake's browser test under `make test`) says what it installs, and
how, before doing it, and stops with what to do where it cannot install. apt-get, sudo and id are replaced by
stand-ins on PATH, so nothing is installed and the machine's own state does not matter."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure-chromium"


def _stand_in(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _run(tmp_path: Path, **stand_ins: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in stand_ins.items():
        _stand_in(bin_dir, name.replace("_", "-"), body)
    env = {
        "PATH": str(bin_dir),  # no /usr/bin: only the stand-ins are found
        "ENSURE_CHROMIUM_PATH": str(tmp_path / "no-chromium-here"),
        "HOME": str(tmp_path),
    }
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_without_apt_it_stops_and_says_what_to_do(tmp_path: Path) -> None:
    done = _run(tmp_path, id="echo 0")
    assert done.returncode == 1
    assert "cannot install Chromium: apt-get is not on PATH" in done.stderr
    assert "install Debian's chromium package yourself" in done.stderr
    assert "installing Debian's chromium package now" not in done.stderr


def test_not_root_without_sudo_it_stops_before_apt(tmp_path: Path) -> None:
    marker = tmp_path / "apt-ran"
    done = _run(tmp_path, id="echo 1000", apt_get=f"touch {marker}")
    assert done.returncode == 1
    assert "this user is not root, and sudo is not installed" in done.stderr
    assert not marker.exists()


def test_it_announces_the_install_then_reports_an_offline_mirror(tmp_path: Path) -> None:
    calls = tmp_path / "apt-calls"
    done = _run(
        tmp_path,
        id="echo 0",
        apt_get=f'echo "$*" >> {calls}; [ "$1" = update ] && exit 100; exit 0',
    )
    assert done.returncode == 1
    announced = done.stderr.index("installing Debian's chromium package now: apt-get update")
    assert done.stderr.index("apt-get update failed (offline") > announced
    assert calls.read_text().split("\n")[0] == "update -q"
    assert "install" not in calls.read_text()  # nothing installed after the failed update


def test_present_browser_is_left_alone(tmp_path: Path) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("")
    browser.chmod(0o755)
    env = {**os.environ, "ENSURE_CHROMIUM_PATH": str(browser)}
    done = subprocess.run(["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stderr) == (0, "")
