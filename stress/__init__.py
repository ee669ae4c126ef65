"""Scenario planning: stress tests of the network.

Its texts (reports, progress, the problems of a stress spec) are catalogue messages of the
``stress`` domain (``stress/locale``); the problems of a spec are kept as
:class:`placement.text.Text` values like the engine's and rendered by the same translator in
the reader's language (``placement.i18n.register_domain(..., texts=True)``).
"""

from __future__ import annotations

from pathlib import Path

from placement.i18n import register_domain

STRESS = "stress"
"""The catalogue domain of scenario planning."""

register_domain(STRESS, Path(__file__).with_name("locale"), texts=True)
