"""Money as reports show it: exact sums rounded to a fixed number of decimals, with rows that add up.

Aggregates hold exact amounts (integers in units of 10^-72 USD, see ``aggregate``). Shown amounts are rounded
once, half to even, to ``decimals`` places, each on its own: a group's amount does not depend on which other
groups are in the report, so a team is the same $31.49 in the all-teams table and in its own filtered report.
The total is the correctly rounded exact total. When the rounded rows do not add up to it, ``Figures.rounding``
holds the difference per column, which the table formats show as a ``(rounding)`` line, so that every column
still adds up to its total (both promises kept; nothing is moved between groups to hide the cents). Every
engine that produces a ``Report`` gets the same figures from here.

The number of decimals is one per report (``decimals_for``): two significant digits of the smallest group among
those that make up 99% of the spend (never set by one tiny group), at least cents, and ``--decimals N`` fixes it
(``fixed_decimals``). ``money_text`` is
the one way every command writes an amount for people: ``$1,892.47``, ``-$0.42``, ``+$0.42``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ..pricing.exact import AMOUNT_PLACES
from .aggregate import COST_PARTS, SCALE, TOTAL, Report, Totals

#: Decimals of USD in JSON, JSONL and CSV: all of them. Amounts are exact (pricing/exact.py): rates have at most
#: 18 places and discount and margin factors at most 18 each, so no amount has more than 72; trailing zeros are
#: dropped, so a cost prints as many places as its arithmetic gives (0.479745, 0.00317100002002716072).
DECIMALS = AMOUNT_PLACES
_DEN = SCALE


def round_units(value: int, den: int, decimals: int) -> int:
    """``value / den`` in units of 10**-decimals, rounded half to even."""
    q, r = divmod(value * 10**decimals, den)
    twice = 2 * r
    if twice > den or (twice == den and q % 2):
        q += 1
    return q


def apportion(values: Sequence[int], total: int, den: int, decimals: int) -> tuple[list[int], int]:
    """Round ``values`` (each over ``den``) so that they add up to ``total`` rounded (largest remainder; ties go
    to the earlier row). When the values do not add up to ``total`` exactly (a record counted in several
    groups), each is rounded on its own."""
    shown_total = round_units(total, den, decimals)
    if sum(values) != total:
        return [round_units(v, den, decimals) for v in values], shown_total
    scale = 10**decimals
    floors, remainders = [], []
    for v in values:
        q, r = divmod(v * scale, den)
        floors.append(q)
        remainders.append(r)
    missing = shown_total - sum(floors)
    if missing:
        order = sorted(range(len(values)), key=lambda i: (-remainders[i], i))
        for i in order[:missing]:
            floors[i] += 1
    return floors, shown_total


def decimal_text(units: int, decimals: int, *, strip: bool = True) -> str:
    """Units of 10**-decimals as a plain decimal: ``35, 4 → "0.0035"``; trailing zeros dropped when ``strip``."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**decimals)
    text = f"{whole}.{frac:0{decimals}d}" if decimals else str(whole)
    if strip and decimals:
        text = text.rstrip("0").rstrip(".")
    return sign + text


def exact_text(value: int, decimals: int = DECIMALS) -> str:
    """An exact amount (units of 10^-72 USD) as a decimal string with at most ``decimals`` places."""
    return decimal_text(round_units(value, _DEN, decimals), decimals)


def float_text(value: float, decimals: int = DECIMALS) -> str:
    """A number a log wrote (a recorded cost, a float rate) as the decimal it means: its shortest repr, in plain
    notation (``0.47974500000000003`` stays what the log wrote; ``5e-07`` is ``0.0000005``), to ``decimals``
    places at most."""
    if not value:
        return "0"
    shortest = repr(float(value))
    point = shortest.find(".")
    if point >= 0 and "e" not in shortest and len(shortest) - point - 1 <= decimals:  # plain, within the places
        text = shortest.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    d = Decimal(shortest)
    if -d.as_tuple().exponent > decimals:  # type: ignore[operator]
        d = d.quantize(Decimal(1).scaleb(-decimals))
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# The sign text formats print amounts with: "$", or the currency of a converted report (``money_sign``).
_SIGN = ["$"]


