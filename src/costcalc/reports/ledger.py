"""The run's priced records summed per day × provider × deployment × team × model × project: the facts the FOCUS
export, the bill reconciliation and the budgets are computed from, kept beside the main report.

A ``Ledger`` is filled through the run's per-record writer hook (``PriceRun.writer``), so it sees exactly the
records the report counts, in one process or in forked workers: each span writes its partial ledger as one JSON
line and the parent merges them (``Ledger.read``). Money is summed exactly, as the report's totals are: every
cost is kept as the integer of 10^-72 USD that pricing/exact.py books it at, so a FOCUS row, a reconciled bill
line or a budget adds up to the report's own figures to the last digit, and is turned into a decimal once, by
``dollars``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import IO, Any

import orjson

from ..engines.streaming import Outcome, Priced, PricingEngine
from ..pricing.exact import AMOUNT_PLACES
from ..pricing.formulas import Pricer
from .aggregate import NONE, exact, key_function, match_function, name_of

SCALE = 10**AMOUNT_PLACES  # the ledger's amounts are integers of 10^-72 USD, as pricing/exact.py books them
# Decimal places of an amount that is no finite decimal (a budget's forecast divides by the days elapsed): 12 (a
# millionth of a micro-dollar). Every other amount, sums and currency conversions alike, is exact.
PLACES = 12

# day (YYYY-MM-DD, UTC), provider, resource id (deployment label or cost-map key), resource name (the model name
# clients call), team, billing model (the provider's model name), project (project/workspace id from the logs)
CellKey = tuple[str, str, str, str, str, str, str]
KEY_FIELDS = ("day", "provider", "resource_id", "resource_name", "team", "model", "project")
NO_DAY = "(no timestamp)"
DAY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_day(text: str) -> bool:
    """Whether text is a real calendar day written YYYY-MM-DD (2026-02-30 is not)."""
    if not DAY_PATTERN.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _money(o: Priced) -> Any:
    band, measured = o.measured
    return band.money(1, measured)


def _amounts(money: Any) -> tuple[int, int, int]:
    """A record's billed cost (discount and margin included), its cost before both, and after the discount
    only: integers of 10^-72 USD."""
    *_, discount, margin, total = money.report_units()  # the discount is negative
    return total, total - margin - discount, total - margin


def dollars(value: int | Fraction, places: int = PLACES) -> Decimal:
    """An amount (an integer of 10^-72 USD, or a Fraction of dollars) as a Decimal: exact whenever it is a finite
    decimal (every sum of costs, converted at decimal rates), else rounded half-even to ``places``."""
    frac = Fraction(value, SCALE) if isinstance(value, int) else value
    den, twos, fives = frac.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den == 1:
        exponent = max(twos, fives)
        out = Decimal(frac.numerator * (10**exponent // frac.denominator)).scaleb(-exponent)
    else:
        with localcontext() as ctx:
            ctx.prec = 400
            out = (Decimal(frac.numerator) / Decimal(frac.denominator)).quantize(Decimal(1).scaleb(-places))
    return out.normalize() if out != 0 else Decimal(0)


def decimal_text(value: Decimal) -> str:
    """A decimal as plain digits (no exponent): what CSV, JSON and FOCUS readers expect."""
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


@dataclass(slots=True)
class Cell:
    """Sums for one key: requests, tokens, seconds, and the cost at three price levels."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    seconds: Fraction = field(default_factory=Fraction)  # per-second deployments: the billed duration
    per_second: int = 0  # records priced per second
    billed: int = 0  # the computed cost, discount and margin included (what the proxy books)
    contracted: int = 0  # the same records at the config's prices, before discount and margin
    discounted: int = 0  # what the provider charges: config prices after the discount, without the margin
    listed: int = 0  # the same records at the public cost map's prices (no config, no discount or margin)
    list_missing: int = 0  # records with no public price: listed at their contracted cost
    configs: set[str] = field(default_factory=set)  # which configs priced these records (price history)

    def merge(self, other: Cell) -> None:
        self.requests += other.requests
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.seconds += other.seconds
        self.per_second += other.per_second
        self.billed += other.billed
        self.contracted += other.contracted
        self.discounted += other.discounted
        self.listed += other.listed
        self.list_missing += other.list_missing
        self.configs |= other.configs

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def dump(self) -> list[Any]:
        return [self.requests, self.prompt_tokens, self.completion_tokens, self.cache_read_tokens,
                self.cache_write_tokens, f"{self.seconds.numerator}/{self.seconds.denominator}", self.per_second,
                str(self.billed), str(self.contracted), str(self.discounted), str(self.listed), self.list_missing,
                sorted(self.configs)]

    @classmethod
    def load(cls, v: list[Any]) -> Cell:
        return cls(v[0], v[1], v[2], v[3], v[4], Fraction(v[5]), v[6], int(v[7]), int(v[8]), int(v[9]),
                   int(v[10]), v[11], set(v[12]))


