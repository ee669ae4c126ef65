"""The stress report as one HTML file with plots (plotly), every asset inside the file.

The saturation map is a scatter of départements' chef-lieux on longitude and latitude axes,
not a plotly geo map: those load their base map from another origin, and the file must make
no request at all.
"""

from __future__ import annotations

from html import escape
from typing import Any

from placement.models import Scenario
from stress.report import StressReport

#: every text of the page
TITLE = "Stress test: {name}"
SUMMARY = (
    "{draws} draws against {network} (seed {seed}; {proven} proven optimal). "
    "P(everyone placed) = {p:.1%} (95 % CI {low:.1%} to {high:.1%}); "
    "{persons:.1f} persons per draw on average."
)
PLOT_PROBABILITY = "Probability that everyone is placed (95 % CI)"
PLOT_UNPLACED = "Expected unplaced persons per draw, by group (95 % CI)"
PLOT_BOTTLENECKS = "What keeps people out: persons per draw"
PLOT_MAP = "Départements whose places all get used on some night: probability"
PLOT_MARGINAL = "One more place: extra persons placed per draw (95 % CI, first {n} draws)"
ADVICE = "Capacity advice ({target}): {chosen}. On fresh draws {draws}, as the target counts: "
ADVICE_FRESH = "P(all placed) {p}, unplaced per draw {u}."
ADVICE_NONE = "no set of candidates meets the target"
COMPARISON = (
    "Comparison with {label}, same draws: P(everyone placed) {before:.1%} -> {after:.1%} "
    "(difference {d:+.1%}, 95 % CI {dl:+.1%} to {dh:+.1%}); unplaced per draw "
    "{ub:.2f} -> {ua:.2f} (difference {u:+.2f}, 95 % CI {ul:+.2f} to {uh:+.2f})."
)
ROWS = 20


def html_report(report: StressReport, network: Scenario) -> str:
    """The page: a summary, the plots, the advice and the comparison."""
    import plotly.graph_objects as go

    figures = [_probability(go, report), _unplaced(go, report), _bottlenecks(go, report)]
    figures.append(_saturation_map(go, report, network))
    if report.marginal_value:
        figures.append(_marginal(go, report))
    parts = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, fig in enumerate(figures)
    ]
    r = report
    summary = SUMMARY.format(
        draws=r.draws,
        network=r.network,
        seed=r.seed,
        proven=r.proven_optimal_draws,
        p=r.all_placed.value,
        low=r.all_placed.low,
        high=r.all_placed.high,
        persons=r.persons_requested_mean,
    )
    texts = [summary, *_advice_texts(r)]
    body = "".join(f"<p>{escape(t)}</p>" for t in texts) + "".join(parts)
    title = escape(TITLE.format(name=r.name))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}</style></head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    )


def _advice_texts(r: StressReport) -> list[str]:
    out = []
    a = r.advice
    if a is not None:
        chosen = ADVICE_NONE
        if a.chosen is not None:
            chosen = f"{', '.join(a.chosen.candidates) or 'nothing'} (cost {a.chosen.cost:g})"
        before, after = a.out_of_sample_before, a.out_of_sample_after
        share, mean = f"{before.all_placed.value:.1%}", f"{before.unplaced_mean.value:.2f}"
        if after is not None:
            share += f" -> {after.all_placed.value:.1%}"
            mean += f" -> {after.unplaced_mean.value:.2f}"
        out.append(
            ADVICE.format(target=a.target, chosen=chosen, draws=a.out_of_sample_draws)
            + ADVICE_FRESH.format(p=share, u=mean)
        )
    c = r.comparison
    if c is not None:
        d, u = c.all_placed_difference, c.unplaced_difference
        out.append(
            COMPARISON.format(
                label=c.label,
                before=c.before.all_placed.value,
                after=c.after.all_placed.value,
                d=d.value,
                dl=d.low,
                dh=d.high,
                ub=c.before.unplaced_mean.value,
                ua=c.after.unplaced_mean.value,
                u=u.value,
                ul=u.low,
                uh=u.high,
            )
        )
    return out


def _bar(
    go: Any,
    labels: list[str],
    values: list[float],
    bounds: tuple[list[float], list[float]],
    title: str,
    horizontal: bool = False,
) -> Any:
    lows, highs = bounds
    error = {
        "type": "data",
        "symmetric": False,
        "array": [h - v for v, h in zip(values, highs, strict=True)],
        "arrayminus": [v - lo for v, lo in zip(values, lows, strict=True)],
    }
    if horizontal:
        bar = go.Bar(y=labels, x=values, orientation="h", error_x=error)
    else:
        bar = go.Bar(x=labels, y=values, error_y=error)
    fig = go.Figure(bar)
    fig.update_layout(title=title, height=max(350, 28 * len(labels) if horizontal else 350))
    if horizontal:
        fig.update_yaxes(autorange="reversed")
    return fig


def _probability(go: Any, r: StressReport) -> Any:
    estimates = [("everyone", r.all_placed)] + [
        (f"priority ≥{p}", e) for p, e in r.all_placed_at_or_above.items()
    ]
    fig = _bar(
        go,
        [k for k, _ in estimates],
        [e.value for _, e in estimates],
        ([e.low for _, e in estimates], [e.high for _, e in estimates]),
        PLOT_PROBABILITY,
    )
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig


def _unplaced(go: Any, r: StressReport) -> Any:
    rows = r.expected_unplaced[:ROWS]
    return _bar(
        go,
        [g.group for g in rows],
        [g.unplaced.value for g in rows],
        ([g.unplaced.low for g in rows], [g.unplaced.high for g in rows]),
        PLOT_UNPLACED,
        horizontal=True,
    )


def _bottlenecks(go: Any, r: StressReport) -> Any:
    rows = r.bottlenecks[:ROWS]
    values = [b.persons_mean for b in rows]
    return _bar(go, [b.reason for b in rows], values, (values, values), PLOT_BOTTLENECKS, True)


def _marginal(go: Any, r: StressReport) -> Any:
    rows = r.marginal_value[:ROWS]
    return _bar(
        go,
        [m.shelter for m in rows],
        [m.extra_persons.value for m in rows],
        ([m.extra_persons.low for m in rows], [m.extra_persons.high for m in rows]),
        PLOT_MARGINAL.format(n=r.marginal_draws),
        horizontal=True,
    )


def _saturation_map(go: Any, r: StressReport, network: Scenario) -> Any:
    geo = network.geo
    share = {d.department: d.full_share.value for d in r.departments_saturated}
    codes = sorted({s.department for s in network.shelters})
    points = [geo.area(c).reference_point for c in codes]
    values = [share.get(c, 0.0) for c in codes]
    fig = go.Figure(
        go.Scatter(
            x=[p.lon for p in points],
            y=[p.lat for p in points],
            mode="markers+text",
            text=codes,
            textposition="top center",
            hovertext=[
                f"{c} {geo.area(c).name}: {v:.0%}" for c, v in zip(codes, values, strict=True)
            ],
            marker={
                "size": [8 + 30 * v for v in values],
                "color": values,
                "cmin": 0,
                "cmax": 1,
                "colorscale": "Reds",
                "showscale": True,
                "line": {"width": 1, "color": "#555"},
            },
        )
    )
    fig.update_layout(title=PLOT_MAP, height=650, xaxis_title="longitude", yaxis_title="latitude")
    fig.update_yaxes(scaleanchor="x", scaleratio=1.45)  # about 1/cos(46°): France's proportions
    return fig
