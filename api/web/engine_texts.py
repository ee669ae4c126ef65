"""The one place where the engine's texts (reasons why someone was not placed, relaxations,
problems found in input) are rendered for a page.

Until the engine's messages go through the ``engine`` catalogue (the branch that moves
``placement/explain.py`` and the loading texts to it), the plan and the services hold them
as English strings: they are shown as they are. When the engine gives message ids with
parameters, this function renders them in the reader's language, and no page changes.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context

from placement.i18n import Translator, translator
from placement.text import Text, render


def engine_text(t: Translator, text: str | Text | dict[str, Any]) -> str:
    """An engine text (a reason, a relaxation, a problem) for a reader of ``t.locale``: a
    catalogue message (``placement.text``; stored ones come back from the database as
    dicts) is rendered from the ``engine`` domain in that language; a string as it is."""
    if isinstance(text, dict):
        text = Text.model_validate(text)
    return render(text, translator(t.locale))


@pass_context
def engine_text_filter(context: Any, text: str | Text | dict[str, Any]) -> str:
    """``{{ reason|engine_text }}`` in a template: :func:`engine_text` with the page's
    translator."""
    return engine_text(context["t"], text)
