"""The App Store Connect API client: keys, tokens, one HTTP session per key, typed resources and actions.

The pipeline needs only what is re-exported here; composite operations live in `ascflow.connect.actions`.
"""

from ascflow.connect.build_models import Build
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.errors import (
    AgreementsMissing,
    AppStoreConnectError,
    Conflict,
    Forbidden,
    NotAuthorized,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RoleInsufficient,
    ServerError,
    TransportFailure,
    Unprocessable,
)
from ascflow.connect.keys import ApiKey, InvalidCredentialsInput
from ascflow.connect.models import (
    App,
    AppStoreVersion,
    BundleId,
    BundleIdPlatform,
    Certificate,
    CertificateType,
    Platform,
    Profile,
    ReviewSubmission,
    ReviewSubmissionState,
    UserRole,
)
from ascflow.connect.session import RequestRecord, Session

__all__ = [
    "AgreementsMissing",
    "ApiKey",
    "App",
    "AppStoreConnect",
    "AppStoreConnectError",
    "AppStoreVersion",
    "Build",
    "BundleId",
    "BundleIdPlatform",
    "Certificate",
    "CertificateType",
    "Conflict",
    "Forbidden",
    "InvalidCredentialsInput",
    "NotAuthorized",
    "NotFound",
    "OutcomeUnknown",
    "Platform",
    "Profile",
    "RateLimited",
    "RequestRecord",
    "ReviewSubmission",
    "ReviewSubmissionState",
    "RoleInsufficient",
    "ServerError",
    "Session",
    "TransportFailure",
    "Unprocessable",
    "UserRole",
]
