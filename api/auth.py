"""Users and bearer tokens. A token is shown once, at creation; only its hash is stored.

A token is refused (401) once revoked, once expired, or when its user is deactivated: every
request reads the token's row, so a revocation holds at once on every API worker.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from api.domain_errors import AT_FIELD
from api.tables import ROLES, ShelterRow, Token, User, UserShelter, aware, utcnow
from placement.i18n import N_
from placement.text import Text, listed, message, render

log = logging.getLogger(__name__)
TOKEN_BYTES = 32
#: how stale ``Token.last_used_at`` may get: a request writes it at most this often
LAST_USED_EVERY = timedelta(minutes=5)


#: why a user command is refused (``api`` catalogue), at its field (``AT_FIELD``)
NO_USER = N_("no user '{handle}'")
DEACTIVATED = N_("'{handle}' is deactivated")
#: a web log-in password's length (``api.web.sessions`` checks it)
PASSWORD_SHORT = N_("at least {n} characters")
PASSWORD_LONG = N_("at most {n} characters")


class UserError(ValueError):
    """A user or token could not be created: ``field`` and ``problem`` say why (``str()`` is
    the English text; ``text`` the message, for a reader of any language)."""

    def __init__(self, field: str, problem: Text) -> None:
        self.text = message(AT_FIELD, field=field, problem=problem)
        super().__init__(render(self.text))


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    id: int
    handle: str
    role: str
    shelters: frozenset[str]

    def manages(self, shelter_id: str) -> bool:
        """True when the caller is a manager bound to ``shelter_id``."""
        return self.role == "shelter_manager" and shelter_id in self.shelters

    def sees_location(self, shelter_id: str) -> bool:
        """Coordinators and the shelter's own managers see where it is."""
        return self.role == "coordinator" or self.manages(shelter_id)


def hash_token(token: str) -> str:
    """SHA-256 of a token (tokens are 256-bit random, so no salt or stretching is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(session: Session, user: User, days: float | None = None) -> str:
    """Create a token for ``user`` that expires after ``days`` (None: never, until revoked);
    return it in clear (the only time it is available)."""
    assert user.id is not None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = None if days is None else utcnow() + timedelta(days=days)
    session.add(Token(user_id=user.id, token_hash=hash_token(token), expires_at=expires))
    return token


def user_problems(
    session: Session, handle: str, role: str, shelters: Sequence[str]
) -> list[tuple[str, Text]]:
    """Why this user cannot be created, as (field, problem) pairs; empty when it can. Managers
    must be bound to existing shelters, other roles to none; a handle is unique."""
    problems = []
    if role not in ROLES:
        problems.append(
            (
                "role",
                message("must be one of {roles}, not '{role}'", roles=listed(ROLES), role=role),
            )
        )
    if role == "shelter_manager" and not shelters:
        problems.append(("shelter", message("a shelter manager needs at least one shelter")))
    if role != "shelter_manager" and shelters:
        problems.append(("shelter", message("only a shelter manager is bound to shelters")))
    if session.exec(select(User.id).where(User.handle == handle)).first() is not None:
        problems.append(("handle", message("'{handle}' already exists", handle=handle)))
    known = set(session.exec(select(ShelterRow.id).where(col(ShelterRow.id).in_(shelters))))
    missing = [s for s in shelters if s not in known]
    if missing:
        problems.append(("shelter", message("unknown shelter(s) {ids}", ids=listed(missing))))
    return problems


def create_user(
    session: Session, handle: str, role: str, shelters: Sequence[str], days: float | None
) -> tuple[User, str]:
    """Add a user checked by ``user_problems``, its shelters and a first token to the
    session's transaction (the caller commits); the token in clear."""
    user = User(handle=handle, role=role)
    session.add(user)
    session.flush()
    assert user.id is not None
    for sid in dict.fromkeys(shelters):
        session.add(UserShelter(user_id=user.id, shelter_id=sid))
    return user, new_token(session, user, days)


def add_user(
    engine: Engine,
    handle: str,
    role: str,
    shelters: Sequence[str] = (),
    days: float | None = None,
) -> tuple[User, str]:
    """Create a user (and a first token, expiring after ``days``); ``UserError`` naming the
    first problem (``user_problems``)."""
    with Session(engine) as session:
        problems = user_problems(session, handle, role, shelters)
        if problems:
            raise UserError(*problems[0])
        user, token = create_user(session, handle, role, shelters, days)
        session.commit()
        session.refresh(user)
        return user, token


def user_by_handle(session: Session, handle: str) -> User:
    """The user of ``handle``; ``UserError`` if there is none."""
    user = session.exec(select(User).where(User.handle == handle)).first()
    if user is None or user.id is None:
        raise UserError("handle", message(NO_USER, handle=handle))
    return user


