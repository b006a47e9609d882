"""Recorded vs computed spend: the groups of a report whose logs disagree with costcalc's prices.

Logs that say what a call cost (a LiteLLM spend log's ``spend`` or ``response_cost``, Claude Code's
``costUSD``, a canonical record's ``cost``) keep it as ``UsageRecord.recorded_cost``, and ``report.Totals``
sums it per group next to the computed cost of the same records. ``reconcile`` lists the groups where the
two differ by more than a relative tolerance, in the report's group order (day then model for ``-g day -g model``;
``--sort cost`` puts the largest absolute difference first): the audit behind ``costcalc price --reconcile``,
which tells a team whether its proxy's spend numbers can be trusted.

``record_differences`` does the same per record, for the sources that carry another tool's price of each call
(Langfuse's ``costDetails``, Claude Code's ``cost_usd``, an OTel cost attribute, LiteLLM's daily ``spend``,
Portkey's cost in cents, Helicone's ``cost``), and names the likely cause of each difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import IO, Any

import orjson

from ..engines.streaming import Outcome, Priced
from ..reading.records import UsageRecord
from .aggregate import SCALE, Report, to_float
from .cells import SafeCsvWriter
from .fit import fitted_table
from .ledger import decimal_text as plain_decimal
from .ledger import dollars
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


@dataclass(frozen=True, slots=True)
class RecordDifference:
    """One record whose recorded cost (what the tool that wrote the log charged) differs from costcalc's, with the
    likely cause: the first repricing of the record under another tool's usual mistake that gives the recorded
    figure, else a different price table."""

    file: str
    line: int
    model: str
    shape: str
    recorded: Decimal  # the decimal the log wrote
    computed: Decimal  # costcalc's exact cost of the record
    cause: str

    @property
    def difference(self) -> Decimal:
        """computed - recorded (positive: the tool under-charged)."""
        return self.computed - self.recorded

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "model": self.model, "shape": self.shape,
                "recorded_cost": plain_decimal(self.recorded), "computed_cost": plain_decimal(self.computed),
                "difference": plain_decimal(self.difference), "cause": self.cause}


# each: the cause, and the record as the other tool would have priced it (None: the repricing does not apply)
_REPRICINGS: tuple[tuple[str, Callable[[UsageRecord], UsageRecord | None]], ...] = (
    ("cache writes priced as uncached input", lambda r: replace(r, cache_write_tokens=0, cache_write_1h_tokens=0)
     if r.cache_write_tokens else None),
    ("cache reads priced as uncached input", lambda r: replace(r, cache_read_tokens=0) if r.cache_read_tokens
     else None),
    ("cache reads and writes priced as uncached input",
     lambda r: replace(r, cache_read_tokens=0, cache_write_tokens=0, cache_write_1h_tokens=0)
     if r.cache_read_tokens and r.cache_write_tokens else None),
    ("1-hour cache writes priced at the 5-minute rate", lambda r: replace(r, cache_write_1h_tokens=0)
     if r.cache_write_1h_tokens else None),
    ("reasoning tokens not billed", lambda r: replace(r, completion_tokens=r.completion_tokens - r.reasoning_tokens,
                                                      reasoning_tokens=0) if r.reasoning_tokens else None),
    ("cached tokens not billed at all", lambda r: replace(r, prompt_tokens=r.prompt_tokens - r.cache_read_tokens,
                                                          cache_read_tokens=0) if r.cache_read_tokens else None),
    ("batch rates not applied", lambda r: replace(r, batch=False) if r.batch else None),
    ("billed at batch rates", lambda r: replace(r, batch=True) if not r.batch and not r.service_tier else None),
)


def _same(a: float, b: float) -> bool:
    """Equal as two tools' rounding of one price leaves them (a thousandth, or a billionth of a dollar)."""
    return abs(a - b) <= 1e-3 * max(abs(a), abs(b)) + 1e-9


def likely_cause(o: Priced, price: Callable[[UsageRecord], Any], list_price: Callable[[UsageRecord], Any] | None
                 = None) -> str:
    """Why a record's recorded cost differs from costcalc's (``o.cost``): ``price`` reprices a record with the same
    config, ``list_price`` with the public cost map alone (None: no config, so the two are one)."""
    recorded, computed = o.record.recorded_cost or 0.0, o.cost.total
    if recorded == 0:
        return "booked at $0: the tool had no price for the model (or did not bill the request)"
    for factor, cause in ((100.0, "a unit mix-up: the recorded figure is in cents"),
                          (0.01, "a unit mix-up: the recorded figure is in dollars where cents were meant")):
        if _same(recorded, computed * factor):
            return cause
    if o.cost.adjustment and _same(recorded, computed - o.cost.adjustment):
        return "the config's discount or margin not applied (cost_discount_config, cost_margin_config)"
    if list_price is not None:
        listed = list_price(o.record)
        if isinstance(listed, Priced) and _same(recorded, listed.cost.total):
            return "the public list price: the tool ignored the config's custom prices, discount or margin"
    for cause, variant in _REPRICINGS:
        other = variant(o.record)
        if other is None:
            continue
        repriced = price(other)
        if isinstance(repriced, Priced) and _same(recorded, repriced.cost.total):
            return cause
    ratio = recorded / computed if computed else math.inf
    return f"a different price table: the tool's rates for {o.record.model} (recorded {ratio:.4g} x computed)"


def record_differences(outcomes: Iterable[Outcome], price: Callable[[UsageRecord], Any],
                       list_price: Callable[[UsageRecord], Any] | None = None,
                       tolerance: float = DEFAULT_TOLERANCE) -> list[RecordDifference]:
    """The priced records whose recorded cost differs from costcalc's by more than ``tolerance`` (relative to the
    recorded cost; a record recorded at $0 that costs more always), each with ``likely_cause``, in input order."""
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    found = []
    for o in outcomes:
        if not isinstance(o, Priced) or o.record.recorded_cost is None:
            continue
        recorded, computed = o.record.recorded_cost, o.cost.total
        if abs(computed - recorded) <= tolerance * abs(recorded) and not (recorded == 0 and computed > 0):
            continue
        r = o.record
        band, measured = o.measured
        exact = dollars(band.money(1, measured).report_units()[-1])
        found.append(RecordDifference(r.file, r.line, r.model, r.shape, Decimal(repr(recorded)).normalize(), exact,
                                      likely_cause(o, price, list_price)))
    return found
