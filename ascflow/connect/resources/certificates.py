"""Signing certificates. There is deliberately no revoke here: a certificate may be someone else's."""

from __future__ import annotations

from collections.abc import Sequence

from ascflow.connect.models import Certificate, CertificateType, parse_many, parse_one
from ascflow.connect.resources.base import ResourceGroup, comma_list, request_document


class Certificates(ResourceGroup):
    def probe(self) -> Certificate | None:
        """Does the key reach /v1/certificates (provisioning rights and agreements)? See ResourceGroup._probe.
        Returns the one certificate the probe read, if the team has any (its subject names the team)."""
        found = parse_many(Certificate, [self._session.get("/v1/certificates", {"limit": 1})])
        return found[0] if found else None

    def list(self, *, certificate_types: Sequence[CertificateType]) -> list[Certificate]:
        params = {"filter[certificateType]": comma_list(t.value for t in certificate_types)}
        return parse_many(Certificate, self._session.paginate("/v1/certificates", params))

    def get(self, certificate_id: str) -> Certificate:
        return parse_one(Certificate, self._session.get(f"/v1/certificates/{certificate_id}"))

    def create(self, *, csr_pem: str, certificate_type: CertificateType) -> Certificate:
        body = request_document(
            "certificates", attributes={"csrContent": csr_pem, "certificateType": certificate_type.value}
        )
        return parse_one(Certificate, self._session.post("/v1/certificates", body))
