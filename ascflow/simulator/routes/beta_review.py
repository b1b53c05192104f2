"""TestFlight test information and beta app review: What to Test per build, the beta app description per app,
the beta review contact (exists per app, GET/PATCH only), beta review submissions and the build's beta detail.

A beta review submission is refused, in one 409 listing every missing piece, until the build can be tested
externally: processed (Apple's 422, recorded: codemagic-ci-cd/cli-tools#346), export compliance answered, a beta
app description in the app's primary locale (Apple's text, recorded: fastlane#28630, keymanapp/keyman#12672) and the
review contact complete (the requirement recorded: the-blue-alliance-ios#890; texts GUESS).
"""

from __future__ import annotations

from ascflow.simulator.documents import ApiError, Errors, Json, error
from ascflow.simulator.listing_rules import check_attributes, check_locale, check_update
from ascflow.simulator.routes.reads import one
from ascflow.simulator.routes.testflight import STATE_TITLE
from ascflow.simulator.routing import Call, Reply, created, handles, no_content, ok
from ascflow.simulator.state import Resource, Team
from ascflow.simulator.testflight_state import beta_states

APP_LOCALIZATION_ATTRIBUTES = (
    "feedbackEmail",
    "marketingUrl",
    "privacyPolicyUrl",
    "tvOsPrivacyPolicy",
    "description",
)
REVIEW_DETAIL_ATTRIBUTES = (
    "contactFirstName", "contactLastName", "contactPhone", "contactEmail", "demoAccountName",
    "demoAccountPassword", "demoAccountRequired", "notes",
)  # fmt: skip
REQUIRED_CONTACT = ("contactFirstName", "contactLastName", "contactPhone", "contactEmail")


def _unique_locale(team: Team, parent: Resource, relationship: str, locale: str, owner: str) -> None:
    """One localization per locale per build or app (spec lists 409; text GUESS)."""
    check_locale(locale)
    if any(loc.attributes["locale"] == locale for loc in team.related(parent, relationship)):
        raise ApiError(
            Errors.entity_error(
                f"The locale '{locale}' exists for this {owner} already. Update the existing localization.",
                "/data/attributes/locale",
            )
        )


# ---- betaBuildLocalizations: What to Test ----


@handles("POST", "/v1/betaBuildLocalizations")
def create_build_localization(call: Call) -> Reply:
    team = call.team
    build = call.require_related("build", "builds")
    check_attributes(call)
    locale = call.attributes["locale"]
    _unique_locale(team, build, "betaBuildLocalizations", locale, "build")
    localization = team.add(
        Resource(
            "betaBuildLocalizations",
            team.new_id("betaBuildLocalizations"),
            {"locale": locale, "whatsNew": call.attributes.get("whatsNew")},
            {"build": ("builds", build.id)},
        )
    )
    return created(call, localization)


@handles("PATCH", "/v1/betaBuildLocalizations/{id}")
def update_build_localization(call: Call) -> Reply:
    localization = one(call, "betaBuildLocalizations")
    check_update(call)
    localization.attributes.update(call.given(["whatsNew"]))
    return ok(call, localization)


@handles("DELETE", "/v1/betaBuildLocalizations/{id}")
def delete_build_localization(call: Call) -> Reply:
    call.team.remove("betaBuildLocalizations", one(call, "betaBuildLocalizations").id)
    return no_content()


# ---- betaAppLocalizations: the beta app description ----


@handles("POST", "/v1/betaAppLocalizations")
def create_app_localization(call: Call) -> Reply:
    team = call.team
    app = call.require_related("app", "apps")
    check_attributes(call)
    locale = call.attributes["locale"]
    _unique_locale(team, app, "betaAppLocalizations", locale, "app")
    localization = team.add(
        Resource(
            "betaAppLocalizations",
            team.new_id("betaAppLocalizations"),
            {"locale": locale} | call.given(APP_LOCALIZATION_ATTRIBUTES),
            {"app": ("apps", app.id)},
        )
    )
    return created(call, localization)


