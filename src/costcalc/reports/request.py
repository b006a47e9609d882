"""A price request: everything ``costcalc price`` (and ``costcalc.price``) can be asked, as one value, built once
from plain values and checked once.

``PriceRequest.build(usage, config=..., month=..., ...)`` reads every field (dates, durations, months, dated
configs, the time zone), then checks the rules between fields from one table (``RULES``), each with one message.
Errors name request fields (``FieldError("compare", ...)``); the CLI words them with its flags.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any

from ..engines.choose import ENGINES, check_engine
from ..errors import FieldError

COMPARISONS = ("previous", "previous-month")
SORTS = ("cost", "requests", "tokens", "name")


@dataclass(frozen=True)
class ConfigEntry:
    """One proxy config: ``start`` (epoch seconds) is when it takes effect; None for the undated config."""

    path: str
    start: float | None = None
    since: str = ""  # the date as given ("2026-10-01"), "" when undated


@dataclass(frozen=True)
class PriceRequest:
    usage: tuple[str, ...]
    configs: tuple[ConfigEntry, ...] = ()
    cost_map: str | None = None
    map_as_of: float | None = None
    group_by: tuple[str, ...] = ("model",)
    since: float | None = None  # the window [since, until), epoch seconds; None: open
    until: float | None = None
    month: str | None = None  # YYYY-MM: sets the window (in ``tz``)
    last: str | None = None  # 7d, 12h, 2w: sets the window (until now)
    tz: str = "UTC"
    where: tuple[str, ...] = ()
    dedupe: bool = True
    engine: str = "auto"
    jobs: int | None = 1
    statement_timeout: float | None = None
    db_timeout: float = 300.0  # seconds without an answer from a database server before giving up (0: never)
    currency: str | None = None
    fx_rate: str | None = None
    fx_rates: str | None = None
    budgets: tuple[str, ...] = ()
    bills: tuple[str, ...] = ()
    compare: str | None = None
    aliases: tuple[str, ...] = ()  # team:ID=NAME: the name a team id is shown by
    top: int | None = None
    sort: str | None = None
    reconcile: bool = False
    tolerance: float = 0.01
    # what the report carries beside its groups (formats declare which they need, formats/registry.py)
    timeline: bool = False  # per-day sums of every group
    ledger: bool = False  # per-day sums per provider, model and config (the FOCUS dataset)
    records: bool = False  # every record is written out as it is priced (reports.pipeline.RecordOutput)
    keep_rejects: bool = False  # rejected lines are written out verbatim
    # given as text, kept to word messages and headers as they were given
    given: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, usage: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], **values: Any) -> PriceRequest:
        """A checked request from plain values: ``config`` (a path, or a list of paths and ``DATE=PATH``),
        ``since``/``until`` (ISO 8601 text, epoch seconds, a datetime, or a duration ago: ``7d``), the rest as the
        fields say. Raises ``FieldError`` naming the field."""
        known = {f.name for f in fields(cls)} | {"config"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TypeError(f"unknown request field(s): {', '.join(unknown)}")
        given: dict[str, str] = {}
        for name in ("since", "until", "map_as_of"):
            if isinstance(values.get(name), str):
                given[name] = values[name]
                values[name] = parse_when(values[name], name)
            elif isinstance(values.get(name), datetime):
                values[name] = values[name].timestamp()
        config = values.pop("config", None)
        if config is not None:
            values["configs"] = config_schedule(list(_strings(config)))
        paths = _strings(usage)
        for name in ("group_by", "where", "budgets", "bills", "aliases"):
            if name in values:
                values[name] = _strings(values[name])
        request = cls(paths, **values, given=given)
        return request.checked()

    def checked(self) -> PriceRequest:
        """This request with its window resolved (``month``, ``last``, ``compare``), after every rule holds."""
        zone(self.tz)
        for rule in RULES:
            if rule.broken(self):
                raise FieldError(rule.field, rule.message(self))
        for key in self.group_by:
            from .aggregate import GROUP_KEYS

            if key not in GROUP_KEYS and not all(part.strip() for part in key.split(".")):
                raise FieldError("group_by", f"unknown group key {key!r}")
        check_engine(self.engine, database=self.database)
        self.team_names()
        since, until = self.since, self.until
        if self.month is not None:
            since, until = month_window(self.month, zone(self.tz))
        elif self.last is not None:
            since = ago(self.last)
            if since is None:
                raise FieldError("last", f"{self.last!r} is not a duration (7d, 12h, 2w)")
            until = time.time()
        if self.compare is not None and until is None:
            until = time.time()
        if since is not None and until is not None and since >= until:
            raise FieldError("since", f"{{since}} {self.given.get('since', since)} is not before {{until}} "
                             f"{self.given.get('until', until)}: the window holds no time")
        return replace(self, since=since, until=until, month=None, last=None)

    def team_names(self) -> dict[str, str]:
        """``aliases`` as {team id: name}."""
        names = {}
        for text in self.aliases:
            m = re.fullmatch(r"\s*team\s*:([^=]+)=(.+)", text)
            if m is None or not m.group(1).strip() or not m.group(2).strip():
                raise FieldError("aliases", f" {text!r}: expected team:ID=NAME (team:t-42=agents)", about_value=True)
            names[m.group(1).strip()] = m.group(2).strip()
        return names

    @property
    def database(self) -> bool:
        from ..reading.postgres import is_database  # here, not above: the CLI imports this module to start

        return any(is_database(u) for u in self.usage)

    @property
    def plain_config(self) -> str | None:
        return next((c.path for c in self.configs if c.start is None), None)

    @property
    def dated_configs(self) -> tuple[ConfigEntry, ...]:
        return tuple(c for c in self.configs if c.start is not None)

    @property
    def aggregate(self) -> bool:
        """The totals alone are asked for (no record written out): what the in-SQL engines can price."""
        return not self.records and not self.ledger_needed

    @property
    def day_rates(self) -> bool:
        return self.currency is not None and self.fx_rates is not None

    @property
    def ledger_needed(self) -> bool:
        """Per-day sums beside the report: for FOCUS, a bill, per-day rates, budgets, and which dated config
        priced how many records."""
        return (self.ledger or bool(self.bills) or self.day_rates or bool(self.budgets)
                or (bool(self.dated_configs) and not self.records))


def _strings(value: Any) -> tuple[str, ...]:
    """One value or several (text or paths) as a tuple of text."""
    if isinstance(value, (str, os.PathLike)):
        return (os.fspath(value),)
    return tuple(os.fspath(v) for v in value)


@dataclass(frozen=True)
class Rule:
    """Fields that do not go together: ``broken(request)`` says so, ``text`` (may name fields as ``{since}``)."""

    field: str
    broken: Callable[[PriceRequest], bool]
    text: str | Callable[[PriceRequest], str]

    def message(self, request: PriceRequest) -> str:
        return self.text(request) if callable(self.text) else self.text


# Every rule between fields, in the order they are checked.
RULES: tuple[Rule, ...] = (
    Rule("month", lambda r: r.month is not None and (r.since is not None or r.until is not None
                                                     or r.last is not None),
         "give one window: {month}, {last}, or {since}/{until}"),
    Rule("last", lambda r: r.last is not None and (r.since is not None or r.until is not None),
         "give one window: {month}, {last}, or {since}/{until}"),
    Rule("compare", lambda r: r.compare is not None and r.compare not in COMPARISONS,
         lambda r: f"{r.compare!r}: compare with 'previous' (the period of the same length before) or "
         "'previous-month' (the calendar month before)"),
    Rule("compare", lambda r: r.compare is not None and r.since is None and r.month is None and r.last is None,
         "needs a window: {since}, {month} or {last}"),
    Rule("compare", lambda r: r.compare is not None and "-" in r.usage,
         "reads the input twice: give files, not stdin"),
    Rule("compare", lambda r: r.compare is not None and r.records,
         "goes with a report of totals, not per-record output"),
    Rule("sort", lambda r: r.sort is not None and r.sort not in SORTS, lambda r: f"{r.sort!r}: one of "
         + ", ".join(SORTS)),
    Rule("tolerance", lambda r: not math.isfinite(r.tolerance), "must be a finite number"),
    Rule("map_as_of", lambda r: r.map_as_of is not None and r.cost_map is not None,
         "{cost_map} names the map already"),
    Rule("currency", lambda r: r.currency is None and (r.fx_rate is not None or r.fx_rates is not None),
         "give the currency the rates convert to"),
    Rule("fx_rate", lambda r: r.fx_rate is not None and r.fx_rates is not None, "one of {fx_rate} or {fx_rates}"),
    Rule("currency", lambda r: r.currency is not None and r.records, "per-record output stays in USD"),
    Rule("budgets", lambda r: bool(r.budgets) and (r.records or r.ledger),
         "goes with a report of totals, not per-record output or the per-day ledger"),
    Rule("bills", lambda r: bool(r.bills) and r.records, "goes with a report of totals, not per-record output"),
    Rule("statement_timeout", lambda r: r.statement_timeout is not None and not r.database, "goes with a database"),
    Rule("usage", lambda r: r.database and len(r.usage) != 1,
         "a database is priced on its own: give one usage argument"),
    Rule("engine", lambda r: r.engine not in ENGINES, lambda r: f"{r.engine!r}: one of " + ", ".join(ENGINES)),
)


# -- reading the fields given as text -----------------------------------------------------------------------------

_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def ago(value: str) -> float | None:
    """``7d``, ``12h``, ``2w``: that long before now (epoch seconds); None when ``value`` is not a duration."""
    m = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", value)
    if m is None:
        return None
    return time.time() - int(m.group(1)) * _UNITS[m.group(2)]


def parse_when(value: str, name: str) -> float:
    """A date, an ISO 8601 time or a duration ago (``7d``), as epoch seconds; ``name`` is the field."""
    from ..reading.records import BadField, parse_time

    relative = ago(value)
    if relative is not None:
        return relative
    try:
        return parse_time(value, name)
    except BadField:
        raise FieldError(name, f"{value!r} is not a date, an ISO 8601 time or a duration ago (7d, 12h, 2w)") from None


def month_window(value: str, tz: Any) -> tuple[float, float]:
    """``2026-10`` → the start of that month and of the next, in ``tz``."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise FieldError("month", f"{value!r} is not a month (YYYY-MM)")
    year, month = int(m.group(1)), int(m.group(2))
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def zone(name: str) -> Any:
    if name.upper() == "UTC":
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("tz", f"unknown time zone {name!r}") from None


def config_path(path: str) -> str:
    if not path.strip():  # an unset shell variable: not "no config"
        raise FieldError("config", "empty file name")
    return path


def config_schedule(configs: list[str]) -> tuple[ConfigEntry, ...]:
    """Config values (``PATH`` or ``DATE=PATH``): the undated config first, then the dated ones by date."""
    from ..reading.records import BadField, parse_time

    plain: ConfigEntry | None = None
    dated: list[ConfigEntry] = []
    for value in configs:
        head, sep, path = value.partition("=")
        when = None
        if sep and head.strip():
            try:
                when = parse_time(head.strip(), "config")
            except BadField:
                when = None  # not a date: a file name with "=" in it
        if when is None:
            if plain is not None:
                raise FieldError("config", f"two undated configs ({plain.path}, {value}): give DATE=CFG for all "
                                 "but one")
            plain = ConfigEntry(config_path(value))
        else:
            if any(c.start == when for c in dated):
                raise FieldError("config", f"two configs take effect at {head.strip()}")
            dated.append(ConfigEntry(config_path(path), when, head.strip()))
    return ((plain,) if plain is not None else ()) + tuple(sorted(dated, key=lambda c: c.start or 0.0))
