"""Recorded vs computed spend: the groups of a report whose logs disagree with costcalc's prices.

Logs that say what a call cost (a LiteLLM spend log's ``spend`` or ``response_cost``, Claude Code's
``costUSD``, a canonical record's ``cost``) keep it as ``UsageRecord.recorded_cost``, and ``report.Totals``
sums it per group next to the computed cost of the same records. ``reconcile`` lists the groups where the
two differ by more than a relative tolerance, largest absolute difference first: the audit behind
``costcalc price --reconcile``, which tells a team whether its proxy's spend numbers can be trusted.

``record_differences`` does the same per record, for the sources that carry another tool's price of each call
(Langfuse's ``costDetails``, Claude Code's ``cost_usd``, an OTel cost attribute, LiteLLM's daily ``spend``,
Portkey's cost in cents, Helicone's ``cost``), and names the likely cause of each difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ..engines.streaming import Outcome, Priced
from ..reading.records import UsageRecord
from .aggregate import Report, to_float
from .ledger import decimal_text, dollars

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
                "recorded_cost": decimal_text(self.recorded), "computed_cost": decimal_text(self.computed),
                "difference": decimal_text(self.difference), "cause": self.cause}


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
