"""``--currency EUR --fx-rate 0.92`` or ``--fx-rates rates.csv``: the report in another currency.

A rate is units of the currency per US dollar (0.92: $1 = €0.92). With a rates file (``date,currency,rate``)
each record is converted at the rate of its UTC day, or of the last earlier day that has one; a record before
the first rate is an error, never a guess. Conversion is exact: each day's exact dollar sum (the report's
integers of 10^-72 $) times the decimal rate, summed as fractions: exact decimals.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import CostcalcError, FieldError
from .aggregate import COST_PARTS, Report, Totals, timeline_amount
from .ledger import DAY_PATTERN, NO_DAY, Ledger, is_day

MAX_RATE = Decimal(10) ** 9  # units per dollar; the weakest currencies trade in the tens of thousands
SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "CN¥", "KRW": "₩"}


class CurrencyError(CostcalcError):
    exit_code = 2


def parse_rate(text: str, where: str) -> Decimal:
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        raise CurrencyError(f"{where}: not a decimal number: {text!r}") from None
    if not rate.is_finite() or rate <= 0:
        raise CurrencyError(f"{where}: must be a positive number: {text!r}")
    if rate > MAX_RATE:
        raise CurrencyError(f"{where}: {text!r} units per US dollar is beyond any currency (at most {MAX_RATE:,})")
    return rate


def check_currency(code: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", code):
        raise FieldError("currency", f": not an ISO 4217 code: {code!r}", about_value=True)
    return code.upper()


@dataclass
class FxRates:
    """The rates of one currency: one fixed rate, or dated rates from a file."""

    currency: str
    source: str  # how every format states where the rates came from
    fixed: Decimal | None = None
    days: list[str] = field(default_factory=list)  # sorted
    rates: list[Decimal] = field(default_factory=list)
    used: dict[str, Decimal] = field(default_factory=dict)  # day -> rate applied (for the report)

    def rate(self, day: str) -> Decimal:
        if self.fixed is not None:
            self.used.setdefault(day, self.fixed)
            return self.fixed
        if day == NO_DAY:
            raise CurrencyError(f"{self.source}: a record has no timestamp, so no day to take a {self.currency} "
                                "rate from (give --since/--until to leave such records out, or --fx-rate)")
        i = bisect.bisect_right(self.days, day) - 1
        if i < 0:
            raise CurrencyError(f"{self.source}: no {self.currency} rate on or before {day} (the first is "
                                f"{self.days[0]})")
        self.used.setdefault(day, self.rates[i])
        return self.rates[i]

    def describe(self) -> str:
        if self.fixed is not None:
            return f"amounts in {self.currency} at {self.fixed} {self.currency} per USD ({self.source})"
        first, last = (min(self.used), max(self.used)) if self.used else ("-", "-")
        distinct = sorted(set(self.used.values()))
        span = f"{distinct[0]}" if len(distinct) == 1 else f"{distinct[0]} to {distinct[-1]}"
        return (f"amounts in {self.currency} at the rate of each record day from {self.source} ({span} "
                f"{self.currency} per USD, days {first} to {last})")

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.currency, "rate_source": self.source, "rate_is": f"{self.currency} per USD",
                "fixed_rate": None if self.fixed is None else str(self.fixed),
                "rates_used": {d: str(r) for d, r in sorted(self.used.items())}}

    @property
    def sign(self) -> str:
        return SIGNS.get(self.currency, self.currency + " ")


def fixed_rate(currency: str, text: str) -> FxRates:
    code = check_currency(currency)
    try:
        rate = parse_rate(text, "")
    except CurrencyError as exc:
        raise FieldError("fx_rate", str(exc), about_value=True) from None
    return FxRates(code, "--fx-rate", fixed=rate)


def load_fx_rates(path: str, currency: str) -> FxRates:
    """``date,currency,rate`` rows; only the rows of ``currency`` are used. Errors name file, line and field."""
    code = check_currency(currency)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CurrencyError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CurrencyError(f"{path}: not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [f for f in ("date", "currency", "rate") if f not in header]
    if missing:
        raise CurrencyError(f"{path}:1: header lacks {', '.join(missing)} (expected date,currency,rate)")
    col = {n: i for i, n in enumerate(header)}
    by_day: dict[str, Decimal] = {}
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) < len(header):
            raise CurrencyError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
        day, cur = row[col["date"]].strip(), row[col["currency"]].strip().upper()
        if not is_day(day):
            raise CurrencyError(f"{path}:{line}: date: not YYYY-MM-DD: {day!r}")
        if cur != code:
            continue
        rate = parse_rate(row[col["rate"]], f"{path}:{line}: rate")
        if day in by_day and by_day[day] != rate:
            raise CurrencyError(f"{path}:{line}: date: a second {code} rate for {day} ({rate}, first {by_day[day]})")
        by_day[day] = rate
    if not by_day:
        raise CurrencyError(f"{path}: no {code} rates")
    days = sorted(by_day)
    return FxRates(code, path, days=days, rates=[by_day[d] for d in days])


# -- converting a report -----------------------------------------------------------------------------------------

def _convert(sums: dict[str, list[int]], fx: FxRates) -> list[int]:
    """Per-day exact amounts (the report's units of 10^-72 USD) → the converted amounts, summed as fractions
    and rounded once to 10^-72."""
    total = [Fraction(0)] * (len(COST_PARTS) + 2)
    for day, parts in sums.items():
        rate = Fraction(fx.rate(day))
        for i, v in enumerate(parts):
            if v:
                total[i] += v * rate
    return [round(v) for v in total]


def _totals(base: Totals, parts: list[int]) -> Totals:
    n = len(COST_PARTS)
    return base.with_amounts(parts[:n], parts[n], parts[n + 1])


def convert_report(report: Report, ledger: Ledger | None, fx: FxRates) -> Report:
    """The report with every amount in ``fx.currency``; counts and tokens unchanged. Groups folded into
    "(other)" by --top are folded after conversion, by the report itself. Day rates need the ledger's per-day
    sums (``Ledger(group_by=…)``); one fixed rate scales the report's exact sums directly."""
    if fx.fixed is not None:
        rate = Fraction(fx.fixed)

        def scaled(t: Totals) -> Totals:
            return _totals(t, [round(v * rate) for v in (*t.costs, t.recorded, t.recorded_computed)])

        return replace(report, groups={k: scaled(t) for k, t in report.groups.items()},
                       totals=scaled(report.totals),
                       timeline={k: round(timeline_amount(v) * rate) for k, v in report.timeline.items()})
    if ledger is None:
        raise ValueError("day rates need the ledger's per-day sums")
    per_group: dict[tuple[str, ...], dict[str, list[int]]] = {}
    for key, parts in ledger.group_days.items():
        group, day = key[:-1], key[-1]
        per_group.setdefault(group, {})[day] = parts
    groups = {}
    for key, t in report.groups.items():
        sums = per_group.get(("G", *key), {})
        groups[key] = _totals(t, _convert(sums, fx))
    totals = _totals(report.totals, _convert(per_group.get(("T",), {}), fx))
    timeline = {}
    for (day, k), v in report.timeline.items():
        day_rate = fx.rate(day) if DAY_PATTERN.match(day) else Decimal(1)
        timeline[(day, k)] = round(timeline_amount(v) * Fraction(day_rate))
    return replace(report, groups=groups, totals=totals, timeline=timeline)
