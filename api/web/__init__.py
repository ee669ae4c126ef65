"""The web app: server-rendered pages (Jinja2 templates, a little vanilla JavaScript) for
coordinators, shelter managers and analysts, served by the same FastAPI application under
``/app/`` (``api.web.app.install``).

Page handlers are as thin as the JSON routes: they resolve the user from the session cookie
into the same ``api.auth.Principal`` a bearer token gives (``api.web.deps``), check the role
with ``api.deps.admit`` (the JSON API's one role check) and call the same services
(``api.services``). Every text goes through the ``web`` catalogue (``api/web/locale``).
"""

from __future__ import annotations

from pathlib import Path

from placement.i18n import register_domain

WEB = "web"
"""The catalogue domain of the web pages."""

HERE = Path(__file__).parent
register_domain(WEB, HERE / "locale")