def add_token(engine: Engine, handle: str, days: float | None = None) -> str:
    """A new token for an existing, active user, expiring after ``days`` (None: never)."""
    with Session(engine) as session:
        user = user_by_handle(session, handle)
        if not user.active:
            raise UserError("handle", message(DEACTIVATED, handle=handle))
        token = new_token(session, user, days)
        session.commit()
        return token


def revoke_tokens(engine: Engine, handle: str, token_id: int | None = None) -> int:
    """Revoke the user's token ``token_id`` (None: every token of the user); the number
    revoked. Refused at once on every worker: no token is cached."""
    with Session(engine) as session:
        user = user_by_handle(session, handle)
        query = update(Token).where(col(Token.user_id) == user.id, col(Token.revoked_at).is_(None))
        if token_id is not None:
            owned = session.get(Token, token_id)
            if owned is None or owned.user_id != user.id:
                raise UserError(
                    "id", message("'{handle}' has no token {id}", handle=handle, id=str(token_id))
                )
            query = query.where(col(Token.id) == token_id)
        done = session.execute(query.values(revoked_at=utcnow()))
        session.commit()
        return int(getattr(done, "rowcount", 0))


def deactivate(engine: Engine, handle: str) -> None:
    """Deactivate a user: every token of theirs is refused from now on (the account and the
    audit records it left stay)."""
    with Session(engine) as session:
        user = user_by_handle(session, handle)
        user.active = False
        session.add(user)
        session.commit()


@dataclass(frozen=True)
class TokenInfo:
    """What an operator may know of a token (never the token itself)."""

    id: int
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def tokens(engine: Engine, handle: str) -> list[TokenInfo]:
    """The user's tokens, oldest first."""
    with Session(engine) as session:
        user = user_by_handle(session, handle)
        rows = session.exec(
            select(Token).where(Token.user_id == user.id).order_by(col(Token.id))
        ).all()
        return [
            TokenInfo(t.id or 0, t.created_at, t.expires_at, t.last_used_at, t.revoked_at)
            for t in rows
        ]


def usable(token: Token, user: User, now: datetime) -> bool:
    """True when the token may authenticate: not revoked, not expired, its user active."""
    if token.revoked_at is not None or not user.active:
        return False
    return token.expires_at is None or aware(token.expires_at) > now


@dataclass(frozen=True)
class Authenticated:
    """Who the token belongs to, and the token's id when its last use is to be noted."""

    principal: Principal
    note_use_of: int | None


def authenticate(session: Session, token: str) -> Authenticated | None:
    """The principal that ``token`` belongs to, or None (unknown, revoked, expired, or a
    deactivated user); with the token's id when its last use was noted more than
    ``LAST_USED_EVERY`` ago (``note_use`` records it, after the answer). One query: the
    token, its user and the shelters they manage."""
    found = session.exec(
        select(Token, User, managed_shelters())
        .join(User, col(Token.user_id) == col(User.id))
        .where(Token.token_hash == hash_token(token))
    ).first()
    now = utcnow()
    if found is None or not usable(found[0], found[1], now):
        return None
    row, user, managed = found
    due = row.last_used_at is None or now - aware(row.last_used_at) > LAST_USED_EVERY
    return Authenticated(principal_from(user, managed), row.id if due else None)


#: how the ids of a user's shelters are joined in ``managed_shelters`` (ids have no comma)
_SHELTER_SEPARATOR = ","


def managed_shelters() -> Any:
    """A column of a query over ``User``: the ids of the shelters the user manages, joined
    (``principal_from`` splits them)."""
    return (
        select(func.aggregate_strings(col(UserShelter.shelter_id), _SHELTER_SEPARATOR))
        .where(col(UserShelter.user_id) == col(User.id))
        .scalar_subquery()
    )


def principal_from(user: User, managed: str | None) -> Principal:
    """The principal of an authenticated user (``managed``: ``managed_shelters``): the same
    for a bearer token and a web session (``api.web.sessions``), so both paths meet the same
    role rules."""
    assert user.id is not None
    shelters = frozenset(managed.split(_SHELTER_SEPARATOR)) if managed else frozenset()
    return Principal(id=user.id, handle=user.handle, role=user.role, shelters=shelters)


def principal_of(session: Session, user: User) -> Principal:
    """The principal of ``user``, their shelters read now (``principal_from``)."""
    managed = session.exec(select(managed_shelters()).where(col(User.id) == user.id)).one()
    return principal_from(user, managed)


def note_use(engine: Engine, token_id: int) -> None:
    """Record that the token was used now, in a short transaction of its own (after the
    answer: a busy database only delays the note to the next use)."""
    try:
        with Session(engine) as session:
            session.execute(
                update(Token).where(col(Token.id) == token_id).values(last_used_at=utcnow())
            )
            session.commit()
    except DBAPIError as e:
        log.info("last use of token %s not noted: %s", token_id, e)
