"""Budget replay: LiteLLM 1.110.2's budget enforcement run over past logs, priced under a candidate config — who
would have been blocked, from when, and how much traffic the proxy would have refused.

Modelled (each rule is held to LiteLLM's own code in ``tests/test_budget_replay.py``; docs/budget-replay.md):

- **Who has a budget**: virtual keys, users, teams, team members (a user within a team), organizations, end
  users (customers) and tags, each with ``max_budget`` and an optional ``budget_duration`` (keys and teams also
  an alert-only ``soft_budget``), from a budgets file (``load_budgets``) or the proxy's database
  (``load_database_budgets``); the settings from the budgets file, else the config's ``litellm_settings`` and
  ``general_settings`` (``config_settings``). A record meets a key's budget when one of its key fields (alias,
  name, hashed token) is the budget's id, and likewise for the others (``reading.names.NAME_FIELDS``; a record's
  tags for tag budgets; a team member's when it names both the user and the team; an organization's when it
  names the organization or one of its teams). A user's personal budget does not apply to a team key's requests
  unless ``apply_user_budget_to_team_keys`` is set.
- **When a request is refused** (``refuses``): before the call, against the spend of the current window. The
  read-time checks: a key, a user, a team member or an organization at ``spend >= max_budget``; a team or an end
  user at ``spend > max_budget``; a tag unless ``spend <= max_budget`` (so a NaN tag budget refuses everything);
  otherwise a non-finite ``max_budget`` never refuses. Then the budget reservation (on unless
  ``general_settings.disable_budget_reservation``): a request with a cost is refused by any positive budget with
  no room left (``max_budget - spend <= 1e-12``), so a team, end user or tag exactly at its budget is refused
  too. A refused request is not spent. The spend of a request that runs is counted after it, so the request
  that crosses the budget runs (the reservation shrinks to what is left) and the next one is refused.
- **Temporary increases** of a team member's budget (``temp_budget_increase`` until ``temp_budget_expiry``).
- **Budget windows**: each of a key's or team's ``budget_limits`` (``{budget_duration, max_budget}``) is a budget
  of its own, with its own spend and reset, refused at ``spend >= max_budget`` for keys and teams alike.
- **Free models**: the requests of a model group the config prices at 0 (``free_model_groups``) skip every check.
- **Rollover** (``litellm_settings.budget_rollover``): a reset carries the spend over a finite budget over.
- **Soft budgets** alert, never refuse: a key's when its ``soft_budget`` is set (non-zero) and spend >= it, a
  team's when spend >= it; the replay reports the first request that would have alerted.
- **Reset windows**: ``budget_duration`` resets the spend to 0 at LiteLLM's standardized reset times
  (``get_next_standardized_reset_time``, in ``litellm_settings.timezone`` at ``budget_reset_time``): ``1d`` the
  next day at that time; ``7d`` / ``1w`` the next Monday; ``30d`` / ``1mo`` the 1st of the next month; other
  ``Nd`` / ``Nw`` N days after today's midnight; ``Nh`` / ``Nm`` / ``Ns`` the next multiple of N hours /
  minutes / seconds of the day (N over 24 hours rolls to the next midnight, as LiteLLM's arithmetic does);
  ``hourly``, ``daily``, ``weekly``, ``monthly`` as ``1h``, ``24h``, ``7d``, ``30d``. The first window starts at
  the replay's start (the first record, or ``start``); each reset computes the next from its own instant, as
  the proxy's reset job does when it finds ``budget_reset_at`` passed.

Not modelled (docs/budget-replay.md says why): the reset job's delay, per-model budgets (``model_max_budget``),
model-access-group and project budgets, the default budgets for end users and team members, the proxy-wide
``max_budget``, the throttle on over-budget keys, strict enforcement and what concurrency changes. Spend is what
costcalc computes for each record under the config (discount and margin included: what the proxy books), not what
the logs recorded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..engines.streaming import Outcome, Priced, PricingEngine
from ..errors import CostcalcError
from ..rates.config import Deployment
from ..rates.sheets import PriceSheet
from ..reading.names import NAME_FIELDS
from ..reading.records import UsageRecord
from .aggregate import tags_of
from .ledger import SCALE, decimal_text, dollars

ENTITIES = ("key", "user", "team", "team_member", "organization", "end_user", "tag", "proxy")
# the proxy-wide budget (litellm_settings.max_budget) is kept as this user row of LiteLLM_UserTable
PROXY_BUDGET_USER = "litellm-proxy-budget"
# read-time checks refusing at the budget (spend >= max_budget; "window": a key's or team's budget_limits window);
# the team's and end user's refuse only over it
_REFUSED_AT_BUDGET = frozenset({"key", "user", "team_member", "organization", "window"})
_SOFT_BUDGETS = frozenset({"key", "team"})  # the entities LiteLLM alerts on a soft budget for
_RESERVATION_ROOM = Decimal("1e-12")  # the reservation refuses a budget with no more room than this (USD)
_WORD_DURATIONS = {"hourly": "1h", "daily": "24h", "weekly": "7d", "monthly": "30d"}
_DURATION = re.compile(r"^(\d+)(mo|[smhdw])$")
# the NAME_FIELDS group that names each entity on a record
_NAME_GROUP = {"key": "key", "user": "user", "team": "team", "end_user": "customer", "organization": "org"}


class BudgetReplayError(CostcalcError):
    """A budgets file that cannot be read: one line naming the file and the entry."""

    exit_code = 2


@dataclass(frozen=True)
class Budget:
    entity: str  # one of ENTITIES
    id: str  # a key's hashed token, a team's id, a team member's user id, ...
    max_budget: float | None  # None: a soft budget alone
    duration: str | None = None  # budget_duration
    alias: str | None = None  # a key's, team's or organization's alias: records that name it meet the budget too
    soft_budget: float | None = None  # keys and teams: alert only
    teams: tuple[str, ...] = ()  # a team member's team (id and alias); an organization's teams
    window: bool = False  # one of a key's or team's budget_limits windows (its own spend and check)
    # a team member's temporary increase: added to max_budget before temp_expiry (epoch seconds)
    temp_increase: float | None = None
    temp_expiry: float | None = None

    def limit_at(self, when: float) -> float | None:
        """The max_budget in force at ``when``: a team member's with its temporary increase until it expires."""
        if self.max_budget is None or self.temp_increase is None or self.temp_expiry is None \
                or self.temp_expiry <= when:
            return self.max_budget
        return self.max_budget + self.temp_increase

    @property
    def check(self) -> str:
        """The check that decides its refusals (``refuses``)."""
        return "window" if self.window else self.entity

    @property
    def label(self) -> str:
        name = self.alias or self.id
        if self.entity == "proxy":
            return "proxy (litellm_settings.max_budget)"
        if self.window:
            return f"{self.entity}={name} ({self.duration} window)"
        if self.entity == "team_member":
            return f"team_member={name}@{self.teams[-1] if self.teams else '?'}"
        return f"{self.entity}={name}"

    def meets(self, ids: dict[str, set[str]]) -> bool:
        if self.entity == "proxy":
            return True  # every request
        if self.entity == "team_member":
            return self._named(ids["user"]) and bool(ids["team"] & set(self.teams))
        if self.entity == "organization":
            return self._named(ids["organization"]) or bool(ids["team"] & set(self.teams))
        return self._named(ids[self.entity])

    def _named(self, ids: set[str]) -> bool:
        return self.id in ids or (self.alias is not None and self.alias in ids)


