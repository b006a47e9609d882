"""What bypassed the gateway: the provider's own usage (its usage API buckets, Bedrock's invocation logs, ...)
priced with the same config as the proxy's logs, joined to them per UTC day × provider × model (× project or
key when asked), with the gap between the two and its likely cause.

Both sides are costed at what the provider charges for them: the config's prices after its discount, without
the proxy's margin (as ``--reconcile-with`` compares a bill). Models meet without provider prefix and snapshot
date (``bill.normal_model``: ``gpt-4o-2024-08-06`` is ``gpt-4o``), providers by family (``bedrock_converse`` is
``bedrock``). Only the providers and days the usage covers are compared; the proxy's other records are counted
as not covered.

Causes, per row, from the token counts of the two sides (a difference counts when it is above the tolerance,
relative to the provider's figure):

- **traffic outside the proxy**: the provider served requests (or tokens) the logs do not have;
- **cache tokens missing from the logs**: the prompts agree but the logs lack the provider's cache reads or
  writes (priced as uncached input), or the logs' prompts lack exactly the cache tokens (Anthropic's
  ``input_tokens`` logged as the whole prompt);
- **reasoning or audio output missing from the logs**: every request logged, the prompts agree, the output is
  short;
- **booked at $0**: the proxy's own recorded spend is $0 on records costcalc prices above $0;
- **the logs count more than the provider**: retries or duplicates in the logs, or a provider report that is
  not final yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..engines.streaming import Outcome, Priced
from ..errors import UsageError
from ..reading import litellm_daily
from ..reading.records import Rejected
from .aggregate import NONE, key_function
from .bill import normal_model
from .ledger import billing_model, decimal_text, dollars, record_project

DEFAULT_TOLERANCE = 0.01
SCOPES = ("project", "key")
GapKey = tuple[str, str, str, str]  # day, provider, model, scope (project / key, or "(all)")
ALL = "(all)"
# the proxy's own records: compared with the logs they would only meet themselves (or their own daily sums)
PROXY_SHAPES = frozenset({"canonical", "litellm-spend-log", litellm_daily.SHAPE})


@dataclass(slots=True)
class Side:
    """One side's sums for a row: requests, tokens, the computed cost (integers of 10^-72 USD) and, for the
    proxy, what its logs recorded."""

    records: int = 0
    requests: int = 0
    prompt: int = 0
    cache_read: int = 0
    cache_write: int = 0
    completion: int = 0
    cost: int = 0
    recorded: int = 0  # the logs' own spend, units of 10^-72 USD, over the records that carry one
    recorded_n: int = 0
    booked_zero: int = 0  # records the logs booked at $0 that cost more than $0
    booked_zero_cost: int = 0

    def add(self, o: Priced) -> None:
        r = o.record
        self.records += 1
        self.requests += r.requests
        self.prompt += r.prompt_tokens
        self.cache_read += r.cache_read_tokens
        self.cache_write += r.cache_write_tokens
        self.completion += r.completion_tokens
        band, measured = o.measured
        *_, margin, total = band.money(1, measured).report_units()
        discounted = total - margin  # what the provider charges: after the discount, without the margin
        self.cost += discounted
        if r.recorded_cost is not None:
            self.recorded += round(Decimal(repr(r.recorded_cost)) * 10**72)
            self.recorded_n += 1
            if r.recorded_cost == 0 and discounted > 0:
                self.booked_zero += 1
                self.booked_zero_cost += discounted

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"records": self.records, "requests": self.requests, "prompt_tokens": self.prompt,
                               "cache_read_tokens": self.cache_read, "cache_write_tokens": self.cache_write,
                               "completion_tokens": self.completion, "cost": decimal_text(dollars(self.cost))}
        if self.recorded_n:
            out["recorded_cost"] = decimal_text(dollars(self.recorded))
        return out


@dataclass(slots=True)
class GapRow:
    day: str
    provider: str
    model: str
    scope: str
    usage: Side = field(default_factory=Side)  # the provider's own usage
    proxy: Side = field(default_factory=Side)  # the proxy's logs
    causes: list[str] = field(default_factory=list)

    @property
    def gap(self) -> Decimal:
        """Provider minus proxy, in dollars (positive: the provider charged for more than the logs show)."""
        return dollars(self.usage.cost - self.proxy.cost)

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day, "provider": self.provider, "model": self.model, "scope": self.scope,
                "usage": self.usage.as_dict(), "proxy": self.proxy.as_dict(), "gap": decimal_text(self.gap),
                "causes": list(self.causes)}


@dataclass
class UsageGap:
    rows: list[GapRow]
    by: str | None
    not_covered: int  # proxy records of providers or days the usage does not cover
    unpriced_usage: int  # usage records that could not be priced (their gap is unknown)
    rejected_usage: int = 0  # usage lines, buckets or results rejected (their usage is not in the rows)
    first_rejection: str | None = None  # FILE:LINE: reason of the first of them

    def as_dict(self) -> dict[str, Any]:
        usage = sum(r.usage.cost for r in self.rows)
        proxy = sum(r.proxy.cost for r in self.rows)
        return {"joined_on": ["day", "provider", "model", *([self.by] if self.by else [])],
                "cost_is": "config prices after cost_discount_config, without cost_margin_config",
                "rows": [r.as_dict() for r in self.rows],
                "totals": {"usage": decimal_text(dollars(usage)), "proxy": decimal_text(dollars(proxy)),
                           "gap": decimal_text(dollars(usage - proxy))},
                "proxy_records_not_covered": self.not_covered, "usage_records_unpriced": self.unpriced_usage,
                "usage_records_rejected": self.rejected_usage, "first_usage_rejection": self.first_rejection}


def _day(ts: float | None) -> str:
    if ts is None:
        return NONE
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")


def _provider(o: Priced) -> str:
    name = o.sheet.provider or NONE
    return name.split("_", 1)[0].lower()


def _usage_scope(o: Priced, by: str | None) -> str:
    if by is None:
        return ALL
    value = (o.record.raw or {}).get(by)
    return str(value) if value not in (None, "") else NONE


def _proxy_scope(o: Priced, by: str | None, proxy_field: str | None) -> str:
    if by is None:
        return ALL
    if proxy_field is not None:
        return key_function(proxy_field)(o.record, o.sheet)[0]
    if by == "project":
        return record_project(o.record.raw)
    value = (o.record.raw or {}).get(by)
    return str(value) if value not in (None, "") else NONE


def usage_gap(proxy: Iterable[Outcome], usage: Iterable[Outcome], *, by: str | None = None,
              proxy_field: str | None = None, tolerance: float = DEFAULT_TOLERANCE) -> UsageGap:
    """Join the proxy's priced records to the provider's priced usage (see the module docstring). ``by``:
    ``project`` or ``key`` joins on the usage's project / API key id as well, read on the proxy side from
    ``proxy_field`` (a group-by path such as ``metadata.openai_project``; by default ``project_id`` /
    ``workspace_id`` for a project)."""
    if by is not None and by not in SCOPES:
        raise ValueError(f"by must be one of {', '.join(SCOPES)}, got {by!r}")
    rows: dict[GapKey, GapRow] = {}
    covered: set[tuple[str, str]] = set()
    unpriced = rejected = 0
    first_rejection = None
    for o in usage:
        if isinstance(o, Rejected):
            rejected += 1
            first_rejection = first_rejection or f"{o.file}:{o.line}: {o.reason}"
            continue
        record = getattr(o, "record", None)
        if record is not None and record.shape in PROXY_SHAPES:
            what = "a LiteLLM daily spend row" if record.shape == litellm_daily.SHAPE else "a proxy log record"
            raise UsageError(f"{record.file}:{record.line}: --reconcile-usage takes the provider's own usage (OpenAI "
                             "usage API pages, Anthropic usage reports, Bedrock invocation logs); this is "
                             f"{what} ({record.shape}), which the proxy's logs would only be compared with themselves")
        if not isinstance(o, Priced):
            unpriced += o.__class__.__name__ == "NotPriced"
            continue
        day, provider = _day(o.record.timestamp), _provider(o)
        covered.add((day, provider))
        key = (day, provider, normal_model(billing_model(o.sheet)), _usage_scope(o, by))
        row = rows.get(key)
        if row is None:
            row = rows[key] = GapRow(*key)
        row.usage.add(o)
    not_covered = 0
    for o in proxy:
        if not isinstance(o, Priced):
            continue
        day, provider = _day(o.record.timestamp), _provider(o)
        if (day, provider) not in covered:
            not_covered += o.record.requests
            continue
        key = (day, provider, normal_model(billing_model(o.sheet)), _proxy_scope(o, by, proxy_field))
        row = rows.get(key)
        if row is None:
            row = rows[key] = GapRow(*key)
        row.proxy.add(o)
    for row in rows.values():
        row.causes = causes(row.usage, row.proxy, tolerance)
    ordered = sorted(rows.values(), key=lambda r: (r.day, r.provider, r.model, r.scope))
    return UsageGap(ordered, by, not_covered, unpriced, rejected, first_rejection)


def _more(a: int, b: int, tolerance: float) -> bool:
    """Whether ``a`` exceeds ``b`` by more than the tolerance (relative to ``a``)."""
    return a - b > tolerance * a


def causes(usage: Side, proxy: Side, tolerance: float = DEFAULT_TOLERANCE) -> list[str]:
    """The likely causes of a row's gap, most telling first (empty when the two sides agree)."""
    found: list[str] = []
    if proxy.records == 0:
        found.append(f"traffic outside the proxy: the provider served {_requests(usage)} that the logs do not have")
        return found
    if usage.records == 0:
        found.append("the logs count more than the provider: no provider usage for this row (another key or "
                     "project, or a provider report that is not final)")
        return found + _booked_zero(proxy)
    read_short, write_short = usage.cache_read - proxy.cache_read, usage.cache_write - proxy.cache_write
    cache_short = max(read_short, 0) + max(write_short, 0)
    prompt_short = usage.prompt - proxy.prompt
    fewer_requests = usage.requests > 0 and _more(usage.requests, proxy.requests, tolerance)
    if fewer_requests:
        found.append(f"traffic outside the proxy: {usage.requests - proxy.requests} more requests at the provider "
                     f"({usage.requests} against {proxy.requests} logged)")
    elif cache_short > tolerance * max(usage.cache_read + usage.cache_write, 1) and cache_short > 0:
        parts = ", ".join(f"{n} cache {what}" for n, what in ((read_short, "reads"), (write_short, "writes"))
                          if n > 0)
        if not _more(usage.prompt, proxy.prompt, tolerance):
            found.append(f"cache tokens missing from the logs: {parts} priced as uncached input")
        elif abs(prompt_short - cache_short) <= tolerance * usage.prompt:
            found.append(f"cache tokens missing from the logs: the logged prompts leave out {parts} (an "
                         "input count that excludes the cache logged as the whole prompt)")
    elif _more(usage.prompt, proxy.prompt, tolerance):
        found.append(f"traffic outside the proxy: {prompt_short} more prompt tokens at the provider")
    if not fewer_requests and not _more(usage.prompt, proxy.prompt, tolerance) \
            and _more(usage.completion, proxy.completion, tolerance):
        found.append(f"reasoning or audio output missing from the logs: output short by "
                     f"{usage.completion - proxy.completion} tokens with every request logged")
    if _more(proxy.prompt + proxy.completion, usage.prompt + usage.completion, tolerance) or (
            usage.requests > 0 and _more(proxy.requests, usage.requests, tolerance)):
        found.append("the logs count more than the provider: retries or duplicates in the logs, or a provider "
                     "report that is not final")
    return found + _booked_zero(proxy)


def _requests(side: Side) -> str:
    tokens = f"{side.prompt + side.completion} tokens"
    return f"{side.requests} requests ({tokens})" if side.requests else tokens


def _booked_zero(proxy: Side) -> list[str]:
    if not proxy.booked_zero:
        return []
    return [f"booked at $0: the proxy recorded $0 for {proxy.booked_zero} records that cost "
            f"${decimal_text(dollars(proxy.booked_zero_cost))}"]
