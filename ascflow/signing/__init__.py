"""The signing identity on its way to a build, and the build checked on its way back (no Prefect here).

- `export`: the .p12, its password, the App Store profile and ExportOptions.plist to a private directory
  or an SSE-KMS S3 object (`ascflow signing export`, `POST /api/signing/export`), audited.
- `ipa_check.check_ipa`: the .ipa holds the requested app, signed with an App Store profile of the team.
- `profiles`: the profile the signing step ensured, kept per tenant and bundle ID (`kept_profile(...).team_id`
  is the team to check a build against).
"""

from ascflow.signing.errors import ExportRefused, IpaRefused, ProfileUnreadable
from ascflow.signing.ipa_check import IpaFacts, check_ipa
from ascflow.signing.profiles import KeptProfile, keep_profile, kept_profile

__all__ = [
    "ExportRefused",
    "IpaFacts",
    "IpaRefused",
    "KeptProfile",
    "ProfileUnreadable",
    "check_ipa",
    "keep_profile",
    "kept_profile",
]
