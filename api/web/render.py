"""Rendering a page: the Jinja2 environment, the reader's language, and what every template
gets (``_``, ``ngettext``, the translator for dates and numbers, ``when`` for moments in the
service's time zone, the CSRF token, the user).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.config import Settings
from api.tables import aware
from api.web import HERE, WEB
from api.web.engine_texts import engine_text_filter
from api.web.forms import date_hint
from api.web.sessions import Visitor
from placement.i18n import LOCALES, Translator, negotiate, translator

#: the cookie that keeps the language chosen before logging in (no case data)
LANG_COOKIE = "placement_lang"

ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

ENV.filters["engine_text"] = engine_text_filter
ENV.filters["pair"] = lambda value: (value, value)  # an option whose value is its text
ENV.globals["dict"] = dict
ENV.globals["date_hint"] = date_hint

#: the languages offered by the switch, each named in its own language
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def visitor_of(request: Request) -> Visitor | None:
    """The logged-in visitor of this request, if ``api.web.deps`` resolved one."""
    found: Visitor | None = getattr(request.state, "visitor", None)
    return found


def locale_of(request: Request) -> str:
    """The reader's language: their setting, else the language chosen on this browser, else
    the browser's ``Accept-Language`` (``placement.i18n.negotiate``)."""
    who = visitor_of(request)
    stated = who.language if who is not None and who.language else request.cookies.get(LANG_COOKIE)
    return negotiate(stated, request.headers.get("accept-language"))


def web_translator(request: Request) -> Translator:
    """The ``web`` catalogue in the reader's language."""
    return translator(locale_of(request), WEB)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_of(request: Request) -> ZoneInfo:
    """The time zone the pages show times in: the service's ``PLACEMENT_TIME_ZONE``
    (``Settings.time_zone``, Europe/Paris by default)."""
    settings: Settings = request.app.state.settings
    return _zone(settings.time_zone)


@dataclass(frozen=True)
class Clock:
    """Moments as the reader reads them: in the service's time zone, in their language.
    Templates call ``when(moment)``; stored moments are UTC (naive ones too)."""

    t: Translator
    zone: ZoneInfo

    def __call__(self, moment: datetime, format: str = "short") -> str:  # noqa: A002 - Babel's
        """``moment`` as a date and time of the zone (``30/11/2026 03:00``)."""
        return self.t.datetime(aware(moment).astimezone(self.zone), format)

    def iso(self, moment: datetime) -> str:
        """``moment`` for a ``<time datetime>`` attribute: ISO 8601 with its UTC offset in
        the zone (a countdown in ``app.js`` reads the instant, whatever the browser's zone)."""
        return aware(moment).astimezone(self.zone).isoformat(timespec="seconds")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` rendered for this request's reader."""
    t = web_translator(request)
    context.setdefault("when", Clock(t, zone_of(request)))
    who = visitor_of(request)
    context.setdefault("pre_csrf", None)
    pre = context.pop("pre_csrf")
    html = ENV.get_template(template).render(
        request=request,
        t=t,
        _=t.gettext,
        ngettext=t.ngettext,
        lang=t.locale,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LOCALES],
        who=None if who is None else who.principal,
        csrf=pre if who is None else who.csrf,
        pre_csrf=pre,
        **context,
    )
    return HTMLResponse(html, status_code=status)
