"""The service's commands: ``placement serve``, ``users ...``, ``purge``, ``backup`` and
``scheduler``.

Registered on the ``placement`` app by :mod:`cli.main`. Everything heavy (pydantic-settings,
the database layer, uvicorn) is imported inside the commands, so ``placement solve`` does not
load it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from cli.help import HelpCommand, HelpGroup
from cli.language import cli_translator
from placement.i18n import N_

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from api.config import Settings
    from api.scheduler import Ran

users = typer.Typer(
    cls=HelpGroup, no_args_is_help=True, help=N_("Users and bearer tokens of the service.")
)

Days = Annotated[
    float | None,
    typer.Option(
        help=N_("the token expires after this many days (default: PLACEMENT_TOKEN_DAYS)"),
        min=0.001,
        max=3660,
    ),
]


def _days(days: float | None, settings: Settings) -> float:
    return settings.token_days if days is None else days


def _settings() -> Settings:
    # imported here (pydantic-settings): `placement solve` shows its first plan sooner
    from api.config import Settings

    return Settings()


def _engine(settings: Settings) -> Engine:
    # imported here so that `placement solve` does not load the database layer
    from api.db import make_engine, migrate

    migrate(settings.url())
    return make_engine(settings)


@contextmanager
def _user_errors() -> Iterator[None]:
    """A refused user command: its reason on stderr and exit code 2, never a traceback."""
    from api.auth import UserError

    try:
        yield
    except UserError as e:
        t = cli_translator()
        typer.echo(t.gettext("error: {problem}", problem=e.text.render(t)), err=True)
        raise typer.Exit(2) from None


@users.command("add", cls=HelpCommand)
def users_add(
    handle: Annotated[str, typer.Argument(help=N_("a login handle (not a person's name)"))],
    role: Annotated[str, typer.Option(help=N_("coordinator, shelter_manager or analyst"))],
    shelter: Annotated[
        list[str] | None,
        typer.Option(metavar="ID", help=N_("shelter id a manager is bound to (repeatable)")),
    ] = None,
    days: Days = None,
) -> None:
    """Create a user and print its first token (shown once; only its hash is stored)."""
    from api.auth import add_user

    settings = _settings()
    with _user_errors():
        _, token = add_user(_engine(settings), handle, role, shelter or [], _days(days, settings))
    typer.echo(token)


@users.command("import", cls=HelpCommand)
def users_import(
    file: Annotated[str, typer.Argument(help=N_("a CSV file: handle,role,shelters[,days]"))],
    days: Days = None,
) -> None:
    """Create many users from a CSV file in one transaction (all or none); print each new
    user's first token once, as handle<TAB>token.

    Columns: handle, role, shelters (a manager's shelter ids separated by ";"), days
    (optional). A bad row refuses the whole file: every problem is named by row and column.
    """
    from pathlib import Path

    from api.user_import import ImportRefused, import_users

    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        typer.echo(
            cli_translator().gettext("error: {file}: {problem}", file=file, problem=str(e)),
            err=True,
        )
        raise typer.Exit(2) from None
    settings = _settings()
    try:
        created = import_users(_engine(settings), text, _days(days, settings))
    except ImportRefused as e:
        t = cli_translator()
        for problem in e.problems:
            typer.echo(f"{file}: {problem.render(t)}", err=True)
        typer.echo(
            cli_translator().gettext("error: {file}: refused, no user created", file=file), err=True
        )
        raise typer.Exit(2) from None
    for handle, token in created:
        typer.echo(f"{handle}\t{token}")


@users.command("token", cls=HelpCommand)
def users_token(
    handle: Annotated[str, typer.Argument(help=N_("an existing user's handle"))],
    days: Days = None,
) -> None:
    """Create another token for a user and print it."""
    from api.auth import add_token

    settings = _settings()
    with _user_errors():
        token = add_token(_engine(settings), handle, _days(days, settings))
    typer.echo(token)


@users.command("revoke-token", cls=HelpCommand)
def users_revoke_token(
    handle: Annotated[str, typer.Argument(help=N_("the user whose token is lost"))],
    token_id: Annotated[
        int | None,
        typer.Option("--id", help=N_("one token (ids: `placement users tokens`); default: all")),
    ] = None,
) -> None:
    """Revoke a user's token (or all of them): refused at once by every API worker."""
    from api.auth import revoke_tokens

    with _user_errors():
        count = revoke_tokens(_engine(_settings()), handle, token_id)
    t = cli_translator()
    typer.echo(
        t.ngettext(
            "revoked {n} token of {handle}", "revoked {n} tokens of {handle}", count, handle=handle
        )
    )


@users.command("deactivate", cls=HelpCommand)
def users_deactivate(
    handle: Annotated[str, typer.Argument(help=N_("the user to cut off"))],
) -> None:
    """Deactivate a user: every token of theirs is refused from now on."""
    from api.auth import deactivate

    with _user_errors():
        deactivate(_engine(_settings()), handle)
    typer.echo(cli_translator().gettext("deactivated {handle}", handle=handle))


@users.command("tokens", cls=HelpCommand)
def users_tokens(handle: Annotated[str, typer.Argument(help=N_("a user's handle"))]) -> None:
    """A user's tokens: id, created, expires, last used, revoked (never the token)."""
    from api.auth import tokens

    with _user_errors():
        rows = tokens(_engine(_settings()), handle)
    typer.echo("id\tcreated\texpires\tlast_used\trevoked")
    for t in rows:
        cells = (t.created_at, t.expires_at, t.last_used_at, t.revoked_at)
        when = [c.isoformat(timespec="seconds") if c else "-" for c in cells]
        typer.echo("\t".join([str(t.id), *when]))


@users.command("set-password", cls=HelpCommand)
def users_set_password(
    handle: Annotated[str, typer.Argument(help=N_("an existing user's handle"))],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help=N_("read the password from standard input"))
    ] = False,
) -> None:
    """Set the user's web log-in password (asked twice, not echoed; stored as argon2)."""
    import sys

    from api.web.sessions import set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with _user_errors():
        set_password(_engine(_settings()), handle, password)
    typer.echo(cli_translator().gettext("password set for {handle}", handle=handle))


