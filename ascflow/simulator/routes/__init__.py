"""One module per domain; importing them registers their handlers."""

from . import builds, people, provisioning, reads, review

__all__ = ["builds", "people", "provisioning", "reads", "review"]
