"""Apple's official App Store Connect OpenAPI spec, 4.4.1: the yardstick for the client and the simulator.

Shipped as package data so that the simulator works from an installed wheel, not only from a checkout.
"""

from pathlib import Path

APPLE_OPENAPI = Path(__file__).with_name("app-store-connect-openapi-4.4.1.json")
