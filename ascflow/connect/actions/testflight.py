"""TestFlight for an uploaded build, idempotently: read what Apple holds, write only what is missing or differs.

A rerun writes nothing; a write whose outcome is unknown is read back before it is sent again. Testers are
matched by e-mail address case-insensitively (Apple IDs are), and whether Apple's `filter[email]` is too is
undocumented: the filter is asked with the address as given and in lower case, and compared here.
Change texts name what changed and count testers, never an address or a password.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import SecretStr

from ascflow.connect.actions.common import ActionFailed, Ensured, create_once, find_or_create, update_once
from ascflow.connect.client import AppStoreConnect
from ascflow.connect.testflight_models import (
    BetaAppLocalization,
    BetaAppReviewDetail,
    BetaAppReviewSubmission,
    BetaBuildLocalization,
    BetaGroup,
    BetaReviewState,
    BetaTester,
)

TesterRow = tuple[str, str, str]  # (email, first name, last name)


@dataclass(frozen=True)
class ReviewContact:
    """Who Beta App Review calls or writes to about the build."""

    first_name: str
    last_name: str
    phone: str
    email: str

    def __post_init__(self) -> None:
        for name in ("first_name", "last_name", "phone", "email"):
            if not getattr(self, name).strip():
                raise ValueError(f"beta review contact {name}: empty; Beta App Review requires it")
        if "@" not in self.email:
            raise ValueError(f"beta review contact email: {self.email!r} is not an e-mail address")


@dataclass(frozen=True)
class DemoAccount:
    """A sign-in Beta App Review uses; the password (from custody) is revealed only in the request body."""

    username: str
    password: SecretStr

    def __post_init__(self) -> None:
        if not self.username.strip() or not self.password.get_secret_value():
            raise ValueError(
                "demo account username/password: empty; give both, or no demo account when the app needs no "
                "sign-in"
            )


@dataclass(frozen=True)
class GroupBuild:
    group_id: str
    build_id: str


def ensure_beta_whats_new(
    client: AppStoreConnect, build_id: str, texts: Mapping[str, str]
) -> Ensured[Mapping[str, BetaBuildLocalization]]:
    """The build's What to Test per locale: PATCH the localizations that exist, create the missing ones.
    `created` when any locale was created; the result holds every locale the build has."""
    held = {loc.attributes.locale: loc for loc in client.beta_build_localizations.list_for_build(build_id)}
    made = [
        _ensure_what_to_test(client, build_id, locale, text, held.get(locale))
        for locale, text in texts.items()
    ]
    held.update((one.resource.attributes.locale, one.resource) for one in made)
    changes = tuple(change for one in made for change in one.changes)
    return Ensured(held, created=any(one.created for one in made), changes=changes)


def _ensure_what_to_test(
    client: AppStoreConnect, build_id: str, locale: str, text: str, current: BetaBuildLocalization | None
) -> Ensured[BetaBuildLocalization]:
    def find() -> BetaBuildLocalization | None:
        listed = client.beta_build_localizations.list_for_build(build_id)
        return next((loc for loc in listed if loc.attributes.locale == locale), None)

    if current is None:
        made = create_once(
            lambda: client.beta_build_localizations.create(build_id=build_id, locale=locale, whats_new=text),
            find,
        )
        return Ensured(made, created=True, changes=(f"What to Test ({locale}): created",))
    if current.attributes.whats_new == text:
        return Ensured(current, created=False)

    def applied() -> bool:
        now = find()
        return now is not None and now.attributes.whats_new == text

    localization_id = current.id
    update_once(lambda: client.beta_build_localizations.update(localization_id, text), applied)
    return Ensured(find() or current, created=False, changes=(f"What to Test ({locale}): updated",))


def ensure_beta_group(client: AppStoreConnect, app_id: str, name: str, internal: bool) -> Ensured[BetaGroup]:
    """The app's beta group of this name (exact), internal (team members) or external; created once."""
    if not name.strip():
        raise ValueError("beta group name: empty; give the name testers see in TestFlight")

    def find() -> BetaGroup | None:
        return next((g for g in client.beta_groups.list_for_app(app_id) if g.attributes.name == name), None)

    made = find_or_create(
        find, lambda: client.beta_groups.create(app_id=app_id, name=name, internal=internal)
    )
    group = made.resource
    if group.attributes.is_internal_group is not None and group.attributes.is_internal_group != internal:
        held = "an internal" if group.attributes.is_internal_group else "an external"
        raise ActionFailed(
            f"App {app_id} already has {held} beta group named {name!r}; Apple cannot change a group's kind.",
            next_step="Choose another group name in the request, or delete that group in App Store Connect "
            "(TestFlight), then run this step again.",
        )
    if made.created:
        return Ensured(group, created=True, changes=(f"beta group {name!r} created",))
    return made


