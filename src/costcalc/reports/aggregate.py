"""Grouping, totals and accounting over a stream of outcomes, in memory that grows with groups, not records.

Money is summed exactly (each float cost is an exact multiple of 2^-200 in practice, so it is accumulated
as an integer) and rounded once at the end: every total is the correctly rounded sum of the per-record
costs it covers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from ..engines.duckdb_engine import KeySpec, SumRow, Unsupported
from ..engines.streaming import NotPriced, Outcome, Priced
from ..pricing.exact import ZERO, Band, Money, Spend
from ..pricing.formulas import Measured, Pricer
from ..reading.records import LineResult, Rejected, Skipped, UsageRecord

_SCALE = 2.0**200
_ISCALE = 1 << 200
COST_PARTS = ("input", "cache_read", "cache_write", "output", "reasoning", "adjustment", "total")
TOKEN_FIELDS = ("input_tokens", "cached_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")
GROUP_KEYS = ("model", "deployment", "provider", "user", "team", "key", "end_user", "org", "tag", "day", "week",
              "month", "hour", "shape")
NONE = "(none)"
OTHER = "(other)"
SORTS = ("cost", "requests", "tokens", "name")


def exact(value: float) -> int:
    return int(value * _SCALE)


def to_float(total: int | Decimal) -> float:
    """An exact amount (a Decimal, or an integer in units of 2^-200 $) as the nearest float."""
    if isinstance(total, Decimal):
        return float(total)
    return total / _ISCALE


def legacy_parts(m: Money) -> tuple[Decimal, ...]:
    """Money in the report's cost parts (COST_PARTS): input includes audio, image, the routing fee and per-second
    charges; cache writes both TTLs; output the audio output; the adjustment is margin minus discount."""
    return (m.part("input", "audio_input", "image_input", "routing_fee", "duration_s", "citation"),
            m.part("cache_read", "cache_read_audio", "cache_read_image"), m.part("cache_write", "cache_write_1h"),
            m.part("output", "audio_output", "image_output", "search_queries"), m.part("reasoning"),
            m.margin - m.discount, m.total)


class Totals:
    """Counters for one group: requests, tokens, the measured records per band (money, exact, on demand), and
    recorded spend when logs carry it."""

    __slots__ = ("fixed", "recorded", "recorded_n", "recorded_spend", "requests", "spend", "tokens")

    def __init__(self) -> None:
        self.requests = 0
        self.tokens = [0, 0, 0, 0, 0]
        self.spend = Spend()
        self.recorded = ZERO  # what the logs say was charged (their numbers, as written)
        self.recorded_n = 0
        self.recorded_spend = Spend()  # the computed cost of the records that carry a recorded cost
        self.fixed: tuple[Decimal, ...] | None = None  # amounts set from outside (a currency conversion)

    def add(self, r: UsageRecord, measured: Measured) -> None:
        self.requests += 1
        t = self.tokens
        t[0] += r.prompt_tokens
        t[1] += r.cache_read_tokens
        t[2] += r.cache_write_tokens
        t[3] += r.completion_tokens
        t[4] += r.reasoning_tokens
        self.spend.add(*measured)
        if r.recorded_cost is not None:
            self.recorded += Decimal(repr(r.recorded_cost))
            self.recorded_n += 1
            self.recorded_spend.add(*measured)

    def add_sums(self, count: int, band: Band, units: tuple[int, ...], tokens: tuple[int, ...],
                 recorded: Decimal | None = None) -> None:
        """``count`` records of one band, summed by another engine; ``recorded``: the sum of their recorded
        costs when every one of them has one (None: none has)."""
        self.requests += count
        self.tokens = [a + b for a, b in zip(self.tokens, tokens)]
        self.spend.add_sums(band, count, units)
        if recorded is not None:
            self.recorded += recorded
            self.recorded_n += count
            self.recorded_spend.add_sums(band, count, units)

    def merge(self, other: Totals) -> None:
        if other.fixed is not None or self.fixed is not None:  # converted amounts add as amounts
            mine = (*self.costs, self.recorded_computed)
            theirs = (*other.costs, other.recorded_computed)
            self.fixed = tuple(a + b for a, b in zip(mine, theirs))
        self.requests += other.requests
        self.tokens = [a + b for a, b in zip(self.tokens, other.tokens)]
        self.spend.merge(other.spend)
        self.recorded += other.recorded
        self.recorded_n += other.recorded_n
        self.recorded_spend.merge(other.recorded_spend)

    @property
    def costs(self) -> tuple[Decimal, ...]:
        """The exact amounts per COST_PARTS."""
        return self.fixed[:7] if self.fixed is not None else legacy_parts(self.spend.money)

    @property
    def recorded_computed(self) -> Decimal:
        return self.fixed[7] if self.fixed is not None else self.recorded_spend.money.total

    def with_amounts(self, costs: Iterable[Decimal], recorded: Decimal, recorded_computed: Decimal) -> Totals:
        """The same counts with other amounts (per COST_PARTS, then the recorded and its computed cost)."""
        t = Totals()
        t.requests, t.tokens, t.recorded_n = self.requests, list(self.tokens), self.recorded_n
        t.recorded = recorded
        t.fixed = (*costs, recorded_computed)
        return t

    @property
    def total(self) -> float:
        return to_float(self.spend.money.total)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"requests": self.requests}
        out.update(zip(TOKEN_FIELDS, self.tokens))
        out["cost"] = dict(zip(COST_PARTS, self.costs))
        if self.recorded_n:
            computed = self.recorded_computed
            out["recorded"] = {
                "records": self.recorded_n,
                "recorded_cost": self.recorded,
                "computed_cost": computed,
                "difference": computed - self.recorded,
            }
        return out


# -- group keys --------------------------------------------------------------------------------------

def mask_key(key: str) -> str:
    """An API key as reports show it: a plaintext key (``sk-…``; proxy logs normally hold its hash or alias) is
    cut to its last four characters, as LiteLLM's UI shows keys, so that a report never prints a secret."""
    return f"sk-...{key[-4:]}" if key.startswith("sk-") and len(key) > 12 else key


