"""Requests per second the App Store Connect simulator serves over real HTTP on loopback (figures, not a test).

Run: .venv/bin/python -m benchmarks.simulator_throughput [--seconds 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import base64
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ascflow.simulator.scenario import AppSpec, KeySpec, Scenario
from ascflow.simulator.server import SimulatorServer

KEY_ID = "BENCH00001"
APP_ID = "6400000001"


def token(private: ec.EllipticCurvePrivateKey, issuer: str) -> str:
    now = int(time.time())
    claims = {"iss": issuer, "iat": now, "exp": now + 1140, "aud": "appstoreconnect-v1"}
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": KEY_ID, "typ": "JWT"})


def csr_content() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")]))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode()


def measure(
    name: str, call: Callable[[httpx.Client], int], clients: list[httpx.Client], seconds: float
) -> None:
    def worker(client: httpx.Client) -> tuple[int, int]:
        done = failed = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status = call(client)
            done += 1
            failed += status >= 400
        return done, failed

    started = time.monotonic()
    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(worker, clients))
    elapsed = time.monotonic() - started
    total = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    print(
        f"{name:<48} {total / elapsed:9.0f} req/s  ({total} requests, {failed} errors, {len(clients)} client(s))"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    private = ec.generate_private_key(ec.SECP256R1())
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    issuer = str(uuid.uuid4())
    scenario = Scenario(
        issuer_id=issuer,
        keys=[KeySpec(key_id=KEY_ID, public_key_pem=public_pem)],
        apps=[AppSpec(id=APP_ID, name="Bench", bundle_id="com.example.bench", sku="B")],
        rate_limit_per_hour=10**9,
        certificate_limits={},
        upload_part_size=1 << 20,
    )
    part = bytes(1 << 20)
    with SimulatorServer(scenario) as sim:
        headers = {"Authorization": f"Bearer {token(private, issuer)}"}
        one = [httpx.Client(base_url=sim.base_url, headers=headers)]
        many = [httpx.Client(base_url=sim.base_url, headers=headers) for _ in range(args.threads)]
        plain = [httpx.Client(base_url=sim.base_url)]
        counter = iter(range(10**9))

        def new_bundle(client: httpx.Client) -> int:
            n = next(counter)
            attrs = {"name": f"b{n}", "identifier": f"com.example.bench.b{n}", "platform": "IOS"}
            return client.post(
                "/v1/bundleIds", json={"data": {"type": "bundleIds", "attributes": attrs}}
            ).status_code

        csr = csr_content()

        def new_certificate(client: httpx.Client) -> int:
            attrs = {"csrContent": csr, "certificateType": "DISTRIBUTION"}
            return client.post(
                "/v1/certificates", json={"data": {"type": "certificates", "attributes": attrs}}
            ).status_code

        upload = (
            one[0]
            .post(
                "/v1/buildUploads",
                json={
                    "data": {
                        "type": "buildUploads",
                        "attributes": {
                            "cfBundleShortVersionString": "1.0",
                            "cfBundleVersion": "1",
                            "platform": "IOS",
                        },
                        "relationships": {"app": {"data": {"type": "apps", "id": APP_ID}}},
                    }
                },
            )
            .json()["data"]
        )
        file = (
            one[0]
            .post(
                "/v1/buildUploadFiles",
                json={
                    "data": {
                        "type": "buildUploadFiles",
                        "attributes": {
                            "assetType": "ASSET",
                            "fileName": "A.ipa",
                            "fileSize": len(part),
                            "uti": "com.apple.ipa",
                        },
                        "relationships": {
                            "buildUpload": {"data": {"type": "buildUploads", "id": upload["id"]}}
                        },
                    }
                },
            )
            .json()["data"]
        )
        operation = file["attributes"]["uploadOperations"][0]
        part_headers = {h["name"]: h["value"] for h in operation["requestHeaders"]}

        def put_part(client: httpx.Client) -> int:
            return client.put(operation["url"], content=part, headers=part_headers).status_code

        cases: list[tuple[str, Callable[[httpx.Client], int]]] = [
            (
                "GET /v1/apps?limit=1 (key check)",
                lambda c: c.get("/v1/apps", params={"limit": "1"}).status_code,
            ),
            (
                "GET /v1/bundleIds?filter[identifier]=...",
                lambda c: (
                    c.get("/v1/bundleIds", params={"filter[identifier]": "com.example.bench"}).status_code
                ),
            ),
            ("POST /v1/bundleIds", new_bundle),
            ("POST /v1/certificates (CSR -> X.509)", new_certificate),
            (
                "GET /v1/builds?filter[app]=...&filter[version]=...",
                lambda c: (
                    c.get("/v1/builds", params={"filter[app]": APP_ID, "filter[version]": "1"}).status_code
                ),
            ),
        ]
        print(f"simulator at {sim.base_url}, {args.seconds:g} s per figure")
        for name, call in cases:
            measure(name, call, one, args.seconds)
            measure(name, call, many, args.seconds)
        measure(
            "GET /v1/apps without a token (401)",
            lambda c: c.get("/v1/apps").status_code - 401,
            plain,
            args.seconds,
        )
        measure("PUT presigned part (1 MiB, no JWT)", put_part, plain, args.seconds)
        for client in one + many + plain:
            client.close()


if __name__ == "__main__":
    main()
