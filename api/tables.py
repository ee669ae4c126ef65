"""The stored state: SQLModel tables. Never returned to clients as such (see ``schemas``).

Shelters and arrivals keep the engine's own document (``data``), validated by
``placement.models`` before it is written, so the scenario format stays the single source of
truth for their fields. Read it through ``ShelterRow.shelter`` / ``ArrivalRow.arrival`` (the
engine's models, with the engine's defaults), write it with ``set_shelter`` / ``set_arrival``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, inspect
from sqlmodel import Field, SQLModel

from placement.models import Arrival, Shelter

ROLES = ("coordinator", "shelter_manager", "analyst")


def utcnow() -> datetime:
    """Timezone-aware now, UTC."""
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A stored time as UTC-aware (SQLite gives naive UTC, PostgreSQL aware)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class User(SQLModel, table=True):
    """A user account: a handle (no personal name) and a role."""

    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=32)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    #: argon2 hash of the web log-in password (``api.web.sessions``); None: no password
    password_hash: str | None = Field(default=None, max_length=256)
    #: the language of the web pages (``placement.i18n.LOCALES``); None: the browser's
    language: str | None = Field(default=None, max_length=8)


class UserShelter(SQLModel, table=True):
    """A shelter manager's binding to a shelter."""

    __tablename__ = "user_shelters"
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    shelter_id: str = Field(foreign_key="shelters.id", primary_key=True, max_length=64)


class Token(SQLModel, table=True):
    """A bearer token, stored only as its SHA-256 hash."""

    __tablename__ = "tokens"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    #: refused from then on; None: until revoked (tokens issued before expiry existed)
    expires_at: datetime | None = None
    #: when it last authenticated a request (to within ``api.auth.LAST_USED_EVERY``)
    last_used_at: datetime | None = None


#: a shelter document's identity: id, version, time of the last change (both set by every
#: change, the time to the microsecond, so no two committed documents share one)
DocumentKey = tuple[str, int, datetime]


class ShelterDocuments:
    """The shelters' documents as the engine's ``Shelter``, parsed once per process and kept
    by ``DocumentKey`` (at most ``size``, least recently used dropped). Always correct:
    every change bumps the version in the row that is read with the key, so a changed
    shelter is a new key (on every worker process); ``Shelter`` is frozen, so sharing is safe.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._docs: OrderedDict[DocumentKey, Shelter] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: DocumentKey) -> Shelter | None:
        """The document, when parsed before."""
        with self._lock:
            found = self._docs.get(key)
            if found is not None:
                self._docs.move_to_end(key)
            return found

    def put(self, key: DocumentKey, shelter: Shelter) -> None:
        """Keep the parsed document."""
        with self._lock:
            self._docs[key] = shelter
            self._docs.move_to_end(key)
            while len(self._docs) > self.size:
                self._docs.popitem(last=False)


#: this process's parsed shelter documents (a national network has about 500 shelters)
SHELTER_DOCUMENTS = ShelterDocuments(size=5000)


class ShelterRow(SQLModel, table=True):
    """A shelter: the engine's shelter document plus who changed it and when."""

    __tablename__ = "shelters"
    id: str = Field(primary_key=True, max_length=64)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    version: int = 1
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: int | None = Field(default=None, foreign_key="users.id")
    capacity_updated_at: datetime = Field(default_factory=utcnow)
    capacity_updated_by: int | None = Field(default=None, foreign_key="users.id")

    @property
    def document_key(self) -> DocumentKey | None:
        """The key of the stored document; None while the row has unsaved changes."""
        state = inspect(self)
        if not state.persistent or state.modified:
            return None
        return (self.id, self.version, self.updated_at)

    @property
    def shelter(self) -> Shelter:
        """The stored document as the engine's shelter (parsed once per version and process,
        ``SHELTER_DOCUMENTS``; the ``data`` column need not be loaded when it was)."""
        key = self.document_key
        found = None if key is None else SHELTER_DOCUMENTS.get(key)
        if found is not None:
            return found
        # kept only when the document was read with the row's version: a deferred column
        # loaded now may be of a later version (PostgreSQL reads each statement afresh)
        loaded_with_row = "data" in inspect(self).dict
        shelter = Shelter.model_validate(self.data)
        if key is not None and loaded_with_row:
            SHELTER_DOCUMENTS.put(key, shelter)
        return shelter

    def set_shelter(self, shelter: Shelter) -> None:
        """Store ``shelter`` as the document."""
        self.data = shelter.model_dump(mode="json", by_alias=True)


