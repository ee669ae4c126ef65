"""``placement stress SPEC``: a stress test of the network, with a progress bar, a summary,
``--json`` for machines and ``--report FILE.html`` with plots."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cli.language import LangOption, cli_translator
from placement.i18n import translator
from stress.groups import EVERYONE
from stress.limits import MAX_DRAWS, MAX_LOCAL_WORKERS

if TYPE_CHECKING:
    from rich.progress import TaskID
    from rich.table import Table

    # The engine (OR-Tools) is loaded only when a sweep runs.
    from stress.report import StressReport
    from stress.run import Networks
    from stress.spec import StressSpec
    from stress.sweep import SweepProgress
    from stress.texts import Texts

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
#: rows per table in the summary
ROWS = 10


# The help texts below are not marked N_: this file's marks are the `stress` catalogue's, and
# the help of every command is the `engine` catalogue's (cli/help.py; its test walks the app).
def stress(  # noqa: PLR0913  (typer: one parameter per command-line option, as `solve`)
    spec_file: Annotated[Path, typer.Argument(help="stress specification (YAML or JSON)")],
    draws: Annotated[
        int | None, typer.Option(help="draws (default: the spec's)", min=1, max=MAX_DRAWS)
    ] = None,
    workers: Annotated[
        int,
        typer.Option(help="local worker processes (default: cores)", min=1, max=MAX_LOCAL_WORKERS),
    ] = os.cpu_count() or 1,
    cluster: Annotated[
        str | None, typer.Option(help="address of an existing Dask scheduler (tcp://host:port)")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    report: Annotated[
        Path | None, typer.Option(help="write an HTML report with plots to this file")
    ] = None,
    lang: LangOption = None,
) -> None:
    """Stress-test the network: probability that everyone is placed, bottlenecks, advice."""
    # The stress package is imported here, not with the module: `placement solve` shows its
    # first plan sooner.
    from stress.run import run_stress
    from stress.sweep import ClusterOptions, SweepError
    from stress.texts import Texts

    # --lang, else `placement --lang`, else $PLACEMENT_LANG, else English (as `solve`)
    t = Texts(cli_translator(lang).locale)
    err = Console(stderr=True, soft_wrap=True)
    # The scheduler's INFO lines would bury the progress bar (distributed sets its level when
    # imported, so after that).
    import distributed  # noqa: F401

    logging.getLogger("distributed").setLevel(logging.WARNING)
    spec, networks = _load(spec_file, draws, err, t)
    with _ProgressBar(err, t) as bar:
        try:
            result = run_stress(spec, networks, ClusterOptions(cluster, workers), bar.update)
        except SweepError as e:
            params = dict(e.params)
            if "phase" in params:  # a phase's name is a msgid too
                params["phase"] = t.gettext(params["phase"])
            problem = t.gettext(e.msgid, **params)
            err.print(t.gettext("error: {problem}", problem=problem), style="red", markup=False)
            raise typer.Exit(EXIT_FAILED) from None
    if report is not None:
        from stress.html import html_report

        report.write_text(html_report(result, networks.base, t.locale), encoding="utf-8")
        err.print(t.gettext("report written to {path}", path=report), highlight=False)
    if json_output:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        render_summary(result, Console(width=None if sys.stdout.isatty() else 140), t)


def _load(
    spec_file: Path, draws: int | None, err: Console, t: Texts
) -> tuple[StressSpec, Networks]:
    """The spec and its networks, or every problem on stderr and exit code 2."""
    from stress.run import Networks
    from stress.spec import StressSpecError, load_network, load_spec, network_problems

    try:
        spec = load_spec(spec_file)
        if draws is not None:
            spec = spec.model_copy(update={"draws": draws})
        base = load_network(spec.network, spec_file)
        compare = (
            None
            if spec.compare is None
            else load_network(spec.compare.network, spec_file, "compare.network")
        )
        problems = network_problems(spec, base)
        if problems:
            raise StressSpecError(str(spec_file), problems)
    except StressSpecError as e:
        for problem in e.in_language(translator(t.locale)):
            line = f"{e.source}: {problem}"
            err.print(t.gettext("error: {problem}", problem=line), style="red", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    return spec, Networks(base, compare)


class _ProgressBar:
    """A bar per phase on stderr: solves done, of how many, and the time left."""

    def __init__(self, err: Console, t: Texts) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.t = t
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(t.gettext("time left")),
            TimeRemainingColumn(),
            console=err,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, event: SweepProgress) -> None:
        task = self.tasks.get(event.phase)
        if task is None:
            # the phase's name is a msgid of the stress catalogue (N_ where it is named)
            description = self.t.gettext(event.phase)
            task = self.tasks[event.phase] = self.progress.add_task(description, total=event.total)
        self.progress.update(task, completed=event.done, total=event.total)


def _table(*headings: str, title: str | None = None) -> Table:
    from rich.table import Table

    return Table(*headings, title=title)


def render_summary(r: StressReport, out: Console, t: Texts) -> None:
    """The report as tables, in the reader's language."""
    out.print(
        t.ngettext(
            "{name}: {n} draw against {network} (seed {seed}; {proven} proven optimal)",
            "{name}: {n} draws against {network} (seed {seed}; {proven} proven optimal)",
            r.draws,
            name=r.name,
            network=r.network,
            seed=r.seed,
            proven=t.integer(r.proven_optimal_draws),
        ),
        highlight=False,
    )
    out.print(
        t.gettext(
            "Persons per draw on average: {persons}", persons=t.decimal(r.persons_requested_mean, 1)
        ),
        highlight=False,
    )
    ci = t.gettext("95 % CI")
    table = _table(t.gettext("everyone placed"), t.gettext("probability"), ci)
    table.add_row(
        t.gettext(EVERYONE),
        t.percent(r.all_placed.value),
        t.ci(r.all_placed.low, r.all_placed.high),
    )
    for p, e in r.all_placed_at_or_above.items():
        table.add_row(
            t.gettext("everyone at priority {p} or above", p=p),
            t.percent(e.value),
            t.ci(e.low, e.high),
        )
    out.print(table)
    _render_groups(r, out, t)
    _render_saturation(r, out, t)
    _render_advice(r, out, t)
    _render_comparison(r, out, t)
    if r.timing is not None:
        out.print(
            t.ngettext(
                "{wall} s on {n} worker, {solves} solves, median solve {median} s",
                "{wall} s on {n} workers, {solves} solves, median solve {median} s",
                r.timing.workers,
                wall=t.decimal(r.timing.wall_seconds, 1),
                solves=t.integer(r.timing.solves),
                median=t.decimal(r.timing.median_solve_seconds, 3),
            ),
            highlight=False,
        )


