"""``placement stress SPEC``: a stress test of the network, with a progress bar, a summary,
``--json`` for machines and ``--report FILE.html`` with plots."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from stress.spec import (
    MAX_DRAWS,
    StressSpec,
    StressSpecError,
    load_network,
    load_spec,
    network_problems,
)
from stress.sweep import MAX_LOCAL_WORKERS, ClusterOptions, SweepError, SweepProgress

if TYPE_CHECKING:
    # The engine (OR-Tools) is loaded only when a sweep runs.
    from stress.report import StressReport
    from stress.run import Networks

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
#: rows per table in the summary
ROWS = 10
Lang = Literal["en", "fr"]

#: every text of the summary, by language
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "{name}: {draws} draws against {network} (seed {seed}; {proven} proven optimal)",
        "persons": "persons per draw on average: {persons:.1f}",
        "all": "P(everyone placed)",
        "at_or_above": "P(everyone at priority ≥{p} placed)",
        "probability": "probability",
        "ci": "95 % CI",
        "group": "group",
        "requested": "persons per draw",
        "unplaced": "unplaced per draw",
        "bottleneck": "what keeps people out",
        "draws_share": "share of draws",
        "persons_mean": "persons per draw",
        "shelter": "shelter",
        "department": "département",
        "full": "P(full on some night)",
        "nights": "usually full",
        "marginal": "one more place: extra persons per draw (on {n} draws)",
        "extra": "extra persons",
        "advice": "capacity advice, target: {target}",
        "no_advice": "no set of candidates meets the target on the draws",
        "chosen": "cheapest: {candidates} (cost {cost:g}; {sets} sets tried, {solves} solves)",
        "fresh": "on fresh draws {draws}, as the target counts: P(all placed) {p}, "
        "unplaced per draw {u}",
        "compare": "comparison with {label} on the same draws",
        "difference": "difference (after - before)",
        "timing": "{wall:.1f} s on {workers} workers, {solves} solves, median solve {median:.3f} s",
        "report": "report written to {path}",
    },
    "fr": {
        "title": "{name} : {draws} tirages sur {network} "
        "(graine {seed} ; {proven} optimaux prouvés)",
        "persons": "personnes par tirage en moyenne : {persons:.1f}",
        "all": "P(toutes placées)",
        "at_or_above": "P(toutes celles de priorité ≥{p} placées)",
        "probability": "probabilité",
        "ci": "IC 95 %",
        "group": "groupe",
        "requested": "personnes par tirage",
        "unplaced": "non placées par tirage",
        "bottleneck": "ce qui empêche le placement",
        "draws_share": "part des tirages",
        "persons_mean": "personnes par tirage",
        "shelter": "structure",
        "department": "département",
        "full": "P(complète une nuit)",
        "nights": "complète en général",
        "marginal": "une place de plus : personnes en plus par tirage (sur {n} tirages)",
        "extra": "personnes en plus",
        "advice": "conseil de capacité, objectif : {target}",
        "no_advice": "aucun ensemble de candidats n'atteint l'objectif sur les tirages",
        "chosen": "le moins cher : {candidates} "
        "(coût {cost:g} ; {sets} ensembles, {solves} résolutions)",
        "fresh": "sur de nouveaux tirages {draws}, comptés comme l'objectif : "
        "P(toutes placées) {p}, non placées par tirage {u}",
        "compare": "comparaison avec {label} sur les mêmes tirages",
        "difference": "différence (après - avant)",
        "timing": "{wall:.1f} s sur {workers} workers, {solves} résolutions, "
        "médiane {median:.3f} s",
        "report": "rapport écrit dans {path}",
    },
}


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
    lang: Annotated[Lang, typer.Option(help="language of the summary")] = "en",
) -> None:
    """Stress-test the network: probability that everyone is placed, bottlenecks, advice."""
    from stress.run import run_stress

    err = Console(stderr=True, soft_wrap=True)
    # The scheduler's INFO lines would bury the progress bar (distributed sets its level when
    # imported, so after that).
    import distributed  # noqa: F401

    logging.getLogger("distributed").setLevel(logging.WARNING)
    spec, networks = _load(spec_file, draws, err)
    with _ProgressBar(err) as bar:
        try:
            result = run_stress(spec, networks, ClusterOptions(cluster, workers), bar.update)
        except SweepError as e:
            err.print(f"[red]error:[/red] {e}", highlight=False)
            raise typer.Exit(EXIT_FAILED) from None
    if report is not None:
        from stress.html import html_report

        report.write_text(html_report(result, networks.base), encoding="utf-8")
        err.print(TEXTS[lang]["report"].format(path=report), highlight=False)
    if json_output:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        render_summary(result, Console(width=None if sys.stdout.isatty() else 140), lang)


def _load(spec_file: Path, draws: int | None, err: Console) -> tuple[StressSpec, Networks]:
    """The spec and its networks, or every problem on stderr and exit code 2."""
    from stress.run import Networks

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
        for line in str(e).splitlines():
            err.print(f"[red]error:[/red] {line}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    return spec, Networks(base, compare)


class _ProgressBar:
    """A bar per phase on stderr: solves done, of how many, and the time left."""

    def __init__(self, err: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
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
            task = self.tasks[event.phase] = self.progress.add_task(event.phase, total=event.total)
        self.progress.update(task, completed=event.done, total=event.total)


def _ci(low: float, high: float, percent: bool = True) -> str:
    return f"{low:.1%} – {high:.1%}" if percent else f"{low:.2f} – {high:.2f}"


def render_summary(r: StressReport, out: Console, lang: Lang = "en") -> None:
    """The report as tables."""
    t = TEXTS[lang]
    out.print(
        t["title"].format(
            name=r.name,
            draws=r.draws,
            network=r.network,
            seed=r.seed,
            proven=r.proven_optimal_draws,
        ),
        highlight=False,
    )
    out.print(t["persons"].format(persons=r.persons_requested_mean), highlight=False)
    table = Table(t["probability"], "", t["ci"])
    table.add_row(t["all"], f"{r.all_placed.value:.1%}", _ci(r.all_placed.low, r.all_placed.high))
    for p, e in r.all_placed_at_or_above.items():
        table.add_row(t["at_or_above"].format(p=p), f"{e.value:.1%}", _ci(e.low, e.high))
    out.print(table)
    _render_groups(r, out, t)
    _render_saturation(r, out, t)
    _render_advice(r, out, t)
    if r.timing is not None:
        out.print(
            t["timing"].format(
                wall=r.timing.wall_seconds,
                workers=r.timing.workers,
                solves=r.timing.solves,
                median=r.timing.median_solve_seconds,
            ),
            highlight=False,
        )


def _render_groups(r: StressReport, out: Console, t: dict[str, str]) -> None:
    table = Table(t["group"], t["requested"], t["unplaced"], t["ci"])
    for g in r.expected_unplaced[:ROWS]:
        table.add_row(
            g.group,
            f"{g.requested_mean:.2f}",
            f"{g.unplaced.value:.2f}",
            _ci(g.unplaced.low, g.unplaced.high, percent=False),
        )
    out.print(table)
    table = Table(t["bottleneck"], t["draws_share"], t["persons_mean"])
    for b in r.bottlenecks[:ROWS]:
        table.add_row(b.reason, f"{b.draws_share:.1%}", f"{b.persons_mean:.2f}")
    out.print(table)


def _render_saturation(r: StressReport, out: Console, t: dict[str, str]) -> None:
    table = Table(t["shelter"], t["department"], t["full"], t["nights"])
    for s in r.shelters_saturated[:ROWS]:
        table.add_row(s.shelter, s.department, f"{s.full_share.value:.1%}", s.usual_full_nights)
    out.print(table)
    table = Table(t["department"], "", t["full"])
    for d in r.departments_saturated[:ROWS]:
        table.add_row(d.department, d.name, f"{d.full_share.value:.1%}")
    out.print(table)
    if r.marginal_value:
        table = Table(
            t["shelter"], t["extra"], t["ci"], title=t["marginal"].format(n=r.marginal_draws)
        )
        for m in r.marginal_value[:ROWS]:
            e = m.extra_persons
            table.add_row(m.shelter, f"{e.value:.2f}", _ci(e.low, e.high, percent=False))
        out.print(table)


def _render_advice(r: StressReport, out: Console, t: dict[str, str]) -> None:
    a = r.advice
    if a is not None:
        out.print(t["advice"].format(target=a.target), highlight=False)
        if a.chosen is None:
            out.print(t["no_advice"], highlight=False)
        else:
            out.print(
                t["chosen"].format(
                    candidates=", ".join(a.chosen.candidates) or "-",
                    cost=a.chosen.cost,
                    sets=a.sets_evaluated,
                    solves=a.solves,
                ),
                highlight=False,
            )
        before, after = a.out_of_sample_before, a.out_of_sample_after
        share, mean = f"{before.all_placed.value:.1%}", f"{before.unplaced_mean.value:.2f}"
        if after is not None:
            share += f" -> {after.all_placed.value:.1%}"
            mean += f" -> {after.unplaced_mean.value:.2f}"
        out.print(t["fresh"].format(draws=a.out_of_sample_draws, p=share, u=mean), highlight=False)
    c = r.comparison
    if c is not None:
        table = Table("", t["all"], t["unplaced"], title=t["compare"].format(label=c.label))
        for label, res in (("before", c.before), ("after", c.after)):
            table.add_row(label, f"{res.all_placed.value:.1%}", f"{res.unplaced_mean.value:.2f}")
        d, u = c.all_placed_difference, c.unplaced_difference
        table.add_row(
            t["difference"],
            f"{d.value:+.1%} ({_ci(d.low, d.high)})",
            f"{u.value:+.2f} ({_ci(u.low, u.high, percent=False)})",
        )
        out.print(table)