def key_text(value: Any) -> str:
    """A group key from a value that is not a string (a number, a list, an object, however deeply nested)."""
    try:
        return str(value)
    except RecursionError:
        return f"({type(value).__name__} nested too deeply)"


def _raw_str(r: UsageRecord, *names: str) -> str:
    raw = r.raw or {}
    for name in names:
        value = raw.get(name)
        if value not in (None, ""):
            return value if isinstance(value, str) else key_text(value)
    meta = raw.get("metadata")
    if isinstance(meta, dict):
        for name in names:
            value = meta.get(name)
            if value not in (None, ""):
                return value if isinstance(value, str) else key_text(value)
    return NONE


def dotted(r: UsageRecord, path: str) -> str:
    value: Any = r.raw or {}
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return NONE
        value = value[part]
    if value is None:
        return NONE
    return value if isinstance(value, str) else key_text(value)


def tags_of(r: UsageRecord) -> list[str]:
    raw = r.raw or {}
    tags = raw.get("tags")
    if tags is None:
        tags = raw.get("request_tags")
    if tags is None and isinstance(raw.get("metadata"), dict):
        tags = raw["metadata"].get("tags")
    if isinstance(tags, str):
        return [tags]
    if isinstance(tags, list) and tags:
        return [t if isinstance(t, str) else key_text(t) for t in tags] or [NONE]
    return [NONE]


def time_key(r: UsageRecord, unit: str, tz: tzinfo) -> str:
    if r.timestamp is None:
        return NONE
    dt = datetime.fromtimestamp(r.timestamp, tz)
    if unit == "hour":
        return dt.strftime("%Y-%m-%d %H:00")
    if unit == "day":
        return dt.strftime("%Y-%m-%d")
    if unit == "week":
        monday = dt - timedelta(days=dt.weekday())
        return monday.strftime("%Y-%m-%d") + " (week)"
    return dt.strftime("%Y-%m")


KeyFunction = Callable[[UsageRecord, Any], list[str]]
# Group keys read from the record: the first of these fields set to a non-empty value, at the top level, then
# under ``metadata``. One table for both engines (``key_function`` here, ``key_spec`` for SQL).
RECORD_FIELDS = {
    "user": ("user", "user_id", "user_api_key_user_id"),
    "team": ("team", "team_id", "user_api_key_team_id"),
    "key": ("key", "api_key", "user_api_key_alias", "user_api_key"),
    "end_user": ("end_user",),
    "org": ("org", "organization_id", "user_api_key_org_id"),
}


