"""The yardstick itself must be right: it accepts what Apple documents and refuses what it does not."""

import hashlib

import pytest

from tests.fixtures.openapi import SPEC, SPEC_PATH, SPEC_SHA256


def test_spec_file_is_apples_4_4_1():
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == SPEC_SHA256
    assert SPEC.document["info"]["version"] == "4.4.1"


def test_concrete_paths_resolve_to_templates():
    assert SPEC.operation("GET", "/v1/apps/6447/builds").template == "/v1/apps/{id}/builds"
    assert SPEC.operation("PATCH", "/v1/appStoreVersions/9/relationships/build").template == (
        "/v1/appStoreVersions/{id}/relationships/build"
    )
    with pytest.raises(AssertionError, match="no such path"):
        SPEC.operation("GET", "/v1/apiKeys")
    with pytest.raises(AssertionError, match="no such method"):
        SPEC.operation("POST", "/v1/apps")


def test_valid_request_passes():
    body = {
        "data": {
            "type": "bundleIds",
            "attributes": {"name": "Demo", "identifier": "com.example.demo", "platform": "IOS"},
        }
    }
    SPEC.check_request("POST", "/v1/bundleIds", {}, body)
    query = {"filter[identifier]": "com.example", "filter[platform]": "IOS", "limit": "200"}
    SPEC.check_request("GET", "/v1/bundleIds", query, None)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"filter[nope]": "x"}, "not declared"),
        ({"filter[platform]": "IOS,ANDROID"}, "ANDROID"),
        ({"limit": "201"}, "maximum"),
    ],
)
def test_bad_query_is_refused(query, problem):
    with pytest.raises(AssertionError, match=problem):
        SPEC.check_request("GET", "/v1/bundleIds", query, None)


def test_required_filter_and_bad_body_are_refused():
    with pytest.raises(AssertionError, match="filter\\[app\\]"):
        SPEC.check_request("GET", "/v1/reviewSubmissions", {}, None)
    with pytest.raises(AssertionError, match="body"):
        SPEC.check_request("POST", "/v1/bundleIds", {}, {"data": {"type": "bundleIds", "attributes": {}}})


def test_responses_are_checked_against_declared_schemas():
    SPEC.check_response("GET", "/v1/apps", 200, SPEC.example("AppsResponse"))
    unauthorized = {"errors": [{"status": "401", "code": "NOT_AUTHORIZED", "title": "t", "detail": "d"}]}
    SPEC.check_response("GET", "/v1/apps", 401, unauthorized)
    SPEC.check_response("DELETE", "/v1/certificates/1", 204, None)
    with pytest.raises(AssertionError, match="errors"):
        SPEC.check_response("GET", "/v1/apps", 500, {"errors": "boom"})
    with pytest.raises(AssertionError, match="does not declare"):
        SPEC.check_response("GET", "/v1/apps", 201, SPEC.example("AppsResponse"))
    with pytest.raises(AssertionError):
        SPEC.check_response("GET", "/v1/apps", 200, {"data": [{"type": "apps"}]})
