"""The groups a report counts people in ("expected unplaced by profile", advice targets):
fixed ones, whose names are msgids of the ``stress`` catalogue, and prefixes followed by a
language tag, a profile's name or a priority. ``stress.draws.categories`` puts each person in
them; ``stress.texts`` says them in the reader's words."""

from __future__ import annotations

from placement.i18n import N_

EVERYONE = N_("everyone")
MINORS = N_("minors")
WOMEN = N_("women")
TRANS_WOMEN = N_("trans women")
MOTHERS = N_("women with children")
MEN = N_("men")
NONBINARY = N_("nonbinary people")
FIXED_GROUPS = (EVERYONE, MINORS, WOMEN, TRANS_WOMEN, MOTHERS, MEN, NONBINARY)
SPEAKS = "speaks "
OPERATION = "operation "
PRIORITY = "priority "

#: what keeps people out, as bottleneck keys (``stress.evaluate``) and their texts
#: (``stress.texts``): here so that reading the texts does not load the engine
NO_SHELTER = "no shelter: "
FULL = "full: "
OTHER_PLAN_RULES = N_("room, but keep-apart or the network cap")
