"""Money as reports show it: exact sums rounded to a fixed number of decimals, with rows that add up.

Aggregates hold exact amounts (integers in units of 10^-72 USD, see ``aggregate``). Shown amounts are rounded
once, half to even, to ``decimals`` places. A column of rows that together make up a total is rounded by
largest remainder: the total is the correctly rounded exact total, every row is its exact amount rounded up
or down, and the shown rows add up to the shown total exactly. Every engine that produces a ``Report`` gets
the same figures from here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

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
    d = Decimal(repr(float(value)))
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


def table_decimals(report: Report) -> int:
    """One number of decimals for a whole table: two significant digits of its smallest non-zero total (a
    row's or the report's), between 2 (cents) and 6."""
    amounts = [abs(t.costs[TOTAL]) for t in report.groups.values() if t.costs[TOTAL]]
    if report.totals.costs[TOTAL]:
        amounts.append(abs(report.totals.costs[TOTAL]))
    if not amounts:
        return 2
    smallest = min(amounts) / _DEN
    return max(2, min(6, 1 - math.floor(math.log10(smallest))))


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


@dataclass
class Figures:
    """The shown amounts of a report, rows in report order. Every column adds up to the total row unless
    ``overlap`` (a record in several groups)."""

    decimals: int
    rows: list[Row]
    total: Row
    share_decimals: int
    overlap: bool
    compared: bool = False


def figures(report: Report, decimals: int = DECIMALS, share_decimals: int = 6) -> Figures:
    ordered = report.sorted_groups()
    columns = []
    total_row = []
    for part in range(len(COST_PARTS)):
        shown, shown_total = apportion([t.costs[part] for _, t in ordered], report.totals.costs[part], _DEN,
                                       decimals)
        columns.append(shown)
        total_row.append(shown_total)
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
    return Figures(decimals, rows, total, share_decimals, overlap, prev is not None)
