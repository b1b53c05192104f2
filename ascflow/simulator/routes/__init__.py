"""One module per domain; importing them registers their handlers."""

from . import builds, listing, people, pricing, provisioning, reads, review, screenshots

__all__ = ["builds", "listing", "people", "pricing", "provisioning", "reads", "review", "screenshots"]
