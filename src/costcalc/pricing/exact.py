"""Money as reports book it: integer units × exact decimal rates, then discount and margin, with no rounding.

LiteLLM prices one call in floating point; costcalc's per-record parity is measured against that float
(``formulas.Pricer.__call__``). A report, though, adds up thousands to millions of calls, and float noise
(``0.030000000000000002``) has no place in what finance reads. So every engine books money the same way:

1. A record is *measured*: its integer units per slot (uncached text input, audio and image input, cache reads,
   5-minute and 1-hour cache writes, visible output, audio output, reasoning, the routing fee's prompt tokens)
   with LiteLLM's clamps, the seconds of a per-second call (the exact decimal its log wrote), and the ``Band``
   (one prompt-size band of one rate card, with its discount and margin) that prices them.
2. A band's rates are the floats the engine resolved, as decimals quantized to 18 places (a cost-map value like
   ``2.0000000000000002e-07`` loses noise below float precision, nothing else); discount and margin are the
   config's numbers as written.
3. Money for n records of one band with unit sums U: parts ``U_k × rate_k``; base = Σ parts; discount =
   base × d; margin = (base − discount) × pct + n × fixed; total = base − discount + margin. Every step is
   exact (a Decimal context that traps inexact results), and linear in U and n, so a total booked from sums of
   units per group and band (what the SQL engines do) equals the sum of the per-record amounts to the last
   digit, and merging groups in any order gives the same figures.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import lru_cache

# Unit slots, in the order of ``Band.rates`` and of every units tuple.
SLOTS = ("input", "audio_input", "image_input", "cache_read", "cache_write", "cache_write_1h", "output",
         "audio_output", "reasoning", "routing_fee", "duration_s",
         # the rarer parts some log shapes report (reading.records.UsageExtras)
         "cache_read_audio", "cache_read_image", "image_output", "citation", "search_queries", "video_output")
N_SLOTS = len(SLOTS)
RATE_PLACES = 18
_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)
ZERO = Decimal(0)
ZERO_UNITS = (0,) * N_SLOTS
_DURATION = SLOTS.index("duration_s")

# Exact arithmetic: enough digits for any product of a 2^63 unit count and an 18-place rate times two adjustment
# factors, and an error instead of a silent rounding should that ever not hold.
EXACT = decimal.Context(prec=200, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.Inexact, decimal.InvalidOperation,
                                                                          decimal.Overflow])


@lru_cache(maxsize=1 << 16)  # a value's decimal only (a config's and a map's few thousand rates, met per band)
def exact_rate(value: float) -> Decimal:
    """A float rate as the decimal reports price with: its shortest repr, quantized to 18 places."""
    if not value:
        return ZERO
    d = Decimal(repr(float(value)))
    if d.as_tuple().exponent < -RATE_PLACES:  # type: ignore[operator]
        d = d.quantize(_QUANTUM, rounding=decimal.ROUND_HALF_EVEN)
    return d


def exact_factor(value: float) -> Decimal:
    """A discount, margin percentage or fixed amount: the number as the config wrote it (its shortest repr),
    to 18 places."""
    return exact_rate(value)


# Money is integer arithmetic on fixed exponents (fast, and exact by construction): rates, factors and the
# duration slot's units are integers of 10^-18; a part is units x rate at 10^-36; the discount is at 10^-54;
# the margin and the total at 10^-72.
_E18 = 10**18
_E36 = 10**36


@lru_cache(maxsize=1 << 16)
def _scaled(value: Decimal) -> int:
    return int(value.scaleb(RATE_PLACES, EXACT))


class Band:
    """The exact rates one measured record is priced at: one prompt-size band of one rate card, under one
    service tier, with the discount and margin that apply (``adjusts`` False: batch lines and GPU time, which
    LiteLLM books before discount and margin). Compared by identity: a Pricer makes one per band."""

    __slots__ = (
        "_discount",
        "_fixed",
        "_fixed_72",
        "_pct",
        "_priced",
        "_rates",
        "adjusts",
        "discount",
        "keys",
        "margin_fixed",
        "margin_pct",
        "rates",
    )

    def __init__(self, rates: Iterable[float], discount: float = 0.0, margin_pct: float = 0.0,
                 margin_fixed: float = 0.0, *, adjusts: bool = True, keys: dict[str, str] | None = None):
        values = [exact_rate(r) for r in rates]
        if len(values) > N_SLOTS:
            raise ValueError(f"a band has {N_SLOTS} rates, got {len(values)}")
        values += [ZERO] * (N_SLOTS - len(values))  # the slots a caller leaves out are not billed
        self.rates = tuple(values)
        self.adjusts = adjusts and bool(discount or margin_pct or margin_fixed)
        self.discount = exact_factor(discount) if self.adjusts else ZERO
        self.margin_pct = exact_factor(margin_pct) if self.adjusts else ZERO
        self.margin_fixed = exact_factor(margin_fixed) if self.adjusts else ZERO
        self.keys = keys or {}
        # the integer forms: a unit count's rate at 10^-36 (times 10^18), the duration slot's at 10^-18 (its
        # units are already 10^-18 s)
        self._rates = tuple(_scaled(r) * (1 if i == _DURATION else _E18) for i, r in enumerate(values))
        self._discount, self._pct, self._fixed = (_scaled(self.discount), _scaled(self.margin_pct),
                                                  _scaled(self.margin_fixed))
        self._fixed_72 = self._fixed * _E36 * _E18  # one record's fixed margin, at 10^-72
        self._priced = tuple((i, _GROUP_OF[i], rate) for i, rate in enumerate(self._rates) if rate)

    def money(self, count: int, units: Iterable[int]) -> Money:
        """What ``count`` records of this band with unit sums ``units`` cost, part by part, exactly."""
        parts = [u * r if u else 0 for u, r in zip(units, self._rates)]
        parts += [0] * (N_SLOTS - len(parts))
        base = sum(parts)
        if not self.adjusts:
            return Money(tuple(parts), 0, 0, base * _E36)
        discount = base * self._discount  # 10^-54
        after = base * _E18 - discount
        margin = after * self._pct + count * self._fixed * _E36 * _E18  # 10^-72
        return Money(tuple(parts), discount, margin, after * _E18 + margin)


    def record_texts(self, units: Iterable[int]) -> tuple[str, ...]:
        """What one record of this band with ``units`` costs, as ``self.money(1, units).report_texts()`` writes
        it (the same integers, without building the Money: a per-record export prints millions of these)."""
        groups, count = [0, 0, 0, 0, 0], len(units)  # type: ignore[arg-type]
        for i, group, rate in self._priced:  # only the slots with a rate: a unit at rate 0 costs nothing
            if i >= count:
                break
            u = units[i]  # type: ignore[index]
            if u:
                groups[group] += u * rate
        base = sum(groups)
        texts = [fixed_text(g, 36) for g in groups]
        if not self.adjusts:
            return (*texts, "0", "0", fixed_text(base, 36))
        discount = base * self._discount  # 10^-54
        after = base * _E18 - discount
        margin = after * self._pct + self._fixed_72  # 10^-72
        return (*texts, fixed_text(-discount, 54), fixed_text(margin, AMOUNT_PLACES),
                fixed_text(after * _E18 + margin, AMOUNT_PLACES))


def seconds(duration_s: float) -> int:
    """A duration as the decimal its log wrote (the float's shortest repr), in units of 10^-18 s: the units of
    the duration slot (logs write milliseconds or microseconds; nothing finer is lost)."""
    return _scaled(exact_rate(duration_s))


def fixed_text(value: int, places: int) -> str:
    """An integer of 10^-places as plain decimal text without trailing zeros."""
    if not value:
        return "0"
    if value < 0:
        return "-" + fixed_text(-value, places)
    digits = str(value)
    if len(digits) > places:
        tail = digits[-places:].rstrip("0")
        return f"{digits[:-places]}.{tail}" if tail else digits[:-places]
    return "0." + "0" * (places - len(digits)) + digits.rstrip("0")


def decimal_text(value: Decimal) -> str:
    """An exact amount in plain notation without trailing zeros (``0.0030``, ``3E-3`` -> ``0.003``)."""
    if not value:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# The report's cost parts (reports.aggregate.COST_PARTS: uncached input, cache read, 5-minute and 1-hour cache
# writes, output) as groups of slots: uncached input includes audio, image, the routing fee, per-second charges
# and citations; cache reads their cached audio and images; output the audio, the images, search queries and
# reasoning. The discount (negative), the margin and the total follow.
PART_GROUPS = (("input", "audio_input", "image_input", "routing_fee", "duration_s", "citation"),
               ("cache_read", "cache_read_audio", "cache_read_image"), ("cache_write",), ("cache_write_1h",),
               ("output", "audio_output", "image_output", "search_queries", "reasoning", "video_output"))
_GROUP_SLOTS = tuple(tuple(SLOTS.index(s) for s in group) for group in PART_GROUPS)
# Money._groups spells these indexes out: keep them in step with SLOTS
assert _GROUP_SLOTS == ((0, 1, 2, 9, 10, 14), (3, 11, 12), (4,), (5,), (6, 7, 13, 15, 8, 16)), _GROUP_SLOTS
AMOUNT_PLACES = 72  # the report's amounts are integers of 10^-72 USD
_GROUP_OF = tuple(next(g for g, slots in enumerate(_GROUP_SLOTS) if i in slots) for i in range(N_SLOTS))


class Money:
    """Exact amounts: one per unit slot, the discount (a saving, positive), the margin, and the total. Held as
    integers (parts at 10^-36, discount at 10^-54, margin and total at 10^-72); read as Decimals or as text."""

    __slots__ = ("_discount", "_margin", "_parts", "_total")

    def __init__(self, parts: tuple[int, ...], discount: int, margin: int, total: int):
        self._parts, self._discount, self._margin, self._total = parts, discount, margin, total

    def __add__(self, other: Money) -> Money:
        return Money(tuple(a + b for a, b in zip(self._parts, other._parts)), self._discount + other._discount,
                     self._margin + other._margin, self._total + other._total)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and (self._parts, self._discount, self._margin, self._total) == (
            other._parts, other._discount, other._margin, other._total)

    def __repr__(self) -> str:
        return f"Money(total={self.total}, discount={self.discount}, margin={self.margin})"

    @property
    def parts(self) -> tuple[Decimal, ...]:
        return tuple(_decimal(p, 36) for p in self._parts)

    @property
    def discount(self) -> Decimal:
        return _decimal(self._discount, 54)

    @property
    def margin(self) -> Decimal:
        return _decimal(self._margin, 72)

    @property
    def total(self) -> Decimal:
        return _decimal(self._total, 72)

    def part(self, *slots: str) -> Decimal:
        return _decimal(sum(self._parts[SLOTS.index(s)] for s in slots), 36)

    def _groups(self) -> tuple[int, ...]:
        """The PART_GROUPS sums, at 10^-36 (slot indexes spelled out: this runs for every record of jsonl)."""
        p = self._parts
        return (p[0] + p[1] + p[2] + p[9] + p[10] + p[14], p[3] + p[11] + p[12], p[4], p[5],
                p[6] + p[7] + p[13] + p[15] + p[8] + p[16])

    def report_units(self) -> tuple[int, ...]:
        """Per PART_GROUPS, then the discount (negative), the margin and the total: integers of 10^-72 USD that
        add up to the total exactly."""
        return (*(g * _E36 for g in self._groups()), -self._discount * _E18, self._margin, self._total)

    def report_texts(self) -> tuple[str, ...]:
        """``report_units`` as decimal text (a record's line in jsonl and csv), each at its own exponent."""
        return (*(fixed_text(g, 36) for g in self._groups()), fixed_text(-self._discount, 54),
                fixed_text(self._margin, AMOUNT_PLACES), fixed_text(self._total, AMOUNT_PLACES))


def _decimal(value: int, places: int) -> Decimal:
    return Decimal(value).scaleb(-places, EXACT) if value else ZERO


NO_MONEY = Money((0,) * N_SLOTS, 0, 0, 0)


class Spend:
    """Measured records summed per band (a count and unit sums each); money is computed on demand."""

    __slots__ = ("_money", "cells")

    def __init__(self) -> None:
        self.cells: dict[Band, list[int]] = {}
        self._money: Money | None = NO_MONEY

    def add(self, band: Band, units: tuple[int, ...]) -> None:
        cell = self.cells.get(band)
        if cell is None:
            self.cells[band] = [1, *units, *ZERO_UNITS[len(units):]]
        else:
            cell[0] += 1
            for i, u in enumerate(units, 1):
                if u:
                    cell[i] += u
        self._money = None

    def add_sums(self, band: Band, count: int, units: Iterable[int]) -> None:
        """Fold in ``count`` records of ``band`` with unit sums ``units`` (an engine that aggregated them)."""
        cell = self.cells.get(band)
        if cell is None:
            cell = self.cells[band] = [0] * (N_SLOTS + 1)
        cell[0] += count
        for i, u in enumerate(units, 1):
            cell[i] += u
        self._money = None

    def merge(self, other: Spend) -> None:
        for band, cell in other.cells.items():
            self.add_sums(band, cell[0], cell[1:])

    def __iter__(self) -> Iterator[tuple[Band, list[int]]]:
        return iter(self.cells.items())

    @property
    def money(self) -> Money:
        if self._money is None:
            total = NO_MONEY
            for band, cell in self.cells.items():
                total = total + band.money(cell[0], cell[1:])
            self._money = total
        return self._money
