"""Per-request prices (PRICING.md §7.5, SPEC §1.3): a usage record's own price fields merged over the card the
proxy would otherwise use, field by field, as LiteLLM's completion_cost does with per-call pricing.
"""

from __future__ import annotations

from typing import Any

from .costfunctions import CostFunctions, noted
from .fields import CUSTOM_PRICING_FIELDS, MODEL_INFO_FIELDS
from .naming import PricingNames
from .registration import RateCardRegistry
from .routing import DeploymentRouter
from .sheets import PER_SECOND_FIELDS, PriceSheet, Resolution, Unpriced, model_info_view

# Price fields a usage record may carry (SPEC §1.3): what LiteLLM accepts as per-call pricing.
REQUEST_PRICE_FIELDS = CUSTOM_PRICING_FIELDS
# The keys LiteLLM's ModelInfo declares (per-call price entries are validated as one, dropping the rest): the
# get_model_info field set plus the custom-pricing fields, but for these few custom-pricing fields it lacks.
_NOT_MODEL_INFO_FIELDS = frozenset({
    "cache_creation_input_audio_token_cost", "input_cost_per_audio_per_second_above_128k_tokens",
    "input_cost_per_image_above_128k_tokens", "input_cost_per_pixel", "input_cost_per_token_cache_hit",
    "input_cost_per_video_per_second_above_128k_tokens", "input_cost_per_video_per_second_above_15s_interval",
    "input_cost_per_video_per_second_above_8s_interval"})
_PER_CALL_FIELDS = (MODEL_INFO_FIELDS | CUSTOM_PRICING_FIELDS) - _NOT_MODEL_INFO_FIELDS


class RequestPriceMerger:
    """Merges a record's per-call prices over a base card (the cost-map row, a deployment's registered entry)."""

    def __init__(self, routing: DeploymentRouter, registry: RateCardRegistry, names: PricingNames,
                 functions: CostFunctions):
        self.routing = routing
        self.registry = registry
        self.names = names
        self.functions = functions
        self.cost_map = names.cost_map

    def merge(self, model: str, base: Resolution, custom: dict[str, Any]) -> Resolution:
        """Per-call prices merge field by field (PRICING.md §7.5): the cost-map row of the called model, then a
        custom-priced deployment's registered entry, then the request's own prices."""
        d = base.deployment
        if isinstance(base, PriceSheet) and base.formula == "replicate_gpu":
            return base  # completion_cost returns the GPU-time price before it reads any per-call prices
        served = self.routing.served_model(d, model) if d is not None else model
        registered = self.registry.registered(d) if d is not None and self.registry.uses_custom_pricing(d) else None
        if registered is not None:
            custom = {k: v for k, v in custom.items() if registered.entry.get(k) != v}
            if not custom:
                return base
        call = self.names.call_provider(d, served) if d is not None else self.names.lookup_provider(model, None)
        if call is None and isinstance(base, Unpriced):
            return base  # LiteLLM cannot route the name: the call fails before per-call prices are read
        if d is None and call is not None and "replicate" in model and model not in self.cost_map:
            # with per-call prices completion_cost prices the name as called, which its replicate branch takes
            return self.functions.replicate_gpu(model, None, call, f"{model!r} is not in the cost map")
        # the catalog row is read under the routing provider
        route = self.names.deployment_provider(d, served) if d is not None else call
        if route == "bedrock_mantle":  # the per-call row is read under the region-free name
            found = self.cost_map.provider_of(served, route)
            served = f"bedrock_mantle/{found[1] if found else served.rsplit('/', 1)[-1]}"
        match = self.cost_map.find(served, route)
        rates: dict[str, Any] = {}
        sources: dict[str, str] = {}
        mode = None
        if match is not None:
            raw = self.cost_map.entry(match.key)
            rates = model_info_view(raw)
            sources = dict.fromkeys(rates, f"cost_map:{match.key}")
            mode = raw.get("mode")
        if registered is not None:
            view = model_info_view(registered.entry)
            rates.update(view)
            sources.update({k: registered.sources.get(k, "config:model_info") for k in view})
            mode = registered.entry.get("mode") or mode
        if any(k in custom for k in PER_SECOND_FIELDS) and not any(
            k in custom for k in ("input_cost_per_token", "output_cost_per_token")
        ):
            for k in ("input_cost_per_token", "output_cost_per_token", "tiered_pricing"):
                rates.pop(k, None)
                sources.pop(k, None)
        flat = {k: custom[k] for k in ("input_cost_per_token", "output_cost_per_token") if k in custom}
        tiers = custom.get("tiered_pricing", rates.get("tiered_pricing"))
        for k, v in custom.items():
            rates[k], sources[k] = v, "request"
        if flat and isinstance(tiers, list) and tiers:
            rates["tiered_pricing"] = [{**t, **flat} for t in tiers]
            sources["tiered_pricing"] = "request"
        # the merged entry is validated as a ModelInfo, which keeps only the keys it declares: undeclared
        # *_above_Nk_tokens keys (above_32k, say), from the map row, the deployment or the request, are dropped
        dropped = sorted(k for k in rates if k not in _PER_CALL_FIELDS)
        for k in dropped:
            del rates[k]
            sources.pop(k, None)
        warnings = base.warnings if isinstance(base, PriceSheet) else ()
        if dropped:
            warnings = (*warnings, f"per-request prices: LiteLLM drops {', '.join(dropped)} from the merged rate "
                        "card (not a ModelInfo field)")
        provider = call or (match.provider if match is not None else None)  # generic runs under the pricing provider
        rule = "per-request prices over " + (f"cost map key {match.key!r}" if match else "no cost map entry")
        rules = self.functions.rules(provider, rates, call, d, self.names.prefixed(served, call), per_call=True)
        # batch lines are priced without per-call prices: on the base card, and at nothing without one
        rules["batch_rates"] = {} if not isinstance(base, PriceSheet) else \
            base.rates if base.batch_rates is None else base.batch_rates
        return PriceSheet(model=model, provider=provider, rates=rates, sources=sources, rule=rule + noted(rules),
                          map_key=match.key if match else None, deployment=d, warnings=warnings,
                          mode=mode or "chat", map_rule=match.rule if match else None, **rules)
