"""Stream usage records through resolution and pricing: every line comes out priced, unpriced, rejected or
skipped. Each distinct (model, model_id, service tier, per-request prices) is resolved and compiled once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, NamedTuple

from ..pricing.a2a import A2A_CALLS, ERROR_REASON, NO_AGENT, REPLY_NOT_LOGGED, a2a_price, find_agent
from ..pricing.calltypes import (
    IMAGE_CALLS,
    OCR_CALLS,
    RERANK_CALLS,
    SPEECH_CALLS,
    ByTokens,
    CallPrice,
    lyria_price,
    ocr_price,
    ocr_rates,
    rerank_price,
    speech_price,
    transcription_price,
)
from ..pricing.coverage import REALTIME, REALTIME_CALLS, UNIT_CALLS, ZERO_BOOKED, unpriced_reason, zero_booked_reason
from ..pricing.decisions import DECISIONS_CALLS, decisions_overrides, decisions_query_price, recovered_cache_tokens
from ..pricing.exact import N_SLOTS, SLOTS, Band, seconds
from ..pricing.formulas import (
    NO_ADJUSTMENT,
    Adjuster,
    Charge,
    Cost,
    FormulaPricer,
    Measured,
    Pricer,
    make_adjuster,
    make_pricer,
)
from ..pricing.images import TokenPrice, provider_image_price
from ..pricing.mcp import MCP_CALLS, mcp_price
from ..pricing.mcp import ZERO_REASON as MCP_ZERO
from ..pricing.passthrough import PASS_THROUGH_CALL, pass_through_price
from ..pricing.rag import RAG_QUERY_CALLS, rag_query_approximate
from ..pricing.search import SEARCH_CALLS, search_price
from ..pricing.tools import VIDEO_CALLS, video_price
from ..pricing.vectorstores import VECTOR_STORE_SEARCH_CALLS, vector_store_search_price
from ..rates.config import ProxyConfig
from ..rates.costmap import CostMap
from ..rates.resolve import Resolver
from ..rates.sheets import PriceSheet, Unpriced
from ..reading.breakdown import logged_cache_costs
from ..reading.records import LineResult, Rejected, Skipped, UsageExtras, UsageRecord
from ..reading.tools import logged_object


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


def optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _has_usage(record: UsageRecord) -> bool:
    """Whether the log carries the call's token usage (a speech or transcription response that reported it)."""
    return bool(record.prompt_tokens or record.completion_tokens)


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

    def __init__(self, cost_map: CostMap, config: ProxyConfig | None = None, *, suggestions: bool = True):
        self.cost_map = cost_map
        self.config = config or ProxyConfig.empty()
        self.resolver = Resolver(cost_map, self.config, suggestions=suggestions)
        self._pricers: dict[tuple[Any, ...], Pricer | Unpriced] = {}
        self._call_bands: dict[tuple[Any, ...], Band] = {}
        self._image_pricers: dict[tuple[Any, ...], Pricer] = {}  # token-priced image calls (pricing/images.py)
        # the pricers of cards a call type builds for itself (Decisions, A2A agents), by their sheet: what --explain
        # and per-record prices show for the records they priced
        self._own_pricers: dict[int, Pricer] = {}
        # warning text → where it applies; filled once per deployment/model as records meet them
        self.warnings: dict[str, str] = {}

    def pricer(self, model: str, model_id: str | None = None, service_tier: str | None = None,
               request_prices: tuple[tuple[str, float], ...] = (), text_completion: bool = False
               ) -> Pricer | Unpriced:
        """The pricer of a call to ``model``; ``text_completion``: a text completion, whose rate key may differ
        (Resolver.resolve_text_completion)."""
        key: tuple[Any, ...] = (model, model_id, service_tier, request_prices)
        if text_completion:
            key = (*key, "text_completion")
        try:
            return self._pricers[key]
        except KeyError:
            pass
        resolved = self.resolver.resolve_text_completion(model, model_id, request_prices) if text_completion \
            else self.resolver.resolve(model, model_id, request_prices)
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
            return self.price_call(record)
        if record.text_completion:
            p = self.pricer(record.model, record.model_id, record.service_tier, record.request_prices, True)
        else:
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

    def price_call(self, record: UsageRecord) -> Priced | NotPriced:
        """A call of a call type the proxy prices by other units than tokens (pricing/calltypes.py,
        pricing/tools.py), a realtime session (by its tokens, approximate), a pass-through call, or a call the proxy
        books at $0 (skipped); the other call types stay unpriced with the reason (pricing/coverage.py)."""
        call_type, units = record.call_type or "", record.call_units
        if call_type == PASS_THROUGH_CALL:
            return self.price_pass_through(record)
        if call_type in SEARCH_CALLS:
            return self.price_search(record)
        if call_type in VECTOR_STORE_SEARCH_CALLS:
            return self.price_vector_store_search(record)
        if call_type in MCP_CALLS:
            return self.price_mcp_tool(record)
        if call_type in REALTIME_CALLS:
            return self.price(replace(record, call_type=None, approximate=record.approximate or REALTIME))
        if call_type in RAG_QUERY_CALLS:
            request = logged_object(record.raw or {}, "proxy_server_request")
            request = request.get("body") if isinstance(request.get("body"), dict) else request
            return self.price(replace(record, call_type=None,
                                      approximate=record.approximate or rag_query_approximate(request)))
        if call_type in DECISIONS_CALLS:
            return self.price_decisions(record)
        if call_type in A2A_CALLS:
            return self.price_a2a(record)
        if call_type in ZERO_BOOKED:
            return Skipped(record.file, record.line, zero_booked_reason(call_type))
        if call_type not in UNIT_CALLS or units is None:
            return NotPriced(record, unpriced_reason(call_type))
        resolved = self.resolver.resolve(record.model, record.model_id, record.request_prices)
        d = resolved.deployment
        if call_type in IMAGE_CALLS:
            model = self.resolver.routing.served_model(d, record.model) if d is not None else record.model
            provider = d.custom_llm_provider if d is not None else None
            if provider is None and "/" in model:
                provider = model.split("/", 1)[0]
            if provider is None and d is None and record.raw is not None:
                provider = optional_text(record.raw.get("custom_llm_provider"))
            prices = {**d.info_prices, **d.params_prices} if d is not None else {}
            uplift = resolved.uplift if isinstance(resolved, PriceSheet) else 1.0
            found: CallPrice | ByTokens | TokenPrice | str = provider_image_price(
                call_type, model, provider, prices, self.cost_map, units, uplift)
            if isinstance(found, TokenPrice):
                return self._price_image_tokens(record, resolved, found, provider)
        elif isinstance(resolved, Unpriced):
            return NotPriced(record, resolved.reason, resolved.suggestions)
        elif call_type in SPEECH_CALLS:
            served = self.resolver.routing.served_model(d, record.model) if d is not None else record.model
            found = lyria_price(resolved.call_provider or resolved.provider, served, self.cost_map) or speech_price(
                resolved.rates, units.characters, units.text_length, _has_usage(record))
        elif call_type in VIDEO_CALLS:
            registry = self.resolver.registry
            own = d is not None and registry.uses_custom_pricing(d)
            table = registry.registered(d).entry if d is not None and own else resolved.rates
            found = video_price(table, units.seconds, units.videos, units.video_resolution, units.input_images,
                                units.video_reported_cost, own, units.response_logged, resolved.rates)
        elif call_type in OCR_CALLS:
            registry = self.resolver.registry
            rates = resolved.rates
            if d is not None and registry.uses_custom_pricing(d):
                registered = registry.registered(d)
                backend = registered.backend_key
                rates = ocr_rates(self.cost_map.entry(backend) if backend is not None else {}, d.info_prices,
                                  d.params_prices, registered.entry)
            found = ocr_price(rates, units.ocr_pages, units.ocr_annotation_pages, units.ocr_credits,
                              units.response_logged or units.ocr_pages is not None or bool(units.ocr_annotation_pages))
        elif call_type in RERANK_CALLS:
            found = rerank_price(resolved.rates, resolved.call_provider or resolved.provider, units.search_units,
                                 units.rerank_tokens, units.response_logged)
        else:
            found = transcription_price(resolved.rates, units.seconds, units.seconds_from_usage, _has_usage(record))
        if isinstance(found, ByTokens):
            return self._price_call_tokens(record, found)
        sheet = resolved if isinstance(resolved, PriceSheet) else None
        if isinstance(found, str):
            return NotPriced(record, f"call type {call_type!r}: {found}", sheet=sheet)
        if sheet is None:
            sheet = PriceSheet(model=record.model, provider=None, rates={}, sources={}, rule="image price")
        sheet = PriceSheet(model=sheet.model, provider=sheet.provider, rates={found.field.split(" ")[0]: found.rate},
                           sources={found.field.split(" ")[0]: found.field}, rule=sheet.rule, map_key=sheet.map_key,
                           deployment=d, mode=sheet.mode)
        slot = SLOTS.index("duration_s" if found.per_second else "input")
        # LiteLLM's image and video branches return before its discount and margin step; speech and
        # transcription costs go through it, as token costs do
        a = None if call_type in IMAGE_CALLS or call_type in VIDEO_CALLS or not isinstance(resolved, PriceSheet) \
            else self.adjuster(resolved)
        adjust = (a.discount, a.margin_pct, a.margin_fixed) if a is not None and a.active else (0.0, 0.0, 0.0)
        band = self._call_bands.get((found.rate, slot, adjust))
        if band is None:
            band = self._call_bands[(found.rate, slot, adjust)] = Band(
                tuple(found.rate if i == slot else 0.0 for i in range(N_SLOTS)), *adjust)
        counted = seconds(found.units) if found.per_second else found.units
        measured = (band, tuple(counted if i == slot else 0 for i in range(N_SLOTS)))
        base = found.cost
        cost = a(base) if a is not None and a.active else base
        if found.approximate is not None:
            record = replace(record, approximate=found.approximate)
        return Priced(record, Cost(base, 0.0, 0.0, 0.0, 0.0, cost - base, cost), sheet, measured)

    def price_pass_through(self, record: UsageRecord) -> Priced | NotPriced:
        """A pass-through call without usage: its declared endpoint's ``cost_per_request``, booked as is (no
        discount or margin); a call to no declared endpoint is priced by its tokens."""
        found = pass_through_price(self.config.pass_through, record.raw or {})
        if found is None:
            return self.price(replace(record, call_type=None))
        key = found.field.split(" ")[0]
        sheet = PriceSheet(model=record.model, provider=None, rates={key: found.rate}, sources={key: found.field},
                           rule="a pass-through endpoint's cost_per_request (general_settings.pass_through_endpoints)")
        slot = SLOTS.index("input")
        band = self._call_bands.get((found.rate, slot, (0.0, 0.0, 0.0)))
        if band is None:
            band = self._call_bands[(found.rate, slot, (0.0, 0.0, 0.0))] = Band(
                tuple(found.rate if i == slot else 0.0 for i in range(N_SLOTS)))
        if found.approximate is not None:
            record = replace(record, approximate=found.approximate)
        return Priced(record, Cost(found.cost, 0.0, 0.0, 0.0, 0.0, 0.0, found.cost), sheet,
                      (band, tuple(found.units if i == slot else 0 for i in range(N_SLOTS))))

    def price_decisions(self, record: UsageRecord) -> Priced | NotPriced:
        """A Decisions call (pricing/decisions.py): a query-priced provider's per-call price, else its tokens at
        the card with the cost-map row's ``_decisions`` values over their plain fields; the cached and cache-write
        tokens the logged usage leaves out are recovered from the proxy's cost breakdown, or the record is marked
        approximate with the reason."""
        resolved = self.resolver.resolve(record.model, record.model_id, record.request_prices)
        if isinstance(resolved, Unpriced):
            return NotPriced(record, resolved.reason, resolved.suggestions)
        map_key = resolved.map_key
        overrides = decisions_overrides(self.cost_map.entry(map_key)) if map_key and map_key in self.cost_map else {}
        provider = resolved.call_provider or resolved.provider
        per_query = decisions_query_price(provider, resolved.rates, overrides)
        if per_query is not None:
            return self._priced_per_query(record, per_query, provider, record.model)
        if not (record.cache_read_tokens or record.cache_write_tokens):
            found = recovered_cache_tokens(logged_cache_costs(record.raw), resolved.rates, record.service_tier,
                                           resolved.uplift, record.prompt_tokens)
            record = replace(record, approximate=record.approximate or found) if isinstance(found, str) else \
                replace(record, cache_read_tokens=found.read, cache_write_tokens=found.write)
        key: tuple[Any, ...] = ("decisions", record.model, record.model_id, record.service_tier, record.request_prices)
        p = self._pricers.get(key)
        if p is None:
            sheet = replace(resolved, rates={**resolved.rates, **overrides}, sources={
                **resolved.sources, **{k: f"cost_map:{map_key} ({k}_decisions)" for k in overrides}})
            p = make_pricer(sheet, record.service_tier, self.adjuster(sheet))
            if not record.request_prices or len(self._pricers) < _MAX_CACHED:
                self._pricers[key] = p
                self._own_pricers[id(p.sheet)] = p
        assert isinstance(p, Pricer)
        record = replace(record, call_type=None)
        cost = p.price_record(record)
        if cost is None:
            return NotPriced(record, "priced per second, but the record has no duration", sheet=p.sheet)
        return Priced(record, cost, p.sheet, p.measure(record))  # type: ignore[arg-type]

    def price_a2a(self, record: UsageRecord) -> Priced | NotPriced | Skipped:
        """An A2A agent call (pricing/a2a.py): the config agent's cost_per_query, else its per-token prices on the
        logged tokens, booked as is; $0 (skipped) for an agent without prices or a logged error reply."""
        raw = record.raw or {}
        agent = find_agent(self.config.agents, optional_text(raw.get("agent_id")), record.model)
        if agent is None:
            return NotPriced(record, f"call type {record.call_type!r}: {NO_AGENT}")
        reply = logged_object(raw, "response")
        if reply.get("error"):  # the logged reply always has the key (LiteLLMSendMessageResponse.error), null unless
            # the agent's JSON-RPC reply was an error
            return Skipped(record.file, record.line, f"call type {record.call_type!r}: {ERROR_REASON}")
        found = a2a_price(agent, None if reply else REPLY_NOT_LOGGED)
        if isinstance(found, str):
            return Skipped(record.file, record.line, f"call type {record.call_type!r}: {found}")
        if isinstance(found, CallPrice):
            return self._priced_per_query(record, found, "a2a_agent", record.model, adjusted=False)
        plain = replace(record, call_type=None, approximate=record.approximate or (None if reply else REPLY_NOT_LOGGED))
        p = self._pricers.get(("a2a", agent.name))
        if p is None:
            field = f"litellm_params of agent {agent.name!r}"
            sheet = PriceSheet(model=record.model, provider="a2a_agent", rates=found,
                               sources=dict.fromkeys(found, f"config:{field}"),
                               rule=f"an A2A agent's per-token prices ({field})")
            p = self._pricers[("a2a", agent.name)] = make_pricer(sheet)
            self._own_pricers[id(p.sheet)] = p
        assert isinstance(p, Pricer)
        cost = p.price_record(plain)
        assert cost is not None  # token rates: never per second
        return Priced(plain, cost, p.sheet, p.measure(plain))  # type: ignore[arg-type]

    def explaining_pricer(self, o: Priced) -> Pricer | None:
        """The pricer whose charges explain a priced record: the one a call type built on a card of its own
        (Decisions, A2A agents), None for a call priced by other units (its ``measured`` units at its band's
        rates: ``unit_charges``), else the model's."""
        own = self._own_pricers.get(id(o.sheet))
        if own is not None and own.sheet is o.sheet:
            return own
        r = o.record
        if r.call_type is not None:
            return None
        p = self.pricer(r.model, r.model_id, r.service_tier, r.request_prices, r.text_completion)
        return p if isinstance(p, Pricer) else None

    def price_search(self, record: UsageRecord) -> Priced | NotPriced:
        """A search API call: its search tool's configured per-query price, else the provider's cost-map row
        (pricing/search.py), through the config's discount and margin as the proxy's search branch applies them."""
        raw = record.raw or {}
        provider = optional_text(raw.get("custom_llm_provider"))
        model = optional_text(raw.get("model")) or record.model
        names = {record.model, optional_text(raw.get("model_group"))}
        tool = next((t for t in self.config.search_tools if t.name in names), None)
        provider = provider or (tool.provider if tool is not None else None)
        if tool is None and any(t.cost_per_query is not None and t.provider == provider
                                for t in self.config.search_tools):
            return NotPriced(record, f"call type {record.call_type!r}: a search tool of provider {provider!r} sets "
                             "its own input_cost_per_query, and the log does not say which tool served the call")
        units = record.call_units
        found = search_price(model, provider, (tool.name, tool.cost_per_query) if tool is not None and
                             tool.cost_per_query is not None else None,
                             units.max_results if units is not None else None,
                             dict(units.search_modes) if units is not None else {},
                             units is not None and units.request_logged, self.cost_map)
        if isinstance(found, str):
            return NotPriced(record, f"call type {record.call_type!r}: {found}")
        return self._priced_per_query(record, found, provider, model)

    def price_vector_store_search(self, record: UsageRecord) -> Priced | Skipped:
        """A vector-store search: Vertex AI's Search API per query, every other provider's at $0
        (pricing/vectorstores.py), through the config's discount and margin as completion_cost applies them."""
        raw = record.raw or {}
        provider = optional_text(raw.get("custom_llm_provider"))
        model = optional_text(raw.get("model")) or record.model
        found = vector_store_search_price(model, provider, self.cost_map)
        if isinstance(found, str):
            return Skipped(record.file, record.line, f"call type {record.call_type!r}: {found}")
        return self._priced_per_query(record, found, provider, model)

    def price_mcp_tool(self, record: UsageRecord) -> Priced | NotPriced | Skipped:
        """An MCP tool call: the per-call price its server's logged cost info sets, booked as is."""
        found = mcp_price(record.call_units.mcp_call if record.call_units is not None else None)
        if found == MCP_ZERO:
            return Skipped(record.file, record.line, f"call type {record.call_type!r}: {found}")
        if isinstance(found, str):
            return NotPriced(record, f"call type {record.call_type!r}: {found}")
        return self._priced_per_query(record, found, None, record.model, adjusted=False)

    def _priced_per_query(self, record: UsageRecord, found: CallPrice, provider: str | None, model: str,
                          adjusted: bool = True) -> Priced:
        """A call priced per query (``found``), with the discount and margin the config sets for its provider
        (``adjusted``), or booked as is."""
        a = make_adjuster(self.config.cost_discount_config if adjusted else {},
                          self.config.cost_margin_config if adjusted else {}, provider, model)
        adjust = (a.discount, a.margin_pct, a.margin_fixed) if a.active else (0.0, 0.0, 0.0)
        key = found.field.split(" ")[0]
        sheet = PriceSheet(model=record.model, provider=provider, rates={key: found.rate}, sources={key: found.field},
                           rule=f"a search call: {found.field}")
        slot = SLOTS.index("input")
        band = self._call_bands.get((found.rate, slot, adjust))
        if band is None:
            band = self._call_bands[(found.rate, slot, adjust)] = Band(
                tuple(found.rate if i == slot else 0.0 for i in range(N_SLOTS)), *adjust)
        base = found.cost
        cost = a(base) if a.active else base
        if found.approximate is not None:
            record = replace(record, approximate=found.approximate)
        return Priced(record, Cost(base, 0.0, 0.0, 0.0, 0.0, cost - base, cost), sheet,
                      (band, tuple(found.units if i == slot else 0 for i in range(N_SLOTS))))

    def _price_call_tokens(self, record: UsageRecord, found: ByTokens) -> Priced | NotPriced:
        """A speech or transcription call the proxy prices by its usage as it prices a chat call's
        (``generic_cost_per_token`` on the model's card, tier, discount and margin)."""
        tokens = record if found.prompt_tokens is None else replace(
            record, prompt_tokens=found.prompt_tokens, completion_tokens=0)
        outcome = self.price(replace(tokens, call_type=None, approximate=found.approximate or record.approximate))
        return outcome._replace(record=replace(outcome.record, call_type=record.call_type))

    def _price_image_tokens(self, record: UsageRecord, resolved: PriceSheet | Unpriced, found: TokenPrice,
                            provider: str | None) -> Priced:
        """An image call priced by its response's token usage (``calculate_image_response_cost_from_usage`` →
        ``generic_cost_per_token``) at the image calculator's price table, with no discount or margin."""
        prompt, image_in, completion, image_out, reasoning, audio_out = found.usage
        key = (record.model, record.model_id, provider, found.source)
        pricer = self._image_pricers.get(key)
        if pricer is None:
            base = resolved if isinstance(resolved, PriceSheet) else None
            sheet = PriceSheet(model=record.model, provider=provider, rates=found.rates,
                               sources={k: found.source for k in found.rates}, rule=f"image tokens: {found.source}",
                               map_key=base.map_key if base is not None else None, deployment=resolved.deployment,
                               mode=base.mode if base is not None else None,
                               uplift=base.uplift if base is not None and provider == "vertex_ai" else 1.0)
            pricer = make_pricer(sheet, None, NO_ADJUSTMENT)
            if len(self._image_pricers) < _MAX_CACHED:
                self._image_pricers[key] = pricer
        extras = UsageExtras(image_output_tokens=image_out) if image_out else None
        tokens = replace(record, prompt_tokens=prompt, image_input_tokens=image_in, completion_tokens=completion,
                         reasoning_tokens=reasoning, audio_output_tokens=audio_out, audio_input_tokens=0,
                         cache_read_tokens=0, cache_write_tokens=0, cache_write_1h_tokens=0, extras=extras,
                         service_tier=None)
        cost, measured = pricer.price_record(tokens), pricer.measure(tokens)
        return Priced(tokens, cost, pricer.sheet, measured)  # type: ignore[arg-type]

    def outcomes(self, results: Iterable[LineResult]) -> Iterator[Outcome]:
        price = self.price
        for r in results:
            yield price(r) if r.__class__ is UsageRecord else r

    def run(self, paths: Iterable[str], adapt: Any = None) -> Iterator[Outcome]:
        """``adapt``: the shape the lines are in (reading.jsonl's ``read_usage``); None detects it per line."""
        from ..reading.jsonl import DETECT_SHAPES, read_usage  # here: a lookup reads no file (start-up)

        return self.outcomes(read_usage(paths, DETECT_SHAPES if adapt is None else adapt))


def unit_charges(o: Priced) -> list[Charge]:
    """The charges of a call priced by other units than tokens (an image, a second of video, a query, ...): each
    measured unit count at its band's rate, under the rate key its card names."""
    band, units = o.measured
    key = next(iter(o.sheet.rates), "")
    out = []
    for i, n in enumerate(units):
        if n:
            count = n / 10**18 if SLOTS[i] == "duration_s" else n  # seconds are measured in 10^-18 s
            rate = float(band.rates[i])
            out.append(Charge(SLOTS[i].replace("_", " "), count, rate, key, o.sheet.sources.get(key, ""), count * rate))
    return out
