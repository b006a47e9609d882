"""Stream usage records through resolution and pricing: every line comes out priced, unpriced, rejected or
skipped. Each distinct (model, model_id, service tier, per-request prices) is resolved and compiled once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from ..pricing.formulas import Adjuster, Cost, FormulaPricer, Measured, Pricer, make_adjuster, make_pricer
from ..rates.config import ProxyConfig
from ..rates.costmap import CostMap
from ..rates.resolve import Resolver
from ..rates.sheets import PriceSheet, Unpriced
from ..reading.jsonl import DETECT_SHAPES, read_usage
from ..reading.records import LineResult, Rejected, Skipped, UsageRecord


class Priced(NamedTuple):
    record: UsageRecord
    cost: Cost  # LiteLLM's float arithmetic: what per-record parity is measured against
    sheet: PriceSheet
    measured: Measured  # the record's units and exact-rate band: what reports book (pricing/exact.py)


class NotPriced(NamedTuple):
    record: UsageRecord
    reason: str
    suggestions: tuple[str, ...] = ()
    sheet: PriceSheet | None = None


Outcome = Priced | NotPriced | Rejected | Skipped


def not_by_token(call_type: str) -> str:
    """Why a call the proxy prices by something other than tokens is reported unpriced (counted, never skipped)."""
    return (f"call type {call_type!r}: the proxy prices it per image, character, second, query or call, which "
            "costcalc does not reproduce yet")
_MAX_CACHED = 10_000


def adjuster_for(resolver: Resolver, sheet: PriceSheet) -> Adjuster:
    """The config's discount and margin for calls priced with ``sheet``: looked up by the provider the call went
    to and the model name completion_cost matches patterns against (PRICING.md §7.6)."""
    d = sheet.deployment
    discount_model = sheet.discount_model or (
        resolver.routing.served_model(d, sheet.model) if d is not None else sheet.model)
    return make_adjuster(resolver.config.cost_discount_config, resolver.config.cost_margin_config,
                         sheet.call_provider or sheet.provider, discount_model)


class PricingEngine:
    """The library entry point: ``engine.price(record)`` or ``engine.run(paths)``."""

    def __init__(self, cost_map: CostMap, config: ProxyConfig | None = None):
        self.cost_map = cost_map
        self.config = config or ProxyConfig.empty()
        self.resolver = Resolver(cost_map, self.config)
        self._pricers: dict[tuple[Any, ...], Pricer | Unpriced] = {}
        # warning text → where it applies; filled once per deployment/model as records meet them
        self.warnings: dict[str, str] = {}

    def pricer(self, model: str, model_id: str | None = None, service_tier: str | None = None,
               request_prices: tuple[tuple[str, float], ...] = ()) -> Pricer | Unpriced:
        key = (model, model_id, service_tier, request_prices)
        try:
            return self._pricers[key]
        except KeyError:
            pass
        resolved = self.resolver.resolve(model, model_id, request_prices)
        if isinstance(resolved, Unpriced):
            result: Pricer | Unpriced = resolved
        else:
            d = resolved.deployment
            result = make_pricer(resolved, service_tier, self.adjuster(resolved))
            where = d.label if d is not None else model
            for w in resolved.warnings:
                self.warnings.setdefault(f"{where}: {w}", where)
        # Per-request prices can make every record its own key: cache those only up to a bound, so memory
        # stays constant in the number of records.
        if not request_prices or len(self._pricers) < _MAX_CACHED:
            self._pricers[key] = result
        return result

    def adjuster(self, sheet: PriceSheet) -> Adjuster:
        return adjuster_for(self.resolver, sheet)

    def price(self, record: UsageRecord) -> Priced | NotPriced:
        if record.call_type is not None:
            return NotPriced(record, not_by_token(record.call_type))
        p = self._pricers.get((record.model, record.model_id, record.service_tier, record.request_prices))
        if p is None:
            p = self.pricer(record.model, record.model_id, record.service_tier, record.request_prices)
        if p.__class__ is not Pricer:
            if p.__class__ is not FormulaPricer:
                return NotPriced(record, p.reason, p.suggestions)
            cost = p.price_record(record)  # provider formulas and off-peak windows (the record's timestamp)
        elif record.extras is not None or record.band_prompt_tokens is not None:
            # rarer billable parts (cached audio, image output, regional price, ...), or a bucket of requests
            cost = p.price_record(record)
        else:
            cost = p(record.prompt_tokens, record.completion_tokens, record.cache_read_tokens,
                     record.cache_write_tokens, record.cache_write_1h_tokens, record.reasoning_tokens,
                     record.audio_input_tokens, record.audio_output_tokens, record.image_input_tokens,
                     record.duration_s, record.batch)
        if cost is None:
            if record.batch:
                return NotPriced(record, "batch output line: no cost map row prices the model's batch lines "
                                 "(a LiteLLM proxy would book it at $0)", sheet=p.sheet)
            return NotPriced(record, "priced per second, but the record has no duration "
                             "(duration_s, response_time_ms or startTime/endTime)", sheet=p.sheet)
        return Priced(record, cost, p.sheet, p.measure(record))  # type: ignore[arg-type]

    def outcomes(self, results: Iterable[LineResult]) -> Iterator[Outcome]:
        price = self.price
        for r in results:
            yield price(r) if r.__class__ is UsageRecord else r

    def run(self, paths: Iterable[str], adapt: Any = DETECT_SHAPES) -> Iterator[Outcome]:
        return self.outcomes(read_usage(paths, adapt))