@contextmanager
def money_sign(sign: str) -> Iterator[None]:
    """Print amounts with ``sign`` (€, £, "CHF ") inside the block: the hook of ``--currency``."""
    previous, _SIGN[0] = _SIGN[0], sign
    try:
        yield
    finally:
        _SIGN[0] = previous


def sign() -> str:
    return _SIGN[0]


def usd(units: int, decimals: int) -> str:
    """Units of 10**-decimals as table money: ``$1,234.50``, ``-$0.0012``; always ``decimals`` places (with
    another currency's sign inside ``money_sign``)."""
    whole, frac = divmod(abs(units), 10**decimals)
    text = f"{whole:,}" + (f".{frac:0{decimals}d}" if decimals else "")
    return ("-" if units < 0 else "") + _SIGN[0] + text


#: ``--decimals N``: when set, every amount shown to people has exactly this many decimals.
_FIXED: list[int | None] = [None]
MAX_SHOWN_DECIMALS = 12


@contextmanager
def fixed_decimals(decimals: int | None) -> Iterator[None]:
    """Show every amount with ``decimals`` places inside the block (None: chosen per report): ``--decimals``."""
    if decimals is not None and not 0 <= decimals <= MAX_SHOWN_DECIMALS:
        raise ValueError(f"decimals must be 0 to {MAX_SHOWN_DECIMALS}, got {decimals}")
    previous, _FIXED[0] = _FIXED[0], decimals
    try:
        yield
    finally:
        _FIXED[0] = previous


#: The share of a report's spend whose smallest group sets the decimals: the groups that make up the last 1% do not.
DECIMALS_COVER = Fraction(99, 100)


def decimals_for(amounts: Iterable[Decimal | Fraction | float | int]) -> int:
    """The decimals for a table of ``amounts`` (dollars): two significant digits of the smallest of the largest
    amounts that together make up 99% of the whole, between 2 (cents) and 6; ``--decimals`` wins. The groups of
    the last 1% do not count, so one tiny group never turns a table of dollars into one of ten-thousandths,
    and a group shows the same cents in a filtered report as in the full one."""
    if _FIXED[0] is not None:
        return _FIXED[0]
    sizes = sorted((abs(Fraction(a)) for a in amounts if a), reverse=True)
    if not sizes:
        return 2
    whole, covered = sum(sizes), Fraction(0)
    for size in sizes:
        covered += size
        if covered >= DECIMALS_COVER * whole:
            break
    return max(2, min(6, 1 - math.floor(math.log10(size))))


def report_decimals(report: Report) -> int:
    """One number of decimals for a whole report, from its groups' totals (``decimals_for``)."""
    totals = [Fraction(t.costs[TOTAL], _DEN) for t in report.groups.values()] or \
        [Fraction(report.totals.costs[TOTAL], _DEN)]
    return decimals_for(totals)


def money_text(amount: Decimal | Fraction | float | int, decimals: int, *, signed: bool = False) -> str:
    """An amount in dollars (exact Decimal or Fraction, or a float a log wrote) as people read it:
    ``$1,892.47``; ``signed`` puts ``+`` before a positive amount (a change)."""
    if isinstance(amount, float):
        amount = Decimal(repr(amount))
    exact = Fraction(amount)
    units = round_units(exact.numerator, exact.denominator, decimals)
    return ("+" if signed and units > 0 else "") + usd(units, decimals)


@dataclass
class Row:
    """One shown row: its key, its exact totals, each cost part of ``COST_PARTS`` in units of 10**-decimals,
    its share of the total in units of 10**-share_decimals (of 1; None when the total is not positive), and
    with ``--compare`` its total in the previous period (units; None when it had no such group)."""

    key: tuple[str, ...]
    totals: Totals
    amounts: list[int]
    share: int | None
    previous: int | None = None
    subtotal: bool = False  # the sum of an outer group's rows (its key is the outer keys only)