@handles("PATCH", "/v1/betaAppLocalizations/{id}")
def update_app_localization(call: Call) -> Reply:
    localization = one(call, "betaAppLocalizations")
    check_update(call)
    localization.attributes.update(call.given(APP_LOCALIZATION_ATTRIBUTES))
    return ok(call, localization)


@handles("DELETE", "/v1/betaAppLocalizations/{id}")
def delete_app_localization(call: Call) -> Reply:
    call.team.remove("betaAppLocalizations", one(call, "betaAppLocalizations").id)
    return no_content()


# ---- betaAppReviewDetails (one per app, made by Apple) and buildBetaDetails ----


@handles("PATCH", "/v1/betaAppReviewDetails/{id}")
def update_review_detail(call: Call) -> Reply:
    detail = one(call, "betaAppReviewDetails")
    check_update(call)
    detail.attributes.update(call.given(REVIEW_DETAIL_ATTRIBUTES))
    return ok(call, detail)


@handles("PATCH", "/v1/buildBetaDetails/{id}")
def update_build_beta_detail(call: Call) -> Reply:
    detail = one(call, "buildBetaDetails")
    check_update(call)
    detail.attributes.update(call.given(["autoNotifyEnabled"]))
    return ok(call, detail)


# ---- betaAppReviewSubmissions ----


def _missing(title: str, detail: str, pointer: str) -> Json:
    return error(409, "STATE_ERROR", title, detail, source={"pointer": pointer})[1]


def external_testing_problems(team: Team, build: Resource) -> list[Json]:
    """Everything that keeps the build from beta app review, one error each."""
    problems: list[Json] = []
    blocked = beta_states(team, build)[1]
    if blocked == "MISSING_EXPORT_COMPLIANCE":
        problems.append(
            _missing(
                STATE_TITLE,
                "You must provide a value for the attribute 'usesNonExemptEncryption' with this request",
                "/data/relationships/build",
            )
        )
    elif blocked == "EXPIRED":
        problems.append(_missing(STATE_TITLE, "The build has expired.", "/data/relationships/build"))
    app = team.related(build, "app")[0]
    primary = app.attributes["primaryLocale"]
    described = any(
        loc.attributes["locale"] == primary and loc.attributes.get("description")
        for loc in team.related(app, "betaAppLocalizations")
    )
    if not described:
        problems.append(
            _missing(
                "Beta App Description is missing.",
                "Beta App Description is required to submit a build for external testing.",
                "/data/relationships/build",
            )
        )
    details = team.related(app, "betaAppReviewDetail")
    attributes = details[0].attributes if details else {}
    missing = [name for name in REQUIRED_CONTACT if not attributes.get(name)]
    if attributes.get("demoAccountRequired"):
        missing += [name for name in ("demoAccountName", "demoAccountPassword") if not attributes.get(name)]
    if missing:
        problems.append(
            _missing(
                "Beta App Review Information is missing.",
                f"Beta App Review Information ({', '.join(missing)}) is required to submit a build for external "
                "testing.",
                "/data/relationships/build",
            )
        )
    return problems


@handles("POST", "/v1/betaAppReviewSubmissions")
def create_beta_submission(call: Call) -> Reply:
    team = call.team
    build = call.require_related("build", "builds")
    if build.attributes["processingState"] != "VALID":
        raise ApiError(Errors.build_not_processed())
    existing = team.related(build, "betaAppReviewSubmission")
    if existing:
        raise ApiError(
            Errors.entity_error(
                f"The build was submitted for beta app review already (betaAppReviewSubmissions with id "
                f"'{existing[0].id}', {existing[0].attributes['betaReviewState']}).",
                "/data/relationships/build",
            )
        )
    problems = external_testing_problems(team, build)
    if problems:
        raise ApiError((409, problems[0]), more=[(409, problem) for problem in problems[1:]])
    now = team.now()
    submission = team.add(
        Resource(
            "betaAppReviewSubmissions",
            team.new_id("betaAppReviewSubmissions"),
            {"betaReviewState": "WAITING_FOR_REVIEW", "submittedDate": team.now_iso()},
            {"build": ("builds", build.id)},
            {"due": now + team.scenario.delays.beta_review_wait_seconds},
        )
    )
    return created(call, submission)
