"""The texts of stress reports (command line summary, progress bar, HTML report) in the
reader's language: the ``stress`` domain of the message catalogue (:mod:`placement.i18n`,
``stress/locale/<locale>/LC_MESSAGES/stress.po``), and numbers, percentages and dates written
the reader's way.

A report keeps machine keys (groups such as ``speaks ro``, bottlenecks such as
``full: S-12``, rule names); they are turned into the reader's words here, in one place.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

from placement.i18n import N_, translator
from stress import STRESS, groups
from stress.groups import FULL, NO_SHELTER, OTHER_PLAN_RULES
from stress.spec import Target

#: the engine's rule names (``placement.rules``, ``name``) as a reader says them
RULE_NAMES: dict[str, str] = {
    "gender": N_("gender"),
    "trans_inclusive": N_("trans inclusion"),
    "age": N_("age"),
    "children": N_("children"),
    "needs": N_("needs"),
    "safety_distance": N_("safety distance"),
    "neighbouring_department": N_("neighbouring département"),
    "language": N_("language"),
    "excluded_shelter": N_("excluded shelter"),
    "stale_capacity": N_("stale capacity"),
    "household": N_("household"),
}


@cache
def _pattern(locale: str, kind: str, digits: int) -> NumberPattern:
    loc = Locale.parse(locale)
    formats = loc.percent_formats if kind == "percent" else loc.decimal_formats
    pattern = parse_pattern(formats[None].pattern)
    pattern.frac_prec = (digits, digits)
    return pattern


class Texts:
    """Messages of the ``stress`` domain, numbers and dates, for one reader's language."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._t = translator(locale, STRESS)

    def gettext(self, msgid: str, **params: object) -> str:
        return self._t.gettext(msgid, **params)

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        return self._t.ngettext(singular, plural, n, **params)

    # --- numbers and dates ----------------------------------------------------------------
    def percent(self, x: float, digits: int = 1, sign: bool = False) -> str:
        text = _pattern(self.locale, "percent", digits).apply(x, Locale.parse(self.locale))
        return f"+{text}" if sign and x > 0 else text

    def decimal(self, x: float, digits: int = 2, sign: bool = False) -> str:
        text = _pattern(self.locale, "decimal", digits).apply(x, Locale.parse(self.locale))
        return f"+{text}" if sign and x > 0 else text

    def integer(self, n: int) -> str:
        return self._t.number(n)

    def ci(self, low: float, high: float, percent: bool = True) -> str:
        """A 95 % confidence interval."""
        show = self.percent if percent else self.decimal
        return self.gettext("{low} to {high}", low=show(low), high=show(high))

    def date(self, d: dt.date) -> str:
        return self._t.date(d, "d MMM")

    def night_ranges(self, ranges: list[tuple[dt.date, dt.date]]) -> str:
        """Ranges of nights, ``1 déc. - 3 déc., 5 déc.``."""
        return ", ".join(
            self.date(a) if a == b else self.gettext("{first} to {last}", first=self.date(a),
                                                     last=self.date(b))
            for a, b in ranges
        )  # fmt: skip

    def language(self, tag: str) -> str:
        return self._t.language_name(tag)

    # --- the report's keys, in words ------------------------------------------------------
    def group(self, key: str) -> str:
        """A group of the report (``speaks ro``, ``operation marseille``, ``priority 3``,
        ``women with children``)."""
        for prefix, msgid, name in (
            (groups.SPEAKS, N_("speaks {language}"), "language"),
            (groups.OPERATION, N_("operation {name}"), "name"),
            (groups.PRIORITY, N_("priority {p}"), "p"),
        ):
            if key.startswith(prefix):
                rest = key[len(prefix) :]
                value = self.language(rest) if name == "language" else rest
                return self.gettext(msgid, **{name: value})
        return self.gettext(key)

    def bottleneck(self, reason: str) -> str:
        """What kept people out (``stress.evaluate.bottlenecks``), in words."""
        if reason.startswith(NO_SHELTER):
            rule = reason[len(NO_SHELTER) :]
            return self.gettext(
                "no shelter admits them: {rule}", rule=self.gettext(RULE_NAMES.get(rule, rule))
            )
        if reason.startswith(FULL):
            return self.gettext("full: {shelter}", shelter=reason[len(FULL) :])
        return self.gettext(OTHER_PLAN_RULES)

    def target(self, target: Target) -> str:
        """The advice's target in words."""
        group = None if target.group is None else self.group(target.group)
        if target.all_placed_share is not None:
            share = self.percent(target.all_placed_share, digits=0)
            if group is None:
                return self.gettext("everyone placed in at least {share} of draws", share=share)
            return self.gettext(
                "everyone in '{group}' placed in at least {share} of draws",
                group=group,
                share=share,
            )
        assert target.mean_unplaced is not None  # guaranteed by Target validation
        n = self.decimal(target.mean_unplaced)
        if group is None:
            return self.gettext("at most {n} persons unplaced per draw on average", n=n)
        return self.gettext(
            "at most {n} persons of '{group}' unplaced per draw on average", n=n, group=group
        )

    def found_by(self, method: str | None) -> str:
        """Which method found the advice's set, in words."""
        if method == "search":
            return self.gettext(
                "Found by the search over the sets in increasing cost, each checked by the "
                "engine on the draws."
            )
        return self.gettext(
            "Found by the sample-average model over the draws, then confirmed by the engine."
        )