class ShelterUpdate(SQLModel, table=True):
    """Every change to a shelter: when, by whom, what."""

    __tablename__ = "shelter_updates"
    id: int | None = Field(default=None, primary_key=True)
    shelter_id: str = Field(foreign_key="shelters.id", index=True, max_length=64)
    at: datetime = Field(default_factory=utcnow)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    kind: str = Field(max_length=32)
    fields: list[str] = Field(sa_column=Column(JSON, nullable=False))


class Operation(SQLModel, table=True):
    """A dismantling: a reference, a date and the danger locations its arrivals share."""

    __tablename__ = "operations"
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=64, unique=True)
    date: dt.date
    danger: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, foreign_key="users.id")


class ArrivalRow(SQLModel, table=True):
    """A pseudonymous arrival: the engine's arrival document and where it stands."""

    __tablename__ = "arrivals"
    id: str = Field(primary_key=True, max_length=64)
    operation_id: int = Field(foreign_key="operations.id", index=True)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="waiting", max_length=16, index=True)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    #: on the waiting list (retried when places free up) since then; None: not on it
    waitlisted_at: datetime | None = None
    #: why the last re-plan found no place (the engine's explanation): catalogue messages
    #: (``placement.text.Text`` as JSON; plain strings from before they were)
    waiting_reasons: list[str | dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )

    @property
    def arrival(self) -> Arrival:
        """The stored document as the engine's arrival."""
        return Arrival.model_validate(self.data)

    def set_arrival(self, arrival: Arrival) -> None:
        """Store ``arrival`` as the document."""
        self.data = arrival.model_dump(mode="json", by_alias=True)


class PlanJob(SQLModel, table=True):
    """A plan request, its solve and its result."""

    __tablename__ = "plan_jobs"
    id: str = Field(primary_key=True, max_length=32)
    operation_id: int | None = Field(default=None, foreign_key="operations.id")
    status: str = Field(default="queued", max_length=16)
    requested_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    options: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    #: what reading and explaining the plan needs of its scenario (``plan_options.PlanBasis``)
    basis: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    #: the versions the plan was solved with: every shelter while it runs, then only those
    #: the plan places people in (a commit checks those)
    shelter_versions: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    arrival_versions: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: the best plan so far while the solve runs: stage, seconds, persons placed by priority
    progress: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: why the job failed, in English, and as a ``placement.text.Text`` (JSON) read in each
    #: reader's language (jobs that failed before it was kept have none)
    error: str | None = None
    error_message: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    committed_at: datetime | None = None
    committed_by: int | None = Field(default=None, foreign_key="users.id")


class PlacementRow(SQLModel, table=True):
    """A committed placement. It holds its places until a coordinator frees it."""

    __tablename__ = "placements"
    __table_args__ = (Index("ix_placements_shelter_active", "shelter_id", "active"),)
    id: int | None = Field(default=None, primary_key=True)
    arrival_id: str = Field(foreign_key="arrivals.id", index=True, max_length=64)
    shelter_id: str = Field(foreign_key="shelters.id", max_length=64)
    plan_id: str | None = Field(default=None, foreign_key="plan_jobs.id", max_length=32)
    first_night: dt.date
    last_night: dt.date
    persons: int
    active: bool = True
    committed_at: datetime = Field(default_factory=utcnow)
    committed_by: int | None = Field(default=None, foreign_key="users.id")
    released_at: datetime | None = None
    released_by: int | None = Field(default=None, foreign_key="users.id")
    #: proposed -> accepted | declined (by the manager, or unanswered, or compromised)
    status: str = Field(default="proposed", max_length=16)
    answer_reason: str | None = Field(default=None, max_length=200)
    answered_at: datetime | None = None
    answered_by: int | None = Field(default=None, foreign_key="users.id")
    answer_due_at: datetime | None = None  # escalation when still proposed
    replan_due_at: datetime | None = None  # re-planned as if declined when still proposed
    escalated_at: datetime | None = None


class AuditRecord(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    role: str = Field(max_length=32)
    action: str = Field(max_length=16)
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=64)
    detail: str = Field(default="", max_length=200)
    #: the system's acts (``role`` "system"): whose act started it (a user id), and what
    on_behalf_of: int | None = None
    trigger: str = Field(default="", max_length=32)


