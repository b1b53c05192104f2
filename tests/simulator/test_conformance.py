"""Every type the simulator serves renders as Apple's spec schema says, and every link it advertises answers.

What is expected comes from Apple's OpenAPI document itself (read here through tests.fixtures.openapi, not
through the simulator's own spec module); which types are served comes from the simulator's registry, so a
newly registered type is covered without touching this file (seed it below if the scenario does not).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from ascflow.simulator.operations import markdown_table, readme_table, simulated_operations
from ascflow.simulator.rendering import SIMULATED_TYPES
from ascflow.simulator.server import SimulatorServer
from tests.fixtures.keys import make_customer_key
from tests.fixtures.openapi import SPEC
from tests.fixtures.simulator import RunningSimulator, default_scenario
from tests.simulator.helpers import body, make_csr
from tests.simulator.publishing import upload_build
from tests.simulator.testflight_steps import seed_testflight

PATHS: Mapping[str, Any] = SPEC.document["paths"]
State = Mapping[str, list[dict[str, Any]]]  # the control API's state: resources by type
README = Path(__file__).resolve().parents[2] / "ascflow" / "simulator" / "README.md"


@dataclass(frozen=True)
class Rendered:
    """One resource as a read answered it, with the read (its path and its operation in the spec)."""

    resource: dict[str, Any]
    path: str
    template: str
    schema: str


def resource_schema(template: str) -> str:
    """The resource schema the spec says this GET answers with (`App` for `/v1/apps/{id}`)."""
    response = PATHS[template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    data = SPEC.schema(response["$ref"].rsplit("/", 1)[1])["properties"]["data"]
    return str(data.get("items", data)["$ref"].rsplit("/", 1)[1])


def query_parameter(template: str, name: str) -> dict[str, Any] | None:
    for param in PATHS[template]["get"].get("parameters", []):
        if param["name"] == name:
            return dict(param)
    return None


def api_prefix(type_: str) -> str:
    """`/v1`, or the later version under which alone the spec has the type's paths (`/v2/appAvailabilities`)."""
    return next(
        (v for v in ("/v1", "/v2", "/v3") if f"{v}/{type_}" in PATHS or f"{v}/{type_}/{{id}}" in PATHS), "/v1"
    )


def expected_links(type_: str, id_: str, relationship: str, base_url: str) -> dict[str, str]:
    """The links Apple's spec gives a relationship a path for."""
    prefix, links = api_prefix(type_), {}
    if f"{prefix}/{type_}/{{id}}/relationships/{relationship}" in PATHS:
        links["self"] = f"{base_url}{prefix}/{type_}/{id_}/relationships/{relationship}"
    if "get" in PATHS.get(f"{prefix}/{type_}/{{id}}/{relationship}", {}):
        links["related"] = f"{base_url}{prefix}/{type_}/{id_}/{relationship}"
    return links


