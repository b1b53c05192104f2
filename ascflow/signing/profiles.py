"""The App Store profile Apple issued for a tenant's app, kept beside the signing identity in custody's store.

A profile holds no secret (public certificates and entitlements), so it is kept as plain JSON: one blob per
tenant and bundle ID (`profiles/<tenant>@<bundle ID>.json`; `@` is in neither), replaced when the signing
step ensures a new one. It names the certificate whose identity signs with it, and the team it belongs to.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from ascflow.connect.models import Profile
from ascflow.custody.stores import Store
from ascflow.pipeline.request import BUNDLE_ID_PATTERN, TENANT_PATTERN
from ascflow.signing.errors import ExportRefused, ProfileUnreadable
from ascflow.signing.mobileprovision import ProvisioningProfile, read_profile

FOLDER = "profiles"


class KeptProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str
    bundle_id: str
    certificate_id: str
    profile_id: str
    name: str
    team_id: str
    expires_at: datetime
    content: str  # Apple's profileContent, base64, as Apple sent it

    @property
    def file(self) -> bytes:
        """The `.mobileprovision` bytes Apple issued."""
        return base64.b64decode(self.content)

    def parsed(self) -> ProvisioningProfile:
        return read_profile(self.file)


def _name(tenant: str, bundle_id: str) -> str:
    # Both become part of a file or object name: only the request's own shapes, so no path can be named.
    if not re.fullmatch(TENANT_PATTERN, tenant):
        raise ExportRefused(
            f"tenant {tenant!r} is not a tenant ID.", next_step="Use lower-case letters, digits and -."
        )
    if not re.fullmatch(BUNDLE_ID_PATTERN, bundle_id):
        raise ExportRefused(
            f"bundle ID {bundle_id!r} is not a bundle ID.",
            next_step="Use the app's bundle ID as in Xcode, e.g. com.example.app.",
        )
    return f"{FOLDER}/{tenant}@{bundle_id}.json"


def keep_profile(
    store: Store, *, tenant: str, bundle_id: str, certificate_id: str, profile: Profile
) -> KeptProfile:
    """Keep the profile the signing step ensured, for `ascflow signing export` and the .ipa check."""
    content = profile.attributes.profile_content
    if not content:
        raise ProfileUnreadable(
            f"Apple's profile {profile.id} came without profileContent.",
            next_step="Retry the signing step; it reads the profile again.",
        )
    try:
        parsed = read_profile(base64.b64decode(content, validate=True))
    except binascii.Error:
        raise ProfileUnreadable(
            f"Apple's profileContent of profile {profile.id} is not base64.",
            next_step="Retry the signing step; it reads the profile again.",
        ) from None
    kept = KeptProfile(
        tenant=tenant,
        bundle_id=bundle_id,
        certificate_id=certificate_id,
        profile_id=profile.id,
        name=profile.attributes.name,
        team_id=parsed.team_id,
        expires_at=parsed.expires_at,
        content=content,
    )
    store.put(_name(tenant, bundle_id), kept.model_dump_json().encode())
    return kept


def kept_profile(store: Store, tenant: str, bundle_id: str) -> KeptProfile:
    data = store.get(_name(tenant, bundle_id))
    if data is None:
        raise ExportRefused(
            f"No App Store profile is kept for tenant {tenant!r} and bundle ID {bundle_id!r}.",
            next_step="Run the onboarding (its signing step makes and keeps the profile), then export again.",
        )
    try:
        return KeptProfile.model_validate_json(data)
    except ValidationError:
        raise ExportRefused(
            f"The kept profile of tenant {tenant!r} and bundle ID {bundle_id!r} is unreadable.",
            next_step="Run the onboarding's signing step again: it replaces the kept profile.",
        ) from None
