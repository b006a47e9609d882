"""Recorded vs computed spend: the groups of a report whose logs disagree with costcalc's prices.

Logs that say what a call cost (a LiteLLM spend log's ``spend`` or ``response_cost``, Claude Code's
``costUSD``, a canonical record's ``cost``) keep it as ``UsageRecord.recorded_cost``, and ``report.Totals``
sums it per group next to the computed cost of the same records. ``reconcile`` lists the groups where the
two differ by more than a relative tolerance, in the report's group order (day then model for ``-g day -g model``;
``--sort cost`` puts the largest absolute difference first): the audit behind ``costcalc price --reconcile``,
which tells a team whether its proxy's spend numbers can be trusted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import IO, Any

import orjson

from .aggregate import SCALE, Report, to_float
from .cells import SafeCsvWriter
from .fit import fitted_table
from .money import DECIMALS, decimal_text, decimals_for, float_text, money_text, round_units
from .render import _md as md_cell  # the report's own markdown cell escaping

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
    recorded_exact: Fraction  # the same two sums, exact (dollars)
    computed_exact: Fraction

    @property
    def zero_booked(self) -> bool:
        """The proxy booked these records at $0 (a price it did not know, or a free route)."""
        return self.recorded_exact == 0

    def direction(self, decimals: int) -> str:
        """Which way the gap goes, in words: ``logs below costcalc by $0.75`` (the logs booked less than costcalc
        computes), ``logs above costcalc by $0.75``, or ``$0 booked, costcalc $0.75``."""
        if self.zero_booked:
            return f"$0 booked, costcalc {money_text(self.computed_exact, decimals)}"
        gap = self.computed_exact - self.recorded_exact
        side = "below" if gap > 0 else "above"
        return f"logs {side} costcalc by {money_text(abs(gap), decimals)}"

    def as_dict(self) -> dict[str, Any]:
        return {"group": list(self.group), "records": self.records, "recorded_cost": self.recorded,
                "computed_cost": self.computed, "difference": self.difference,
                "relative": self.relative if math.isfinite(self.relative) else None,
                "zero_booked": self.zero_booked}


def reconcile(report: Report, tolerance: float = DEFAULT_TOLERANCE) -> list[Discrepancy]:
    """The groups of ``report`` whose recorded and computed spend differ by more than ``tolerance``, relative
    to the recorded spend (``|computed - recorded| > tolerance * |recorded|``; 0.01 is 1 %), in the report's
    order of groups (time keys in time order, then names), or largest absolute difference first when the
    report is sorted by cost (``--sort cost``), ties by group key.

    Groups without any record that carries a recorded cost are not compared (there is nothing to check them
    against); a group that recorded $0 but computes more is always listed. The difference is computed
    exactly from the report's exact sums and rounded once. With ``tag`` among the group keys a record can
    count in several groups, as in the report itself. Raises ValueError for a negative or non-finite
    tolerance.
    """
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    found: list[Discrepancy] = []
    for key, totals in sorted(report.groups.items()):
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
                                 difference, relative, Fraction(totals.recorded, SCALE),
                                 Fraction(totals.recorded_computed, SCALE)))
    if report.sort == "cost":
        found.sort(key=lambda d: (-abs(d.computed_exact - d.recorded_exact), d.group))
    return found


# -- writers: json, table, markdown, csv ---------------------------------------------------------------------

def reconcile_dict(gaps: Iterable[Discrepancy]) -> list[dict[str, Any]]:
    """The --reconcile groups for JSON, amounts as exact decimals like every amount of the report."""
    out = []
    for g in gaps:
        d = g.as_dict()
        for name in ("recorded_cost", "computed_cost", "difference"):
            d[name] = orjson.Fragment(float_text(d[name]).encode())
        out.append(d)
    return out


def reconcile_decimals(gaps: list[Discrepancy]) -> int:
    """One number of decimals for the reconcile section, from its groups' amounts (``money.decimals_for``)."""
    return decimals_for(max(abs(g.recorded_exact), abs(g.computed_exact)) for g in gaps)


def reconcile_rows(gaps: list[Discrepancy]) -> list[list[str]]:
    decimals = reconcile_decimals(gaps)
    rows = []
    for g in gaps:
        rel = "$0 booked" if g.zero_booked else f"{100 * g.relative:+.1f}%"
        rows.append([" / ".join(g.group), f"{g.records:,}", money_text(g.recorded_exact, decimals),
                     money_text(g.computed_exact, decimals), g.direction(decimals), rel])
    return rows


RECONCILE_HEADERS = ("group", "records", "booked $", "costcalc $", "direction", "relative")


def reconcile_summary(report: Report, gaps: list[Discrepancy], tolerance: float) -> str:
    t = report.totals
    if not t.recorded_n:
        return "reconcile: no record carries a recorded cost (spend, cost, costUSD), nothing to compare"
    booked, computed = Fraction(t.recorded, SCALE), Fraction(t.recorded_computed, SCALE)
    decimals = decimals_for([max(abs(booked), abs(computed))])
    head = (f"reconcile: {t.recorded_n:,} records carry a recorded cost: the logs booked "
            f"{money_text(booked, decimals)}, costcalc computes {money_text(computed, decimals)}")
    if not gaps:
        return head + f"; every group agrees within {100 * tolerance:g}%"
    return head + f"; {len(gaps)} group(s) differ by more than {100 * tolerance:g}%"


def write_reconcile_table(report: Report, gaps: list[Discrepancy], tolerance: float, console: Any) -> None:
    from rich.text import Text

    console.print(Text(reconcile_summary(report, gaps, tolerance)))
    if not gaps:
        return
    console.print(fitted_table(console, RECONCILE_HEADERS, reconcile_rows(gaps), labels={0},
                               optional=(5, 1)))


def write_reconcile_markdown(report: Report, gaps: list[Discrepancy], tolerance: float, out: IO[str]) -> None:
    out.write("\n" + reconcile_summary(report, gaps, tolerance) + "\n")
    if gaps:
        out.write("\n| " + " | ".join(RECONCILE_HEADERS) + " |\n|---|---:|---:|---:|---|---:|\n")
        for row in reconcile_rows(gaps):
            out.write("| " + " | ".join(md_cell(c) for c in row) + " |\n")


def write_reconcile_csv(report: Report, gaps: list[Discrepancy], out: IO[str]) -> None:
    """``--reconcile --format csv``: one row per group that differs, exact amounts, the direction in words."""
    w = SafeCsvWriter(out)
    w.writerow([*report.group_by, "records", "booked_cost", "computed_cost", "difference", "relative",
                "zero_booked", "direction"])
    decimals = reconcile_decimals(gaps)
    for g in gaps:
        w.writerow([*g.group, g.records, _fraction_text(g.recorded_exact), _fraction_text(g.computed_exact),
                    _fraction_text(g.computed_exact - g.recorded_exact),
                    "" if g.zero_booked else float_text(g.relative, 6), "true" if g.zero_booked else "false",
                    g.direction(decimals)])


def _fraction_text(amount: Fraction) -> str:
    """An exact amount in dollars (a sum of 10^-72 units) as its full decimal."""
    return decimal_text(round_units(amount.numerator, amount.denominator, DECIMALS), DECIMALS)
