"""Engine texts on pages come from the engine's catalogue, whatever domain the page uses."""

from datetime import date

from api.web.engine_texts import engine_text
from placement.i18n import translator
from placement.text import Date, message


def test_an_engine_message_reads_in_french_on_a_page_of_the_web_domain() -> None:
    full = message(
        "full: {free}; {needed} needed; taken by {taken}",
        free=message("no free place on {night}", night=Date(day=date(2026, 11, 29))),
        needed=2,
        taken="SH-1",
    )
    page_fr, page_en = translator("fr", "web"), translator("en", "web")
    english = engine_text(page_en, full)
    french = engine_text(page_fr, full)
    assert english.startswith("full:")
    assert not french.startswith("full:") and "2026" in french
    assert engine_text(page_fr, full.model_dump(mode="json")) == french
    assert engine_text(page_fr, "stored before messages") == "stored before messages"
