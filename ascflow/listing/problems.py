"""What is wrong with a listing, said so that the operator can fix it: the field, what is wrong, what to do.

Problems never quote the value they are about: a listing is not a secret, but a misplaced password would be,
and a field path says where to look without repeating what is there.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

SCHEMA_HINT = "the fields are listed by `ascflow listing schema` and shown in examples/listing.yaml"


class Problem(BaseModel):
    """One thing Apple would refuse (or that the listing file cannot mean), found before any Apple call."""

    field: str
    message: str
    next_step: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}. {self.next_step}"


class ListingInvalid(Exception):
    """A listing that cannot be loaded or would be refused; `problems` holds every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("The listing has problems:\n" + "\n".join(f"- {p}" for p in problems))


def field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "[key]") or "(listing)"


def problems_of(error: ValidationError) -> list[Problem]:
    """Each pydantic error as a Problem; the input value is never repeated."""
    found = []
    for detail in error.errors(include_url=False):
        loc, given = detail["loc"], detail.get("input")
        # pydantic writes a YAML false key as 0: name it as the file spells it.
        bool_key = loc[-1:] == ("[key]",) and isinstance(given, bool)
        path = field_path((*loc[:-2], str(given).lower())) if bool_key else field_path(loc)
        found.append(Problem(field=path, **_explain(detail)))
    return found


def _explain(detail: ErrorDetails) -> dict[str, str]:
    kind, ctx, loc = detail["type"], detail.get("ctx") or {}, detail["loc"]
    given: Any = detail.get("input")
    last = str(loc[-1]) if loc else ""
    if last == "[key]" and isinstance(given, bool):
        return _said(
            "is a YAML true/false where a name was meant",
            "Quote it: YAML reads an unquoted no, yes, on or off as true/false (the Norwegian locale is 'no').",
        )
    if kind == "listing":
        return _said(detail["msg"], str(ctx["next_step"]))
    if kind == "string_type" and isinstance(given, int | float):
        return _said(
            "is a number where text was meant (YAML read it as one)", "Quote it, e.g. '+442079460000'."
        )
    if kind == "missing":
        return _said("is required and missing", f"Add it; {SCHEMA_HINT}.")
    if kind == "extra_forbidden":
        if "password" in last.lower():
            return _said(
                "is not allowed: a password never goes in the listing file",
                "Delete it, put the password in the worker's environment, and name that variable in "
                "review.demo_account.password_env.",
            )
        if loc[0] == "age_rating" and to_camel(last) != last:
            return _said(
                "is not a field here: the age-rating answers keep Apple's names",
                f"Rename it to {to_camel(last)}.",
            )
        return _said("is not a field of the listing here", f"Remove it or fix its spelling; {SCHEMA_HINT}.")
    if kind == "string_too_long":
        return _said(
            f"is {len(str(given))} characters; Apple allows at most {ctx['max_length']}",
            "Shorten it.",
        )
    if kind == "string_too_short":
        return _said(
            f"is {len(str(given))} characters; Apple needs at least {ctx['min_length']}",
            "Write it out, or remove the field if it is optional.",
        )
    if kind == "too_long":
        return _said(
            f"has {ctx['actual_length']} items; Apple allows at most {ctx['max_length']}",
            "Remove the extra items.",
        )
    if kind == "too_short":
        return _said(
            f"has {ctx['actual_length']} items; Apple needs at least {ctx['min_length']}",
            f"Add at least {ctx['min_length']}.",
        )
    if kind in ("literal_error", "enum"):
        what = (
            _KEY_OF.get(str(loc[-3]) if len(loc) > 2 else "", "is not a key Apple knows")
            if last == "[key]"
            else "is not a value Apple knows"
        )
        return _said(what, f"Use one of: {ctx['expected']}.")
    if kind == "string_pattern_mismatch":
        return _said(
            "does not have the expected form", f"Follow the form described in the schema; {SCHEMA_HINT}."
        )
    # Types and number or date forms: pydantic's own sentence names the expected type without the input.
    return _said(
        f"is wrong: {detail['msg'].removeprefix('Input ').lower()}", f"Fix the value; {SCHEMA_HINT}."
    )


_KEY_OF = {
    "localizations": "is not a locale App Store Connect offers",
    "screenshots": "is not one of Apple's screenshot display types",
}


def _said(message: str, next_step: str) -> dict[str, str]:
    return {"message": message, "next_step": next_step}
