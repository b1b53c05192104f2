"""What the page and the API share: settings, the onboarding store, link signing, custody, audit, Prefect."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cached_property
from urllib.parse import urlsplit

from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient

from ascflow.audit import AuditLog, open_audit_log
from ascflow.custody import Custody, open_custody
from ascflow.intake.handover import PrefectClients
from ascflow.intake.links import LinkClaims, LinkRefused, LinkSigner, load_secret
from ascflow.intake.onboardings import Onboarding, OnboardingStore
from ascflow.intake.ratelimit import AttemptLimiter
from ascflow.intake.trail import TrailIndex
from ascflow.intake.upload import Limits
from ascflow.pipeline.request import OnboardingRequest
from ascflow.settings import Settings

LINK_SECRET_FILE = "intake-link.key"
TRAIL_INDEX_FILE = "trail-index.sqlite3"
FORM_LIFETIME = timedelta(hours=2)


def default_prefect() -> AbstractContextManager[SyncPrefectClient]:
    return get_client(sync_client=True)


class LinkProblem(Exception):
    """Why a customer link does not open the page, in the customer's words."""

    def __init__(self, status: int, title: str, text: str) -> None:
        self.status = status
        self.title = title
        self.text = text
        super().__init__(title)


_NOT_VALID = LinkProblem(
    404,
    "This link is not valid",
    "Check that you opened the whole link from your message, or ask your contact for a new link.",
)


@dataclass
class Intake:
    settings: Settings
    prefect: PrefectClients = default_prefect

    @cached_property
    def store(self) -> OnboardingStore:
        return OnboardingStore(self.settings.intake_dir / "onboardings.sqlite3")

    @cached_property
    def signer(self) -> LinkSigner:
        return LinkSigner(load_secret(self.settings.keys_dir / LINK_SECRET_FILE))

    @cached_property
    def audit(self) -> AuditLog:
        return open_audit_log(self.settings)

    @cached_property
    def trail(self) -> TrailIndex:
        """The audit trail's index for the status page and the operator list, beside the onboarding store."""
        return TrailIndex(self.settings.intake_dir / TRAIL_INDEX_FILE, self.audit)

    @cached_property
    def custody(self) -> Custody:
        return open_custody(self.settings, audit=self.audit)

    @cached_property
    def limiter(self) -> AttemptLimiter:
        return AttemptLimiter(
            self.settings.intake_upload_attempts, self.settings.intake_upload_window_seconds
        )

    @property
    def limits(self) -> Limits:
        return Limits(self.settings.intake_max_request_bytes, self.settings.intake_max_key_bytes)

    @property
    def public_host(self) -> str:
        """The one Host the intake answers to: the public URL's (behind a proxy, the proxy must keep it)."""
        return urlsplit(self.settings.intake_public_url).hostname or ""

    @property
    def https(self) -> bool:
        return self.settings.intake_public_url.startswith("https://")

    def create(self, request: OnboardingRequest) -> tuple[Onboarding, str]:
        """A new onboarding and its customer link (the link names the onboarding the store just made)."""
        claims = self._claims("", request)
        onboarding = self.store.create(request, claims.nonce, claims.expires_at)
        return onboarding, self.link_url(replace(claims, onboarding_id=onboarding.id))

    def new_link(self, onboarding_id: str) -> tuple[Onboarding, str]:
        """A fresh link for the onboarding; the one issued before stops working."""
        onboarding = self.store.get(onboarding_id)
        claims = self._claims(onboarding.id, onboarding.request)
        onboarding = self.store.replace_link(onboarding.id, claims.nonce, claims.expires_at)
        return onboarding, self.link_url(claims)

    def _claims(self, onboarding_id: str, request: OnboardingRequest) -> LinkClaims:
        lifetime = timedelta(hours=self.settings.intake_link_hours)
        return self.signer.issue(onboarding_id, request.tenant, request.bundle_id, lifetime)

    def link_url(self, claims: LinkClaims) -> str:
        return f"{self.settings.intake_public_url.rstrip('/')}/o/{self.signer.token(claims)}"

    def resolve(self, token: str) -> Onboarding:
        """The onboarding a customer link opens; LinkProblem if forged, expired, replaced or unknown."""
        try:
            claims = self.signer.read(token)
        except LinkRefused as refused:
            if refused.reason == "expired":
                raise LinkProblem(
                    410,
                    "This link has expired",
                    "For your security, upload links work for a limited time. Ask your contact for a new link.",
                ) from None
            raise _NOT_VALID from None
        onboarding = self.store.find(claims.onboarding_id)
        if onboarding is None or (claims.tenant, claims.bundle_id) != (
            onboarding.tenant,
            onboarding.bundle_id,
        ):
            raise _NOT_VALID
        if claims.nonce != onboarding.link_nonce:
            raise LinkProblem(
                410,
                "This link was replaced by a newer one",
                "Only the most recent link we sent you works. Use that one, or ask your contact for a new link.",
            )
        return onboarding

    def form_token(self, onboarding: Onboarding, browser: str, form_nonce: str) -> str:
        return self.signer.form_token(onboarding.id, form_nonce, browser, FORM_LIFETIME)