def key_function(name: str, tz: tzinfo = timezone.utc) -> KeyFunction:
    """A function from (record, price sheet) to its key(s) under ``name`` (a list: tags give several)."""
    if name == "model":
        return lambda r, s: [r.model]
    if name == "deployment":
        return lambda r, s: [s.deployment.label if s.deployment else "(no deployment)"]
    if name == "provider":
        return lambda r, s: [s.provider or "(unknown)"]
    if name == "key":
        return lambda r, s: [mask_key(_raw_str(r, *RECORD_FIELDS["key"]))]
    if name in RECORD_FIELDS:
        fields = RECORD_FIELDS[name]
        return lambda r, s: [_raw_str(r, *fields)]
    if name == "tag":
        return lambda r, s: tags_of(r)
    if name == "shape":
        return lambda r, s: [r.shape]
    if name in ("hour", "day", "week", "month"):
        return lambda r, s: [time_key(r, name, tz)]
    return lambda r, s: [dotted(r, name)]


def key_spec(name: str, tz: tzinfo = timezone.utc) -> KeySpec:
    """What an engine that sums records in SQL must read for group key ``name`` (``key_function`` then keys
    its sums from those raw values, so both engines key alike; time keys are computed in SQL)."""
    if name in RECORD_FIELDS:
        return KeySpec("record", RECORD_FIELDS[name])
    if name == "tag":
        return KeySpec("tags")
    if name in ("hour", "day", "week", "month"):
        return KeySpec("time", unit=name, tz=tz_name(tz))
    if name in ("model", "deployment", "provider", "shape"):
        return KeySpec("model")
    return KeySpec("dotted", tuple(name.split(".")))


def tz_name(tz: tzinfo) -> str:
    """The IANA name of a time zone, for SQL engines (UTC or a zoneinfo zone; others they cannot use)."""
    if tz is timezone.utc:
        return "UTC"
    key = getattr(tz, "key", None)
    if not isinstance(key, str):
        raise Unsupported(f"time zone {tz} has no IANA name")
    return key


# -- the report ----------------------------------------------------------------------------------------

@dataclass
class UnpricedModel:
    model: str
    reason: str
    suggestions: tuple[str, ...]
    count: int = 0


@dataclass
class Accounting:
    """Every non-blank input line is counted once: read = priced + unpriced + rejected + skipped + filtered."""

    read: int = 0
    priced: int = 0
    unpriced: int = 0
    rejected: int = 0
    skipped: int = 0
    filtered: int = 0  # records outside --since/--until

    def as_dict(self) -> dict[str, int]:
        return {"read": self.read, "priced": self.priced, "unpriced": self.unpriced, "rejected": self.rejected,
                "skipped": self.skipped, "filtered": self.filtered}


@dataclass
class Report:
    group_by: tuple[str, ...]
    totals: Totals = field(default_factory=Totals)
    groups: dict[tuple[str, ...], Totals] = field(default_factory=dict)
    accounting: Accounting = field(default_factory=Accounting)
    unpriced: dict[str, UnpricedModel] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    rejected_shown: int = 100
    multi_key: bool = False  # a record may count in several groups (tags)

    top: int | None = None  # keep the N largest first-level groups, fold the rest into "(other)"
    sort: str = "cost"  # cost | requests | tokens | name
    timeline: dict[tuple[str, str], Spend] = field(default_factory=dict)  # (day, first key) -> spend

    def sorted_groups(self) -> list[tuple[tuple[str, ...], Totals]]:
        """Groups in report order: by ``sort`` at every nesting level (largest first; names ascending),
        with first-level groups beyond ``top`` folded into one "(other)" row."""
        groups = self.groups
        if self.top is not None and self.top >= 0:
            firsts: dict[str, Totals] = {}
            for k, t in groups.items():
                firsts.setdefault(k[0], Totals()).merge(t)
            ranked = sorted(firsts.items(), key=lambda kv: self._rank(kv[0], kv[1]))
            keep = {name for name, _ in ranked[: self.top]}
            if len(firsts) > len(keep):
                folded: dict[tuple[str, ...], Totals] = {}
                other = (OTHER,) * len(self.group_by)
                for k, t in groups.items():
                    target = k if k[0] in keep else other
                    folded.setdefault(target, Totals()).merge(t)
                groups = folded
        if len(self.group_by) <= 1:
            return sorted(groups.items(), key=lambda kv: self._rank(kv[0][0], kv[1]))
        parents: dict[tuple[str, ...], Totals] = {}
        for k, t in groups.items():
            for depth in range(1, len(k)):
                parents.setdefault(k[:depth], Totals()).merge(t)

        def order(kv: tuple[tuple[str, ...], Totals]) -> tuple[Any, ...]:
            k, t = kv
            parts: list[Any] = []
            for depth in range(1, len(k)):
                parts.append(self._rank(k[depth - 1], parents[k[:depth]]))
            return (*parts, self._rank(k[-1], t))

        return sorted(groups.items(), key=order)

    def _rank(self, name: str, t: Totals) -> tuple[Any, ...]:
        folded_last = name == OTHER
        if self.sort == "name":
            return (folded_last, name)
        if self.sort == "requests":
            return (folded_last, -t.requests, name)
        if self.sort == "tokens":
            return (folded_last, -(t.tokens[0] + t.tokens[3]), name)
        return (folded_last, -t.costs[6], name)


