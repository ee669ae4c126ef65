"""Every text of the service (its refusals, alerts, scheduled jobs) has its French
translation in the ``api`` catalogue, with the same parameters."""

from __future__ import annotations

from api.catalogue import extract, read
from tests.placement.test_catalogue import catalogue_problems


def test_the_service_messages_are_found_in_the_code() -> None:
    found = extract()
    # one of each kind: a refusal, a field problem, an alert, a scheduler line
    for msgid in (
        "shelter not found",
        "{value} is taken",
        "unanswered by {shelter}: re-planned to {where}",
        "ran {jobs}",
    ):
        assert msgid in found, msgid
    assert found["and {n} more night"][0] == "and {n} more nights"  # a plural
    assert not any(where.startswith("api/web/") for _, where in found.values())


def test_every_service_message_has_a_french_translation() -> None:
    found: dict[str | tuple[str, str], list[str]] = {
        (msgid if plural is None else (msgid, plural)): [where]
        for msgid, (plural, where) in extract().items()
    }
    problems = catalogue_problems(found, read("fr"))
    assert not problems, "\n".join(problems)
