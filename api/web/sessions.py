"""Web log-ins: passwords (argon2), one-time log-in links, browser sessions and the
throttling of failed log-ins.

A session cookie is a random token; only its SHA-256 is stored (as for bearer tokens). A
session ends after ``Settings.session_idle_minutes`` without a request, or
``Settings.session_absolute_hours`` after the log-in, or at log-out. It resolves to the same
``api.auth.Principal`` a bearer token gives (``api.auth.principal_of``), so the pages meet
the JSON API's role rules and services unchanged.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.auth import (
    DEACTIVATED,
    PASSWORD_LONG,
    PASSWORD_SHORT,
    Principal,
    UserError,
    hash_token,
    principal_of,
    user_by_handle,
)
from api.config import Settings
from api.tables import LoginFailure, LoginLink, User, WebSession, aware, utcnow
from placement.text import message

#: argon2id with the library's current defaults (RFC 9106 low-memory profile)
HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
#: failed log-ins counted over this window
FAILURE_WINDOW = timedelta(minutes=15)
#: failed log-ins allowed per handle within the window, then refused until it passes
MAX_FAILURES_PER_HANDLE = 5
#: failed log-ins allowed per client address within the window (several handles guessed)
MAX_FAILURES_PER_ADDRESS = 20
#: a session's last request is written at most this often
SEEN_EVERY = timedelta(minutes=1)
#: failures older than this are deleted when a new one is recorded
FAILURES_KEPT = timedelta(days=1)


def check_password_strength(password: str) -> None:
    """``UserError`` unless the password has a sensible length."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError("password", message(PASSWORD_SHORT, n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError("password", message(PASSWORD_LONG, n=MAX_PASSWORD_LENGTH))


def set_password(engine: Engine, handle: str, password: str) -> None:
    """Store the argon2 hash of ``password`` for ``handle`` (the clear text is not kept)."""
    check_password_strength(password)
    with Session(engine) as session:
        user = user_by_handle(session, handle)
        user.password_hash = HASHER.hash(password)
        session.add(user)
        session.commit()


def new_login_link(engine: Engine, settings: Settings, handle: str) -> str:
    """A one-time log-in token for ``handle``, valid ``settings.login_link_minutes``."""
    with Session(engine) as session:
        user = user_by_handle(session, handle)
        if not user.active:
            raise UserError("handle", message(DEACTIVATED, handle=handle))
        token = secrets.token_urlsafe(32)
        expires = utcnow() + timedelta(minutes=settings.login_link_minutes)
        session.add(
            LoginLink(token_hash=hash_token(token), user_id=user.id or 0, expires_at=expires)
        )
        session.commit()
        return token


def login_link_url(settings: Settings, token: str) -> str:
    """The address of the log-in page for a one-time token."""
    base = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    return f"{base}/app/login/link/{token}"


# --- throttling ---------------------------------------------------------------------------
def throttled(session: Session, handle: str, address: str, now: datetime) -> bool:
    """True when this handle, or this address, failed too often within the window."""
    since = now - FAILURE_WINDOW

    def count(column: object, value: str) -> int:
        query = (
            select(func.count())
            .select_from(LoginFailure)
            .where(column == value, col(LoginFailure.at) > since)
        )
        return int(session.exec(query).one())

    return (
        count(col(LoginFailure.handle), handle) >= MAX_FAILURES_PER_HANDLE
        or count(col(LoginFailure.address), address) >= MAX_FAILURES_PER_ADDRESS
    )


def record_failure(session: Session, handle: str, address: str, now: datetime) -> None:
    """Count a failed log-in (and forget those older than ``FAILURES_KEPT``)."""
    session.execute(
        LoginFailure.__table__.delete().where(  # type: ignore[attr-defined]
            col(LoginFailure.at) < now - FAILURES_KEPT
        )
    )
    session.add(LoginFailure(at=now, handle=handle[:64], address=address[:64]))


