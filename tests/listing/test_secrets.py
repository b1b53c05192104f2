"""The demo account's password never reaches any output: not the CLI's, not a problem, repr, dump or schema."""

from __future__ import annotations

import secrets

import pytest

from ascflow.listing import ListingInvalid, ListingSource, check_listing, load_listing
from tests.listing.conftest import ListingDir, run_cli


@pytest.fixture
def canary() -> str:
    return f"canary-{secrets.token_hex(12)}"


def test_the_password_is_read_from_the_named_variable_as_a_secret(
    listing_dir: ListingDir, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_DEMO_PASSWORD", canary)
    source = ListingSource(path=str(listing_dir.file))
    listing = load_listing(source)
    account = listing.review.demo_account
    assert account is not None
    password = account.password()
    assert password is not None
    assert password.get_secret_value() == canary
    for shown in (repr(password), str(password), repr(listing), listing.model_dump_json(), str(account)):
        assert canary not in shown
    assert check_listing(listing, source.base, environ={"TALLY_DEMO_PASSWORD": canary}) == []
    assert account.password({}) is None


def test_no_command_prints_the_password(
    listing_dir: ListingDir, canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_DEMO_PASSWORD", canary)
    outputs = [listing_dir.check("--secrets"), run_cli("listing", "schema")]
    listing_dir.edit(lambda d: d["localizations"]["en-US"].update(name="x" * 99, support_url="nope"))
    outputs.append(listing_dir.check("--secrets", "--ipad", "--update"))
    assert [o.exit_code for o in outputs] == [0, 0, 2]
    for outcome in outputs:
        assert canary not in outcome.output


def test_an_unset_password_variable_is_named_not_guessed(
    listing_dir: ListingDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALLY_DEMO_PASSWORD", raising=False)
    assert listing_dir.check().exit_code == 0  # off the worker the secret is not looked for
    outcome = listing_dir.check("--secrets")
    assert outcome.exit_code == 2
    assert outcome.lines()[0] == (
        "review.demo_account.password_env: names the variable TALLY_DEMO_PASSWORD, which is not set here. "
        "Set it in the worker's environment (from your secrets manager), never in the listing file."
    )


@pytest.mark.parametrize("where", ["demo_account", "contact", "top"])
def test_a_password_written_into_the_file_is_refused_without_being_repeated(
    listing_dir: ListingDir, canary: str, where: str
) -> None:
    data = listing_dir.data()
    target = {
        "demo_account": data["review"]["demo_account"],
        "contact": data["review"]["contact"],
        "top": data,
    }
    target[where]["password"] = canary
    listing_dir.write(data)
    outcome = listing_dir.check()
    assert outcome.exit_code == 2
    assert "a password never goes in the listing file" in outcome.output
    assert canary not in outcome.output
    with pytest.raises(ListingInvalid) as raised:
        load_listing(ListingSource(inline=data))
    assert canary not in str(raised.value)
    assert canary not in repr(raised.value.problems)


def test_a_secret_in_a_bad_value_is_not_repeated(listing_dir: ListingDir, canary: str) -> None:
    """Whatever was typed where, a problem names the field and never echoes the value."""

    def everywhere(data: dict) -> None:
        data["localizations"]["en-US"].update(name=canary * 3, support_url=canary, keywords=canary * 9)
        data["review"]["contact"]["phone"] = canary
        data["content_rights"] = canary
        data["availability"]["territories"] = [canary]
        data["review"]["demo_account"]["password_env"] = canary

    listing_dir.edit(everywhere)
    outcome = listing_dir.check()
    assert outcome.exit_code == 2
    assert len(outcome.lines()) == 8
    assert canary not in outcome.output