@users.command("login-link", cls=HelpCommand)
def users_login_link(
    handle: Annotated[str, typer.Argument(help=N_("an existing user's handle"))],
) -> None:
    """Print a one-time web log-in link for the user (expires after
    PLACEMENT_LOGIN_LINK_MINUTES; give it by a channel only they read)."""
    from api.web.sessions import login_link_url, new_login_link

    settings = _settings()
    with _user_errors():
        token = new_login_link(_engine(settings), settings, handle)
    typer.echo(login_link_url(settings, token))


@users.command("list", cls=HelpCommand)
def users_list() -> None:
    """List users: handle, role, shelters."""
    from sqlmodel import Session, select

    from api.tables import User, UserShelter

    with Session(_engine(_settings())) as session:
        for u in session.exec(select(User).order_by(User.handle)).all():
            bound = session.exec(select(UserShelter.shelter_id).where(UserShelter.user_id == u.id))
            typer.echo(f"{u.handle}\t{u.role}\t{','.join(bound)}")


def serve(
    host: Annotated[str | None, typer.Option(help=N_("default: PLACEMENT_HOST"))] = None,
    port: Annotated[int | None, typer.Option(help=N_("default: PLACEMENT_PORT"))] = None,
    workers: Annotated[int, typer.Option(help=N_("API worker processes"), min=1, max=32)] = 1,
    seed_demo: Annotated[
        bool, typer.Option("--seed-demo", help=N_("seed a demo national network if empty"))
    ] = False,
) -> None:
    """Start the HTTP service (OpenAPI docs at /docs)."""
    import uvicorn

    t = cli_translator()
    settings = _settings()
    engine = _engine(settings)
    if seed_demo:
        from api.demo import DEMO_PASSWORDS
        from api.demo import seed_demo as seed

        tokens = seed(engine)
        for handle, token in tokens.items():
            typer.echo(f"{handle}: {token}")
        if not tokens:
            typer.echo(
                t.gettext("demo network already seeded; new tokens: placement users token HANDLE")
            )
        address = f"http://{host or settings.host}:{port or settings.port}"
        typer.echo(
            t.gettext(
                "web app: {address}/app/  (demo log-ins below; a link: users login-link)",
                address=address,
            )
        )
        for handle, password in DEMO_PASSWORDS.items():
            typer.echo(f"  {handle} / {password}")
    engine.dispose()
    docs = f"http://{host or settings.host}:{port or settings.port}/docs"
    typer.echo(
        t.gettext(
            "database: {database}; web app at {app}, API docs at {docs}",
            database=settings.describe(),
            app=f"http://{host or settings.host}:{port or settings.port}/app/",
            docs=docs,
        )
    )
    uvicorn.run(
        "api.main:app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        timeout_keep_alive=settings.keep_alive_seconds,
    )


def purge(
    days: Annotated[int, typer.Option(help=N_("retention period, days"), min=1)] = 90,
) -> None:
    """Remove case data older than the retention period (waiting arrivals are kept)."""
    from api.retention import purge as run

    result = run(_engine(_settings()), days)
    typer.echo(
        cli_translator().gettext(
            "purged {arrivals} arrivals, {placements} placements, {plans} plans, "
            "{operations} operations",
            arrivals=result.arrivals,
            placements=result.placements,
            plans=result.plans,
            operations=result.operations,
        )
    )


def backup(
    destination: Annotated[str, typer.Argument(help=N_("the new file (refused if it exists)"))],
) -> None:
    """A consistent copy of the SQLite database, taken while the service runs (owner-only
    file). For PostgreSQL use pg_dump (docs/service.md, Deployment)."""
    from pathlib import Path

    from api.db import BackupError, backup_sqlite

    try:
        pages = backup_sqlite(_settings(), Path(destination))
    except BackupError as e:
        typer.echo(cli_translator().gettext("error: {problem}", problem=str(e)), err=True)
        raise typer.Exit(2) from None
    typer.echo(
        cli_translator().gettext(
            "backed up {pages} pages to {destination}", pages=pages, destination=destination
        )
    )


def scheduler(
    once: Annotated[
        bool, typer.Option("--once", help=N_("run the jobs due now once, say which, and exit"))
    ] = False,
) -> None:
    """Run the deadline and periodic jobs (escalations, re-plans, waiting list, purge).

    Run one next to the API; more are safe: each job runs once per due time.
    """
    from api.scheduler import describe, ran_line, run_due_jobs
    from api.scheduler import serve as run
    from api.tables import utcnow

    t = cli_translator()
    settings = _settings()
    engine = _engine(settings)
    if once:
        typer.echo(t.gettext("scheduler, once: {jobs}", jobs=describe(settings).render(t)))
        typer.echo(ran_line(run_due_jobs(engine, settings, utcnow())).render(t))
        return
    jobs = describe(settings).render(t)
    typer.echo(t.gettext("scheduler started (stop: Ctrl-C): {jobs}", jobs=jobs))

    def said(ran: Ran) -> None:
        if ran.jobs:
            typer.echo(f"{utcnow().isoformat(timespec='seconds')} {ran_line(ran).render(t)}")

    run(settings, engine, said)