def seed(sim: RunningSimulator) -> None:
    """A resource of every served type, made as a client makes them (the rest comes from the scenario)."""
    api = sim.client()
    csr, _ = make_csr()
    certificate = api.post(
        "/v1/certificates",
        json=body("certificates", {"csrContent": csr, "certificateType": "DISTRIBUTION"}),
    ).json()["data"]
    bundle = api.get("/v1/bundleIds", params={"filter[identifier]": sim.bundle_id}).json()["data"][0]
    profile = api.post(
        "/v1/profiles",
        json=body(
            "profiles",
            {"name": "conformance", "profileType": "IOS_APP_STORE"},
            bundleId=("bundleIds", bundle["id"]),
            certificates=[("certificates", certificate["id"])],
        ),
    )
    assert profile.status_code == 201, profile.text
    build = upload_build(api, sim.app_id)
    api.patch(
        f"/v1/builds/{build['id']}", json=body("builds", {"usesNonExemptEncryption": False}, id_=build["id"])
    )
    version = api.post(
        "/v1/appStoreVersions",
        json=body(
            "appStoreVersions",
            {"platform": "IOS", "versionString": "1.0", "copyright": "2026 Example"},
            app=("apps", sim.app_id),
            build=("builds", build["id"]),
        ),
    )
    assert version.status_code == 201, version.text
    version_id = version.json()["data"]["id"]
    detail = api.post(
        "/v1/appStoreReviewDetails",
        json=body(
            "appStoreReviewDetails",
            {
                "contactEmail": "a@example.com",
                "contactFirstName": "Rae",
                "contactLastName": "Lee",
                "contactPhone": "+1 555 0100",
            },
            appStoreVersion=("appStoreVersions", version_id),
        ),
    )
    assert detail.status_code == 201, detail.text
    # An update (the app was released once): Apple wants What's New.
    localizations = api.get(f"/v1/appStoreVersions/{version_id}/appStoreVersionLocalizations")
    localization = localizations.json()["data"][0]
    api.patch(
        f"/v1/appStoreVersionLocalizations/{localization['id']}",
        json=body("appStoreVersionLocalizations", {"whatsNew": "Faster."}, id_=localization["id"]),
    )
    submission = api.post(
        "/v1/reviewSubmissions", json=body("reviewSubmissions", {"platform": "IOS"}, app=("apps", sim.app_id))
    ).json()["data"]
    item = api.post(
        "/v1/reviewSubmissionItems",
        json=body(
            "reviewSubmissionItems",
            reviewSubmission=("reviewSubmissions", submission["id"]),
            appStoreVersion=("appStoreVersions", version_id),
        ),
    )
    assert item.status_code == 201, item.text
    declaration = api.post(
        "/v1/appEncryptionDeclarations",
        json=body(
            "appEncryptionDeclarations",
            {
                "appDescription": "HTTPS only.",
                "containsProprietaryCryptography": False,
                "containsThirdPartyCryptography": False,
                "availableOnFrenchStore": True,
            },
            app=("apps", sim.app_id),
        ),
    )
    assert declaration.status_code == 201, declaration.text
    seed_testflight(api, sim.app_id, build["id"], version_id)


@pytest.fixture(scope="module")
def seeded_once() -> Iterator[RunningSimulator]:
    """One seeded team for the module: its tests only read, so seeding it per test would check nothing more."""
    key = make_customer_key()
    scenario = default_scenario(
        key,
        users=[{"email": "owner@example.com", "first_name": "Sam", "last_name": "Owner", "roles": ["ADMIN"]}],
        invitations=[
            {"email": "new@example.com", "first_name": "New", "last_name": "Person", "roles": ["DEVELOPER"]}
        ],
    )
    sim = RunningSimulator(SimulatorServer(scenario).start(), key)
    try:
        seed(sim)
        assert not sim.checks.failures, "seeding got answers that break Apple's spec:\n" + "\n".join(
            sim.checks.failures
        )
        yield sim
    finally:
        sim.close()


@pytest.fixture
def seeded(seeded_once: RunningSimulator) -> Iterator[RunningSimulator]:
    """The module's team; every /v1 answer a test gets is checked against the spec when that test ends."""
    yield seeded_once
    failures = list(seeded_once.checks.failures)
    seeded_once.checks.failures.clear()
    assert not failures, "simulator responses broke Apple's spec:\n" + "\n".join(failures)


@pytest.fixture(scope="module")
def api(seeded_once: RunningSimulator) -> httpx.Client:
    """One checked client for the module (each new httpx client costs tens of milliseconds of CPU)."""
    return seeded_once.client()


@cache
def served_reads() -> list[str]:
    return [op.template for op in simulated_operations() if op.method == "GET"]