def ensure_group_has_build(client: AppStoreConnect, group_id: str, build_id: str) -> Ensured[GroupBuild]:
    """The build is among the builds the group's testers may install; `created` when this call added it."""
    linked = GroupBuild(group_id, build_id)
    if build_id in client.beta_groups.build_ids(group_id):
        return Ensured(linked, created=False)
    update_once(
        lambda: client.beta_groups.add_builds(group_id, [build_id]),
        lambda: build_id in client.beta_groups.build_ids(group_id),
    )
    return Ensured(linked, created=True, changes=("build added to the group",))


def _checked_testers(testers: Sequence[TesterRow]) -> dict[str, TesterRow]:
    """The rows by case-folded address, the first of each address kept; refuses a row that is not one."""
    wanted: dict[str, TesterRow] = {}
    for position, row in enumerate(testers):
        email, first, last = row
        if "@" not in email or email.strip() != email or any(c.isspace() for c in email):
            raise ValueError(
                f"testers[{position}] email: {email!r} is not an e-mail address; give the tester's address"
            )
        if not first.strip() or not last.strip():
            raise ValueError(
                f"testers[{position}] first/last name: empty; Apple shows both names to the team"
            )
        wanted.setdefault(email.casefold(), row)
    return wanted


def _by_address(testers: Sequence[BetaTester]) -> dict[str, BetaTester]:
    return {t.attributes.email.casefold(): t for t in testers if t.attributes.email}


def _spellings(emails: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(spelling for email in emails for spelling in (email, email.lower())))


def ensure_testers(
    client: AppStoreConnect, group_id: str, testers: Sequence[TesterRow]
) -> Ensured[tuple[BetaTester, ...]]:
    """Each (email, first name, last name) in the group once: testers already in it are left alone, the team's
    testers (invited through another group, or testing another app) are added to it, and only unknown addresses
    become new testers (Apple invites them). The result holds the requested testers as Apple has them."""
    wanted = _checked_testers(testers)
    in_group = _by_address(client.beta_groups.testers(group_id))
    missing = [row for key, row in wanted.items() if key not in in_group]
    if not missing:
        return Ensured(tuple(in_group[key] for key in wanted), created=False)

    known = _by_address(client.beta_testers.list(emails=_spellings([r[0] for r in missing])))
    to_link = [known[row[0].casefold()] for row in missing if row[0].casefold() in known]
    changes: list[str] = []
    if to_link:
        ids = [tester.id for tester in to_link]

        def linked() -> bool:
            now = {t.id for t in client.beta_groups.testers(group_id)}
            return all(tester_id in now for tester_id in ids)

        update_once(lambda: client.beta_groups.add_testers(group_id, ids), linked)
        changes.append(f"testers: {len(ids)} known tester(s) added to the group")

    unknown = [row for row in missing if row[0].casefold() not in known]
    for row in unknown:
        _invite(client, group_id, row)
    invited = len(unknown)
    if invited:
        changes.append(f"testers: {invited} new tester(s) invited")
    now = _by_address(client.beta_groups.testers(group_id))
    return Ensured(
        tuple(now[key] for key in wanted if key in now), created=invited > 0, changes=tuple(changes)
    )


