"""Recorded vs computed spend: the groups of a report whose logs disagree with costcalc's prices.

Logs that say what a call cost (a LiteLLM spend log's ``spend`` or ``response_cost``, Claude Code's
``costUSD``, a canonical record's ``cost``) keep it as ``UsageRecord.recorded_cost``, and ``report.Totals``
sums it per group next to the computed cost of the same records. ``reconcile`` lists the groups where the
two differ by more than a relative tolerance, largest absolute difference first: the audit behind
``costcalc price --reconcile``, which tells a team whether its proxy's spend numbers can be trusted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .aggregate import Report, to_float

DEFAULT_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One group whose recorded spend and computed cost disagree. Both figures cover the same records: the
    group's records that carry a recorded cost (``records`` of them)."""

    group: tuple[str, ...]  # the group key, one part per --group-by key
    records: int
    recorded: float  # what the logs say was charged
    computed: float  # what costcalc computes for those records
    difference: float  # computed - recorded (positive: the logs under-charge)
    relative: float  # difference / recorded; ±inf when nothing was recorded but something is computed

    def as_dict(self) -> dict[str, Any]:
        return {"group": list(self.group), "records": self.records, "recorded_cost": self.recorded,
                "computed_cost": self.computed, "difference": self.difference,
                "relative": self.relative if math.isfinite(self.relative) else None}


def reconcile(report: Report, tolerance: float = DEFAULT_TOLERANCE) -> list[Discrepancy]:
    """The groups of ``report`` whose recorded and computed spend differ by more than ``tolerance``, relative
    to the recorded spend (``|computed - recorded| > tolerance * |recorded|``; 0.01 is 1 %), largest absolute
    difference first, ties by group key.

    Groups without any record that carries a recorded cost are not compared (there is nothing to check them
    against); a group that recorded $0 but computes more is always listed. The difference is computed
    exactly from the report's exact sums and rounded once. With ``tag`` among the group keys a record can
    count in several groups, as in the report itself. Raises ValueError for a negative or non-finite
    tolerance.
    """
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    found: list[Discrepancy] = []
    for key, totals in report.groups.items():
        if not totals.recorded_n:
            continue
        exact = totals.recorded_computed - totals.recorded
        if exact == 0:
            continue
        recorded, difference = to_float(totals.recorded), to_float(exact)
        if abs(difference) <= tolerance * abs(recorded):
            continue
        relative = difference / recorded if recorded else math.copysign(math.inf, difference)
        found.append(Discrepancy(key, totals.recorded_n, recorded, to_float(totals.recorded_computed),
                                 difference, relative))
    found.sort(key=lambda d: (-abs(d.difference), d.group))
    return found