@dataclass(frozen=True)
class ResetSettings:
    """``litellm_settings.timezone``, ``budget_reset_time`` and ``budget_rollover``;
    ``general_settings.apply_user_budget_to_team_keys`` and ``disable_budget_reservation`` (``budget_reservation``
    is its negation)."""

    timezone: str = "UTC"
    reset_time_of_day: time = time(0, 0)
    apply_user_budget_to_team_keys: bool = False
    budget_reservation: bool = True
    budget_rollover: bool = False  # litellm_settings.budget_rollover: a reset carries the overspend over

    @property
    def tz(self) -> tzinfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return timezone.utc  # LiteLLM falls back to UTC for a zone it does not know


def budget_units(amount: float) -> int:
    """A budget in the units spend is counted in (10^-72 USD), exactly its decimal value."""
    return int(Decimal(repr(amount)) * SCALE)


def refuses(entity: str, spent: int, max_budget: float, reservation: bool) -> bool:
    """Whether the proxy refuses a request of ``entity`` (or ``"window"``: a budget_limits window) whose window has
    ``spent`` (units of 10^-72 USD) against ``max_budget``: its read-time check, then (``reservation``: on, and
    the request has a cost) the budget reservation's."""
    if math.isnan(max_budget):
        return entity == "tag"  # the tag check passes only while spend <= max_budget: never for NaN
    if math.isinf(max_budget):
        return False
    if entity == "proxy":  # checked only when positive, over it, and the reservation keeps no proxy counter
        return max_budget > 0 and spent > budget_units(max_budget)
    limit = budget_units(max_budget)
    if spent >= limit if entity in _REFUSED_AT_BUDGET else spent > limit:
        return True
    return reservation and max_budget > 0 and limit - spent <= _RESERVATION_ROOM * SCALE