def _invite(client: AppStoreConnect, group_id: str, row: TesterRow) -> BetaTester:
    email, first, last = row
    return create_once(
        lambda: client.beta_testers.create(email=email, first_name=first, last_name=last, group_id=group_id),
        lambda: _by_address(client.beta_groups.testers(group_id)).get(email.casefold()),
    )


def _review_wanted(
    contact: ReviewContact, demo_account: DemoAccount | None, notes: str | None
) -> dict[str, object]:
    wanted: dict[str, object] = {
        "contactFirstName": contact.first_name,
        "contactLastName": contact.last_name,
        "contactPhone": contact.phone,
        "contactEmail": contact.email,
        "demoAccountRequired": demo_account is not None,
    }
    if demo_account is not None:
        wanted["demoAccountName"] = demo_account.username
        wanted["demoAccountPassword"] = demo_account.password
    if notes is not None:
        wanted["notes"] = notes
    return wanted


def _review_difference(wanted: Mapping[str, object], detail: BetaAppReviewDetail) -> dict[str, object]:
    # SecretStr compares by its secret value, so the password is compared without being revealed here.
    held = detail.attributes.model_dump(by_alias=True)
    return {name: value for name, value in wanted.items() if held.get(name) != value}


def ensure_beta_review_details(
    client: AppStoreConnect,
    app_id: str,
    contact: ReviewContact,
    demo_account: DemoAccount | None,
    notes: str | None,
) -> Ensured[BetaAppReviewDetail]:
    """The app's beta review contact, demo account (None: not required; a held one is left as it is) and notes
    (None: not managed). Apple makes the detail with the app: it is read, then PATCHed with the difference."""
    wanted = _review_wanted(contact, demo_account, notes)
    detail = client.beta_review_details.for_app(app_id)
    diff = _review_difference(wanted, detail)
    if not diff:
        return Ensured(detail, created=False)
    body = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in diff.items()
    }
    detail_id = detail.id
    update_once(
        lambda: client.beta_review_details.update(detail_id, body),
        lambda: not _review_difference(diff, client.beta_review_details.for_app(app_id)),
    )
    changed = client.beta_review_details.for_app(app_id)
    return Ensured(changed, created=False, changes=(f"beta review details: {', '.join(diff)}",))


def ensure_beta_app_description(
    client: AppStoreConnect, app_id: str, locale: str, description: str
) -> Ensured[BetaAppLocalization]:
    """The app's test information in `locale` with this description (external testing requires it)."""

    def find() -> BetaAppLocalization | None:
        listed = client.beta_app_localizations.list_for_app(app_id)
        return next((loc for loc in listed if loc.attributes.locale == locale), None)

    current = find()
    if current is None:
        made = create_once(
            lambda: client.beta_app_localizations.create(
                app_id=app_id, locale=locale, attributes={"description": description}
            ),
            find,
        )
        return Ensured(made, created=True, changes=(f"beta app description ({locale}): created",))
    if current.attributes.description == description:
        return Ensured(current, created=False)

    def applied() -> bool:
        now = find()
        return now is not None and now.attributes.description == description

    localization_id = current.id
    update_once(
        lambda: client.beta_app_localizations.update(localization_id, {"description": description}), applied
    )
    return Ensured(find() or current, created=False, changes=(f"beta app description ({locale}): updated",))


def ensure_beta_review_submitted(client: AppStoreConnect, build_id: str) -> Ensured[BetaAppReviewSubmission]:
    """The build sent to Beta App Review once: a build that has a submission (in any state) is not sent again."""
    made = find_or_create(
        lambda: client.beta_review_submissions.for_build(build_id),
        lambda: client.beta_review_submissions.create(build_id),
    )
    return (
        Ensured(made.resource, created=True, changes=("submitted to Beta App Review",))
        if made.created
        else made
    )


def beta_review_state(client: AppStoreConnect, build_id: str) -> BetaReviewState | None:
    """The build's Beta App Review state; None when it was never submitted."""
    submission = client.beta_review_submissions.for_build(build_id)
    return None if submission is None else submission.attributes.beta_review_state
