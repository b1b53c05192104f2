"""The IOS_APP_STORE provisioning profile for one bundle ID and one distribution certificate."""

from __future__ import annotations

from ascflow.connect.actions.common import ActionFailed, Ensured, find_or_create
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.models import BundleId, Certificate, Profile, ProfileState

APP_STORE_PROFILE = "IOS_APP_STORE"


class ProfileMismatch(ActionFailed):
    """A profile with our name exists but is bound to another bundle ID or certificate."""


def app_store_profile_name(bundle_id: BundleId, certificate: Certificate) -> str:
    """Deterministic and unique per (bundle ID, certificate): a rerun finds what an earlier run made."""
    return f"ascflow {bundle_id.attributes.identifier} AppStore {certificate.attributes.serial_number}"


def ensure_app_store_profile(
    client: AppStoreConnect, bundle_id: BundleId, certificate: Certificate
) -> Ensured[Profile]:
    name = app_store_profile_name(bundle_id, certificate)

    def binds_ours(profile: Profile) -> bool:
        return profile.related_id("bundleId") == bundle_id.id and certificate.id in profile.related_ids(
            "certificates"
        )

    def find() -> Profile | None:
        # Apple's name filter may match more than the exact name.
        named = [
            p
            for p in client.profiles.list(name=name, profile_type=APP_STORE_PROFILE)
            if p.attributes.name == name
        ]
        for profile in named:
            if profile.attributes.profile_state is ProfileState.ACTIVE and binds_ours(profile):
                return profile
        for profile in named:
            if profile.attributes.profile_state is ProfileState.INVALID:
                # Ours by name, and useless: out of the way so the new one does not collide with it.
                client.profiles.delete(profile.id)
            else:
                raise ProfileMismatch(
                    f"Profile {name!r} (id {profile.id}) exists but is not bound to bundle ID "
                    f"{bundle_id.attributes.identifier} and certificate "
                    f"{certificate.attributes.serial_number}.",
                    next_step="Delete that profile in Certificates, Identifiers & Profiles, then retry.",
                )
        return None

    def create() -> Profile:
        made = client.profiles.create(
            name=name,
            profile_type=APP_STORE_PROFILE,
            bundle_id_id=bundle_id.id,
            certificate_ids=[certificate.id],
        )
        # Read back: a profile bound to the wrong App ID is a known way for this to go wrong silently.
        readback = client.profiles.get(made.id)
        if not binds_ours(readback):
            raise ProfileMismatch(
                f"Apple made profile {name!r} (id {made.id}) but it is not bound to the bundle ID and "
                "certificate requested.",
                next_step="Delete that profile in App Store Connect and report an ascflow bug.",
            )
        return readback

    return find_or_create(find, create)