def carried_spend(spent: int, max_budget: float | None) -> int:
    """The spend a window starts with after a reset under ``budget_rollover``: what the last one spent over a
    finite ``max_budget`` (nothing without one)."""
    if max_budget is None or not math.isfinite(max_budget):
        return 0
    return max(0, spent - budget_units(max_budget))


def free_model_groups(engine: PricingEngine) -> frozenset[str]:
    """The config's model groups the proxy treats as free, skipping every budget check for their requests: the
    config sets a token price of each to 0, and no input or output token price of any of its deployments is
    positive — the config's own, else the cost map's for the backend model (the router's group prices, not the
    card a call is billed with) — and none bills PTU capacity flat (``ptu_count`` and ``cost_per_ptu_per_hour``)."""
    from ..rates.resolve import Resolver

    groups: dict[str, list[Deployment]] = {}
    for d in engine.config.deployments:
        if not d.is_wildcard:
            groups.setdefault(d.model_name, []).append(d)
    bare = Resolver(engine.resolver.cost_map, suggestions=False)
    free = set()
    for name, deployments in groups.items():
        declared = [{**d.info_prices, **d.params_prices} for d in deployments]
        if not any(_TOKEN_PRICES & set(p) for p in declared):
            continue
        if any({"ptu_count", "cost_per_ptu_per_hour"} <= set(d.info_keys) for d in deployments):
            continue
        if all(_zero_token_prices(bare, d, p) for d, p in zip(deployments, declared)):
            free.add(name)
    return frozenset(free)


_TOKEN_PRICES = frozenset({"input_cost_per_token", "output_cost_per_token"})


def _zero_token_prices(bare: Any, d: Deployment, declared: dict[str, Any]) -> bool:
    card = bare.resolve(d.base_model or d.model)
    listed = card.rates if isinstance(card, PriceSheet) else {}  # an unknown model: no price of its own
    for name in _TOKEN_PRICES:
        value = declared[name] if name in declared else listed.get(name)
        if isinstance(value, (int, float)) and value > 0:
            return False
    return True