def _render_groups(r: StressReport, out: Console, t: Texts) -> None:
    table = _table(
        t.gettext("group"),
        t.gettext("persons per draw"),
        t.gettext("unplaced per draw"),
        t.gettext("95 % CI"),
    )
    for g in r.expected_unplaced[:ROWS]:
        table.add_row(
            t.group(g.group),
            t.decimal(g.requested_mean),
            t.decimal(g.unplaced.value),
            t.ci(g.unplaced.low, g.unplaced.high, percent=False),
        )
    out.print(table)
    table = _table(
        t.gettext("what keeps people out"),
        t.gettext("share of draws"),
        t.gettext("persons per draw"),
    )
    for b in r.bottlenecks[:ROWS]:
        table.add_row(t.bottleneck(b.reason), t.percent(b.draws_share), t.decimal(b.persons_mean))
    out.print(table)


def _render_saturation(r: StressReport, out: Console, t: Texts) -> None:
    full = t.gettext("P(full on some night)")
    table = _table(t.gettext("shelter"), t.gettext("département"), full, t.gettext("usually full"))
    for s in r.shelters_saturated[:ROWS]:
        nights = t.night_ranges([(n.first, n.last) for n in s.usual_full_nights])
        table.add_row(s.shelter, s.department, t.percent(s.full_share.value), nights)
    out.print(table)
    table = _table(t.gettext("département"), "", t.gettext("P(all its places used on some night)"))
    for d in r.departments_saturated[:ROWS]:
        table.add_row(d.department, d.name, t.percent(d.full_share.value))
    out.print(table)
    if r.marginal_value:
        title = t.ngettext(
            "One more place: more persons placed per draw (on the first draw)",
            "One more place: more persons placed per draw (on the first {n} draws)",
            r.marginal_draws,
        )
        table = _table(
            t.gettext("shelter"), t.gettext("more persons"), t.gettext("95 % CI"), title=title
        )
        for m in r.marginal_value[:ROWS]:
            e = m.extra_persons
            table.add_row(m.shelter, t.decimal(e.value), t.ci(e.low, e.high, percent=False))
        out.print(table)


