"""A listing by path, by s3:// URL (moto server, real boto3 over HTTP) or inline; screenshots in S3 too."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from ascflow.listing import ListingInvalid, ListingSource, check_listing, load_listing
from ascflow.settings import Settings
from tests.fixtures.aws import MotoAws
from tests.listing.conftest import ListingDir


def test_a_source_is_a_path_or_inline_never_both_or_neither() -> None:
    with pytest.raises(ValidationError, match="either `path` or `inline`"):
        ListingSource()
    with pytest.raises(ValidationError, match="either `path` or `inline`"):
        ListingSource(path="a.yaml", inline={"primary_locale": "en-US"})
    assert ListingSource(path="s3://bucket/apps/tally/listing.yaml").base == "s3://bucket/apps/tally"
    assert ListingSource(path="apps/tally/listing.yaml").base == "apps/tally"


def test_an_inline_listing_with_s3_screenshots(listing_dir: ListingDir, aws: MotoAws, tmp_path: Path) -> None:
    bucket = f"listing-{uuid.uuid4().hex[:10]}"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    for index in (1, 2, 3):
        shot = listing_dir.folder / "screenshots" / f"iphone-{index}.png"
        s3.put_object(Bucket=bucket, Key=f"shots/iphone-{index}.png", Body=shot.read_bytes())
    data = listing_dir.data()
    data["localizations"]["en-US"]["screenshots"]["APP_IPHONE_67"] = [
        f"s3://{bucket}/shots/iphone-{i}.png" for i in (1, 2, 3)
    ]
    settings = Settings(data_dir=tmp_path, aws_endpoint_url=aws.endpoint_url, aws_region=aws.region)
    source = ListingSource(inline=data)
    listing = load_listing(source, settings)
    assert check_listing(listing, source.base, settings=settings) == []

    data["localizations"]["en-US"]["screenshots"]["APP_IPHONE_67"][1] = f"s3://{bucket}/shots/absent.png"
    problems = check_listing(load_listing(ListingSource(inline=data)), ".", settings=settings)
    assert [(p.field, p.message) for p in problems] == [
        (
            "localizations.en-US.screenshots.APP_IPHONE_67.1",
            f"s3://{bucket}/shots/absent.png could not be read from S3 (NoSuchKey)",
        )
    ]


def test_a_listing_file_in_s3_with_screenshots_beside_it(
    listing_dir: ListingDir, aws: MotoAws, tmp_path: Path
) -> None:
    bucket = f"listing-{uuid.uuid4().hex[:10]}"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="apps/tally/listing.yaml", Body=listing_dir.file.read_bytes())
    for shot in sorted((listing_dir.folder / "screenshots").iterdir()):
        s3.put_object(Bucket=bucket, Key=f"apps/tally/screenshots/{shot.name}", Body=shot.read_bytes())
    settings = Settings(data_dir=tmp_path, aws_endpoint_url=aws.endpoint_url, aws_region=aws.region)
    source = ListingSource(path=f"s3://{bucket}/apps/tally/listing.yaml")
    listing = load_listing(source, settings)
    assert listing.localizations["en-US"].name == "Tally Lists"
    assert check_listing(listing, source.base, settings=settings) == []

    with pytest.raises(ListingInvalid) as missing:
        load_listing(ListingSource(path=f"s3://{bucket}/apps/other/listing.yaml"), settings)
    assert [str(p) for p in missing.value.problems] == [
        f"(file): s3://{bucket}/apps/other/listing.yaml could not be read from S3 (NoSuchKey). "
        "Check the bucket and key, and that the worker's AWS role may read them."
    ]


def test_an_inline_listing_reports_problems_like_a_file(listing_dir: ListingDir) -> None:
    data = yaml.safe_load(listing_dir.file.read_text())
    data["copyright"] = ""
    with pytest.raises(ListingInvalid) as raised:
        load_listing(ListingSource(inline=data))
    assert [p.field for p in raised.value.problems] == ["copyright"]
    assert "copyright: is 0 characters; Apple needs at least 1" in str(raised.value)
