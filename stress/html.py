"""The stress report as one HTML file with plots (plotly), every asset inside the file, every
text in the reader's language (:mod:`stress.texts`).

The saturation map is a scatter of départements' chef-lieux on longitude and latitude axes,
not a plotly geo map: those load their base map from another origin, and the file must make
no request at all.
"""

from __future__ import annotations

from html import escape
from typing import Any

from babel.numbers import get_decimal_symbol, get_group_symbol

from placement.models import Scenario
from stress.groups import EVERYONE
from stress.report import AdviceResult, Comparison, StressReport
from stress.texts import Texts

#: bars per plot, at most
ROWS = 20
STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:0 1em;color:#222}"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}"
)


def html_report(report: StressReport, network: Scenario, locale: str = "en") -> str:
    """The page: a summary, the plots, the advice and the comparison."""
    import plotly.graph_objects as go

    t = Texts(locale)
    plots = _Plots(go, t, report)
    figures = [
        (t.gettext("Probability that everyone is placed"), "", plots.probability()),
        (t.gettext("Expected unplaced persons, by group"), "", plots.unplaced()),
        (t.gettext("What keeps people out"), "", plots.bottlenecks()),
        (
            t.gettext("Where places run out"),
            t.gettext(
                "Each département with shelters, at its chef-lieu: the larger and the redder, "
                "the more often all its places are used on some night."
            ),
            plots.saturation_map(network),
        ),
    ]
    if report.marginal_value:
        figures.append((t.gettext("The value of one more place"), "", plots.marginal()))
    parts = [_summary(t, report)]
    for i, (heading, note, fig) in enumerate(figures):
        fig.update_layout(separators=_separators(locale))
        html = fig.to_html(
            full_html=False,
            include_plotlyjs=(i == 0),
            config={"displaylogo": False, "responsive": True},
        )
        parts.append(f"<h2>{escape(heading)}</h2>{_p(note) if note else ''}{html}")
    if report.advice is not None:
        parts.append(_advice(t, report.advice))
    if report.comparison is not None:
        parts.append(_comparison(t, report.comparison))
    title = escape(t.gettext("Stress test: {name}", name=report.name))
    return (
        f'<!DOCTYPE html><html lang="{escape(locale)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head>"
        f"<body><h1>{title}</h1>{''.join(parts)}</body></html>"
    )


def _separators(locale: str) -> str:
    """Plotly's decimal and thousands separators for the reader's language."""
    return get_decimal_symbol(locale) + get_group_symbol(locale)


