"""What a person types, read as the reader writes it: dates in the reader's order (the
order of the language's own short dates), ISO dates as a date picker sends them; and every
form's problems put next to their fields by one function."""

from __future__ import annotations

from datetime import date

import pytest

from api.web.forms import SAMPLE_DATE, CellError, date_hint, field_errors, read_date
from placement.i18n import translator


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("03/12/2026", date(2026, 12, 3)),  # the reader's short format (fr, en-GB: d/m/y)
        ("3/12/2026", date(2026, 12, 3)),  # without the leading zero
        ("03.12.26", date(2026, 12, 3)),  # dots and a two-digit year
        (" 2026-12-03 ", date(2026, 12, 3)),  # ISO, as a date picker or an API client sends
        ("", None),  # empty: no date (the field's default)
    ],
)
def test_a_date_is_read_as_the_reader_writes_it(lang: str, typed: str, meant: date) -> None:
    assert read_date(translator(lang, "web"), typed) == meant


@pytest.mark.parametrize(
    "typed",
    [
        "31/02/2026",  # no such day
        "12/2026",  # no day
        "2026-13-01",  # no such month, in ISO
        "demain",  # words
        "1/1/1/1",  # four parts
        "0" * 40,  # longer than any date
    ],
)
def test_what_is_not_a_date_is_refused(typed: str) -> None:
    with pytest.raises(CellError):
        read_date(translator("fr", "web"), typed)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_hint_shows_a_date_the_field_reads_back(lang: str) -> None:
    t = translator(lang, "web")
    example = t.date(SAMPLE_DATE, "short")
    assert example in date_hint(t)
    assert read_date(t, example) == SAMPLE_DATE


def test_problems_of_every_form_land_on_their_fields_joined_in_the_readers_language() -> None:
    # a shelter form's location.lat is its lat field; an import's arrivals[3].gender its
    # gender field; accepts[0] the accepts group; two problems of one field are both said
    problems = [
        ("location.lat", "too far north"),
        ("arrivals[3].gender", "unknown"),
        ("accepts[0]", "empty"),
        ("accepts[1]", "twice"),
    ]
    assert field_errors(translator("fr", "web"), problems) == {
        "lat": "too far north",
        "gender": "unknown",
        "accepts": "empty twice",
    }
