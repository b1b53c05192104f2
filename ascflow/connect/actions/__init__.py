"""Composite get-or-create operations: each safe to repeat, each saying whether it created or reused."""

from ascflow.connect.actions.apps import AppRecordMissing, find_app
from ascflow.connect.actions.builds import (
    BuildProcessingFailed,
    BuildUploadFailed,
    UploadedBuild,
    set_export_compliance,
    upload_build,
    wait_for_build_processing,
)
from ascflow.connect.actions.common import ActionFailed, Ensured, WaitTimedOut
from ascflow.connect.actions.profiles import ProfileMismatch, app_store_profile_name, ensure_app_store_profile
from ascflow.connect.actions.release import (
    VersionNotEditable,
    ensure_localizations,
    ensure_review_details,
    ensure_version,
)
from ascflow.connect.actions.review import (
    SubmissionBlocked,
    ensure_review_submission_submitted,
    review_state,
)
from ascflow.connect.actions.signing import (
    CertificateLimitReached,
    CertificateWithKey,
    ensure_bundle_id,
    ensure_distribution_certificate,
    export_p12,
)
from ascflow.connect.actions.team import InvitationStatus, Invitee, ensure_invitation, invitation_status

__all__ = [
    "ActionFailed",
    "AppRecordMissing",
    "BuildProcessingFailed",
    "BuildUploadFailed",
    "CertificateLimitReached",
    "CertificateWithKey",
    "Ensured",
    "InvitationStatus",
    "Invitee",
    "ProfileMismatch",
    "SubmissionBlocked",
    "UploadedBuild",
    "VersionNotEditable",
    "WaitTimedOut",
    "app_store_profile_name",
    "ensure_app_store_profile",
    "ensure_bundle_id",
    "ensure_distribution_certificate",
    "ensure_invitation",
    "ensure_localizations",
    "ensure_review_details",
    "ensure_review_submission_submitted",
    "ensure_version",
    "export_p12",
    "find_app",
    "invitation_status",
    "review_state",
    "set_export_compliance",
    "upload_build",
    "wait_for_build_processing",
]
