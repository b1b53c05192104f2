"""A copy of examples/listing.yaml with its generated screenshots, and a way to run `ascflow listing` on it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from ascflow.cli import app
from ascflow.listing import write_example_screenshots

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "listing.yaml"


@dataclass
class Outcome:
    exit_code: int
    output: str  # stdout and stderr together

    def lines(self) -> list[str]:
        return self.output.strip().splitlines()


def run_cli(*args: str) -> Outcome:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.output)


@dataclass
class ListingDir:
    folder: Path

    @property
    def file(self) -> Path:
        return self.folder / "listing.yaml"

    def data(self) -> dict[str, Any]:
        loaded = yaml.safe_load(self.file.read_text())
        assert isinstance(loaded, dict)
        return loaded

    def write(self, data: dict[str, Any]) -> Path:
        self.file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        return self.file

    def edit(self, change: Callable[[dict[str, Any]], object]) -> Path:
        data = self.data()
        change(data)
        return self.write(data)

    def image(
        self, name: str, size: tuple[int, int], mode: str = "RGB", fmt: str = "PNG", shade: int = 60
    ) -> str:
        path = self.folder / "screenshots" / name
        colour = {"RGBA": (200, 30, shade, 128), "RGB": (200, 30, shade)}.get(mode, shade)
        Image.new(mode, size, colour).save(path, format=fmt)
        return f"screenshots/{name}"

    def check(self, *options: str) -> Outcome:
        return run_cli("listing", "check", str(self.file), *options)


@pytest.fixture(scope="session")
def example_screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("example") / "screenshots"
    write_example_screenshots(folder)
    return folder


@pytest.fixture
def listing_dir(tmp_path: Path, example_screenshots: Path) -> ListingDir:
    shutil.copy(EXAMPLE, tmp_path / "listing.yaml")
    shutil.copytree(example_screenshots, tmp_path / "screenshots")
    return ListingDir(tmp_path)
