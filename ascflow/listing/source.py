"""Where a listing comes from (a path, an s3:// object, or inline in the request) and how its files are read."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ascflow.listing.model import Listing
from ascflow.listing.problems import ListingInvalid, Problem, problems_of

if TYPE_CHECKING:
    from ascflow.settings import Settings


class LocationUnreadable(Exception):
    def __init__(self, message: str, next_step: str) -> None:
        self.message, self.next_step = message, next_step
        super().__init__(f"{message}. {next_step}")


class ListingSource(BaseModel):
    """How an onboarding request names its listing: `path` (local or s3://bucket/key) or `inline`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(
        default=None,
        max_length=1024,
        title="Listing file",
        description="Path on the worker or s3://bucket/key of the listing YAML; screenshots are relative to it.",
    )
    inline: dict[str, Any] | None = Field(
        default=None,
        title="Listing (inline)",
        description="The listing itself, as in the file; its screenshot paths are relative to the worker's "
        "working directory, so s3:// addresses suit it best.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> ListingSource:
        if (self.path is None) == (self.inline is None):
            raise ValueError("give the listing as either `path` or `inline`, not both and not neither")
        return self

    @property
    def base(self) -> str:
        """What the listing's relative screenshot paths are relative to: a folder or an s3:// prefix."""
        if self.path is None:
            return "."
        if self.path.startswith("s3://"):
            return posixpath.dirname(self.path)
        return str(Path(self.path).parent)


def resolve(location: str, base: str | Path) -> str:
    """A screenshot's location made absolute: an s3:// URL, or a path joined to the listing's folder."""
    if location.startswith("s3://"):
        return location
    if str(base).startswith("s3://"):
        return posixpath.join(str(base), location)
    return str(Path(base) / location)


def read_location(location: str, settings: Settings | None) -> bytes:
    """The bytes of a local file or an s3://bucket/key object (boto3 with the settings' endpoint)."""
    if not location.startswith("s3://"):
        try:
            return Path(location).read_bytes()
        except OSError:
            raise LocationUnreadable(
                f"{location} is not a readable file", "Check the path: it is relative to the listing file."
            ) from None
    bucket, _, key = location.removeprefix("s3://").partition("/")
    if settings is None:
        raise LocationUnreadable(f"{location} is in S3 but no AWS settings were given", "Pass the settings.")
    import boto3  # the `aws` extra: only s3:// listings need it
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = boto3.client("s3", endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region)
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise LocationUnreadable(
            f"{location} could not be read from S3 ({code})",
            "Check the bucket and key, and that the worker's AWS role may read them.",
        ) from None
    except BotoCoreError as exc:
        raise LocationUnreadable(
            f"{location} could not be read from S3 ({type(exc).__name__})",
            "Check ASCFLOW_AWS_ENDPOINT_URL and the worker's network and AWS credentials.",
        ) from None


def parse_yaml(text: bytes | str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ListingInvalid(
            [
                Problem(
                    field="(file)",
                    message=f"{where} is not valid YAML{at}: {exc.problem}",
                    next_step="Fix the syntax.",
                )
            ]
        ) from None
    except yaml.YAMLError:
        raise ListingInvalid(
            [Problem(field="(file)", message=f"{where} is not valid YAML", next_step="Fix the syntax.")]
        ) from None


def validate_listing(data: Any) -> Listing:
    """A Listing from parsed YAML or JSON, or ListingInvalid naming every field that is wrong."""
    if not isinstance(data, dict):
        raise ListingInvalid(
            [
                Problem(
                    field="(file)",
                    message="is not a mapping of fields",
                    next_step="Start from examples/listing.yaml: the file is a YAML mapping (primary_locale: ...).",
                )
            ]
        )
    try:
        return Listing.model_validate(data)
    except ValidationError as exc:
        raise ListingInvalid(problems_of(exc)) from None


def read_listing_data(source: ListingSource, settings: Settings | None = None) -> Any:
    """The listing as parsed YAML (or the inline mapping), not yet validated. Raises ListingInvalid."""
    if source.inline is not None:
        return source.inline
    location = str(source.path)
    try:
        raw = read_location(location, settings)
    except LocationUnreadable as exc:
        raise ListingInvalid(
            [
                Problem(
                    field="(file)",
                    message=exc.message,
                    next_step=exc.next_step
                    if location.startswith("s3://")
                    else "Give the listing file's path on this machine, or its s3://bucket/key.",
                )
            ]
        ) from None
    return parse_yaml(raw, location)


def load_listing(source: ListingSource, settings: Settings | None = None) -> Listing:
    """Read and validate the listing the request names. Raises ListingInvalid with every problem found."""
    return validate_listing(read_listing_data(source, settings))