class Alert(SQLModel, table=True):
    """Something coordinators must see: an unanswered proposal, a person left without place."""

    __tablename__ = "alerts"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    kind: str = Field(max_length=32)
    placement_id: int | None = None
    arrival_id: str | None = Field(default=None, max_length=64, index=True)
    shelter_id: str | None = Field(default=None, max_length=64)
    detail: str = Field(default="", max_length=500)
    #: the detail as a ``placement.text.Text`` (JSON), read in each reader's language
    detail_message: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    resolved_at: datetime | None = None


class JobRun(SQLModel, table=True):
    """One run of a scheduled job for one due time; the primary key makes it run once."""

    __tablename__ = "job_runs"
    job: str = Field(primary_key=True, max_length=64)
    due_at: datetime = Field(primary_key=True)
    ran_at: datetime = Field(default_factory=utcnow)
    runner: str = Field(default="", max_length=64)


class CompromisedShelter(SQLModel, table=True):
    """A shelter the network found (``api.services.compromised`` says what each scope does)."""

    __tablename__ = "compromised_shelters"
    id: int | None = Field(default=None, primary_key=True)
    shelter_id: str = Field(foreign_key="shelters.id", index=True, max_length=64)
    #: everyone | operation | network
    scope: str = Field(default="everyone", max_length=16)
    network: str | None = Field(default=None, max_length=64)
    operation_id: int | None = Field(default=None, foreign_key="operations.id")
    at: datetime = Field(default_factory=utcnow)
    by: int | None = Field(default=None, foreign_key="users.id")


class Hold(SQLModel, table=True):
    """Places held for an operation's arrivals before they arrive (confidential).

    Other plans do not see the held places; the operation's own plans do. A hold ends when it
    expires, is released, or its places are used by the operation's placements.
    """

    __tablename__ = "holds"
    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operations.id", index=True)
    shelter_id: str = Field(foreign_key="shelters.id", index=True, max_length=64)
    places: int
    first_night: dt.date
    last_night: dt.date
    expires_at: datetime
    status: str = Field(default="active", max_length=16)  # active, used, expired, released
    profile: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    ended_at: datetime | None = None


class ReportCount(SQLModel, table=True):
    """Aggregate counts kept when case data are purged (no ids, nothing about a person)."""

    __tablename__ = "report_counts"
    id: int | None = Field(default=None, primary_key=True)
    purged_at: datetime = Field(default_factory=utcnow)
    period: str = Field(max_length=7, index=True)  # YYYY-MM of the end of the stay
    arrivals: int = 0
    persons: int = 0
    placed: int = 0
    withdrawn: int = 0
    proposals: int = 0
    accepted: int = 0
    declined: int = 0
    compromised: int = 0


class StressJobRow(SQLModel, table=True):
    """A stress job (``api.services.stress``): its progress and, once done, its report's
    aggregates, stored without any case and without any shelter's location."""

    __tablename__ = "stress_jobs"
    id: str = Field(primary_key=True, max_length=32)
    owner_id: int = Field(foreign_key="users.id", index=True)
    status: str = Field(default="running", max_length=16)
    phase: str = Field(default="starting", max_length=80)
    done: int = 0
    total: int = 0
    seconds_left: float | None = None
    stop_requested: bool = False
    started_at: datetime = Field(default_factory=utcnow)
    #: written every few seconds by the process that runs it: older, that process is gone
    heartbeat_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: why the job failed, in English, and as a ``placement.text.Text`` (JSON) read in each
    #: reader's language (jobs that failed before it was kept have none)
    error: str | None = Field(default=None, max_length=2000)
    error_message: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


class WebSession(SQLModel, table=True):
    """A browser's log-in (``api.web.sessions``): the cookie is stored only as its hash."""

    __tablename__ = "web_sessions"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    #: the session-bound anti-CSRF token every form carries
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


class LoginLink(SQLModel, table=True):
    """A one-time log-in link made by ``placement users login-link`` (stored as its hash)."""

    __tablename__ = "login_links"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class LoginFailure(SQLModel, table=True):
    """A failed web log-in, counted per handle and per address to throttle guessing."""

    __tablename__ = "login_failures"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    handle: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
