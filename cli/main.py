"""The ``placement`` console script: the only place that prints.

``HELP`` is what ``placement --help`` shows a user; this docstring is for developers.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cli import service, stress
from cli.help import HelpCommand, HelpGroup
from cli.language import LangOption, choose, cli_translator
from placement.i18n import N_, Translator
from placement.loading import ScenarioError, load_scenario
from placement.models import PRIORITIES, Scenario
from placement.plan import Plan
from placement.text import ENGLISH, render
from solver.names import SolverName
from solver.options import EngineOptions, SolveOptions

if TYPE_CHECKING:
    from solver.progress import ProgressEvent

HELP = N_(
    "Shelter bed and placement scheduling: plan a scenario file (solve), run the service "
    "(serve, scheduler, users, backup, purge), or stress-test a network (stress)."
)
# rich_markup_mode=None: plain click help (no `<bool>` next to flags, no boxes to copy from)
app = typer.Typer(
    cls=HelpGroup, add_completion=False, no_args_is_help=True, help=HELP, rich_markup_mode=None
)
EXIT_BAD_INPUT = 2


@app.command(cls=HelpCommand)
def solve(  # noqa: PLR0913  (typer: one parameter per command-line option)
    file: Annotated[Path, typer.Argument(help=N_("scenario file (YAML or JSON)"))],
    json_output: Annotated[bool, typer.Option("--json", help=N_("print the plan as JSON"))] = False,
    time_limit: Annotated[
        float,
        typer.Option(
            help=N_(
                "seconds for the whole command, from its start to the plan: loading, the "
                "solve and the explanations included"
            ),
            min=0.1,
        ),
    ] = 30.0,
    solver: Annotated[
        SolverName, typer.Option(help=N_("cpsat (optimal) or greedy (baseline)"))
    ] = "cpsat",
    workers: Annotated[int, typer.Option(help=N_("CP-SAT worker threads"), min=1, max=64)] = 1,
    explain: Annotated[
        bool, typer.Option(help=N_("search verified relaxations for the unplaced"))
    ] = True,
    quiet: Annotated[bool, typer.Option(help=N_("no progress lines on stderr"))] = False,
    lang: LangOption = None,
) -> None:
    """Plan a scenario: who goes where, who could not be placed, why, and what would help."""
    t = cli_translator(lang)
    err = Console(stderr=True, soft_wrap=True)
    scenario = _load(file, err, t)
    # The modules and the scenario live until the command exits: frozen, no full garbage
    # collection walks them again, here or in the solve's forked child.
    gc.freeze()
    on_progress = None if quiet else ProgressPrinter(err, t)
    # solver.process does not load OR-Tools: the first plan is shown before it is.
    from solver.process import RunOptions, gc_paused, process_started
    from solver.process import solve as run_solve

    plan = run_solve(
        scenario,
        EngineOptions(
            solver=solver,
            solve=SolveOptions(time_limit=time_limit, workers=workers),
            explain=explain,
        ),
        on_progress,
        # the time limit counts from this process's start: imports and loading included
        RunOptions(first_plan_in_parent=solver == "cpsat", started=process_started()),
    )
    # no cyclic garbage collection while the plan is written out: each one walks this
    # process's whole heap (at 10,000 x 20,000 hard, 1.66 s with it, 0.79 s without)
    with gc_paused():
        _print_plan(plan, json_output, t)
    # Done: skip the interpreter's teardown of a large scenario's objects (about a second
    # at 10,000 x 20,000), which the time limit would otherwise not cover.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _load(file: Path, err: Console, t: Translator) -> Scenario:
    """The scenario, or its problems on stderr (``FILE: path: problem``) and exit code 2."""
    try:
        return load_scenario(file)
    except ScenarioError as e:
        label = t.gettext("error:")
        for problem in e.in_language(t):
            err.print(f"[red]{label}[/red] {escape(e.source)}: {escape(problem)}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


class ProgressPrinter:
    """Prints each progress event on stderr, with the seconds since it was created."""

    def __init__(self, err: Console, t: Translator = ENGLISH) -> None:
        self.err = err
        self.t = t
        self.started = time.perf_counter()

    def __call__(self, event: ProgressEvent) -> None:
        line = progress_line(event, time.perf_counter() - self.started, self.t)
        self.err.print(f"[dim]{escape(line)}[/dim]", highlight=False)


def progress_line(event: ProgressEvent, seconds: float, t: Translator = ENGLISH) -> str:
    """``  0.42s priority_5: placed at ≥5/≥4/≥3/≥2/≥1 4/7/14/20/23 of at most ... (proven)``
    (the stage's name in ``t``'s language; the solver's notes are its own, in English)."""
    from solver.progress import stage_text  # loaded already: the event comes from there

    stage = render(stage_text(event.stage), t)
    params = {"seconds": t.number(seconds, "0.00").rjust(6), "stage": stage}
    if not event.is_plan:  # a note
        return t.gettext("{seconds}s {stage}", **params)
    placed = "/".join(t.number(event.placed_at_or_above[p]) for p in PRIORITIES)
    bound = "" if event.bound is None else "/".join(t.number(event.bound[p]) for p in PRIORITIES)
    if bound and event.proven:
        return t.gettext(
            "{seconds}s {stage}: placed at ≥5/≥4/≥3/≥2/≥1 {placed} of at most {bound} (proven)",
            placed=placed,
            bound=bound,
            **params,
        )
    if bound:
        return t.gettext(
            "{seconds}s {stage}: placed at ≥5/≥4/≥3/≥2/≥1 {placed} of at most {bound}",
            placed=placed,
            bound=bound,
            **params,
        )
    if event.proven:
        return t.gettext(
            "{seconds}s {stage}: placed at ≥5/≥4/≥3/≥2/≥1 {placed} (proven)",
            placed=placed,
            **params,
        )
    return t.gettext(
        "{seconds}s {stage}: placed at ≥5/≥4/≥3/≥2/≥1 {placed}", placed=placed, **params
    )


def _print_plan(plan: Plan, json_output: bool, t: Translator) -> None:
    if json_output:  # the reasons and relaxations in the reader's language (English default)
        sys.stdout.write(plan.localized(t).model_dump_json(indent=2) + "\n")
        return
    from cli.render import render_plan

    render_plan(plan, Console(width=None if sys.stdout.isatty() else 140), t)


#: the loggers ``-v`` turns to debug; third-party ones (alembic, APScheduler, SQLAlchemy...)
#: stay at WARNING unless ``-vv``
OWN_LOGGERS = ("placement", "solver", "stress", "api", "cli")


@app.callback()
def _main(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            help=N_("debug lines of this program on stderr; -vv: of the libraries too"),
        ),
    ] = 0,
    lang: LangOption = None,
) -> None:
    choose(lang)
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if verbose:
        for name in OWN_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)


# The service's commands (their heavy imports are inside them).
app.command("serve", cls=HelpCommand)(service.serve)
app.command("purge", cls=HelpCommand)(service.purge)
app.command("scheduler", cls=HelpCommand)(service.scheduler)
app.command("backup", cls=HelpCommand)(service.backup)
app.add_typer(service.users, name="users")
# Scenario planning: stress tests of the network (cli/stress.py).
app.command("stress", cls=HelpCommand)(stress.stress)


def main() -> None:
    """The console script: usage errors in the reader's language (``cli.usage``)."""
    from cli.usage import run

    run(app)
