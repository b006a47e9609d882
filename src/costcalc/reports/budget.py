"""``--budget team=agents:500 --budget total:2000``: spent, share and a run-rate forecast per budget line.

The period is the calendar month (UTC) of the newest record, or the ``--since``/``--until`` window where given
(either end alone fills the other from that month). Spending is counted from the period's records only; the
forecast is the run rate so far carried to the period's end: spent ÷ days elapsed (from the period's start to
the newest record's day, inclusive) × days in the period. Amounts are in the report's currency (day rates
applied per day), exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from ..errors import FieldError
from .ledger import NO_DAY, SCALE, dollars

_SPEC = re.compile(r"^(?:(?P<total>total)|(?P<key>[^=:]+)=(?P<value>.+?)):(?P<amount>[^:]+)$")


class BudgetError(FieldError):
    """A budget line that cannot be read or applied: names the request field ``budgets``."""

    def __init__(self, detail: str):
        super().__init__("budgets", detail, about_value=True)


@dataclass(frozen=True)
class BudgetLine:
    key: str | None  # a group key (team, user, model, tag, …) or None for the total
    value: str | None
    amount: Decimal

    @property
    def label(self) -> str:
        return "total" if self.key is None else f"{self.key}={self.value}"


def parse_budget(spec: str, group_keys: tuple[str, ...]) -> BudgetLine:
    """``KEY=VALUE:AMOUNT`` or ``total:AMOUNT``; KEY is any --group-by key (a dotted path included)."""
    m = _SPEC.match(spec.strip())
    if not m:
        raise BudgetError(f" {spec!r}: expected KEY=VALUE:AMOUNT (team=agents:500) or total:AMOUNT")
    try:
        amount = Decimal(m["amount"].strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0 or amount > Decimal(10) ** 15:
        raise BudgetError(f" {spec!r}: amount must be a positive number up to 10^15, got {m['amount']!r}")
    if m["total"]:
        return BudgetLine(None, None, amount)
    key = m["key"].strip()
    if key not in group_keys and not all(part.strip() for part in key.split(".")):
        raise BudgetError(f" {spec!r}: unknown key {key!r}")
    return BudgetLine(key, m["value"].strip(), amount)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive
    as_of: date  # the newest record's day

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def elapsed(self) -> int:
        return max(min((self.as_of - self.start).days + 1, self.days), 1)

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "as_of": self.as_of.isoformat(),
                "days": self.days, "days_elapsed": self.elapsed}


def budget_period(days: list[str], since: float | None, until: float | None) -> Period:
    """The period budgets are counted over, from the UTC days that have records and the --since/--until window."""
    dated = sorted(d for d in days if d != NO_DAY)
    newest = date.fromisoformat(dated[-1]) if dated else None

    def day_of(t: float) -> date:
        return datetime.fromtimestamp(t, timezone.utc).date()

    anchor = newest or (day_of(since) if since is not None else None) or (
        day_of(until) - timedelta(days=1) if until is not None else None)
    if anchor is None:
        raise BudgetError(": no record has a timestamp, so there is no period to budget")
    month_start = anchor.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1)
    start = day_of(since) if since is not None else month_start
    end = day_of(until - 1e-6) + timedelta(days=1) if until is not None else month_end
    as_of = min(max(newest or start, start), end - timedelta(days=1))
    return Period(start, end, as_of)


@dataclass
class BudgetStatus:
    line: BudgetLine
    spent: Decimal
    forecast: Decimal
    records: int

    @property
    def share(self) -> Decimal:
        return (self.spent / self.line.amount).quantize(Decimal("0.0001"))

    @property
    def status(self) -> str:
        if self.spent > self.line.amount:
            return "over"
        if self.forecast > self.line.amount:
            return "forecast over"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        return {"budget": self.line.label, "key": self.line.key, "value": self.line.value,
                "amount": _text(self.line.amount), "spent": _text(self.spent), "share": _text(self.share),
                "forecast": _text(self.forecast), "records": self.records, "status": self.status}


def _text(d: Decimal) -> str:
    return format(d.normalize(), "f") if d else "0"


@dataclass
class Budgets:
    period: Period
    currency: str
    lines: list[BudgetStatus]
    outside: int  # records outside the period (not counted)

    @property
    def exceeded(self) -> list[BudgetStatus]:
        return [b for b in self.lines if b.status == "over"]

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.as_dict(), "currency": self.currency,
                "forecast_is": "spent / days_elapsed * days (run rate to the period's end)",
                "lines": [b.as_dict() for b in self.lines], "records_outside_period": self.outside,
                "exceeded": len(self.exceeded)}


def evaluate(lines: list[BudgetLine], per_line_days: list[dict[str, list[int]]], record_days: dict[str, int],
             since: float | None, until: float | None, currency: str = "USD", rate: Any = None) -> Budgets:
    """``per_line_days[i]`` is {UTC day: [exact cost in 10^-72 $, records]} of budget line i's records;
    ``record_days`` the priced records per UTC day (all of them: they set the period)."""
    period = budget_period(list(record_days), since, until)
    start, end = period.start.isoformat(), period.end.isoformat()
    outside = sum(n for d, n in record_days.items() if d == NO_DAY or not start <= d < end)
    out: list[BudgetStatus] = []
    for line, per in zip(lines, per_line_days):
        spent = Fraction(0)
        records = 0
        for day, (cost, n) in per.items():
            if day == NO_DAY or not start <= day < end:
                continue
            amount = Fraction(cost, SCALE)
            if rate is not None:
                amount *= Fraction(rate(day))
            spent += amount
            records += n
        forecast = spent / period.elapsed * period.days
        out.append(BudgetStatus(line, dollars(spent), dollars(forecast), records))
    return Budgets(period, currency, out, outside)