def soft_alerts(entity: str, spent: int, soft_budget: float | None) -> bool:
    """Whether a request of ``entity`` at ``spent`` would have sent a soft-budget alert (a key's soft budget of 0
    is off, a team's is not)."""
    if soft_budget is None or entity not in _SOFT_BUDGETS or (entity == "key" and not soft_budget):
        return False
    return math.isfinite(soft_budget) and spent >= budget_units(soft_budget)


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
    first_soft_alert: float | None = None  # epoch seconds: the first request over the soft budget

    @property
    def status(self) -> str:
        return "blocked" if self.refused else "soft alert" if self.first_soft_alert is not None else "ok"

    def as_dict(self) -> dict[str, Any]:
        b = self.budget
        return {"entity": b.entity, "id": b.id, "alias": b.alias, "teams": list(b.teams) or None,
                "max_budget": b.max_budget, "soft_budget": b.soft_budget, "budget_duration": b.duration,
                "allowed_requests": self.allowed, "refused_requests": self.refused,
                "refused_cost": decimal_text(dollars(self.refused_cost)),
                "first_refused": _iso(self.first_refused), "blocked_until": list(self.blocked_until),
                "first_soft_alert": _iso(self.first_soft_alert),
                "spent_in_last_window": decimal_text(dollars(self.spent)), "status": self.status}


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat()


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
           start: float | None = None, free_groups: frozenset[str] = frozenset()) -> Replay:
    """Replay the priced records, oldest first, against ``budgets`` (see the module docstring); the requests of
    ``free_groups`` (``free_model_groups``) run whatever the budgets."""
    rules = list(budgets)
    priced = [o for o in outcomes if isinstance(o, Priced)]
    undated = sum(1 for o in priced if o.record.timestamp is None)
    timed = sorted((o for o in priced if o.record.timestamp is not None), key=lambda o: o.record.timestamp)
    state = {b: BudgetOutcome(b) for b in rules}
    if not timed:
        return Replay(list(state.values()), 0, 0, undated)
    opened = datetime.fromtimestamp(timed[0].record.timestamp if start is None else start, timezone.utc)
    resets = {b: next_reset(b.duration, opened, settings) if b.duration else None for b in rules}
    refused_requests = refused_cost = 0
    for o in timed:
        r = o.record
        now = datetime.fromtimestamp(r.timestamp, timezone.utc)  # type: ignore[arg-type]
        ids = {what: _values(r, what) for what in (*_NAME_GROUP, "tag")}
        team_key = bool(ids["team"])
        applies = [b for b in rules if b.meets(ids)
                   and not (b.entity == "user" and team_key and not settings.apply_user_budget_to_team_keys)]
        cost = _cost(o)
        # the reservation only charges a request the proxy can put a price on
        reserving = settings.budget_reservation and cost > 0
        checked = not (o.sheet.deployment is not None and o.sheet.deployment.model_name in free_groups)
        blocked = []
        for b in applies:
            reset_at = resets[b]
            while reset_at is not None and reset_at <= now:  # the reset job found the window over
                s = state[b]
                s.spent = carried_spend(s.spent, b.max_budget) if settings.budget_rollover else 0
                reset_at = resets[b] = next_reset(b.duration, reset_at, settings)  # type: ignore[arg-type]
            s = state[b]
            if checked and s.first_soft_alert is None and soft_alerts(b.entity, s.spent, b.soft_budget):
                s.first_soft_alert = r.timestamp
            limit = b.limit_at(r.timestamp)  # type: ignore[arg-type]
            if checked and limit is not None and refuses(b.check, s.spent, limit, reserving):
                blocked.append(b)
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
    """A budgets file (YAML or JSON): ``budgets:`` a list of ``{entity, id, max_budget, budget_duration}``
    (``soft_budget`` for keys and teams, ``team`` for a team member, ``teams`` for an organization) — or rows
    exported from LiteLLM's ``LiteLLM_VerificationToken`` (``token``), ``LiteLLM_UserTable`` (``user_id``),
    ``LiteLLM_TeamTable`` (``team_id``), ``LiteLLM_OrganizationTable`` (``organization_id``),
    ``LiteLLM_EndUserTable`` (``end_user_id``) and ``LiteLLM_TagTable`` (``tag_name``) with their ``max_budget`` /
    ``budget_duration`` columns — and ``settings:`` ``timezone``, ``budget_reset_time`` (``HH:MM``),
    ``budget_rollover``, ``apply_user_budget_to_team_keys``, ``disable_budget_reservation`` (None when the file
    has no settings)."""
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
    budgets = [b for i, entry in enumerate(doc["budgets"]) for b in _budgets(entry, f"{shown}: budgets[{i}]")]
    settings = None if doc.get("settings") is None else _settings(doc["settings"], f"{shown}: settings")
    return budgets, settings


