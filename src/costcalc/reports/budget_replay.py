"""Budget replay: LiteLLM 1.110.2's budget enforcement run over past logs, priced under a candidate config — who
would have been blocked, from when, and how much traffic the proxy would have refused.

Modelled (each rule is tested against LiteLLM's own code in ``tests/test_budget_replay.py``):

- **Who has a budget**: virtual keys, users, teams, end users (customers) and tags, each with ``max_budget`` and
  an optional ``budget_duration``, from a budgets file (``load_budgets``) or the proxy's database
  (``load_database_budgets``); the reset settings from the budgets file, else the config's ``litellm_settings``
  and ``general_settings`` (``config_settings``). A record meets a key's budget when one of its key fields (alias, name,
  hashed token) is the budget's id, and likewise for the others (``reading.names.NAME_FIELDS``; a record's
  tags for tag budgets). A user's personal budget does not apply to a team key's requests unless
  ``apply_user_budget_to_team_keys`` is set (LiteLLM's ``general_settings`` of that name).
- **When a request is refused**: before the call, against the spend of the current window: a key or a user at
  ``spend >= max_budget``; a team, an end user or a tag at ``spend > max_budget`` (LiteLLM's comparisons, which
  differ); a non-finite ``max_budget`` never refuses. A refused request is not spent. The spend of a request
  that runs is counted after it (post-call), so the request that crosses the budget runs and the next one is
  refused.
- **Reset windows**: ``budget_duration`` resets the spend to 0 at LiteLLM's standardized reset times
  (``get_next_standardized_reset_time``, in ``litellm_settings.timezone`` at ``budget_reset_time``): ``1d`` the
  next day at that time; ``7d`` / ``1w`` the next Monday; ``30d`` / ``1mo`` the 1st of the next month; other
  ``Nd`` / ``Nw`` N days after today's midnight; ``Nh`` / ``Nm`` / ``Ns`` the next multiple of N hours /
  minutes / seconds of the day (N over 24 hours rolls to the next midnight, as LiteLLM's arithmetic does);
  ``hourly``, ``daily``, ``weekly``, ``monthly`` as ``1h``, ``24h``, ``7d``, ``30d``. The first window starts at
  the replay's start (the first record, or ``start``); each reset computes the next from its own instant, as
  the proxy's reset job does when it finds ``budget_reset_at`` passed.

Not modelled: the reset job's delay (it runs every ten minutes or so: the replay resets at the exact instant),
budget rollover, multi-window and soft budgets, budget reservations and the Redis counters' lag between pods,
organisation, project, team-member, model-access-group and per-model budgets, the proxy-wide ``max_budget``,
and the throttle on repeated over-budget requests. Spend is what costcalc computes for each record under the
config (discount and margin included: what the proxy books), not what the logs recorded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..engines.streaming import Outcome, Priced
from ..errors import CostcalcError
from ..reading.names import NAME_FIELDS
from ..reading.records import UsageRecord
from .aggregate import tags_of
from .ledger import SCALE, decimal_text, dollars

ENTITIES = ("key", "user", "team", "end_user", "tag")
# at or over the budget: refused (LiteLLM's key and user checks); only over it (team, end user, tag)
_REFUSED_AT_BUDGET = frozenset({"key", "user"})
_WORD_DURATIONS = {"hourly": "1h", "daily": "24h", "weekly": "7d", "monthly": "30d"}
_DURATION = re.compile(r"^(\d+)(mo|[smhdw])$")
# the NAME_FIELDS group that names each entity on a record
_NAME_GROUP = {"key": "key", "user": "user", "team": "team", "end_user": "customer"}


class BudgetReplayError(CostcalcError):
    """A budgets file that cannot be read: one line naming the file and the entry."""

    exit_code = 2


@dataclass(frozen=True)
class Budget:
    entity: str  # key, user, team, end_user, tag
    id: str  # a key's hashed token, a team's id, ...
    max_budget: float
    duration: str | None = None  # budget_duration
    alias: str | None = None  # a key's or team's alias: records that name it meet the budget too

    @property
    def label(self) -> str:
        return f"{self.entity}={self.alias or self.id}"

    def meets(self, ids: set[str]) -> bool:
        return self.id in ids or (self.alias is not None and self.alias in ids)


@dataclass(frozen=True)
class ResetSettings:
    """``litellm_settings.timezone`` and ``budget_reset_time``, ``general_settings.apply_user_budget_to_team_keys``."""

    timezone: str = "UTC"
    reset_time_of_day: time = time(0, 0)
    apply_user_budget_to_team_keys: bool = False

    @property
    def tz(self) -> tzinfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return timezone.utc  # LiteLLM falls back to UTC for a zone it does not know


def parse_duration(text: str) -> tuple[int, str]:
    """A ``budget_duration`` as (count, unit); ValueError for one LiteLLM would not persist."""
    spelled = _WORD_DURATIONS.get(text.strip().lower(), text.strip())
    match = _DURATION.match(spelled)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"invalid budget_duration {text!r} (a whole number and s, m, h, d, w or mo: 1h, 7d, 30d)")
    value, unit = int(match.group(1)), match.group(2)
    if unit == "mo" and value != 1:
        raise ValueError(f"invalid budget_duration {text!r}: monthly resets are 1mo (or 30d) only")
    return value, unit


def next_reset(duration: str, now: datetime, settings: ResetSettings = ResetSettings()) -> datetime:
    """When a window of ``duration`` that is open at ``now`` resets (see the module docstring)."""
    value, unit = parse_duration(duration)
    local = now.astimezone(settings.tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    at = settings.reset_time_of_day

    def at_time(day: datetime) -> datetime:
        return day.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=at.microsecond)

    def first_after(day: datetime, period: timedelta) -> datetime:
        candidate = at_time(day)
        return candidate + period if candidate <= local else candidate

    days = value * 7 if unit == "w" else value if unit == "d" else None
    if unit == "mo" or days == 30:
        first = at_time(midnight.replace(day=1))
        if first > local:
            return first
        month = midnight.replace(day=1) + timedelta(days=32)
        return at_time(month.replace(day=1))
    if days == 1:
        return first_after(midnight, timedelta(days=1))
    if days == 7:
        return first_after(midnight + timedelta(days=(7 - local.weekday()) % 7), timedelta(days=7))
    if days is not None:
        return at_time(midnight + timedelta(days=days))
    # the next multiple of the period within the day, counted on the clock of the current hour / minute
    if unit == "h":
        step = local.hour + value - local.hour % value
        return _clock(local, midnight, step, 0, 0)
    if unit == "m":
        step = local.minute + value - local.minute % value
        return _clock(local, midnight, local.hour + step // 60, step % 60, 0)
    step = local.second + value - local.second % value
    minute = local.minute + step // 60
    return _clock(local, midnight, local.hour + minute // 60, minute % 60, step % 60)


def _clock(local: datetime, midnight: datetime, hour: int, minute: int, second: int) -> datetime:
    if hour >= 24:  # past the day's end: the next day at the hour left over (not a sum of periods)
        return (midnight + timedelta(days=1)).replace(hour=hour % 24, minute=minute, second=second)
    return local.replace(hour=hour, minute=minute, second=second, microsecond=0)


@dataclass
class BudgetOutcome:
    budget: Budget
    spent: int = 0  # units of 10^-72 USD, in the window open at the end of the replay
    allowed: int = 0  # requests that ran
    refused: int = 0  # requests refused by this budget
    refused_cost: int = 0  # what they would have cost
    first_refused: float | None = None  # epoch seconds
    # the end (the reset) of each window in which it refused, ISO; "never" for a budget without a duration
    blocked_until: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        b = self.budget
        return {"entity": b.entity, "id": b.id, "alias": b.alias, "max_budget": b.max_budget,
                "budget_duration": b.duration,
                "allowed_requests": self.allowed, "refused_requests": self.refused,
                "refused_cost": decimal_text(dollars(self.refused_cost)),
                "first_refused": None if self.first_refused is None else
                datetime.fromtimestamp(self.first_refused, timezone.utc).isoformat(),
                "blocked_until": list(self.blocked_until), "spent_in_last_window": decimal_text(dollars(self.spent))}


@dataclass
class Replay:
    outcomes: list[BudgetOutcome]
    refused_requests: int  # distinct requests refused (by one budget or more)
    refused_cost: int
    undated: int  # priced records without a timestamp: not replayed

    def as_dict(self) -> dict[str, Any]:
        return {"budgets": [o.as_dict() for o in self.outcomes], "refused_requests": self.refused_requests,
                "refused_cost": decimal_text(dollars(self.refused_cost)), "undated_records": self.undated}


def _values(r: UsageRecord, what: str) -> set[str]:
    """Every id a record gives for ``what`` (its alias and its id alike), at the top or in ``metadata``."""
    if what == "tag":
        return set(tags_of(r))
    raw = r.raw or {}
    meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    found = set()
    for name in NAME_FIELDS[_NAME_GROUP[what]]:
        for where in (raw, meta):
            value = where.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
                found.add(str(value))
    return found


def _cost(o: Priced) -> int:
    band, measured = o.measured
    return band.money(1, measured).report_units()[-1]


def replay(outcomes: Iterable[Outcome], budgets: Iterable[Budget], settings: ResetSettings = ResetSettings(), *,
           start: float | None = None) -> Replay:
    """Replay the priced records, oldest first, against ``budgets`` (see the module docstring)."""
    rules = list(budgets)
    priced = [o for o in outcomes if isinstance(o, Priced)]
    undated = sum(1 for o in priced if o.record.timestamp is None)
    timed = sorted((o for o in priced if o.record.timestamp is not None), key=lambda o: o.record.timestamp)
    state = {b: BudgetOutcome(b) for b in rules}
    if not timed:
        return Replay(list(state.values()), 0, 0, undated)
    opened = datetime.fromtimestamp(timed[0].record.timestamp if start is None else start, timezone.utc)
    resets = {b: next_reset(b.duration, opened, settings) if b.duration else None for b in rules}
    # each budget in the units spend is counted in (its decimal value, exact); None: never refuses
    limits = {b: int(Decimal(repr(b.max_budget)) * SCALE) if math.isfinite(b.max_budget) else None for b in rules}
    refused_requests = refused_cost = 0
    for o in timed:
        r = o.record
        now = datetime.fromtimestamp(r.timestamp, timezone.utc)  # type: ignore[arg-type]
        ids = {what: _values(r, what) for what in ENTITIES}
        team_key = bool(ids["team"])
        applies = [b for b in rules if b.meets(ids[b.entity])
                   and not (b.entity == "user" and team_key and not settings.apply_user_budget_to_team_keys)]
        blocked = []
        for b in applies:
            reset_at = resets[b]
            while reset_at is not None and reset_at <= now:  # the reset job found the window over
                state[b].spent = 0
                reset_at = resets[b] = next_reset(b.duration, reset_at, settings)  # type: ignore[arg-type]
            spent = state[b].spent
            budget_units = limits[b]
            if budget_units is not None and (spent >= budget_units if b.entity in _REFUSED_AT_BUDGET
                                             else spent > budget_units):
                blocked.append(b)
        cost = _cost(o)
        if blocked:
            refused_requests += r.requests
            refused_cost += cost
            for b in blocked:
                s = state[b]
                s.refused += r.requests
                s.refused_cost += cost
                if s.first_refused is None:
                    s.first_refused = r.timestamp
                until = "never" if resets[b] is None else resets[b].astimezone(timezone.utc).isoformat()  # type: ignore[union-attr]
                if until not in s.blocked_until:
                    s.blocked_until.append(until)
            continue
        for b in applies:
            state[b].spent += cost
            state[b].allowed += r.requests
    return Replay(list(state.values()), refused_requests, refused_cost, undated)


def load_budgets(path: str | Path) -> tuple[list[Budget], ResetSettings | None]:
    """A budgets file (YAML or JSON): ``budgets:`` a list of ``{entity, id, max_budget, budget_duration}`` — or
    rows exported from LiteLLM's ``LiteLLM_VerificationToken`` (``token``), ``LiteLLM_UserTable`` (``user_id``),
    ``LiteLLM_TeamTable`` (``team_id``), ``LiteLLM_EndUserTable`` and ``LiteLLM_TagTable`` (``tag_name``) with
    their ``max_budget`` / ``budget_duration`` columns — and ``settings:`` ``timezone``, ``budget_reset_time``
    (``HH:MM``), ``apply_user_budget_to_team_keys`` (None when the file has no settings)."""
    from ..rates.config import load_yaml

    shown = str(path)
    try:
        doc = load_yaml(Path(path).read_bytes())
    except OSError as exc:
        raise BudgetReplayError(f"{shown}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise BudgetReplayError(f"{shown}: {exc}") from None
    if isinstance(doc, list):
        doc = {"budgets": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("budgets"), list):
        raise BudgetReplayError(f"{shown}: expected a list of budgets, or a mapping with budgets: [...]")
    budgets = [_budget(entry, f"{shown}: budgets[{i}]") for i, entry in enumerate(doc["budgets"])]
    settings = None if doc.get("settings") is None else _settings(doc["settings"], f"{shown}: settings")
    return [b for b in budgets if b is not None], settings


def config_settings(path: str | None) -> ResetSettings:
    """The reset settings a proxy running the config at ``path`` applies: ``litellm_settings.timezone`` and
    ``budget_reset_time``, ``general_settings.apply_user_budget_to_team_keys`` (the defaults without a config)."""
    if path is None:
        return ResetSettings()
    from ..rates.config import load_yaml

    try:
        doc = load_yaml(Path(path).read_bytes())
    except (OSError, ValueError):
        return ResetSettings()  # the config was read once already: its errors were reported there
    litellm_settings = doc.get("litellm_settings") if isinstance(doc, dict) else None
    general = doc.get("general_settings") if isinstance(doc, dict) else None
    merged = {**(litellm_settings if isinstance(litellm_settings, dict) else {})}
    if isinstance(general, dict) and "apply_user_budget_to_team_keys" in general:
        merged["apply_user_budget_to_team_keys"] = general["apply_user_budget_to_team_keys"]
    return _settings({k: merged.get(k) for k in ("timezone", "budget_reset_time", "apply_user_budget_to_team_keys")},
                     f"{path}: litellm_settings")


def _budget(entry: Any, where: str) -> Budget | None:
    if not isinstance(entry, dict):
        raise BudgetReplayError(f"{where}: must be a mapping")
    entity = entry.get("entity")
    ident = entry.get("id")
    alias = entry.get("alias")
    if entity is None:  # a row of LiteLLM's own tables
        for column, name, alias_column in (("token", "key", "key_alias"), ("tag_name", "tag", None),
                                           ("team_id", "team", "team_alias"), ("end_user_id", "end_user", None),
                                           ("user_id", "user", None)):
            if entry.get(column) not in (None, ""):
                entity, ident = name, entry[column]
                alias = entry.get(alias_column) if alias_column else None
                break
    if entity not in ENTITIES:
        raise BudgetReplayError(f"{where}: entity must be one of {', '.join(ENTITIES)} (or a row with token, "
                                "user_id, team_id, end_user_id or tag_name)")
    if not isinstance(ident, (str, int)) or ident == "":
        raise BudgetReplayError(f"{where}: id missing")
    limit = entry.get("max_budget")
    if limit is None:
        return None  # no budget on this row
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0:
        raise BudgetReplayError(f"{where}: max_budget must be a number >= 0, got {limit!r}")
    duration = entry.get("budget_duration")
    if duration is not None:
        try:
            parse_duration(str(duration))
        except ValueError as exc:
            raise BudgetReplayError(f"{where}: {exc}") from None
    return Budget(str(entity), str(ident), float(limit), None if duration is None else str(duration),
                  str(alias) if alias not in (None, "") else None)


def _settings(doc: Any, where: str) -> ResetSettings:
    if not isinstance(doc, dict):
        raise BudgetReplayError(f"{where}: must be a mapping")
    at = doc.get("budget_reset_time") or "00:00"
    try:
        parts = [int(p) for p in str(at).split(":")]
        reset = time(*parts)
    except (TypeError, ValueError):
        raise BudgetReplayError(f"{where}: budget_reset_time must be HH:MM or HH:MM:SS, got {at!r}") from None
    return ResetSettings(str(doc.get("timezone") or "UTC"), reset, doc.get("apply_user_budget_to_team_keys") is True)


# The budgets of LiteLLM's own tables: (entity, query). Keys, teams and users keep theirs on the row; end users
# and tags link a LiteLLM_BudgetTable row.
BUDGET_QUERIES = (
    ("key", 'SELECT token, key_alias, max_budget, budget_duration FROM "LiteLLM_VerificationToken" '
            "WHERE max_budget IS NOT NULL ORDER BY token"),
    ("team", 'SELECT team_id, team_alias, max_budget, budget_duration FROM "LiteLLM_TeamTable" '
             "WHERE max_budget IS NOT NULL ORDER BY team_id"),
    ("user", 'SELECT user_id, NULL, max_budget, budget_duration FROM "LiteLLM_UserTable" '
             "WHERE max_budget IS NOT NULL ORDER BY user_id"),
    ("end_user", 'SELECT e.user_id, NULL, b.max_budget, b.budget_duration FROM "LiteLLM_EndUserTable" e '
                 'JOIN "LiteLLM_BudgetTable" b ON b.budget_id = e.budget_id WHERE b.max_budget IS NOT NULL '
                 "ORDER BY e.user_id"),
    ("tag", 'SELECT t.tag_name, NULL, b.max_budget, b.budget_duration FROM "LiteLLM_TagTable" t '
            'JOIN "LiteLLM_BudgetTable" b ON b.budget_id = t.budget_id WHERE b.max_budget IS NOT NULL '
            "ORDER BY t.tag_name"),
)


def load_database_budgets(url: str) -> list[Budget]:
    """The budgets of a LiteLLM proxy's database (``postgresql://…`` or ``db:``), read in one read-only
    transaction; a budget_duration the proxy would refuse is an error naming the row."""
    from ..reading.postgres import connect, parse_source, query_error

    source = parse_source(url)
    conn = connect(source)
    import psycopg

    budgets = []
    try:
        with conn.cursor() as cur:
            for entity, query in BUDGET_QUERIES:
                cur.execute(query)
                for ident, alias, limit, duration in cur.fetchall():
                    where = f"{source.shown}: {entity} {alias or ident}"
                    budget = _budget({"entity": entity, "id": ident, "alias": alias, "max_budget": limit,
                                      "budget_duration": duration}, where)
                    if budget is not None:
                        budgets.append(budget)
    except psycopg.Error as exc:
        raise query_error(source, exc) from None
    finally:
        conn.close()
    return budgets