def billing_model(sheet: Any) -> str:
    """The model name a provider's bill uses for a record: the cost-map entry (or deployment model) it was
    priced as, without the provider prefix."""
    name = sheet.map_key or (sheet.deployment.model if sheet.deployment is not None else sheet.model) or NONE
    return name.rsplit("/", 1)[-1] if "/" in name else name


def record_project(raw: dict[str, Any] | None) -> str:
    """The provider project or workspace a record was billed to, when the log says (``project_id`` or
    ``workspace_id``, at the top level or in ``metadata``)."""
    if not raw:
        return NONE
    for where in (raw, raw.get("metadata")):
        if isinstance(where, dict):
            for name in ("project_id", "workspace_id"):
                value = where.get(name)
                if isinstance(value, str) and value:
                    return value
    return NONE


class Ledger:
    """Cells by key; ``observe`` counts the priced outcomes of a stream as they pass."""

    def __init__(self, engine: PricingEngine | None = None, list_engine: PricingEngine | None = None,
                 config_label: str | None = None, group_by: tuple[str, ...] = (), tz: tzinfo = timezone.utc):
        self.cells: dict[CellKey, Cell] = {}
        # with ``group_by``: the report's cost parts per (group key..., UTC day), for a currency conversion at
        # each day's rate (COST_PARTS, then recorded spend and the computed cost of the records carrying it)
        self.group_by, self.tz = group_by, tz
        self.group_days: dict[tuple[str, ...], list[int]] = {}
        self._group_keys = [key_function(name, tz) for name in group_by]
        # budget lines: (key, value) to match, or None for the total; per line {UTC day: [exact cost, records]}
        self.budget_lines: list[tuple[str, str] | None] = []
        self._budget_match: list[Any] = []
        self.budget_days: list[dict[str, list[int]]] = []
        self.config_counts: dict[str, int] = {}  # priced records per config (price history)
        self._days: dict[int, str] = {}
        self.engine = engine  # the run's engine: its pricers say which discount and margin applied
        self.list_engine = list_engine  # prices records at the public map's prices (ListCost)
        self.config_label = config_label
        self._team = lambda r, s: [name_of(r, "team")]  # FOCUS names the team as its records do

    def watch_budgets(self, lines: list[tuple[str, str] | None], teams: dict[str, set[str]] | None = None) -> None:
        """Budget lines (key, value) or None for the total; ``teams``: each team id's names (renames)."""
        self.budget_lines = list(lines)
        self._budget_match = [None if b is None else (match_function(b[0], self.tz, teams), b[1]) for b in lines]
        self.budget_days = [{} for _ in lines]

    def add(self, o: Priced, config_label: str | None = None) -> None:
        r, sheet = o.record, o.sheet
        day = self._day(r.timestamp)
        d = sheet.deployment
        resource_id = d.label if d is not None else (sheet.map_key or r.model)
        resource_name = d.model_name if d is not None else r.model
        key = (day, sheet.provider or "(unknown)", resource_id, resource_name, self._team(r, sheet)[0],
               billing_model(sheet), record_project(r.raw))
        cell = self.cells.get(key)
        if cell is None:
            cell = self.cells[key] = Cell()
        cell.requests += 1
        cell.prompt_tokens += r.prompt_tokens
        cell.completion_tokens += r.completion_tokens
        cell.cache_read_tokens += r.cache_read_tokens
        cell.cache_write_tokens += r.cache_write_tokens
        if sheet.per_second and r.duration_s is not None:
            cell.per_second += 1
            cell.seconds += Fraction(r.duration_s)
        money = _money(o)
        billed, contracted, discounted = _amounts(money)
        cell.billed += billed
        cell.contracted += contracted
        cell.discounted += discounted
        listed = self._list_cost(o)
        if listed is None:
            cell.list_missing += 1
            cell.listed += contracted
        else:
            cell.listed += listed
        label = config_label or getattr(self.engine, "current_label", None) or self.config_label
        if label:
            cell.configs.add(label)
            self.config_counts[label] = self.config_counts.get(label, 0) + 1
        if self._group_keys:
            self._add_group_day(o, day, money)
        if self._budget_match:
            for match, per in zip(self._budget_match, self.budget_days):
                if match is None or match[1] in match[0](r, sheet):
                    sums = per.get(day)
                    if sums is None:
                        per[day] = [billed, 1]
                    else:
                        sums[0] += billed
                        sums[1] += 1

    def _add_group_day(self, o: Priced, day: str, money: Any) -> None:
        r = o.record
        keys: list[tuple[str, ...]] = [()]
        for fn in self._group_keys:
            keys = [(*k, part) for k in keys for part in fn(r, o.sheet)]
        # the report's amounts (Totals.costs: integers of 10^-72 USD), then the recorded cost and its computed one
        parts = list(money.report_units())
        if r.recorded_cost is not None:
            parts += [exact(r.recorded_cost), parts[-1]]
        else:
            parts += [0, 0]
        # "G" rows are groups, the "T" row the report's total (a record with several tags counts once in it)
        for k in {*(("G", *k, day) for k in keys), ("T", day)}:
            sums = self.group_days.get(k)
            if sums is None:
                self.group_days[k] = list(parts)
            else:
                for i, v in enumerate(parts):
                    sums[i] += v

    def _day(self, timestamp: float | None) -> str:
        """The UTC day of a timestamp (cached per day: records come in runs of the same day)."""
        if timestamp is None:
            return NO_DAY
        n = int(timestamp // 86400)
        day = self._days.get(n)
        if day is None:
            day = self._days[n] = datetime.fromtimestamp(n * 86400, timezone.utc).strftime("%Y-%m-%d")
        return day

    def _list_cost(self, o: Priced) -> int | None:
        if self.list_engine is None or not o.sheet.map_key:
            return None
        r = o.record
        if not r.batch:
            # the common case without a record copy: the map row's plain token pricer, compiled once
            p = self.list_engine.pricer(o.sheet.map_key, None, r.service_tier)
            if p.__class__ is Pricer:
                m = p.measure(r)
                return None if m is None else _amounts(m[0].money(1, m[1]))[0]
        listed = self.list_engine.price(replace(r, model=o.sheet.map_key, model_id=None, request_prices=()))
        if not isinstance(listed, Priced):
            return None
        return _amounts(_money(listed))[0]

    def observe(self, outcomes: Iterable[Outcome]) -> None:
        add = self.add
        for o in outcomes:
            if o.__class__ is Priced:
                add(o)

    def merge(self, other: Ledger) -> None:
        for key, cell in other.cells.items():
            mine = self.cells.get(key)
            if mine is None:
                self.cells[key] = cell
            else:
                mine.merge(cell)
        for label, n in other.config_counts.items():
            self.config_counts[label] = self.config_counts.get(label, 0) + n
        if other.budget_days and not self.budget_days:
            self.budget_days = [{} for _ in other.budget_days]
        for mine_days, theirs in zip(self.budget_days, other.budget_days):
            for day, (cost, n) in theirs.items():
                sums = mine_days.setdefault(day, [0, 0])
                sums[0] += cost
                sums[1] += n
        for gkey, parts in other.group_days.items():
            sums = self.group_days.get(gkey)
            if sums is None:
                self.group_days[gkey] = parts
            else:
                for i, v in enumerate(parts):
                    sums[i] += v

    # -- the run's writer hook: partial ledgers as JSON lines, merged by the parent ------------------------------

    def writer(self) -> Any:
        """A ``PriceRun`` record writer that counts outcomes here and writes this span's cells as one line."""
        def write(outcomes: Iterable[Outcome], out: IO[bytes], first: bool) -> None:
            part = Ledger(self.engine, self.list_engine, self.config_label, self.group_by, self.tz)
            part.watch_budgets(self.budget_lines)
            part.observe(outcomes)
            out.write(orjson.dumps({"cells": [[list(k), c.dump()] for k, c in part.cells.items()],
                                    "groups": [[list(k), [str(v) for v in p]] for k, p in part.group_days.items()],
                                    "budgets": [{d: [str(c), n] for d, (c, n) in per.items()}
                                                for per in part.budget_days],
                                    "configs": part.config_counts}))
            out.write(b"\n")

        return write

    def read(self, stream: IO[bytes]) -> Ledger:
        """Merge the partial ledgers a run wrote (one JSON line per span, in input order)."""
        for line in stream:
            if line.strip():
                doc = orjson.loads(line)
                part = Ledger()
                part.cells = {tuple(k): Cell.load(v) for k, v in doc["cells"]}  # type: ignore[misc]
                part.group_days = {tuple(k): [int(v) for v in p] for k, p in doc["groups"]}
                part.budget_days = [{d: [int(c), n] for d, (c, n) in per.items()} for per in doc["budgets"]]
                part.config_counts = doc["configs"]
                self.merge(part)
        return self

    def record_days(self) -> dict[str, int]:
        """Priced records per UTC day."""
        out: dict[str, int] = {}
        for key, cell in self.cells.items():
            out[key[0]] = out.get(key[0], 0) + cell.requests
        return out