def renderings(api: httpx.Client, state: State, type_: str) -> Iterator[Rendered]:
    """Each way the simulator renders one of the type's resources: its own read, else a related read."""
    ids = [r["id"] for r in state.get(type_, [])]
    assert ids, f"no {type_} after seeding: seed one in test_conformance.seed() (or the scenario)"
    single = f"{api_prefix(type_)}/{type_}/{{id}}"
    if single in served_reads():
        path = f"{api_prefix(type_)}/{type_}/{ids[0]}"
        yield Rendered(api.get(path).json()["data"], path, single, resource_schema(single))
        return
    for template in served_reads():
        parts = template.split("/")
        if len(parts) != 5 or parts[3] != "{id}" or resource_schema(template) != _schema_of(type_):
            continue
        for parent in state.get(parts[2], []):
            path = template.replace("{id}", parent["id"])
            data = api.get(path).json()["data"]
            for resource in data if isinstance(data, list) else [data]:
                if resource and resource["type"] == type_:
                    yield Rendered(resource, path, template, resource_schema(template))
                    return
    raise AssertionError(f"the simulator serves no read that renders {type_}")


def _schema_of(type_: str) -> str | None:
    """The type's resource schema: what its own GET answers with, else the one schema of that type."""
    single = f"{api_prefix(type_)}/{type_}/{{id}}"
    if "get" in PATHS.get(single, {}):
        return resource_schema(single)
    names = [
        name
        for name, schema in SPEC.components["schemas"].items()
        if schema.get("properties", {}).get("type", {}).get("enum") == [type_]
        and "links" in schema.get("properties", {})
    ]
    return names[0] if len(names) == 1 else None


def check_resource(rendered: Rendered, base_url: str) -> None:
    resource, schema = rendered.resource, SPEC.schema(rendered.schema)
    type_ = resource["type"]
    attributes = set(schema["properties"].get("attributes", {}).get("properties", {}))
    assert set(resource.get("attributes", {})) == attributes, (
        f"{type_}: attribute keys differ from {rendered.schema}"
    )
    declared = schema["properties"].get("relationships", {}).get("properties", {})
    shown = resource.get("relationships", {})
    for name, rel in declared.items():
        links = expected_links(type_, resource["id"], name, base_url)
        if "links" in rel.get("properties", {}) and links:
            assert shown.get(name) == {"links": links}, f"{type_}.{name}: {shown.get(name)} != links {links}"
        else:
            assert name not in shown, (
                f"{type_}.{name}: the spec gives it no links; Apple shows it only included"
            )
    assert set(shown) <= set(declared), (
        f"{type_}: relationships the spec does not declare: {set(shown) - set(declared)}"
    )
    assert resource["links"] == {"self": f"{base_url}{api_prefix(type_)}/{type_}/{resource['id']}"}


@pytest.mark.parametrize("type_", SIMULATED_TYPES)
def test_every_attribute_and_relationship_of_the_schema_is_rendered(
    seeded: RunningSimulator, api: httpx.Client, type_: str
) -> None:
    for rendered in renderings(api, seeded.control.state(), type_):
        check_resource(rendered, seeded.base_url)


@pytest.mark.parametrize("type_", SIMULATED_TYPES)
def test_sparse_fieldsets_narrow_attributes_and_relationships(
    seeded: RunningSimulator, api: httpx.Client, type_: str
) -> None:
    for rendered in renderings(api, seeded.control.state(), type_):
        if query_parameter(rendered.template, f"fields[{type_}]") is None:
            continue
        schema = SPEC.schema(rendered.schema)["properties"]
        attributes = list(schema.get("attributes", {}).get("properties", {}))[:2]
        linked = [
            name
            for name, rel in schema.get("relationships", {}).get("properties", {}).items()
            if "links" in rel.get("properties", {}) and expected_links(type_, "x", name, "")
        ][:1]
        wanted = attributes + linked
        narrowed = api.get(rendered.path, params={f"fields[{type_}]": ",".join(wanted)}).json()["data"]
        resource = (
            narrowed
            if isinstance(narrowed, dict)
            else next(r for r in narrowed if r["id"] == rendered.resource["id"])
        )
        assert set(resource.get("attributes", {})) == set(attributes)
        assert set(resource.get("relationships", {})) == set(linked)


