"""Messages kept as data: rendered per reader, with dates, numbers, lists and languages."""

from __future__ import annotations

from datetime import date

from placement.explain import RELAXATION_KINDS
from placement.rules import RULE_LABELS
from placement.text import (
    Text,
    day,
    label,
    language,
    listed,
    message,
    number,
    plural_message,
    render,
)


def test_a_message_renders_in_each_language_with_its_parameters_written_that_way() -> None:
    m = plural_message(
        "{n} place {nights}",
        "{n} places {nights}",
        1234,
        nights=message("on {day}", day=day(date(2026, 3, 12))),
    )
    assert render(m, "en") == "1,234 places on 12 Mar 2026"
    assert render(m, "fr").replace("\u202f", " ") == "1 234 places le 12 mars 2026"


def test_lists_and_language_names_follow_the_reader() -> None:
    m = message("speaks {languages}", languages=listed([language("pcm"), language("ro")], "or"))
    assert render(m, "en") == "speaks Nigerian Pidgin or Romanian"
    assert render(m, "fr") == "parle pidgin nigérian ou roumain"
    steps = listed(["a", "b"], "semicolon")
    assert render(message("{shelter}: {why}", shelter="S", why=steps), "fr") == "S : a ; b"


def test_a_message_survives_json_and_renders_the_same() -> None:
    m = message("household member {arrival}", arrival="A1")
    again = Text.model_validate_json(m.model_dump_json())
    assert again == m and render(again, "fr") == "le membre du foyer A1"


def test_render_passes_strings_through_and_labels_translate() -> None:
    assert render("already a text", "fr") == "already a text"
    assert render(None, "fr") == ""
    assert label(RULE_LABELS["safety_distance"], "fr") == "distance de sécurité"
    assert label(RELAXATION_KINDS["add_places"], "en") == "more places"
    assert set(RULE_LABELS) >= {"gender", "capacity", "network_cap"}


def test_every_kind_of_parameter_survives_json_as_it_was() -> None:
    """The plan crosses from the solver's process to its caller as JSON: an identifier that
    looks like a number stays a string, whole and fractional numbers stay numbers, and the
    structured parameters keep their kind."""
    m = message(
        "{a} {b} {c} {d} {e} {f} {g} {h}",
        a="12",
        b=7,
        c=2.5,
        d=2.0,
        e=number(0.4213, "0.00"),
        f=day(date(2026, 3, 12)),
        g=listed([language("ro"), "s01", 3], "and"),
        h=message("on {day}", day=day(date(2026, 3, 13))),
    )
    again = Text.model_validate_json(m.model_dump_json())
    assert again == m
    assert type(again.params["a"]) is str and type(again.params["b"]) is int
    for lang in ("en", "fr"):
        assert render(again, lang) == render(m, lang)