@dataclass
class Figures:
    """The shown amounts of a report, rows in report order. Every column of ``rows`` plus ``rounding`` (when
    the rows rounded on their own miss the rounded total) adds up to the total row, unless ``overlap`` (a
    record in several groups)."""

    decimals: int
    rows: list[Row]
    total: Row
    share_decimals: int
    overlap: bool
    compared: bool = False
    rounding: list[int] | None = None  # per cost part: shown total - sum of shown rows (units of 10**-decimals)
    subtotals: list[Row] | None = None  # nested groups: one per outer group of two rows or more

    def lines(self) -> list[Row]:
        """The rows in display order, each outer group's subtotal after its last row (nested groups)."""
        if not self.subtotals:
            return self.rows
        after: dict[int, list[Row]] = {}
        depth = max(len(r.key) for r in self.rows)
        for s in self.subtotals:
            last = max(i for i, r in enumerate(self.rows) if r.key[: len(s.key)] == s.key)
            after.setdefault(last, []).append(s)
        out = []
        for i, r in enumerate(self.rows):
            out.append(r)
            # the innermost outer group closes first: (team, model) subtotal before the team's
            out.extend(sorted(after.get(i, []), key=lambda s: depth - len(s.key)))
        return out


def figures(report: Report, decimals: int = DECIMALS, share_decimals: int = 6) -> Figures:
    """Every group's amounts rounded on their own, the total rounded from the exact total, and the rounding
    difference between the two (shares, which depend on the total anyway, add up to 100% by largest
    remainder)."""
    ordered = report.sorted_groups()
    columns = []
    total_row = []
    for part in range(len(COST_PARTS)):
        columns.append([round_units(t.costs[part], _DEN, decimals) for _, t in ordered])
        total_row.append(round_units(report.totals.costs[part], _DEN, decimals))
    grand = report.totals.costs[TOTAL]
    if grand > 0:
        shares: list[int | None] = list(apportion([t.costs[TOTAL] for _, t in ordered], grand, grand,
                                                  share_decimals)[0])
    else:
        shares = [None] * len(ordered)
    prev = report.previous
    rows = []
    for i, (key, t) in enumerate(ordered):
        before = prev.groups.get(key) if prev is not None else None
        rows.append(Row(key, t, [col[i] for col in columns], shares[i],
                        None if before is None else round_units(before.costs[TOTAL], _DEN, decimals)))
    total = Row(("total",), report.totals, total_row, 10**share_decimals if grand > 0 else None,
                None if prev is None else round_units(prev.totals.costs[TOTAL], _DEN, decimals))
    overlap = sum(t.costs[TOTAL] for _, t in ordered) != grand
    rounding = None
    if not overlap and ordered:
        missing = [shown_total - sum(col) for col, shown_total in zip(columns, total_row)]
        rounding = missing if any(missing) else None
    subtotals = _subtotals(ordered, grand, decimals, share_decimals, prev) if len(report.group_by) > 1 else None
    return Figures(decimals, rows, total, share_decimals, overlap, prev is not None, rounding, subtotals)


def _subtotals(ordered: list[tuple[tuple[str, ...], Totals]], grand: int, decimals: int, share_decimals: int,
               prev: Report | None) -> list[Row]:
    """One row per outer group (every prefix of the keys) holding two rows or more: its exact sums, rounded on
    their own like every amount."""
    sums: dict[tuple[str, ...], Totals] = {}
    counts: dict[tuple[str, ...], int] = {}
    for key, t in ordered:
        for depth in range(1, len(key)):
            prefix = key[:depth]
            sums.setdefault(prefix, Totals()).merge(t)
            counts[prefix] = counts.get(prefix, 0) + 1
    out = []
    for prefix, t in sums.items():
        if counts[prefix] < 2:
            continue
        share = round_units(t.costs[TOTAL] * 10**share_decimals, grand, 0) if grand > 0 else None
        before = None
        if prev is not None:
            earlier = [p.costs[TOTAL] for k, p in prev.groups.items() if k[: len(prefix)] == prefix]
            before = round_units(sum(earlier), _DEN, decimals) if earlier else None
        out.append(Row(prefix, t, [round_units(v, _DEN, decimals) for v in t.costs], share, before, subtotal=True))
    return out
