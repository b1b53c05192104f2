"""The committed example is a complete, valid listing, and the committed schema is the model's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from ascflow.listing import ListingSource, check_listing, listing_json_schema, load_listing
from tests.listing.conftest import ROOT, ListingDir, run_cli

SCHEMA = ROOT / "examples" / "listing.schema.json"


def test_the_example_passes_every_check(listing_dir: ListingDir) -> None:
    source = ListingSource(path=str(listing_dir.file))
    listing = load_listing(source)
    assert check_listing(listing, source.base, environ={"TALLY_DEMO_PASSWORD": "x"}) == []
    assert listing.primary_locale == "en-US"
    assert list(listing.localizations["en-US"].screenshots["APP_IPHONE_67"]) == [
        "screenshots/iphone-1.png",
        "screenshots/iphone-2.png",
        "screenshots/iphone-3.png",
    ]
    assert listing.price.free


def test_the_check_command_says_ok_in_one_line(listing_dir: ListingDir) -> None:
    outcome = listing_dir.check()
    assert outcome.exit_code == 0, outcome.output
    assert outcome.lines() == [
        f"{listing_dir.file}: OK (2 locale(s), primary en-US, 3 screenshot(s) checked)."
    ]


def test_without_its_screenshots_the_example_names_each_missing_file(tmp_path: Path) -> None:
    (tmp_path / "listing.yaml").write_bytes((ROOT / "examples" / "listing.yaml").read_bytes())
    outcome = run_cli("listing", "check", str(tmp_path / "listing.yaml"))
    assert outcome.exit_code == 2
    for index in range(3):
        assert f"localizations.en-US.screenshots.APP_IPHONE_67.{index}: " in outcome.output
    assert "is not a readable file" in outcome.output


def test_example_screenshots_command_writes_what_the_example_names(tmp_path: Path) -> None:
    outcome = run_cli("listing", "example-screenshots", str(tmp_path / "shots"))
    assert outcome.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "shots").iterdir()) == [
        "iphone-1.png",
        "iphone-2.png",
        "iphone-3.png",
    ]


def test_the_committed_schema_is_the_models() -> None:
    assert SCHEMA.read_text() == listing_json_schema(), (
        "regenerate: ascflow listing schema > examples/listing.schema.json"
    )
    assert run_cli("listing", "schema").output == SCHEMA.read_text()


def test_the_example_validates_against_the_committed_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    example = yaml.safe_load((ROOT / "examples" / "listing.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(example)
    example["localizations"]["en-US"]["nickname"] = "x"
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(example))
    assert errors, "the schema must refuse unknown fields as the model does"


def test_the_installed_command_exits_2_on_a_bad_listing(listing_dir: ListingDir) -> None:
    listing_dir.edit(lambda d: d["localizations"]["en-US"].update(name="x" * 31))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ascflow")), "listing", "check", str(listing_dir.file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "localizations.en-US.name: is 31 characters; Apple allows at most 30. Shorten it." in done.stderr
    assert done.stdout == ""
