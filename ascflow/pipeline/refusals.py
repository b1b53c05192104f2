"""Apple's refusal of a review submission (`409 STATE_ERROR.ENTITY_STATE_INVALID` with `meta.associatedErrors`),
read into what is missing and who must do what. App Privacy has no API: a person answers it in App Store
Connect, so it is a wait, not a failure; everything else is for the operator to fix in the listing."""

from __future__ import annotations

from dataclasses import dataclass

from ascflow.connect.errors import AppleError, Conflict
from ascflow.errors import OperatorError

# Apple's own words when the App Privacy answers are not published (fastlane#17757), matched on the text
# because the error's code is not documented.
APP_PRIVACY_TEXTS = ("what data your app collects", "data usages")

# What the operator changes for each attribute Apple says is missing, by the attribute's name in Apple's detail.
FIXES = {
    "description": "localizations.<primary locale>.description",
    "keywords": "localizations.<primary locale>.keywords",
    "supportUrl": "localizations.<primary locale>.support_url",
    "privacyPolicyUrl": "localizations.<primary locale>.privacy_policy_url",
    "name": "localizations.<primary locale>.name",
    "whatsNew": "What's New for every locale (the listing's whats_new, or the request's whats_new)",
    "copyright": "copyright",
    "contentRightsDeclaration": "content_rights",
    "usesNonExemptEncryption": "the request's uses_non_exempt_encryption",
}


@dataclass(frozen=True)
class Refusal:
    where: str
    error: AppleError

    @property
    def app_privacy(self) -> bool:
        text = f"{self.error.title} {self.error.detail}".lower()
        return any(marker in text for marker in APP_PRIVACY_TEXTS)

    def describe(self) -> str:
        said = self.error.describe()
        if self.app_privacy:
            return f"{said}: a person answers it in App Store Connect (App Privacy, then Publish)"
        fix = next(
            (f for attribute, f in FIXES.items() if f"'{attribute}'" in (self.error.detail or "")), None
        )
        return f"{said} ({self.where})" + (f"; set {fix} in the listing" if fix else "")


class SubmissionRefused(OperatorError):
    """Apple refused to review the version; nothing was submitted (a rerun reuses what was written)."""

    def __init__(self, refusals: list[Refusal]) -> None:
        self.refusals = refusals
        super().__init__(
            "Apple refused to review the version:\n" + "\n".join(f"- {r.describe()}" for r in refusals),
            next_step="Fix each item above (in the listing file, or in App Store Connect where the item says so), "
            "then retry the run: it reuses everything already written and submits once.",
        )


def refusals_of(conflict: Conflict) -> list[Refusal] | None:
    """The items Apple names when it refuses a review; None for a 409 of another kind."""
    if not (conflict.code or "").startswith("STATE_ERROR.ENTITY_STATE_INVALID"):
        return None
    return [Refusal(where, error) for where, errors in conflict.associated_errors.items() for error in errors]


def explain_app_privacy_wait(app_id: str, invitees: list[str]) -> str:
    who = ", ".join(invitees) or "the customer's Account Holder or an Admin"
    return (
        "### Waiting for the App Privacy answers\n\n"
        "Apple refuses to review the app until its App Privacy answers are published, and Apple's API cannot "
        f"set them: a person does it in App Store Connect. **Who:** {who} (or the customer's Account Holder).\n\n"
        f"1. Sign in to https://appstoreconnect.apple.com and open the app (Apple ID {app_id}).\n"
        "2. Open **App Privacy** (under General in the sidebar) and click **Get Started**.\n"
        "3. Answer whether the app collects data, and for each data type how it is used and whether it is linked "
        "to the user or used for tracking.\n"
        "4. Click **Publish** (top right).\n\n"
        "The access poller tries the submission again on its schedule and resumes this run once Apple accepts; "
        "resume it yourself once the answers are published."
    )