# --- log-in -------------------------------------------------------------------------------
class LoginRefused(Exception):
    """Why a log-in was refused: ``bad`` (unknown handle or wrong password, the same answer),
    ``throttled`` or ``link`` (unknown, used or expired link)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class Opened:
    """A new session: the cookie's value (shown once) and the user's language setting."""

    cookie: str
    language: str | None


def _open(session: Session, user: User) -> Opened:
    cookie = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=hash_token(cookie), user_id=user.id or 0, csrf=secrets.token_urlsafe(32)
        )
    )
    return Opened(cookie, user.language)


def _verified(user: User | None, password: str) -> bool:
    if user is None or not user.active or not user.password_hash:
        # the same work as a real check, so that timing does not say which handles exist
        HASHER.hash(password[:MAX_PASSWORD_LENGTH] or "-")
        return False
    try:
        return HASHER.verify(user.password_hash, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return False


def log_in(session: Session, handle: str, password: str, address: str) -> Opened:
    """A session for ``handle`` when the password is right and neither the handle nor the
    address is throttled; ``LoginRefused`` otherwise (the failure counted). Commits."""
    now = utcnow()
    if throttled(session, handle, address, now):
        raise LoginRefused("throttled")
    user = session.exec(select(User).where(User.handle == handle)).first()
    if not _verified(user, password):
        record_failure(session, handle, address, now)
        session.commit()
        raise LoginRefused("bad")
    assert user is not None
    if user.password_hash and HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
        session.add(user)
    opened = _open(session, user)
    session.commit()
    return opened


def log_in_with_link(session: Session, token: str, address: str) -> Opened:
    """A session from a one-time link, which is used up; ``LoginRefused("link")`` for an
    unknown, used or expired one (counted as a failure of the address). Commits."""
    now = utcnow()
    if throttled(session, "", address, now):
        raise LoginRefused("throttled")
    link = session.exec(select(LoginLink).where(LoginLink.token_hash == hash_token(token))).first()
    user = None if link is None else session.get(User, link.user_id)
    if (
        link is None
        or user is None
        or not user.active
        or link.used_at is not None
        or aware(link.expires_at) <= now
    ):
        record_failure(session, "", address, now)
        session.commit()
        raise LoginRefused("link")
    link.used_at = now
    session.add(link)
    opened = _open(session, user)
    session.commit()
    return opened


# --- sessions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Visitor:
    """Who a session cookie belongs to: the principal, their language setting, and the
    session's anti-CSRF token."""

    principal: Principal
    language: str | None
    csrf: str
    session_id: int


def expired(row: WebSession, settings: Settings, now: datetime) -> bool:
    """True when the session ended, sat idle too long, or outlived its absolute limit."""
    if row.ended_at is not None:
        return True
    if now - aware(row.last_seen_at) > timedelta(minutes=settings.session_idle_minutes):
        return True
    return now - aware(row.created_at) > timedelta(hours=settings.session_absolute_hours)


def visitor(session: Session, settings: Settings, cookie: str) -> tuple[Visitor | None, bool]:
    """The visitor of a session cookie (None: unknown, ended or expired), and whether its
    last request is due to be written (``touch``)."""
    found = session.exec(
        select(WebSession, User)
        .join(User, col(WebSession.user_id) == col(User.id))
        .where(WebSession.token_hash == hash_token(cookie))
    ).first()
    now = utcnow()
    if found is None or expired(found[0], settings, now) or not found[1].active:
        return None, False
    row, user = found
    due = now - aware(row.last_seen_at) > SEEN_EVERY
    return Visitor(principal_of(session, user), user.language, row.csrf, row.id or 0), due


def touch(engine: Engine, session_id: int) -> None:
    """Note the session's latest request (its idle clock restarts)."""
    with Session(engine) as session:
        session.execute(
            update(WebSession).where(col(WebSession.id) == session_id).values(last_seen_at=utcnow())
        )
        session.commit()


def log_out(session: Session, session_id: int) -> None:
    """End the session (its cookie is refused from now on). Commits."""
    session.execute(
        update(WebSession)
        .where(col(WebSession.id) == session_id, col(WebSession.ended_at).is_(None))
        .values(ended_at=utcnow())
    )
    session.commit()


def set_language(session: Session, user_id: int, language: str | None) -> None:
    """Store the user's language setting (checked by the caller). Commits."""
    session.execute(update(User).where(col(User.id) == user_id).values(language=language))
    session.commit()