def linkage_ids(entry: Mapping[str, Any]) -> list[str]:
    data = entry.get("data")
    return [ref["id"] for ref in (data if isinstance(data, list) else [data] if data else [])]


def related_ids(api: Any, path: str, entry: Mapping[str, Any]) -> list[str]:
    """Every id a related read answers (following `links.next`); the linkage itself where it is not served."""
    ids: list[str] = []
    url: str | None = path
    while url:
        answer = api.get(url)
        if answer.status_code != 200:
            return linkage_ids(entry)
        ids += linkage_ids(answer.json())
        url = answer.json().get("links", {}).get("next")
    return ids


@pytest.mark.parametrize("type_", SIMULATED_TYPES)
def test_include_adds_linkage_and_full_included_resources(
    seeded: RunningSimulator, api: httpx.Client, type_: str
) -> None:
    """Every relationship the operation lets a client include carries linkage that agrees with its related
    read (or the team's state where Apple has no related read), and each included resource is whole."""
    team = seeded.control.state()
    state = {(t, r["id"]): r for t, items in team.items() for r in items}
    for rendered in renderings(api, team, type_):
        param = query_parameter(rendered.template, "include")
        if param is None:
            continue
        names = param["schema"]["items"]["enum"]
        document = api.get(rendered.path, params={"include": ",".join(names)}).json()
        data = document["data"]
        resource = (
            data if isinstance(data, dict) else next(r for r in data if r["id"] == rendered.resource["id"])
        )
        included = {(r["type"], r["id"]): r for r in document.get("included", [])}
        declared = SPEC.schema(rendered.schema)["properties"]["relationships"]["properties"]
        for name in names:
            entry = resource.get("relationships", {}).get(name, {})
            if "data" not in declared[name]["properties"]:
                assert "data" not in entry, f"{type_}.{name}: the spec gives it no linkage"
                continue
            related = f"{api_prefix(type_)}/{type_}/{resource['id']}/{name}"
            if "get" in PATHS.get(f"{api_prefix(type_)}/{type_}/{{id}}/{name}", {}):
                expected = related_ids(api, related, entry)
            else:
                stored = state[(type_, resource["id"])]["relationships"].get(name)
                expected = stored if isinstance(stored, list) else [stored] if stored else []
            assert sorted(linkage_ids(entry)) == sorted(expected), f"{type_}.{name}: include linkage"
            for ref_id in linkage_ids(entry):
                ref_type = (entry["data"][0] if isinstance(entry["data"], list) else entry["data"])["type"]
                if ref_type in SIMULATED_TYPES:
                    other = included[(ref_type, ref_id)]
                    check_resource(
                        Rendered(other, rendered.path, rendered.template, _schema_of(ref_type) or ""),
                        seeded.base_url,
                    )
        assert {t for t, _ in included} <= set(SIMULATED_TYPES)


def test_every_advertised_link_answers(seeded: RunningSimulator, api: httpx.Client) -> None:
    """A client following any `links.related` or `links.self` gets an answer, never Apple's 404 PATH_ERROR:
    200 from the simulator's state, 501 where the related type is not simulated, and Apple's 405 for a
    linkage path the spec gives only writes (`self` of `apps.betaTesters` is DELETE only)."""
    team = seeded.control.state()
    answers: dict[int, int] = {}
    for type_ in SIMULATED_TYPES:
        for rendered in renderings(api, team, type_):
            for name, entry in rendered.resource.get("relationships", {}).items():
                for kind, url in entry.get("links", {}).items():
                    response = api.get(url)
                    answers[response.status_code] = answers.get(response.status_code, 0) + 1
                    where = f"{type_}.{name} {kind} {url}: {response.status_code} {response.text[:300]}"
                    template = (
                        f"{api_prefix(type_)}/{type_}/{{id}}/"
                        + ("relationships/" if kind == "self" else "")
                        + name
                    )
                    related_type = _related_type(rendered.schema, name)
                    if response.status_code == 405:
                        assert "get" not in PATHS[template], where
                    elif related_type in SIMULATED_TYPES:
                        assert response.status_code == 200, where
                    else:
                        assert response.status_code == 501, where
                        assert response.json()["errors"][0]["code"] == "SIMULATOR.NOT_IMPLEMENTED", where
    assert answers.get(200, 0) > 20, answers
    assert answers.get(501, 0) > 20, answers