_SETTING_NAMES = ("timezone", "budget_reset_time", "budget_rollover", "apply_user_budget_to_team_keys",
                  "disable_budget_reservation")


def config_settings(path: str | None) -> ResetSettings:
    """The settings a proxy running the config at ``path`` applies: ``litellm_settings.timezone``,
    ``budget_reset_time`` and ``budget_rollover``, ``general_settings.apply_user_budget_to_team_keys`` and
    ``disable_budget_reservation`` (the defaults without a config)."""
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
    for name in ("apply_user_budget_to_team_keys", "disable_budget_reservation"):
        if isinstance(general, dict) and name in general:
            merged[name] = general[name]
    return _settings({k: merged.get(k) for k in _SETTING_NAMES}, f"{path}: litellm_settings")


def config_budgets(path: str | None) -> list[Budget]:
    """The budget a config sets for the whole proxy: ``litellm_settings.max_budget`` (when positive) and
    ``budget_duration``."""
    if path is None:
        return []
    from ..rates.config import load_yaml

    try:
        doc = load_yaml(Path(path).read_bytes())
    except (OSError, ValueError):
        return []  # the config was read once already: its errors were reported there
    settings = doc.get("litellm_settings") if isinstance(doc, dict) else None
    if not isinstance(settings, dict) or settings.get("max_budget") in (None, 0):
        return []
    return _budgets({"entity": "proxy", "id": PROXY_BUDGET_USER, "max_budget": settings.get("max_budget"),
                     "budget_duration": settings.get("budget_duration")}, f"{path}: litellm_settings")


# a row of LiteLLM's own tables, by the column that names it: (column, entity, alias column); the first found
# wins (a user row has team_id and organization_id columns too, a key row all three)
_ROW_IDS = (("token", "key", "key_alias"), ("tag_name", "tag", None), ("user_id", "user", None),
            ("team_id", "team", "team_alias"), ("end_user_id", "end_user", None),
            ("organization_id", "organization", "organization_alias"))


def _number(entry: dict[str, Any], name: str, where: str) -> float | None:
    value = entry.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise BudgetReplayError(f"{where}: {name} must be a number >= 0, got {value!r}")
    return float(value)


