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
    EnsuredLocalization,
    EnsuredReviewDetail,
    EnsuredVersion,
    ReviewContact,
    VersionNotEditable,
    ensure_localizations,
    ensure_review_details,
    ensure_version,
)
from ascflow.connect.actions.review import (
    SubmissionBlocked,
    SubmittedReview,
    ensure_review_submission_submitted,
    review_state,
)
from ascflow.connect.actions.signing import (
    CertificateLimitReached,
    DistributionCertificate,
    ensure_bundle_id,
    ensure_distribution_certificate,
    export_p12,
)
from ascflow.connect.actions.team import InvitationOutcome, InvitationStatus, Invitee, ensure_invitation

__all__ = [
    "ActionFailed",
    "AppRecordMissing",
    "BuildProcessingFailed",
    "BuildUploadFailed",
    "CertificateLimitReached",
    "DistributionCertificate",
    "Ensured",
    "EnsuredLocalization",
    "EnsuredReviewDetail",
    "EnsuredVersion",
    "InvitationOutcome",
    "InvitationStatus",
    "Invitee",
    "ProfileMismatch",
    "ReviewContact",
    "SubmissionBlocked",
    "SubmittedReview",
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
    "review_state",
    "set_export_compliance",
    "upload_build",
    "wait_for_build_processing",
]
