"""The one place where the engine's texts (reasons why someone was not placed, relaxations,
problems found in input) are rendered for a page.

The engine keeps them as messages (:class:`placement.text.Text`: a catalogue id and its
parameters), in plans, in stored waiting-list reasons (as JSON) and in the problems it
raises; they are rendered here in the reader's language. Texts stored as plain strings (by
an older version, or texts that never were messages) are shown as they are.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context

from placement.i18n import ENGINE, Translator, translator
from placement.plan import Plan
from placement.text import Text, render


def engine_text(t: Translator, text: Text | str | dict[str, Any] | None) -> str:
    """An engine text (a reason, a relaxation, a problem) for a reader of ``t.locale``, from
    the engine's catalogue (``t`` is usually the page's, of the ``web`` domain)."""
    engine = translator(t.locale, ENGINE)
    if isinstance(text, dict):
        return Text.model_validate(text).render(engine)
    return render(text, engine)


def engine_plan(t: Translator, plan: Plan) -> Plan:
    """A plan whose reasons and relaxations read in ``t``'s language."""
    return plan.localized(translator(t.locale, ENGINE))


@pass_context
def engine_text_filter(context: Any, text: Text | str | dict[str, Any] | None) -> str:
    """``{{ reason|engine_text }}`` in a template: :func:`engine_text` with the page's
    translator."""
    return engine_text(context["t"], text)