def _render_advice(r: StressReport, out: Console, t: Texts) -> None:
    a = r.advice
    if a is None:
        return
    out.print(
        t.gettext("Capacity advice, target: {target}", target=t.target(a.target)), highlight=False
    )
    if a.chosen is None:
        text = (
            t.gettext("No set of candidates meets the target on the draws (proven).")
            if a.proven
            else t.gettext("No set of candidates was found to meet the target in the time given.")
        )
    else:
        text = t.gettext(
            "Cheapest set: {chosen}, cost {cost} ({proof})",
            chosen=", ".join(a.chosen.candidates) or t.gettext("nothing to add"),
            cost=t.decimal(a.chosen.cost),
            proof=t.gettext("proven the cheapest")
            if a.proven
            else t.gettext("no cheaper set below {bound}", bound=t.decimal(a.cost_bound or 0)),
        )
        text += " " + t.found_by(a.found_by)
    out.print(text, highlight=False)
    text = t.gettext(
        "model solves: {rounds}; sets checked by the engine: {sets}; engine solves: {solves}",
        rounds=t.integer(a.model_rounds),
        sets=t.integer(a.sets_evaluated),
        solves=t.integer(a.solves),
    )
    out.print(text, highlight=False)
    before, after = a.out_of_sample_before, a.out_of_sample_after
    table = _table(
        "",
        t.gettext("everyone placed"),
        t.gettext("unplaced per draw"),
        title=t.gettext(
            "On fresh draws {first} to {last}, as the target counts",
            first=t.integer(a.out_of_sample_first),
            last=t.integer(a.out_of_sample_last),
        ),
    )
    table.add_row(
        t.gettext("before"),
        t.percent(before.all_placed.value),
        t.decimal(before.unplaced_mean.value),
    )
    if after is not None:
        table.add_row(
            t.gettext("after"),
            t.percent(after.all_placed.value),
            t.decimal(after.unplaced_mean.value),
        )
    out.print(table)


def _render_comparison(r: StressReport, out: Console, t: Texts) -> None:
    c = r.comparison
    if c is None:
        return
    title = t.gettext("Comparison with {label}, on the same draws", label=c.label)
    table = _table("", t.gettext("everyone placed"), t.gettext("unplaced per draw"), title=title)
    for label, res in ((t.gettext("before"), c.before), (t.gettext("after"), c.after)):
        table.add_row(label, t.percent(res.all_placed.value), t.decimal(res.unplaced_mean.value))
    d, u = c.all_placed_difference, c.unplaced_difference
    table.add_row(
        t.gettext("difference (after - before)"),
        t.gettext("{value} ({ci})", value=t.percent(d.value, sign=True), ci=t.ci(d.low, d.high)),
        t.gettext(
            "{value} ({ci})",
            value=t.decimal(u.value, sign=True),
            ci=t.ci(u.low, u.high, percent=False),
        ),
    )
    out.print(table)
