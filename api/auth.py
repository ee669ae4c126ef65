"""Users and bearer tokens. A token is shown once, at creation; only its hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.tables import ROLES, ShelterRow, Token, User, UserShelter

TOKEN_BYTES = 32


class UserError(ValueError):
    """A user or token could not be created; the message says why."""


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


def new_token(session: Session, user: User) -> str:
    """Create a token for ``user``; return it in clear (the only time it is available)."""
    assert user.id is not None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(Token(user_id=user.id, token_hash=hash_token(token)))
    return token


def add_user(
    engine: Engine, handle: str, role: str, shelters: Sequence[str] = ()
) -> tuple[User, str]:
    """Create a user (and a first token). Managers must be bound to existing shelters."""
    if role not in ROLES:
        raise UserError(f"role: must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "shelter_manager" and not shelters:
        raise UserError("shelter: a shelter manager needs at least one --shelter")
    if role != "shelter_manager" and shelters:
        raise UserError("shelter: only a shelter manager is bound to shelters")
    with Session(engine) as session:
        if session.exec(select(User).where(User.handle == handle)).first() is not None:
            raise UserError(f"handle: {handle!r} already exists")
        known = set(session.exec(select(ShelterRow.id).where(col(ShelterRow.id).in_(shelters))))
        missing = [s for s in shelters if s not in known]
        if missing:
            raise UserError(f"shelter: unknown shelter(s) {', '.join(missing)}")
        user = User(handle=handle, role=role)
        session.add(user)
        session.flush()
        assert user.id is not None
        for sid in dict.fromkeys(shelters):
            session.add(UserShelter(user_id=user.id, shelter_id=sid))
        token = new_token(session, user)
        session.commit()
        session.refresh(user)
        return user, token


def add_token(engine: Engine, handle: str) -> str:
    """A new token for an existing user."""
    with Session(engine) as session:
        user = session.exec(select(User).where(User.handle == handle)).first()
        if user is None:
            raise UserError(f"handle: no user {handle!r}")
        token = new_token(session, user)
        session.commit()
        return token


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal that ``token`` belongs to, or None."""
    row = session.exec(
        select(User)
        .join(Token, col(Token.user_id) == col(User.id))
        .where(Token.token_hash == hash_token(token), col(Token.revoked_at).is_(None))
    ).first()
    if row is None or not row.active or row.id is None:
        return None
    shelters = frozenset(
        session.exec(select(UserShelter.shelter_id).where(UserShelter.user_id == row.id))
    )
    return Principal(id=row.id, handle=row.handle, role=row.role, shelters=shelters)
