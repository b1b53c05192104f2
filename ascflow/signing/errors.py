"""The signing package's refusals: what is wrong (naming the values) and what to do next.

Both are `ActionFailed`, the pipeline's failure type, so they reach the run summary and survive Prefect's
pickling with `what` and `next_step` intact. Neither ever carries a password or key material.
"""

from __future__ import annotations

from ascflow.connect.actions.common import ActionFailed


class ExportRefused(ActionFailed):
    """The signing identity was not exported: nothing was written, or what was written was taken back."""


class IpaRefused(ActionFailed):
    """The .ipa does not match the request or is not signed for the App Store: nothing may be uploaded."""


class ProfileUnreadable(ActionFailed):
    """Bytes that should be a provisioning profile are not one."""