def _p(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _summary(t: Texts, r: StressReport) -> str:
    lines = [
        t.ngettext(
            "{n} draw against {network} (seed {seed}), {proven} proven optimal.",
            "{n} draws against {network} (seed {seed}), {proven} proven optimal.",
            r.draws,
            network=r.network,
            seed=r.seed,
            proven=t.integer(r.proven_optimal_draws),
        ),
        t.gettext(
            "Probability that everyone is placed: {p} (95 % confidence interval {ci}).",
            p=t.percent(r.all_placed.value),
            ci=t.ci(r.all_placed.low, r.all_placed.high),
        ),
        t.gettext(
            "Persons per draw on average: {persons}.", persons=t.decimal(r.persons_requested_mean)
        ),
    ]
    return "".join(_p(line) for line in lines)


def _advice(t: Texts, a: AdviceResult) -> str:
    lines = [t.gettext("Target: {target}.", target=t.target(a.target))]
    if a.chosen is None:
        lines.append(
            t.gettext("No set of candidates meets the target on the draws (proven).")
            if a.proven
            else t.gettext("No set of candidates was found to meet the target in the time given.")
        )
    else:
        chosen = ", ".join(a.chosen.candidates) or t.gettext("nothing to add")
        lines.append(
            t.gettext(
                "Cheapest set: {chosen}, cost {cost}.", chosen=chosen, cost=t.decimal(a.chosen.cost)
            )
        )
        lines.append(
            t.gettext("Proven the cheapest.")
            if a.proven
            else t.gettext(
                "Not proven the cheapest: no set meeting the target costs less than {bound}.",
                bound=t.decimal(a.cost_bound or 0),
            )
        )
        lines.append(t.found_by(a.found_by))
    lines.append(_fresh(t, a))
    heading = escape(t.gettext("Capacity advice"))
    return f"<h2>{heading}</h2>" + "".join(_p(line) for line in lines)


def _fresh(t: Texts, a: AdviceResult) -> str:
    before, after = a.out_of_sample_before, a.out_of_sample_after
    draws = t.gettext(
        "{first} to {last}",
        first=t.integer(a.out_of_sample_first),
        last=t.integer(a.out_of_sample_last),
    )
    if after is None:
        return t.gettext(
            "On fresh draws {draws}, as the target counts: everyone placed in {p} of draws, "
            "{u} unplaced per draw.",
            draws=draws,
            p=t.percent(before.all_placed.value),
            u=t.decimal(before.unplaced_mean.value),
        )
    return t.gettext(
        "On fresh draws {draws}, as the target counts: everyone placed in {p0} of draws "
        "before, {p1} after; {u0} unplaced per draw before, {u1} after.",
        draws=draws,
        p0=t.percent(before.all_placed.value),
        p1=t.percent(after.all_placed.value),
        u0=t.decimal(before.unplaced_mean.value),
        u1=t.decimal(after.unplaced_mean.value),
    )


def _comparison(t: Texts, c: Comparison) -> str:
    d, u = c.all_placed_difference, c.unplaced_difference
    lines = [
        t.gettext(
            "Probability that everyone is placed: {before} before, {after} after; difference "
            "{d} (95 % confidence interval {ci}).",
            before=t.percent(c.before.all_placed.value),
            after=t.percent(c.after.all_placed.value),
            d=t.percent(d.value, sign=True),
            ci=t.ci(d.low, d.high),
        ),
        t.gettext(
            "Unplaced persons per draw: {before} before, {after} after; difference {d} "
            "(95 % confidence interval {ci}).",
            before=t.decimal(c.before.unplaced_mean.value),
            after=t.decimal(c.after.unplaced_mean.value),
            d=t.decimal(u.value, sign=True),
            ci=t.ci(u.low, u.high, percent=False),
        ),
    ]
    heading = escape(t.gettext("Comparison with {label}, on the same draws", label=c.label))
    return f"<h2>{heading}</h2>" + "".join(_p(line) for line in lines)


class _Plots:
    """The report's figures, labelled in the reader's language."""

    def __init__(self, go: Any, t: Texts, r: StressReport) -> None:
        self.go = go
        self.t = t
        self.r = r

    def _bar(
        self,
        labels: list[str],
        values: list[float],
        bounds: tuple[list[float], list[float]] | None,
        axis: str,
    ) -> Any:
        """Horizontal bars (long labels read best so), with 95 % intervals if ``bounds``."""
        bar: dict[str, Any] = {"y": labels, "x": values, "orientation": "h"}
        if bounds is not None:
            lows, highs = bounds
            bar["error_x"] = {
                "type": "data",
                "symmetric": False,
                "array": [h - v for v, h in zip(values, highs, strict=True)],
                "arrayminus": [v - lo for v, lo in zip(values, lows, strict=True)],
            }
        fig = self.go.Figure(self.go.Bar(**bar))
        fig.update_layout(
            height=max(260, 90 + 30 * len(labels)),
            margin={"l": 10, "r": 10, "t": 20, "b": 50},
            xaxis_title=axis,
        )
        fig.update_yaxes(autorange="reversed", automargin=True)
        return fig

    def probability(self) -> Any:
        t, r = self.t, self.r
        estimates = [(t.gettext(EVERYONE), r.all_placed)] + [
            (t.gettext("everyone at priority {p} or above", p=p), e)
            for p, e in r.all_placed_at_or_above.items()
        ]
        # In percent, with the reader's percent sign (plotly's "%" format has no space).
        fig = self._bar(
            [k for k, _ in estimates],
            [100 * e.value for _, e in estimates],
            ([100 * e.low for _, e in estimates], [100 * e.high for _, e in estimates]),
            t.gettext("probability, with its 95 % confidence interval"),
        )
        fig.update_xaxes(range=[0, 102], **self.percent_ticks())
        return fig

    def percent_ticks(self) -> dict[str, Any]:
        """Ticks of an axis in percent (0 to 100), written the reader's way (``20 %``)."""
        values = list(range(0, 101, 20))
        return {
            "tickmode": "array",
            "tickvals": values,
            "ticktext": [self.t.percent(v / 100, digits=0) for v in values],
        }

    def unplaced(self) -> Any:
        t, rows = self.t, self.r.expected_unplaced[:ROWS]
        return self._bar(
            [t.group(g.group) for g in rows],
            [g.unplaced.value for g in rows],
            ([g.unplaced.low for g in rows], [g.unplaced.high for g in rows]),
            t.gettext("unplaced persons per draw, with the 95 % confidence interval"),
        )

    def bottlenecks(self) -> Any:
        t, rows = self.t, self.r.bottlenecks[:ROWS]
        return self._bar(
            [t.bottleneck(b.reason) for b in rows],
            [b.persons_mean for b in rows],
            None,
            t.gettext("persons kept out per draw"),
        )

    def marginal(self) -> Any:
        t, rows = self.t, self.r.marginal_value[:ROWS]
        return self._bar(
            [m.shelter for m in rows],
            [m.extra_persons.value for m in rows],
            ([m.extra_persons.low for m in rows], [m.extra_persons.high for m in rows]),
            t.ngettext(
                "more persons placed per draw with one more place (on the first draw)",
                "more persons placed per draw with one more place (on the first {n} draws)",
                self.r.marginal_draws,
            ),
        )

    def saturation_map(self, network: Scenario) -> Any:
        t, geo = self.t, network.geo
        share = {d.department: d.full_share.value for d in self.r.departments_saturated}
        codes = sorted({s.department for s in network.shelters})
        points = [geo.area(c).reference_point for c in codes]
        values = [share.get(c, 0.0) for c in codes]
        percents = [100 * v for v in values]
        hover = [
            t.gettext(
                "{code} {name}: all places used on some night in {p} of draws",
                code=c,
                name=geo.area(c).name,
                p=t.percent(v, digits=0),
            )
            for c, v in zip(codes, values, strict=True)
        ]
        fig = self.go.Figure(
            self.go.Scatter(
                x=[p.lon for p in points],
                y=[p.lat for p in points],
                mode="markers+text",
                text=codes,
                textposition="top center",
                hovertext=hover,
                hoverinfo="text",
                marker={
                    "size": [8 + 30 * v for v in values],
                    "color": percents,
                    "cmin": 0,
                    "cmax": 100,
                    "colorscale": "Reds",
                    "showscale": True,
                    "colorbar": self.percent_ticks(),
                    "line": {"width": 1, "color": "#555"},
                },
            )
        )
        fig.update_layout(
            height=650,
            margin={"t": 20},
            xaxis_title=t.gettext("longitude"),
            yaxis_title=t.gettext("latitude"),
        )
        fig.update_yaxes(scaleanchor="x", scaleratio=1.45)  # about 1/cos(46°): France's shape
        return fig
