"""One module per domain; importing them registers their handlers."""

from ascflow.simulator.routes import builds, people, provisioning, reads, review

__all__ = ["builds", "people", "provisioning", "reads", "review"]
