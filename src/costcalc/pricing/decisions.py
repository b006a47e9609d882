"""Decisions calls (``decisions``, ``systemone`` and their async forms) as LiteLLM 1.110.2's ``cost_per_token``
books them (``litellm_core_utils/decisions_pricing.py``):

- a ``parallel_ai`` model with an ``input_cost_per_query`` (and no token price, unless the row's
  ``input_cost_per_query_decisions`` sets the query price itself) costs that price once a call;
- else the usage's tokens at the model's rates, where the cost-map row's ``<field>_decisions`` values replace their
  plain fields (``apply_decisions_pricing``), cached and cache-written input included.

A System One response's ``DecisionsUsage`` excludes ``cached_tokens`` and ``cache_write_tokens`` from its dump, so
the usage the proxy logs lacks them; the proxy's ``cost_breakdown`` (payload, and ``metadata.cost_breakdown`` of a
spend-log row) keeps what they cost: ``cache_read_cost`` and ``cache_creation_cost``, written only when above 0, at
the card's plain rates (``get_token_type_cost_breakdown``). ``recovered_cache_tokens`` turns those back into token
counts, and says why when it cannot.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .calltypes import CallPrice

DECISIONS_CALLS = frozenset({"decisions", "adecisions", "systemone", "asystemone"})
_SUFFIX = "_decisions"
_QUERY_PRICED_PROVIDERS = frozenset({"parallel_ai"})
NO_BREAKDOWN = ("a Decisions usage leaves its cached and cache-write tokens out of the usage the proxy logs, and "
                "this log has no cost_breakdown to recover them from: priced as uncached input")


def decisions_overrides(row: dict[str, Any]) -> dict[str, Any]:
    """``{plain field: value}`` for every ``<field>_decisions`` value of a cost-map row."""
    return {k.removesuffix(_SUFFIX): v for k, v in row.items() if k.endswith(_SUFFIX)}


def decisions_query_price(provider: str | None, rates: dict[str, Any], overrides: dict[str, Any]) -> CallPrice | None:
    """The per-call price of a query-priced Decisions provider, else None (priced by tokens)."""
    if provider not in _QUERY_PRICED_PROVIDERS:
        return None
    card = {**rates, **overrides}
    price = card.get("input_cost_per_query")
    if not isinstance(price, (int, float)) or isinstance(price, bool):
        return None
    if any(card.get(f) for f in ("input_cost_per_token", "output_cost_per_token")) \
            and "input_cost_per_query" not in overrides:
        return None
    field = "input_cost_per_query_decisions" if "input_cost_per_query" in overrides else "input_cost_per_query"
    return CallPrice(float(price), 1, False, field, None)


class CacheTokens(NamedTuple):
    read: int
    write: int


def _tier_rate(rates: dict[str, Any], field: str, tier: str | None) -> float | None:
    value = rates.get(f"{field}_{tier}") if tier else None
    value = rates.get(field) if value is None else value
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _tokens(cost: float, rate: float | None, what: str) -> int | str:
    if not cost:
        return 0
    if not rate:
        return f"cost_breakdown.{what} is {cost!r} but the card has no rate to recover its tokens from"
    tokens = round(cost / rate)
    if tokens <= 0 or abs(tokens * rate - cost) > 1e-9 * cost:
        return (f"cost_breakdown.{what} ({cost!r}) is not a whole number of tokens at the card's rate ({rate!r}): "
                "the proxy billed another rate")
    return tokens


def recovered_cache_tokens(costs: tuple[float, float] | None, rates: dict[str, Any], tier: str | None,
                           uplift: float, prompt_tokens: int) -> CacheTokens | str:
    """The cached and cache-written input tokens behind the logged ``(cache_read_cost, cache_creation_cost)``,
    at the plain card's rates for the billed tier (a cache write without its own rate costs the input rate, as
    LiteLLM bills it), or why they cannot be recovered."""
    if costs is None:
        return NO_BREAKDOWN
    read_rate = _tier_rate(rates, "cache_read_input_token_cost", tier)
    write_rate = _tier_rate(rates, "cache_creation_input_token_cost", tier)
    if write_rate is None:
        write_rate = _tier_rate(rates, "input_cost_per_token", tier)
    read = _tokens(costs[0], read_rate * uplift if read_rate is not None else None, "cache_read_cost")
    write = _tokens(costs[1], write_rate * uplift if write_rate is not None else None, "cache_creation_cost")
    for found in (read, write):
        if isinstance(found, str):
            return f"a Decisions usage leaves its cached tokens out of the logged usage, and {found}; priced as " \
                   "uncached input"
    assert isinstance(read, int) and isinstance(write, int)
    if read + write > prompt_tokens:
        return (f"the cached and cache-write tokens recovered from cost_breakdown ({read} + {write}) exceed the "
                f"logged prompt tokens ({prompt_tokens}); priced as uncached input")
    return CacheTokens(read, write)
