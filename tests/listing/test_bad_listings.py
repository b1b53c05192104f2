# ruff: noqa: E501  (the table of cases reads best one case a line)
"""`ascflow listing check` on bad listings: each problem named by its field, what is wrong and what to do,
exit code 2, and nothing else reported (the check is precise as well as complete)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.listing.conftest import ListingDir

Data = dict[str, Any]
EN = ("localizations", "en-US")


def en(data: Data) -> Data:
    return data["localizations"]["en-US"]


def shots(data: Data) -> list[str]:
    return en(data)["screenshots"]["APP_IPHONE_67"]


# (id, edit of the example, expected field, words the message must hold)
CASES: list[tuple[str, Callable[[ListingDir, Data], object], str, str]] = [
    ("name too long", lambda d, x: en(x).update(name="N" * 31), "localizations.en-US.name", "is 31 characters; Apple allows at most 30"),
    ("name too short", lambda d, x: en(x).update(name="N"), "localizations.en-US.name", "Apple needs at least 2"),
    ("subtitle too long", lambda d, x: en(x).update(subtitle="s" * 31), "localizations.en-US.subtitle", "at most 30"),
    ("description too long", lambda d, x: en(x).update(description="d" * 4001), "localizations.en-US.description", "is 4001 characters; Apple allows at most 4000"),
    # 51 characters but 101 bytes: each "ü" and "ß" takes two bytes in UTF-8.
    ("keywords over 100 bytes", lambda d, x: en(x).update(keywords="ü" * 17 + "," + "ß" * 33), "localizations.en-US.keywords", "is 101 bytes of UTF-8; Apple allows 100 bytes"),
    ("promotional text too long", lambda d, x: en(x).update(promotional_text="p" * 171), "localizations.en-US.promotional_text", "at most 170"),
    ("whats new too long", lambda d, x: en(x).update(whats_new="w" * 4001), "localizations.en-US.whats_new", "at most 4000"),
    ("support url not absolute", lambda d, x: en(x).update(support_url="example.com/support"), "localizations.en-US.support_url", "is not an absolute http(s) URL"),
    ("privacy url not http", lambda d, x: en(x).update(privacy_policy_url="ftp://example.com/p"), "localizations.en-US.privacy_policy_url", "is not an absolute http(s) URL"),
    ("unknown locale", lambda d, x: x["localizations"].update({"en-XX": x["localizations"].pop("de-DE")}), "localizations.en-XX", "is not a locale App Store Connect offers"),
    ("unknown enum value", lambda d, x: x.update(content_rights="MAYBE"), "content_rights", "is not a value Apple knows"),
    ("unknown age rating answer", lambda d, x: x["age_rating"].update(violenceRealistic="SOMETIMES"), "age_rating.violenceRealistic", "Use one of: 'NONE', 'INFREQUENT_OR_MILD'"),
    ("missing age rating answer", lambda d, x: x["age_rating"].pop("lootBox"), "age_rating.lootBox", "is required and missing"),
    ("unknown field", lambda d, x: en(x).update(nickname="Tally"), "localizations.en-US.nickname", "is not a field of the listing here"),
    ("unknown display type", lambda d, x: en(x)["screenshots"].update(APP_IPHONE_69=shots(x)), "localizations.en-US.screenshots.APP_IPHONE_69", "is not one of Apple's screenshot display types"),
    ("unknown category", lambda d, x: x["categories"].update(primary="GAMING"), "categories.primary", "is not a value Apple knows"),
    ("subcategory of another category", lambda d, x: x["categories"].update(primary_subcategories=["GAMES_PUZZLE"]), "categories.primary_subcategories.0", "GAMES_PUZZLE is not a subcategory of PRODUCTIVITY"),
    ("unknown territory", lambda d, x: x["availability"].update(territories=["USA", "XYZ"]), "availability.territories", "not Apple's territory codes (item 1)"),
    ("negative price", lambda d, x: x["price"].update(customer_price=-1), "price.customer_price", "greater than or equal to 0"),
    ("missing review contact", lambda d, x: x["review"].pop("contact"), "review.contact", "is required and missing"),
    ("phone without country code", lambda d, x: x["review"]["contact"].update(phone="020 7946 0000"), "review.contact.phone", "does not have the expected form"),
    ("phone read as a number", lambda d, x: x["review"]["contact"].update(phone=442079460000), "review.contact.phone", "Quote it"),
    ("primary locale not listed", lambda d, x: x.update(primary_locale="fr-FR"), "localizations", "has no entry for the primary locale fr-FR"),
    ("unquoted no locale", lambda d, x: x["localizations"].update({False: x["localizations"].pop("de-DE")}), "localizations.false", "YAML reads an unquoted no"),
    ("scheduled in the past", lambda d, x: x.update(release={"type": "SCHEDULED", "earliest_release_date": datetime(2020, 1, 1, tzinfo=UTC)}), "release.earliest_release_date", "is in the past"),
    ("scheduled without a date", lambda d, x: x.update(release={"type": "SCHEDULED"}), "release.earliest_release_date", "is missing; a SCHEDULED release needs it"),
    ("date without scheduled", lambda d, x: x.update(release={"type": "MANUAL", "earliest_release_date": datetime.now(UTC) + timedelta(days=9)}), "release.earliest_release_date", "the release type is MANUAL"),
    ("scheduled date without offset", lambda d, x: x.update(release={"type": "SCHEDULED", "earliest_release_date": datetime(2099, 1, 1)}), "release.earliest_release_date", "has no UTC offset"),
    ("eleven screenshots", lambda d, x: en(x)["screenshots"].update(APP_IPHONE_67=[d.image(f"s{i}.png", (1320, 2868), shade=i) for i in range(11)]), "localizations.en-US.screenshots.APP_IPHONE_67", "has 11 items; Apple allows at most 10"),
    ("empty screenshot set", lambda d, x: en(x)["screenshots"].update(APP_IPHONE_67=[]), "localizations.en-US.screenshots.APP_IPHONE_67", "Apple needs at least 1"),
    ("missing iphone set", lambda d, x: en(x).update(screenshots={"APP_IPHONE_61": [d.image("a.png", (1206, 2622))]}), "localizations.en-US.screenshots", "has no iPhone set"),
    ("wrong size named right", lambda d, x: shots(x).__setitem__(1, d.image("iphone-1320x2868.png", (1242, 2688))), "localizations.en-US.screenshots.APP_IPHONE_67.1", "is 1242x2688 pixels; APP_IPHONE_67 takes 1260x2736, 1290x2796, 1320x2868"),
    ("alpha channel", lambda d, x: shots(x).__setitem__(0, d.image("alpha.png", (1320, 2868), mode="RGBA")), "localizations.en-US.screenshots.APP_IPHONE_67.0", "has an alpha channel"),
    ("not rgb", lambda d, x: shots(x).__setitem__(0, d.image("grey.png", (1320, 2868), mode="L")), "localizations.en-US.screenshots.APP_IPHONE_67.0", "colour mode L; Apple takes RGB"),
    ("bmp named png", lambda d, x: shots(x).__setitem__(2, d.image("bmp.png", (1320, 2868), fmt="BMP")), "localizations.en-US.screenshots.APP_IPHONE_67.2", "is a BMP image; Apple takes PNG or JPEG only"),
    ("not an image", lambda d, x: (d.folder / "screenshots" / "iphone-3.png").write_bytes(b"not a png"), "localizations.en-US.screenshots.APP_IPHONE_67.2", "is not an image Pillow can read"),
    ("missing file", lambda d, x: shots(x).__setitem__(0, "screenshots/nowhere.png"), "localizations.en-US.screenshots.APP_IPHONE_67.0", "nowhere.png is not a readable file"),
    ("same image twice", lambda d, x: shots(x).__setitem__(2, shots(x)[0]), "localizations.en-US.screenshots.APP_IPHONE_67.2", "is the same image as item 0 of this set"),
    ("watch set", lambda d, x: en(x)["screenshots"].update(APP_WATCH_ULTRA=[d.image("w.png", (410, 502))]), "localizations.en-US.screenshots.APP_WATCH_ULTRA", "sizes ascflow does not know"),
    ("password in the file", lambda d, x: x["review"]["demo_account"].update(password="hunter2"), "review.demo_account.password", "a password never goes in the listing file"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "field", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_problem_named_by_its_field(
    listing_dir: ListingDir, edit: Callable[[ListingDir, Data], object], field: str, words: str
) -> None:
    data = listing_dir.data()
    edit(listing_dir, data)
    listing_dir.write(data)
    outcome = listing_dir.check()
    assert outcome.exit_code == 2, outcome.output
    problems, summary = outcome.lines()[:-1], outcome.lines()[-1]
    assert summary == f"{listing_dir.file}: 1 problem(s); nothing was sent to Apple."
    assert len(problems) == 1, outcome.output
    assert problems[0].startswith(f"{field}: "), problems[0]
    assert words in problems[0]
    # Each problem also says what to do: a second sentence after the diagnosis.
    assert problems[0].count(". ") >= 1
    assert problems[0].endswith(".")


def test_every_problem_is_reported_not_only_the_first(listing_dir: ListingDir) -> None:
    def many(data: Data) -> None:
        en(data).update(name="N" * 40, support_url="nope", nickname="x")
        data["age_rating"].pop("gambling")
        data["localizations"]["de-DE"]["keywords"] = "k" * 101

    listing_dir.edit(many)
    outcome = listing_dir.check()
    assert outcome.exit_code == 2
    fields = sorted(line.split(": ")[0] for line in outcome.lines()[:-1])
    assert fields == [
        "age_rating.gambling",
        "localizations.de-DE.keywords",
        "localizations.en-US.name",
        "localizations.en-US.nickname",
        "localizations.en-US.support_url",
    ]


def test_an_age_rating_answer_in_snake_case_is_named_with_apples_spelling(listing_dir: ListingDir) -> None:
    listing_dir.edit(lambda d: d["age_rating"].update(loot_box=d["age_rating"].pop("lootBox")))
    outcome = listing_dir.check()
    assert outcome.exit_code == 2
    assert outcome.lines()[:-1] == [
        "age_rating.lootBox: is required and missing. Add it; the fields are listed by `ascflow listing schema` "
        "and shown in examples/listing.yaml.",
        "age_rating.loot_box: is not a field here: the age-rating answers keep Apple's names. Rename it to lootBox.",
    ]


def test_field_and_file_problems_are_reported_together(listing_dir: ListingDir) -> None:
    def files(data: Data) -> None:
        en(data)["name"] = "N" * 31  # the file does not validate, and its screenshots are still read
        shots(data)[0] = listing_dir.image("small.png", (100, 200))
        shots(data)[1] = listing_dir.image("alpha.png", (1290, 2796), mode="RGBA")
        shots(data)[2] = "screenshots/absent.png"

    listing_dir.edit(files)
    outcome = listing_dir.check()
    assert outcome.exit_code == 2
    assert [line.split(": ")[0] for line in outcome.lines()[:-1]] == [
        "localizations.en-US.name",
        "localizations.en-US.screenshots.APP_IPHONE_67.0",
        "localizations.en-US.screenshots.APP_IPHONE_67.1",
        "localizations.en-US.screenshots.APP_IPHONE_67.2",
    ]


def test_every_check_of_a_valid_file_is_reported_together(listing_dir: ListingDir) -> None:
    def files(data: Data) -> None:
        shots(data)[0] = listing_dir.image("small.png", (100, 200))
        data["release"] = {"type": "SCHEDULED", "earliest_release_date": datetime(2021, 5, 1, tzinfo=UTC)}
        data["categories"]["secondary"] = "PRODUCTIVITY"

    listing_dir.edit(files)
    outcome = listing_dir.check("--ipad")
    assert outcome.exit_code == 2
    assert [line.split(": ")[0] for line in outcome.lines()[:-1]] == [
        "categories.secondary",
        "release.earliest_release_date",
        "localizations.en-US.screenshots",
        "localizations.en-US.screenshots.APP_IPHONE_67.0",
    ]


def test_accepted_variants_pass(listing_dir: ListingDir) -> None:
    """Landscape, another size, JPEG, a palette PNG, the 6.5-inch set alone, a price, territories, subcategories."""

    def variants(data: Data) -> None:
        en(data)["screenshots"] = {
            "APP_IPHONE_65": [
                listing_dir.image("landscape.png", (2688, 1242)),
                listing_dir.image("b.jpg", (1284, 2778), fmt="JPEG"),
                listing_dir.image("palette.png", (1242, 2688), mode="P"),
            ]
        }
        data["availability"] = {"territories": ["USA", "GBR", "DEU"], "available_in_new_territories": False}
        data["price"] = {"base_territory": "GBR", "customer_price": 0.99}
        data["categories"] = {"primary": "GAMES", "primary_subcategories": ["GAMES_PUZZLE", "GAMES_WORD"]}
        data["localizations"]["no"] = data["localizations"].pop("de-DE")

    listing_dir.edit(variants)
    outcome = listing_dir.check()
    assert outcome.exit_code == 0, outcome.output


def test_ipad_set_is_required_when_asked(listing_dir: ListingDir) -> None:
    outcome = listing_dir.check("--ipad")
    assert outcome.exit_code == 2
    assert outcome.lines()[0].startswith("localizations.en-US.screenshots: has no APP_IPAD_PRO_3GEN_129")
    listing_dir.edit(
        lambda d: en(d)["screenshots"].update(
            APP_IPAD_PRO_3GEN_129=[listing_dir.image("ipad.png", (2064, 2752))]
        )
    )
    assert listing_dir.check("--ipad").exit_code == 0


def test_an_update_needs_whats_new_in_every_locale(listing_dir: ListingDir) -> None:
    listing_dir.edit(lambda d: en(d).update(whats_new="Shared lists."))
    outcome = listing_dir.check("--update")
    assert outcome.exit_code == 2
    assert [line.split(": ")[0] for line in outcome.lines()[:-1]] == ["localizations.de-DE.whats_new"]
    assert listing_dir.check().exit_code == 0  # a first release ignores it: the pipeline never sends it


def test_a_file_that_is_not_yaml_or_not_a_mapping(listing_dir: ListingDir) -> None:
    listing_dir.file.write_text("primary_locale: en-US\nlocalizations: [unclosed\n")
    outcome = listing_dir.check()
    assert outcome.exit_code == 2
    assert outcome.lines()[0].startswith("(file): ")
    assert "is not valid YAML at line" in outcome.lines()[0]
    listing_dir.file.write_text("- just\n- a list\n")
    assert listing_dir.check().lines()[0].startswith("(file): is not a mapping of fields.")


def test_a_listing_file_that_does_not_exist(listing_dir: ListingDir) -> None:
    listing_dir.file.unlink()
    outcome = listing_dir.check()
    assert outcome.exit_code == 2
    assert outcome.lines()[0] == (
        f"(file): {listing_dir.file} is not a readable file. "
        "Give the listing file's path on this machine, or its s3://bucket/key."
    )
