"""Grouping, totals and accounting over a stream of outcomes, in memory that grows with groups, not records.

Money is exact (pricing/exact.py): each priced record is measured into integer units and the band of exact
rates that prices them; a group keeps unit sums per band and its amounts are computed from them, as integers
of 10^-72 USD, so every total is exactly the sum of the per-record amounts it covers, whichever engine summed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from ..engines.contract import KeySpec, SumRow, Unsupported
from ..engines.streaming import NotPriced, Outcome, Priced
from ..pricing.approximate import approximate_reason
from ..pricing.exact import AMOUNT_PLACES, Band, Spend
from ..pricing.formulas import Measured, Pricer
from ..reading.names import ID_FIELDS, NAME_FIELDS
from ..reading.records import LineResult, Rejected, Skipped, UsageRecord

SCALE = 10**AMOUNT_PLACES  # exact amounts are integers in units of 10^-72 USD
# Token counts per group. The four input parts add up to ``input``; ``reasoning`` is the part of ``output``
# the model spent thinking (informational: it is billed inside ``output``).
TOKEN_PARTS = ("input", "uncached_input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning")
# Exact cost parts per group, each beside its token count; discount (≤ 0) and margin then bring the parts to
# ``total`` exactly.
COST_PARTS = ("uncached_input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "discount", "margin",
              "total")
TOTAL = COST_PARTS.index("total")
GROUP_KEYS = ("model", "deployment", "provider", "user", "team", "key", "customer", "end_user", "org", "tag",
              "day", "week", "month", "hour", "shape")
TIME_KEYS = ("hour", "day", "week", "month")
NONE = "(none)"
OTHER = "(other)"
SORTS = ("cost", "requests", "tokens", "name")


def exact(value: float | Decimal) -> int:
    """An amount (a log's float, as its shortest repr, or a Decimal) in units of 10^-72 USD."""
    if value.__class__ is float:
        text = repr(value)
        whole, _, fraction = text.partition(".")
        if fraction and "e" not in fraction and len(fraction) <= AMOUNT_PLACES:  # plain digits: read as integers
            return int(whole + fraction) * _POWERS[AMOUNT_PLACES - len(fraction)]
    d = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return int(d.scaleb(AMOUNT_PLACES))


_POWERS = tuple(10**k for k in range(AMOUNT_PLACES + 1))


def to_float(total: int) -> float:
    return total / SCALE


class Totals:
    """Counters for one group: requests, token counts per part (``TOKEN_PARTS``), the measured records per band
    (``spend``: their exact amounts per ``COST_PARTS``, integers of 10^-72 USD, are ``costs``), and recorded
    spend when logs carry it. Another engine adds the same unit sums per band (``add_sums``); the renderers read
    nothing else (``money.figures``)."""

    __slots__ = ("_costs", "fixed", "recorded", "recorded_n", "recorded_spend", "requests", "spend", "tokens")

    def __init__(self) -> None:
        self.requests = 0
        self.tokens = [0, 0, 0, 0, 0, 0, 0]
        self.spend = Spend()
        self.recorded = 0  # what the logs say was charged, units of 10^-72 USD
        self.recorded_n = 0
        self.recorded_spend = Spend()  # the computed cost of the records that carry a recorded cost
        self.fixed: list[int] | None = None  # amounts set from outside (a currency conversion)
        self._costs: list[int] | None = None

    def add(self, r: UsageRecord, measured: Measured) -> None:
        self.requests += r.requests
        t = self.tokens
        read, write, write_1h = r.cache_read_tokens, r.cache_write_tokens, r.cache_write_1h_tokens
        t[0] += r.prompt_tokens
        uncached = r.prompt_tokens - read - write
        t[1] += uncached if uncached > 0 else 0
        t[2] += read
        t[3] += write - write_1h
        t[4] += write_1h
        t[5] += r.completion_tokens
        t[6] += r.reasoning_tokens
        self.spend.add(*measured)
        self._costs = None
        if r.recorded_cost is not None:
            self.recorded += exact(r.recorded_cost)
            self.recorded_n += 1
            self.recorded_spend.add(*measured)

    def add_sums(self, count: int, band: Band, units: tuple[int, ...], tokens: tuple[int, ...],
                 recorded: Decimal | None = None) -> None:
        """``count`` records of one band, summed by another engine; ``recorded``: the sum of their recorded
        costs when every one of them has one (None: none has)."""
        self.requests += count
        self.tokens = [a + b for a, b in zip(self.tokens, tokens)]
        self.spend.add_sums(band, count, units)
        self._costs = None
        if recorded is not None:
            self.recorded += exact(recorded)
            self.recorded_n += count
            self.recorded_spend.add_sums(band, count, units)

    def merge(self, other: Totals) -> None:
        if other.fixed is not None or self.fixed is not None:  # converted amounts add as amounts
            mine, theirs = [*self.costs, self.recorded_computed], [*other.costs, other.recorded_computed]
            self.fixed = [a + b for a, b in zip(mine, theirs)]
        self.requests += other.requests
        self.tokens = [a + b for a, b in zip(self.tokens, other.tokens)]
        self.spend.merge(other.spend)
        self.recorded += other.recorded
        self.recorded_n += other.recorded_n
        self.recorded_spend.merge(other.recorded_spend)
        self._costs = None

    @property
    def costs(self) -> list[int]:
        """The exact amounts per COST_PARTS, integers of 10^-72 USD."""
        if self.fixed is not None:
            return self.fixed[:len(COST_PARTS)]
        if self._costs is None:
            self._costs = list(self.spend.money.report_units())
        return self._costs

    @property
    def recorded_computed(self) -> int:
        if self.fixed is not None:
            return self.fixed[len(COST_PARTS)]
        return self.recorded_spend.money.report_units()[TOTAL]

    def with_amounts(self, costs: Iterable[int], recorded: int, recorded_computed: int) -> Totals:
        """The same counts with other amounts (per COST_PARTS, then the recorded and its computed cost)."""
        t = Totals()
        t.requests, t.tokens, t.recorded_n = self.requests, list(self.tokens), self.recorded_n
        t.recorded = recorded
        t.fixed = [*costs, recorded_computed]
        return t

    @property
    def total(self) -> float:
        return to_float(self.costs[TOTAL])


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




def _raw_and_metadata(r: UsageRecord) -> tuple[dict[str, Any], dict[str, Any]]:
    raw = r.raw or {}
    meta = raw.get("metadata")
    return raw, meta if isinstance(meta, dict) else {}


def _first_text(raw: dict[str, Any], meta: dict[str, Any], names: Iterable[str]) -> str:
    """The first of ``names`` the record states (the line's own field, else its metadata's), as text; NONE when
    none is."""
    for name in names:
        value = raw.get(name)
        if value is None or value == "":
            value = meta.get(name)
        if value is not None and value != "":
            return value if value.__class__ is str else key_text(value)
    return NONE


def _raw_str(r: UsageRecord, *names: str) -> str:
    return _first_text(*_raw_and_metadata(r), names)


def _provider(r: UsageRecord, sheet: Any) -> str:
    """The provider that priced the record, else the one its log names (``custom_llm_provider``)."""
    if sheet is not None and sheet.provider:
        return sheet.provider
    logged = _raw_str(r, "custom_llm_provider")
    return "(unknown)" if logged == NONE else logged


def names_of(r: UsageRecord, whats: tuple[str, ...]) -> list[str]:
    """``name_of`` each of ``whats``, the record's metadata looked up once (a per-record CSV row names four)."""
    raw, meta = _raw_and_metadata(r)
    return [mask_key(text) if what == "key" else text
            for what in whats for text in (_first_text(raw, meta, NAME_FIELDS[what]),)]


def name_of(r: UsageRecord, what: str) -> str:
    """A record's team, key, user, customer or org as people know it: its alias, else its id (keys masked)."""
    value = _raw_str(r, *NAME_FIELDS[what])
    return mask_key(value) if what == "key" else value


# A team is grouped by its id (a renamed team stays one group) and shown by its latest alias (``label_teams``).
TEAM_ID_FIELDS = ID_FIELDS["team_id"]
TEAM_ALIAS_FIELDS = (*ID_FIELDS["team_alias"], "team")


def team_of(r: UsageRecord) -> tuple[str, str]:
    """A record's team: (its id, else its alias; its alias, else NONE)."""
    team_id, alias = _raw_str(r, *TEAM_ID_FIELDS), _raw_str(r, *TEAM_ALIAS_FIELDS)
    return (alias if team_id == NONE else team_id), alias


def match_function(name: str, tz: tzinfo = timezone.utc, teams: dict[str, set[str]] | None = None) -> KeyFunction:
    """The values ``--where`` and budget lines match a record's ``name`` against: its group key; for a team its
    id, its alias, and every other name its id goes by in ``teams`` (a renamed team is one team)."""
    if name == "team":
        known = teams or {}

        def names(r: UsageRecord, s: Any) -> list[str]:
            team_id, alias = team_of(r)
            return list(dict.fromkeys((team_id, alias, *sorted(known.get(team_id, ())))))

        return names
    return key_function(name, tz)


_ID_NAMES = frozenset(name for names in ID_FIELDS.values() for name in names)
_NO_IDS: dict[str, str | None] = dict.fromkeys(ID_FIELDS)
_ID_LOOKUPS = tuple(ID_FIELDS.items())


def ids_of(r: UsageRecord) -> dict[str, str | None]:
    """A record's team, user and key ids and aliases (``ID_FIELDS``), None where it has none; a plaintext key
    is masked like every key a report shows."""
    raw = r.raw
    if not raw or (_ID_NAMES.isdisjoint(raw) and not isinstance(raw.get("metadata"), dict)):
        return _NO_IDS.copy()  # the common canonical record: no ids to look for
    raw, meta = _raw_and_metadata(r)
    out: dict[str, str | None] = {}
    for what, names in _ID_LOOKUPS:  # the metadata looked up once for all five
        text = _first_text(raw, meta, names)
        out[what] = None if text == NONE else mask_key(text) if what == "key_id" else text
    return out


def request_id(r: UsageRecord) -> str | None:
    """The id of the call a record describes: a spend log's ``request_id``, else a provider response's ``id``
    (chatcmpl-…, msg_…, resp_…); None when the record has neither."""
    return raw_request_id(r.raw)


def raw_request_id(raw: dict[str, Any] | None) -> str | None:
    """``request_id`` of the record whose raw object (a log line's JSON) is ``raw``."""
    if not raw:
        return None
    value = raw.get("request_id")
    if value in (None, ""):
        value = raw.get("id")
        if value in (None, "") and isinstance(raw.get("response"), dict):
            value = raw["response"].get("id")
    if value in (None, "") or not isinstance(value, (str, int)):
        return None
    return str(value)


def field_paths(raw: dict[str, Any]) -> list[str]:
    """A record's fields as group-by paths: top level and one level into objects (``metadata.project``)."""
    out = []
    for name, value in raw.items():
        out.append(name)
        if isinstance(value, dict):
            out.extend(f"{name}.{inner}" for inner in value if not isinstance(value[inner], (dict, list)))
    return out


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


def key_function(name: str, tz: tzinfo = timezone.utc) -> KeyFunction:
    """A function from (record, price sheet) to its key(s) under ``name`` (a list: tags give several)."""
    if name == "model":
        return lambda r, s: [r.model]
    if name == "deployment":
        return lambda r, s: [s.deployment.label if s is not None and s.deployment else "(no deployment)"]
    if name == "provider":
        return lambda r, s: [_provider(r, s)]
    if name == "team":
        return lambda r, s: [team_of(r)[0]]
    if name in NAME_FIELDS or name == "end_user":
        what = "customer" if name == "end_user" else name
        return lambda r, s: [name_of(r, what)]
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
    if name in NAME_FIELDS or name == "end_user":
        return KeySpec("record", NAME_FIELDS["customer" if name == "end_user" else name])
    if name == "tag":
        return KeySpec("tags")
    if name in TIME_KEYS:
        return KeySpec("time", unit=name, tz=tz_name(tz))
    if name in ("model", "deployment", "shape"):
        return KeySpec("model")
    if name == "provider":
        return KeySpec("record", ("custom_llm_provider",))
    return KeySpec("dotted", tuple(name.split(".")))


def tz_name(tz: tzinfo) -> str:
    """The IANA name of a time zone, for SQL engines (UTC or a zoneinfo zone; others they cannot use)."""
    if tz is timezone.utc:
        return "UTC"
    key = getattr(tz, "key", None)
    if not isinstance(key, str):
        raise Unsupported(f"time zone {tz} has no IANA name")
    return key


def timeline_amount(value: Any) -> int:
    """A timeline entry as an amount (10^-72 USD): a Spend's total, or an amount already converted."""
    return value if isinstance(value, int) else value.money.report_units()[TOTAL]


@dataclass(frozen=True, slots=True)
class Duplicate(Skipped):
    """A record whose request id an earlier record had: shown as skipped, counted as a duplicate."""


@dataclass(frozen=True)
class Where:
    """One ``--where KEY=VALUE`` / ``KEY!=VALUE`` filter: VALUE is a glob (``*``, ``?``, ``[...]``), matched
    case-sensitively against the record's value under the group key KEY (any tag, for ``tag``)."""

    text: str
    key: str
    pattern: str
    negated: bool

    @classmethod
    def parse(cls, text: str) -> Where:
        from ..errors import FieldError

        key, op, pattern = text.partition("=")
        negated = key.endswith("!")
        key = key[:-1].strip() if negated else key.strip()
        if not op or not key or not all(part.strip() for part in key.split(".")):
            raise FieldError("where", f" {text!r}: not KEY=VALUE or KEY!=VALUE (KEY a group key or field path)",
                             about_value=True)
        return cls(text, key, pattern, negated)


def where_test(filters: Iterable[Where], tz: tzinfo = timezone.utc,
               teams: dict[str, set[str]] | None = None) -> Callable[[UsageRecord, Any], bool]:
    """One test for all filters: every key's test must pass; several ``=`` filters on one key are
    alternatives (``team=a --where team=b``: either team), ``!=`` filters each exclude."""
    from fnmatch import fnmatchcase

    by_key: dict[str, list[Where]] = {}
    for f in filters:
        by_key.setdefault(f.key, []).append(f)
    tests = []
    for key, fs in by_key.items():
        values_of = match_function(key, tz, teams)
        wanted = [f.pattern for f in fs if not f.negated]
        unwanted = [f.pattern for f in fs if f.negated]
        tests.append((values_of, wanted, unwanted))

    def test(r: UsageRecord, sheet: Any) -> bool:
        for values_of, wanted, unwanted in tests:
            values = values_of(r, sheet)
            if wanted and not any(fnmatchcase(v, p) for v in values for p in wanted):
                return False
            if any(fnmatchcase(v, p) for v in values for p in unwanted):
                return False
        return True

    return test


# -- the report ----------------------------------------------------------------------------------------

@dataclass
class UnpricedModel:
    model: str
    reason: str
    suggestions: tuple[str, ...]
    count: int = 0


@dataclass
class Accounting:
    """Every non-blank input line is counted once:
    read = priced + unpriced + rejected + skipped + filtered + excluded + duplicates."""

    read: int = 0
    priced: int = 0
    unpriced: int = 0
    rejected: int = 0
    skipped: int = 0
    filtered: int = 0  # records outside --since/--until
    excluded: int = 0  # records --where left out
    duplicates: int = 0  # records whose request id an earlier record had
    approximate: int = 0  # of the priced: records the logs cannot price exactly (pricing.approximate)

    def as_dict(self) -> dict[str, int]:
        return {"read": self.read, "priced": self.priced, "unpriced": self.unpriced, "rejected": self.rejected,
                "skipped": self.skipped, "filtered": self.filtered, "excluded": self.excluded,
                "duplicates": self.duplicates, "approximate": self.approximate}


@dataclass
class Report:
    group_by: tuple[str, ...]
    totals: Totals = field(default_factory=Totals)
    groups: dict[tuple[str, ...], Totals] = field(default_factory=dict)
    accounting: Accounting = field(default_factory=Accounting)
    approximate: Totals = field(default_factory=Totals)  # the priced records marked approximate, and why
    approximate_reasons: dict[str, int] = field(default_factory=dict)
    unpriced: dict[str, UnpricedModel] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    rejected_shown: int = 100
    multi_key: bool = False  # a record may count in several groups (tags)

    top: int | None = None  # keep the N largest first-level groups, fold the rest into "(other)"
    sort: str = "auto"  # auto (time keys by time, others by cost) | cost | requests | tokens | name
    timeline: dict[tuple[str, str], Any] = field(default_factory=dict)  # (day, first key) -> Spend, or an amount
    fields_seen: set[str] = field(default_factory=set)  # field paths of the first priced record (suggestions)
    # an engine that does not see every record in order finds them when a suggestion is needed (DuckDB)
    first_fields: Any = field(default=None, repr=False, compare=False)
    # the time window asked for (epoch seconds; None: open) and the zone of time buckets
    since: float | None = None
    until: float | None = None
    tz_name: str = "UTC"
    # the period the priced records cover: first and last timestamp (None: no record had one)
    first: float | None = None
    last: float | None = None
    where: tuple[str, ...] = ()  # the --where filters, as given
    previous: Report | None = None  # --compare previous: the same report over the period before ``since``
    compared_with: str = "the previous period of the same length"  # what ``previous`` is, in words
    # a price history: each config (path, epoch seconds it took effect or None for the undated one, the date as
    # given) in the order they apply; empty for a run with one undated config or none
    configs: tuple[tuple[str, float | None, str], ...] = ()
    # grouped by team: each team id's aliases, newest last, with the time each was last seen
    team_aliases: dict[str, dict[str, float]] = field(default_factory=dict)
    renamed: list[str] = field(default_factory=list)  # the renames a report states (``label_teams``)
    # the request ids counted, each with where it was first met (de-duplication): parallel runs check that no
    # two spans counted the same one
    request_ids: dict[str, tuple[str, int]] = field(default_factory=dict, repr=False)

    def absent_keys(self) -> list[str]:
        """The group keys no priced record has (every group ``(none)`` at that level): a mistyped key or a
        field these logs do not carry, which would make a report of one ``(none)`` row."""
        if not self.groups:
            return []
        return [name for depth, name in enumerate(self.group_by)
                if all(k[depth] == NONE for k in self.groups)]

    def suggest_keys(self, name: str) -> list[str]:
        import difflib

        seen = self.first_fields() if self.first_fields is not None else self.fields_seen
        return difflib.get_close_matches(name, list(dict.fromkeys([*GROUP_KEYS, *sorted(seen)])), n=3, cutoff=0.6)

    def sorted_groups(self) -> list[tuple[tuple[str, ...], Totals]]:
        """Groups in report order: by ``sort`` at every nesting level (largest first; names ascending),
        with first-level groups beyond ``top`` folded into one "(other)" row."""
        groups = self.groups
        if self.top is not None and self.top >= 0:
            firsts: dict[str, Totals] = {}
            for k, t in groups.items():
                firsts.setdefault(k[0], Totals()).merge(t)
            # --top keeps the largest: ranked by cost even where time keys are shown in time order
            ranked = sorted(firsts.items(), key=lambda kv: self._rank(kv[0], kv[1], "cost" if self.sort == "auto"
                                                                      else self.sort))
            keep = {name for name, _ in ranked[: self.top]}
            if len(firsts) > len(keep):
                folded: dict[tuple[str, ...], Totals] = {}
                other = (OTHER,) * len(self.group_by)
                for k, t in groups.items():
                    target = k if k[0] in keep else other
                    folded.setdefault(target, Totals()).merge(t)
                groups = folded
        if len(self.group_by) <= 1:
            return sorted(groups.items(), key=lambda kv: self._rank(kv[0][0], kv[1], self._sort_at(0)))
        parents: dict[tuple[str, ...], Totals] = {}
        for k, t in groups.items():
            for depth in range(1, len(k)):
                parents.setdefault(k[:depth], Totals()).merge(t)

        def order(kv: tuple[tuple[str, ...], Totals]) -> tuple[Any, ...]:
            k, t = kv
            parts: list[Any] = []
            for depth in range(1, len(k)):
                parts.append(self._rank(k[depth - 1], parents[k[:depth]], self._sort_at(depth - 1)))
            return (*parts, self._rank(k[-1], t, self._sort_at(len(k) - 1)))

        return sorted(groups.items(), key=order)

    def _sort_at(self, depth: int) -> str:
        if self.sort != "auto":
            return self.sort
        return "time" if self.group_by[depth] in TIME_KEYS else "cost"

    @staticmethod
    def _rank(name: str, t: Totals, sort: str) -> tuple[Any, ...]:
        folded_last = name == OTHER
        if sort == "time":  # ISO-like bucket names sort as time; records without a timestamp last
            return (folded_last, name == NONE, name)
        if sort == "name":
            return (folded_last, name)
        if sort == "requests":
            return (folded_last, -t.requests, name)
        if sort == "tokens":
            return (folded_last, -(t.tokens[0] + t.tokens[5]), name)
        return (folded_last, -t.costs[TOTAL], name)


class ReportBuilder:
    """Consumes outcomes one by one (``add``), or a whole stream (``consume``)."""

    def __init__(self, group_by: Iterable[str] = ("model",), tz: tzinfo = timezone.utc,
                 since: float | None = None, until: float | None = None, keep_rejected: int = 100,
                 timeline: bool = False, where: Iterable[Where] = (), sheet_of: Callable[[UsageRecord], Any] | None
                 = None, dedupe: bool = False, teams: dict[str, set[str]] | None = None):
        """``where``: filters applied before pricing (``sheet_of`` gives the price sheet a record would get,
        for the deployment and provider keys); ``dedupe``: count each request id once (see ``request_id``)."""
        where = tuple(where)
        self.report = Report(group_by=tuple(group_by) or ("model",), since=since, until=until,
                             tz_name=str(getattr(tz, "key", None) or tz), where=tuple(f.text for f in where))
        self._where = where_test(where, tz, teams) if where else None
        self._sheet_of = sheet_of or (lambda r: None)
        self.dedupe = dedupe
        # the request ids met on more than one input line (engines.request_ids), when known: only records with
        # one of those are de-duplicated (remembered); None: every request id is remembered
        self.repeated: set[str] | None = None
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
        self._teams = "team" in self.report.group_by

    def in_window(self, r: UsageRecord) -> bool:
        if self.since is None and self.until is None:
            return True
        if r.timestamp is None:
            return False
        if self.since is not None and r.timestamp < self.since:
            return False
        return not (self.until is not None and r.timestamp >= self.until)

    def window(self, results: Iterable[LineResult]) -> Iterable[LineResult]:
        """The records to price: those outside --since/--until (``filtered``), left out by --where (``excluded``)
        or repeating an earlier request id (``duplicates``) are counted and dropped before pricing."""
        if self.since is None and self.until is None and self._where is None and not self.dedupe:
            return results  # no generator layer on the hot path when there is nothing to filter
        return self._windowed(results)

    def _windowed(self, results: Iterable[LineResult]) -> Iterator[LineResult]:
        acc = self.report.accounting
        timed = self.since is not None or self.until is not None
        where, sheet_of, dedupe, seen = self._where, self._sheet_of, self.dedupe, self.report.request_ids
        repeated = self.repeated
        record_type = UsageRecord
        for r in results:
            if r.__class__ is record_type:
                if timed and not self.in_window(r):
                    acc.read += 1
                    acc.filtered += 1
                    continue
                if where is not None and not where(r, sheet_of(r)):
                    acc.read += 1
                    acc.excluded += 1
                    continue
                if dedupe:
                    rid = request_id(r)
                    # with the ids met more than once known (``repeated``), the others are unique: not held
                    if rid is not None and (repeated is None or rid in repeated):
                        first = seen.get(rid)
                        if first is not None:
                            # on to the writers as a skip (per-record formats keep one line per input line),
                            # counted as a duplicate by ``add``
                            yield Duplicate(r.file, r.line, f"duplicate of {first[0]}:{first[1]} (same request id "
                                            f"{rid})")
                            continue
                        seen[rid] = (r.file, r.line)
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
        elif cls is Duplicate:
            acc.duplicates += 1

    def _count_priced(self, record: UsageRecord, cost: Measured, sheet: Any) -> None:
        rep = self.report
        rep.accounting.priced += 1
        if record.approximate is not None or sheet.per_second:
            reason = approximate_reason(record, sheet)
            if reason is not None:
                rep.accounting.approximate += 1
                rep.approximate.add(record, cost)
                rep.approximate_reasons[reason] = rep.approximate_reasons.get(reason, 0) + 1
        ts = record.timestamp
        if ts is not None:
            if rep.first is None or ts < rep.first:
                rep.first = ts
            if rep.last is None or ts > rep.last:
                rep.last = ts
        if self._model_only:
            g = self._by_model.get(record.model)
            if g is None:
                g = self._by_model[record.model] = rep.groups[(record.model,)] = Totals()
            g.add(record, cost)
            if self.timeline:
                self._add_timeline(record, cost, [(record.model,)])
            return
        if not rep.fields_seen and record.raw:
            rep.fields_seen.update(field_paths(record.raw))
        if self._teams:
            self._see_team(record, ts)
        if self._single is not None:
            keys = [(self._single(record, sheet)[0],)]
        else:
            keys = [()]
            for fn in self._keys:
                keys = [(*k, part) for k in keys for part in fn(record, sheet)]
            # a record in several groups (tags) cannot be totalled from its groups: count it here
            rep.totals.add(record, cost)
        groups = rep.groups
        for k in keys:
            g = groups.get(k)
            if g is None:
                g = groups[k] = Totals()
            g.add(record, cost)
        if self.timeline:
            self._add_timeline(record, cost, keys)

    def _see_team(self, record: UsageRecord, ts: float | None) -> None:
        team_id, alias = team_of(record)
        if alias != NONE and team_id != alias:
            seen = self.report.team_aliases.setdefault(team_id, {})
            when = float("-inf") if ts is None else ts
            if seen.get(alias, float("-inf")) <= when:
                seen[alias] = when

    def _add_timeline(self, record: UsageRecord, cost: Measured, keys: list[tuple[str, ...]]) -> None:
        timeline = self.report.timeline
        day = time_key(record, "day", self.tz)
        for k in {k[0] for k in keys}:
            spend = timeline.get((day, k))
            if spend is None:
                spend = timeline[(day, k)] = Spend()
            spend.add(*cost)

    def key_specs(self) -> list[KeySpec]:
        return [key_spec(name, self.tz) for name in self.report.group_by]

    def add_sums(self, row: SumRow) -> None:
        """Count the records another engine priced and summed (``engines.duckdb_engine``), keyed by the same key
        functions as a record of this engine (from the raw values the sums share)."""
        rep = self.report
        rep.accounting.read += row.count
        rep.accounting.priced += row.count
        for ts in (row.first, row.last):
            if ts is not None:
                rep.first = ts if rep.first is None else min(rep.first, ts)
                rep.last = ts if rep.last is None else max(rep.last, ts)
        stand_in = UsageRecord("", 0, row.model, shape=row.shape, raw=row.raw)
        if self._teams:
            self._see_team(stand_in, row.last)
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
            if r.__class__ is record_type and not r.batch and r.call_type is None:
                p = pricers.get((r.model, r.model_id, r.service_tier, r.request_prices))
                if p is not None and p.__class__ is Pricer and r.extras is None:
                    c = p.measure(r)
                    if c is not None:
                        acc.read += 1
                        count(r, c, p.sheet)
                        continue
                add(engine.price(r))
            else:
                add(r if r.__class__ is not record_type else engine.price(r))
        return self.finish()

    def merge(self, other: Report) -> None:
        """Fold in the partial report of a later span of the input (parallel runs merge in input order)."""
        rep = self.report
        for name in ("read", "priced", "unpriced", "rejected", "skipped", "filtered", "excluded", "duplicates"):
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
        if not rep.fields_seen:
            rep.fields_seen.update(other.fields_seen)
        for team_id, aliases in other.team_aliases.items():
            mine = rep.team_aliases.setdefault(team_id, {})
            for alias, when in aliases.items():
                mine[alias] = max(when, mine.get(alias, float("-inf")))
        if other.first is not None and (rep.first is None or other.first < rep.first):
            rep.first = other.first
        if other.last is not None and (rep.last is None or other.last > rep.last):
            rep.last = other.last

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


def team_labels(reports: Iterable[Report], names: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """How teams are shown: each id by ``names`` (``--alias team:ID=NAME``), else by its latest alias; and the
    renames to state ("team t-1 renamed: old → new")."""
    seen: dict[str, dict[str, float]] = {}
    for report in reports:
        for team_id, aliases in report.team_aliases.items():
            mine = seen.setdefault(team_id, {})
            for alias, when in aliases.items():
                mine[alias] = max(when, mine.get(alias, float("-inf")))
    labels = {team_id: max(aliases, key=lambda a: (aliases[a], a)) for team_id, aliases in seen.items()}
    labels.update(names)
    renamed = []
    for team_id, aliases in sorted(seen.items()):
        if len(aliases) > 1:
            order = sorted(aliases, key=lambda a: (aliases[a], a))
            renamed.append(f"team {team_id} renamed: {' → '.join(order)} (shown as {labels[team_id]})")
    return labels, renamed


def label_teams(report: Report, labels: dict[str, str], renamed: list[str]) -> None:
    """Show a report grouped by team ids with the teams' names; groups that meet under one name add up."""
    if "team" not in report.group_by or not labels:
        return
    depth = report.group_by.index("team")
    groups: dict[tuple[str, ...], Totals] = {}
    for key, totals in report.groups.items():
        named = (*key[:depth], labels.get(key[depth], key[depth]), *key[depth + 1:])
        if named in groups:
            groups[named].merge(totals)
        else:
            groups[named] = totals
    report.groups = groups
    if depth == 0 and report.timeline:
        timeline: dict[tuple[str, str], Any] = {}
        for (day, first), value in report.timeline.items():
            k = (day, labels.get(first, first))
            if k not in timeline:
                timeline[k] = value
            elif isinstance(value, int):  # converted to another currency: amounts
                timeline[k] += value
            else:
                timeline[k].merge(value)
        report.timeline = timeline
    report.renamed = renamed
