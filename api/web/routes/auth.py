"""Log-in (password or one-time link), log-out, the language switch, and the start page of
each role."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import SessionDep, SettingsDep
from api.web.deps import (
    CSRF_FIELD,
    PRE_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedForm,
    FormExpired,
    PreLoginForm,
    VisitorDep,
    client_address,
    new_pre_csrf,
    same_token,
)
from api.web.render import LANG_COOKIE, render, web_translator
from api.web.sessions import (
    FAILURE_WINDOW,
    LoginRefused,
    Opened,
    log_in,
    log_in_with_link,
    log_out,
    set_language,
    visitor,
)
from placement.i18n import LOCALES, N_

router = APIRouter()

#: where each role starts (the other roles' pages come from their own modules)
HOME = {
    "coordinator": "/app/dashboard",
    "shelter_manager": "/app/shelter",
    "analyst": "/app/whatif",
}
REFUSED = {
    "bad": N_("Unknown user name or wrong password."),
    "throttled": N_(
        "Too many failed log-ins. Wait {minutes} minutes, or ask a coordinator for a link."
    ),
    "link": N_(
        "This log-in link is not valid: it was already used or has expired. Ask for a new one."
    ),
}
#: how long a throttled log-in waits, as the page says it
WAIT_MINUTES = int(FAILURE_WINDOW.total_seconds() // 60)
#: a year: the language chosen on a browser is remembered
LANG_COOKIE_SECONDS = 365 * 24 * 3600


def _secure(request: Request, settings: SettingsDep) -> bool:
    return settings.secure_cookies or request.url.scheme == "https"


def _safe_next(target: str | None) -> str:
    """Only a path of this app (never another site) after log-in."""
    if target and target.startswith("/app/") and not target.startswith("//"):
        return target
    return "/app/"


def _logged_in(request: Request, settings: SettingsDep, opened: Opened, target: str) -> Response:
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.cookie,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
        path="/",
        max_age=int(settings.session_absolute_hours * 3600),
    )
    response.delete_cookie(PRE_CSRF_COOKIE, path="/app/")
    return response


def _with_pre_csrf(request: Request, settings: SettingsDep, page: Response, token: str) -> Response:
    page.set_cookie(
        PRE_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
        path="/app/",
    )
    return page


@router.get("/login")
def login_page(request: Request, settings: SettingsDep, next: str = "/app/") -> Response:
    """The log-in form."""
    token = new_pre_csrf(request)
    page = render(request, "login.html", pre_csrf=token, next=_safe_next(next), error=None)
    return _with_pre_csrf(request, settings, page, token)


@router.post("/login")
def login(
    request: Request, form: PreLoginForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Check the password and open a session."""
    handle = str(form.get("handle") or "").strip()[:64]
    password = str(form.get("password") or "")
    target = str(form.get("next") or "/app/")
    try:
        opened = log_in(session, handle, password, client_address(request))
    except LoginRefused as e:
        t = web_translator(request)
        token = new_pre_csrf(request)
        page = render(
            request,
            "login.html",
            status=401 if e.why == "bad" else 429,
            pre_csrf=token,
            next=_safe_next(target),
            error=t.gettext(REFUSED[e.why], minutes=WAIT_MINUTES),
            handle=handle,
        )
        return _with_pre_csrf(request, settings, page, token)
    return _logged_in(request, settings, opened, target)


@router.get("/login/link/{token}")
def link_page(request: Request, token: str, settings: SettingsDep) -> Response:
    """A one-time link asks for one click (a link previewer must not use it up)."""
    pre = new_pre_csrf(request)
    page = render(request, "link.html", pre_csrf=pre, token=token[:100], error=None)
    return _with_pre_csrf(request, settings, page, pre)


@router.post("/login/link/{token}")
def use_link(
    request: Request, token: str, form: PreLoginForm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Use the one-time link: a session, and the link is spent."""
    try:
        opened = log_in_with_link(session, token[:100], client_address(request))
    except LoginRefused as e:
        pre = new_pre_csrf(request)
        error = web_translator(request).gettext(REFUSED[e.why], minutes=WAIT_MINUTES)
        page = render(request, "link.html", status=401, pre_csrf=pre, token="", error=error)
        return _with_pre_csrf(request, settings, page, pre)
    return _logged_in(request, settings, opened, "/app/")


@router.post("/logout")
def logout(who: VisitorDep, form: CheckedForm, session: SessionDep) -> Response:
    """End the session."""
    log_out(session, who.session_id)
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/language")
async def language(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Switch the pages' language: the user's setting when logged in, and this browser's
    cookie (so that the log-in page speaks it too). CSRF-checked like every form."""
    form = await request.form()
    cookie = request.cookies.get(SESSION_COOKIE)
    found = visitor(session, settings, cookie)[0] if cookie else None
    session.commit()
    expected = found.csrf if found is not None else request.cookies.get(PRE_CSRF_COOKIE)
    if not same_token(form.get(CSRF_FIELD), expected):
        raise FormExpired
    chosen = str(form.get("language") or "")
    back = _safe_next(str(form.get("back") or "/app/"))
    if chosen not in LOCALES:
        return RedirectResponse(back, status_code=303)
    if found is not None:
        set_language(session, found.principal.id, chosen)
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        chosen,
        max_age=LANG_COOKIE_SECONDS,
        path="/",
        secure=_secure(request, settings),
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/")
def home(who: VisitorDep) -> Response:
    """Each role's start page."""
    return RedirectResponse(HOME.get(who.principal.role, "/app/login"), status_code=303)