def _names(value: Any, where: str, name: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [] if value is None else [value]
    if not all(isinstance(v, (str, int)) and not isinstance(v, bool) and v != "" for v in values):
        raise BudgetReplayError(f"{where}: {name} must be a team id or a list of them")
    return tuple(str(v) for v in values)


def _budgets(entry: Any, where: str) -> list[Budget]:
    """An entry's budget, and one more for each of its ``budget_limits`` windows (keys and teams)."""
    budget = _budget(entry, where)
    limits = entry.get("budget_limits")
    if limits in (None, []):
        return [budget] if budget is not None else []
    entity = budget.entity if budget is not None else entry.get("entity") or ("key" if "token" in entry else "team")
    if entity not in ("key", "team") or not isinstance(limits, list):
        raise BudgetReplayError(f"{where}: budget_limits: a list of windows, on a key or a team")
    windows = []
    for i, w in enumerate(limits):
        if not isinstance(w, dict) or w.get("budget_duration") is None:
            raise BudgetReplayError(f"{where}: budget_limits[{i}]: a mapping with budget_duration and max_budget")
        row = {**{k: v for k, v in entry.items() if k not in ("max_budget", "soft_budget", "budget_limits")},
               "entity": entity, "max_budget": w.get("max_budget"), "budget_duration": w["budget_duration"]}
        if "id" not in row:
            row["id"] = entry.get("token") if entity == "key" else entry.get("team_id")
            row["alias"] = entry.get("key_alias") if entity == "key" else entry.get("team_alias")
        window = _budget(row, f"{where}: budget_limits[{i}]")
        if window is not None:
            windows.append(replace(window, window=True))
    return ([budget] if budget is not None else []) + windows


def _budget(entry: Any, where: str) -> Budget | None:
    if not isinstance(entry, dict):
        raise BudgetReplayError(f"{where}: must be a mapping")
    entity = entry.get("entity")
    ident = entry.get("id")
    alias = entry.get("alias")
    if entity is None:  # a row of LiteLLM's own tables
        for column, name, alias_column in _ROW_IDS:
            if entry.get(column) not in (None, ""):
                entity, ident = name, entry[column]
                alias = entry.get(alias_column) if alias_column else None
                break
    if entity == "proxy" and ident in (None, ""):
        ident = PROXY_BUDGET_USER
    if entity not in ENTITIES:
        raise BudgetReplayError(f"{where}: entity must be one of {', '.join(ENTITIES)} (or a row with token, "
                                "user_id, team_id, organization_id, end_user_id or tag_name)")
    if not isinstance(ident, (str, int)) or ident == "":
        raise BudgetReplayError(f"{where}: id missing")
    limit = _number(entry, "max_budget", where)
    soft = _number(entry, "soft_budget", where)
    if soft is not None and entity not in _SOFT_BUDGETS:
        raise BudgetReplayError(f"{where}: soft_budget: LiteLLM alerts on the soft budgets of keys and teams only")
    if limit is None and soft is None:
        return None  # no budget on this row
    teams: tuple[str, ...] = ()
    if entity == "user" and str(ident) == PROXY_BUDGET_USER:
        entity = "proxy"  # the user row the proxy keeps its own budget on
    if entity == "team_member":
        teams = _names(entry.get("team"), where, "team")
        if not teams:
            raise BudgetReplayError(f"{where}: a team member's budget needs its team (team: TEAM_ID)")
    elif entity == "organization":
        teams = _names(entry.get("teams"), where, "teams")
    duration = entry.get("budget_duration")
    if duration is not None:
        try:
            parse_duration(str(duration))
        except ValueError as exc:
            raise BudgetReplayError(f"{where}: {exc}") from None
    increase, expiry = _temporary_increase(entry, entity, where)
    return Budget(str(entity), str(ident), limit, None if duration is None else str(duration),
                  str(alias) if alias not in (None, "") else None, soft, teams, temp_increase=increase,
                  temp_expiry=expiry)


def _temporary_increase(entry: dict[str, Any], entity: str, where: str) -> tuple[float | None, float | None]:
    """A team member's ``temp_budget_increase`` and ``temp_budget_expiry`` (ISO time, UTC when it names no zone)."""
    increase = entry.get("temp_budget_increase")
    expiry = entry.get("temp_budget_expiry")
    if increase is None or expiry is None:
        return None, None
    if entity != "team_member":
        raise BudgetReplayError(f"{where}: temp_budget_increase: LiteLLM applies it to team members' budgets only")
    if isinstance(increase, bool) or not isinstance(increase, (int, float)):
        raise BudgetReplayError(f"{where}: temp_budget_increase must be a number, got {increase!r}")
    if not isinstance(expiry, datetime):
        try:
            expiry = datetime.fromisoformat(str(expiry).replace("Z", "+00:00"))
        except ValueError:
            raise BudgetReplayError(f"{where}: temp_budget_expiry must be an ISO time, got {expiry!r}") from None
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=timezone.utc)  # as LiteLLM reads a naive expiry
    return float(increase), expiry.timestamp()


def _settings(doc: Any, where: str) -> ResetSettings:
    if not isinstance(doc, dict):
        raise BudgetReplayError(f"{where}: must be a mapping")
    at = doc.get("budget_reset_time") or "00:00"
    try:
        parts = [int(p) for p in str(at).split(":")]
        reset = time(*parts)
    except (TypeError, ValueError):
        raise BudgetReplayError(f"{where}: budget_reset_time must be HH:MM or HH:MM:SS, got {at!r}") from None
    return ResetSettings(str(doc.get("timezone") or "UTC"), reset, doc.get("apply_user_budget_to_team_keys") is True,
                         doc.get("disable_budget_reservation") is not True, doc.get("budget_rollover") is True)


