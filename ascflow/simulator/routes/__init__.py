"""One module per domain; importing them registers their handlers."""

from . import (
    beta_review,
    builds,
    listing,
    people,
    pricing,
    provisioning,
    reads,
    release,
    review,
    screenshots,
    testflight,
)

__all__ = [
    "beta_review",
    "builds",
    "listing",
    "people",
    "pricing",
    "provisioning",
    "reads",
    "release",
    "review",
    "screenshots",
    "testflight",
]