class ReportBuilder:
    """Consumes outcomes one by one (``add``), or a whole stream (``consume``)."""

    def __init__(self, group_by: Iterable[str] = ("model",), tz: tzinfo = timezone.utc,
                 since: float | None = None, until: float | None = None, keep_rejected: int = 100,
                 timeline: bool = False):
        self.report = Report(group_by=tuple(group_by) or ("model",))
        self.report.rejected_shown = keep_rejected
        self.tz = tz
        self.timeline = timeline  # keep spend per day and first group key (for the HTML chart)
        self._keys = [key_function(name, tz) for name in self.report.group_by]
        self.report.multi_key = "tag" in self.report.group_by
        # one key function that yields exactly one key: the common case, with a lean path in ``add``
        self._single = self._keys[0] if len(self._keys) == 1 and not self.report.multi_key else None
        # the default report (by model): groups found by the model string itself, no key tuple per record
        self._model_only = self.report.group_by == ("model",)
        self._by_model: dict[str, Totals] = {}
        self._finished = False
        self.since, self.until = since, until

    def in_window(self, r: UsageRecord) -> bool:
        if self.since is None and self.until is None:
            return True
        if r.timestamp is None:
            return False
        if self.since is not None and r.timestamp < self.since:
            return False
        return not (self.until is not None and r.timestamp >= self.until)

    def window(self, results: Iterable[LineResult]) -> Iterable[LineResult]:
        """Drop records outside --since/--until before they are priced (counted as ``filtered``)."""
        if self.since is None and self.until is None:
            return results  # no generator layer on the hot path when there is nothing to filter
        return self._windowed(results)

    def _windowed(self, results: Iterable[LineResult]) -> Iterator[LineResult]:
        acc = self.report.accounting
        for r in results:
            if isinstance(r, UsageRecord) and not self.in_window(r):
                acc.read += 1
                acc.filtered += 1
                continue
            yield r

    def add(self, o: Outcome) -> None:
        """Count one outcome (call ``finish`` once after the last)."""
        self.report.accounting.read += 1
        cls = o.__class__
        if cls is Priced:
            self._count_priced(o.record, o.measured, o.sheet)
            return
        acc = self.report.accounting
        rep = self.report
        if cls is NotPriced:
            acc.unpriced += 1
            u = rep.unpriced.get(o.record.model)
            if u is None:
                u = rep.unpriced[o.record.model] = UnpricedModel(o.record.model, o.reason, o.suggestions)
            u.count += 1
        elif cls is Rejected:
            acc.rejected += 1
            if len(rep.rejected) < rep.rejected_shown:
                rep.rejected.append(o)
        elif cls is Skipped:
            acc.skipped += 1

    def _count_priced(self, record: UsageRecord, measured: Measured, sheet: Any) -> None:
        rep = self.report
        rep.accounting.priced += 1
        if self._model_only:
            g = self._by_model.get(record.model)
            if g is None:
                g = self._by_model[record.model] = rep.groups[(record.model,)] = Totals()
            g.add(record, measured)
            if self.timeline:
                self._add_timeline(record, measured, [(record.model,)])
            return
        if self._single is not None:
            keys = [(self._single(record, sheet)[0],)]
        else:
            keys = [()]
            for fn in self._keys:
                keys = [(*k, part) for k in keys for part in fn(record, sheet)]
            # a record in several groups (tags) cannot be totalled from its groups: count it here
            rep.totals.add(record, measured)
        groups = rep.groups
        for k in keys:
            g = groups.get(k)
            if g is None:
                g = groups[k] = Totals()
            g.add(record, measured)
        if self.timeline:
            self._add_timeline(record, measured, keys)

    def _add_timeline(self, record: UsageRecord, measured: Measured, keys: list[tuple[str, ...]]) -> None:
        timeline = self.report.timeline
        day = time_key(record, "day", self.tz)
        for k in {k[0] for k in keys}:
            spend = timeline.get((day, k))
            if spend is None:
                spend = timeline[(day, k)] = Spend()
            spend.add(*measured)

    def key_specs(self) -> list[KeySpec]:
        return [key_spec(name, self.tz) for name in self.report.group_by]

    def add_sums(self, row: SumRow) -> None:
        """Count the records another engine priced and summed (``engines.duckdb_engine``), keyed by the same key
        functions as a record of this engine (from the raw values the sums share)."""
        rep = self.report
        rep.accounting.read += row.count
        rep.accounting.priced += row.count
        stand_in = UsageRecord("", 0, row.model, raw=row.raw)
        keys: list[tuple[str, ...]] = [()]
        for name, fn in zip(rep.group_by, self._keys):
            parts = [row.times[name]] if name in row.times else fn(stand_in, row.sheet)
            keys = [(*k, part) for k in keys for part in parts]
        for k in keys:
            g = self._by_model.get(k[0]) if self._model_only else rep.groups.get(k)
            if g is None:
                g = rep.groups[k] = Totals()
                if self._model_only:
                    self._by_model[k[0]] = g
            g.add_sums(row.count, row.band, row.units, row.tokens, row.recorded)
        if self._single is None:
            rep.totals.add_sums(row.count, row.band, row.units, row.tokens, row.recorded)
        if self.timeline:
            for first in {k[0] for k in keys}:
                spend = rep.timeline.get((row.day or NONE, first))
                if spend is None:
                    spend = rep.timeline[(row.day or NONE, first)] = Spend()
                spend.add_sums(row.band, row.count, row.units)

    def add_unpriced(self, outcome: NotPriced, count: int) -> None:
        """``count`` records like ``outcome``'s (another engine counted them)."""
        self.add(outcome)
        rep = self.report
        rep.accounting.read += count - 1
        rep.accounting.unpriced += count - 1
        rep.unpriced[outcome.record.model].count += count - 1

    def add_skipped(self, count: int) -> None:
        self.report.accounting.read += count
        self.report.accounting.skipped += count

    def add_filtered(self, count: int) -> None:
        self.report.accounting.read += count
        self.report.accounting.filtered += count

    def consume_results(self, results: Iterable[LineResult], engine: Any) -> Report:
        """Price and count in one loop, without an outcome object per priced record (the aggregate reports'
        hot path); anything but a priced record takes the general path through ``engine.price`` and ``add``."""
        pricers = engine._pricers
        acc = self.report.accounting
        count = self._count_priced
        add = self.add
        record_type = UsageRecord
        for r in results:
            if r.__class__ is record_type and not r.batch and r.extras is None:
                p = pricers.get((r.model, r.model_id, r.service_tier, r.request_prices))
                if p is not None and p.__class__ is Pricer:
                    m = p.measure(r)
                    if m is not None:
                        acc.read += 1
                        count(r, m, p.sheet)
                        continue
                add(engine.price(r))
            else:
                add(r if r.__class__ is not record_type else engine.price(r))
        return self.finish()

    def merge(self, other: Report) -> None:
        """Fold in the partial report of a later span of the input (parallel runs merge in input order)."""
        rep = self.report
        for name in ("read", "priced", "unpriced", "rejected", "skipped", "filtered"):
            setattr(rep.accounting, name, getattr(rep.accounting, name) + getattr(other.accounting, name))
        for key, t in other.groups.items():
            g = rep.groups.get(key)
            if g is None:
                rep.groups[key] = g = Totals()
            g.merge(t)
        if self._single is None:
            rep.totals.merge(other.totals)
        for model, u in other.unpriced.items():
            mine = rep.unpriced.get(model)
            if mine is None:
                rep.unpriced[model] = UnpricedModel(u.model, u.reason, u.suggestions, u.count)
            else:
                mine.count += u.count
        room = rep.rejected_shown - len(rep.rejected)
        if room > 0:
            rep.rejected.extend(other.rejected[:room])
        for k, v in other.timeline.items():
            spend = rep.timeline.get(k)
            if spend is None:
                spend = rep.timeline[k] = Spend()
            spend.merge(v)

    def finish(self) -> Report:
        """Complete the totals: with one key per record they are the exact sum of the groups."""
        rep = self.report
        if self._single is not None and not self._finished:
            for g in rep.groups.values():
                rep.totals.merge(g)
        self._finished = True
        return rep

    def consume(self, outcomes: Iterable[Outcome]) -> Report:
        add = self.add
        for o in outcomes:
            add(o)
        return self.finish()

    def passthrough(self, outcomes: Iterable[Outcome]) -> Iterator[Outcome]:
        """Count each outcome while handing it on (per-record writers use this)."""
        for o in outcomes:
            self.add(o)
            yield o
        self.finish()