# The budgets of LiteLLM's own tables: (entity, query of id, alias, max_budget, budget_duration, soft_budget,
# teams, budget_limits[, temp_budget_increase, temp_budget_expiry]). Keys, teams and users keep theirs on the row
# (a key's soft budget on the budget row it links, and its max_budget there when the key has none; keys' and
# teams' budget_limits windows on the row); team members, organizations, end users and tags link a
# LiteLLM_BudgetTable row.
BUDGET_QUERIES = (
    # a key without a max_budget (budget_duration) of its own takes its budget row's, as the proxy's key view does
    # (and the reset job resets it with that row)
    ("key", "SELECT k.token, k.key_alias, COALESCE(k.max_budget, b.max_budget), "
            "COALESCE(k.budget_duration, b.budget_duration), b.soft_budget, NULL, k.budget_limits "
            'FROM "LiteLLM_VerificationToken" k LEFT JOIN "LiteLLM_BudgetTable" b ON b.budget_id = k.budget_id '
            "WHERE k.max_budget IS NOT NULL OR b.max_budget IS NOT NULL OR b.soft_budget IS NOT NULL "
            "OR k.budget_limits IS NOT NULL ORDER BY k.token"),
    ("team", 'SELECT team_id, team_alias, max_budget, budget_duration, soft_budget, NULL, budget_limits '
             'FROM "LiteLLM_TeamTable" WHERE max_budget IS NOT NULL OR soft_budget IS NOT NULL '
             "OR budget_limits IS NOT NULL ORDER BY team_id"),
    ("user", 'SELECT user_id, NULL, max_budget, budget_duration, NULL, NULL, NULL FROM "LiteLLM_UserTable" '
             "WHERE max_budget IS NOT NULL ORDER BY user_id"),
    ("team_member", 'SELECT m.user_id, NULL, b.max_budget, b.budget_duration, NULL, '
                    "array_remove(ARRAY[m.team_id, t.team_alias], NULL), NULL, b.temp_budget_increase, "
                    "b.temp_budget_expiry "
                    'FROM "LiteLLM_TeamMembership" m JOIN "LiteLLM_BudgetTable" b ON b.budget_id = m.budget_id '
                    'LEFT JOIN "LiteLLM_TeamTable" t ON t.team_id = m.team_id WHERE b.max_budget IS NOT NULL '
                    "ORDER BY m.team_id, m.user_id"),
    ("organization", 'SELECT o.organization_id, o.organization_alias, b.max_budget, b.budget_duration, NULL, '
                     'ARRAY(SELECT t.team_id FROM "LiteLLM_TeamTable" t WHERE t.organization_id = o.organization_id '
                     'ORDER BY t.team_id), NULL FROM "LiteLLM_OrganizationTable" o JOIN "LiteLLM_BudgetTable" b '
                     "ON b.budget_id = o.budget_id WHERE b.max_budget IS NOT NULL ORDER BY o.organization_id"),
    ("end_user", 'SELECT e.user_id, NULL, b.max_budget, b.budget_duration, NULL, NULL, NULL '
                 'FROM "LiteLLM_EndUserTable" e JOIN "LiteLLM_BudgetTable" b ON b.budget_id = e.budget_id '
                 "WHERE b.max_budget IS NOT NULL ORDER BY e.user_id"),
    ("tag", 'SELECT t.tag_name, NULL, b.max_budget, b.budget_duration, NULL, NULL, NULL FROM "LiteLLM_TagTable" t '
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
                for ident, alias, limit, duration, soft, teams, limits, *temporary in cur.fetchall():
                    where = f"{source.shown}: {entity} {alias or ident}"
                    increase, expiry = temporary or (None, None)  # team members' temporary increase
                    budgets += _budgets({"entity": entity, "id": ident, "alias": alias, "max_budget": limit,
                                         "budget_duration": duration, "soft_budget": soft,
                                         "team" if entity == "team_member" else "teams": teams,
                                         "budget_limits": limits, "temp_budget_increase": increase,
                                         "temp_budget_expiry": expiry}, where)
    except psycopg.Error as exc:
        raise query_error(source, exc) from None
    finally:
        conn.close()
    return budgets
