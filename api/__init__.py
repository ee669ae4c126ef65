"""The service: the JSON API, its services, the scheduler and the web pages.

The service's own texts (its refusals, alerts, scheduled jobs) are catalogue messages of the
``api`` domain (``api/locale``), kept as :class:`placement.text.Text` values like the
engine's and rendered by the same translator in the reader's language
(``placement.i18n.register_domain(..., texts=True)``).
"""

from __future__ import annotations

from pathlib import Path

from placement.i18n import register_domain

SERVICE = "api"
"""The catalogue domain of the service's own texts."""

register_domain(SERVICE, Path(__file__).with_name("locale"), texts=True)