def _related_type(schema: str, relationship: str) -> str | None:
    """From the relationship's linkage schema, else from what its related read answers with."""
    data = SPEC.schema(schema)["properties"]["relationships"]["properties"][relationship]["properties"].get(
        "data"
    )
    if data is None:
        type_ = SPEC.schema(schema)["properties"]["type"]["enum"][0]
        template = f"{api_prefix(type_)}/{type_}/{{id}}/{relationship}"
        content = (
            PATHS.get(template, {}).get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        )
        if "application/json" not in content:
            return None
        data = SPEC.schema(resource_schema(template))["properties"]["type"]
        return str(data["enum"][0])
    return str(data.get("items", data)["properties"]["type"]["enum"][0])


def test_an_unsimulated_operation_is_501_naming_it_and_an_unknown_path_stays_path_error(
    simulator: RunningSimulator,
) -> None:
    api = simulator.client()
    response = api.get(f"/v1/apps/{simulator.app_id}/appClips")
    assert response.status_code == 501
    error = response.json()["errors"][0]
    assert error["status"] == "501"
    assert error["code"] == "SIMULATOR.NOT_IMPLEMENTED"
    assert "GET /v1/apps/{id}/appClips (apps_appClips_getToManyRelated)" in error["detail"]
    write = api.post(
        "/v1/appEvents", json=body("appEvents", {"referenceName": "x"}, app=("apps", simulator.app_id))
    )
    assert write.status_code == 501
    assert "POST /v1/appEvents (appEvents_createInstance)" in write.json()["errors"][0]["detail"]
    unknown = api.get("/v1/betaGroupz")
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["code"] == "PATH_ERROR"


def test_related_and_linkage_reads_of_simulated_types_are_served_from_state(
    simulator: RunningSimulator,
) -> None:
    api = simulator.client()
    version = api.post(
        "/v1/appStoreVersions",
        json=body(
            "appStoreVersions", {"platform": "IOS", "versionString": "1.0"}, app=("apps", simulator.app_id)
        ),
    ).json()["data"]
    uploads = api.get(f"/v1/apps/{simulator.app_id}/buildUploads")
    assert uploads.status_code == 200
    assert uploads.json()["data"] == []
    linkage = api.get(f"/v1/apps/{simulator.app_id}/relationships/appStoreVersions").json()
    assert linkage["data"][-1] == {"type": "appStoreVersions", "id": version["id"]}  # after the released one
    assert len(linkage["data"]) == 2
    assert linkage["meta"]["paging"]["total"] == 2
    no_build = api.get(f"/v1/appStoreVersions/{version['id']}/relationships/build").json()
    assert no_build == {
        "data": None,
        "links": {"self": f"{simulator.base_url}/v1/appStoreVersions/{version['id']}/relationships/build"},
    }


def test_the_readme_lists_exactly_the_simulated_operations() -> None:
    assert readme_table(README.read_text()) == markdown_table(), (
        "the simulator README's operation list is stale: run python -m ascflow.simulator.operations --write "
        "ascflow/simulator/README.md"
    )
    assert len(simulated_operations()) > 50
    assert all(op.operation_id for op in simulated_operations())
