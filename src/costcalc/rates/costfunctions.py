"""How LiteLLM's cost calculator treats a rate card: which provider cost function prices it (pricing.FORMULAS),
with which regional uplift and Azure AI Model Router fee, and under which provider and model name the discount and
margin are looked up; and the GPU-time card of a Replicate name the cost map lacks.
"""

from __future__ import annotations

from typing import Any

from .config import Deployment
from .costmap import CostMap
from .naming import PricingNames
from .sheets import PriceSheet, number

# LiteLLM's cost_per_token dispatches on the provider (cost_calculator.py); see pricing.FORMULAS for what each
# function bills. Providers without a branch of their own take the last one: the generic formula only for a rate
# card with a positive input or output price or a tiered_pricing table, else nothing at all.
_GENERIC_PROVIDERS = frozenset({"anthropic", "bedrock", "openai", "databricks", "azure", "gemini", "azure_ai"})
_NO_TIER_PROVIDERS = frozenset({"fireworks_ai", "deepseek", "tencent"})
_DASHSCOPE_PROVIDERS = frozenset({"dashscope", "qwencloud", "qwen_ai_platform"})
_DISPATCHED_PROVIDERS = _GENERIC_PROVIDERS | _NO_TIER_PROVIDERS | _DASHSCOPE_PROVIDERS | {
    "vertex_ai", "xai", "perplexity", "lemonade"}
# infer_openai_data_residency: api_base host → the uplift key of the model's entry.
_OPENAI_RESIDENCY_HOSTS = {"eu.api.openai.com": "regional_processing_uplift_multiplier_eu",
                           "us.api.openai.com": "regional_processing_uplift_multiplier_us",
                           "gov.api.openai.com": "fedramp_uplift_multiplier"}
REPLICATE_GPU_PRICE_PER_SECOND = 0.0014  # litellm.constants.DEFAULT_REPLICATE_GPU_PRICE_PER_SECOND (A100 80GB)


def noted(rules: dict[str, Any]) -> str:
    """What a card's rule text adds about the provider function: a regional uplift, a formula not the generic one."""
    notes = []
    if rules.get("uplift", 1.0) != 1.0:
        notes.append(f"x{rules['uplift']:g} regional uplift")
    if rules.get("formula", "generic") not in ("generic",):
        notes.append(f"{rules['formula']} formula")
    if rules.get("prompt_fee"):
        notes.append("model router fee")
    return f" [{'; '.join(notes)}]" if notes else ""


def formula_for(provider: str | None, rates: dict[str, Any]) -> str:
    """The provider cost function LiteLLM prices a rate card with (pricing.FORMULAS)."""
    if provider == "vertex_ai":
        above = ("input_cost_per_token_above_128k_tokens", "output_cost_per_token_above_128k_tokens")
        return "vertex_128k" if any(rates.get(k) is not None for k in above) else "generic"
    if provider is None or provider in _GENERIC_PROVIDERS:
        return "generic"
    if provider in _NO_TIER_PROVIDERS:
        return "generic_no_tier"
    if provider in ("xai", "perplexity"):
        return provider
    if provider in _DASHSCOPE_PROVIDERS:
        return "dashscope"
    if provider == "lemonade":
        return "zero"
    priced = (number(rates.get("input_cost_per_token")) or 0.0) > 0 \
        or (number(rates.get("output_cost_per_token")) or 0.0) > 0 or rates.get("tiered_pricing") is not None
    return "generic" if priced else "zero"


class CostFunctions:
    """The cost-calculator rules of one cost map and config: formula, uplift, router fee, discount name."""

    def __init__(self, cost_map: CostMap, names: PricingNames):
        self.cost_map = cost_map
        self.names = names

    def rules(self, dispatch: str | None, rates: dict[str, Any], call: str | None, d: Deployment | None,
               priced_name: str, *, per_call: bool = False) -> dict[str, Any]:
        """How the proxy's cost calculator treats a rate card: which provider function (formula), which regional
        uplift, and the provider and model name the discount and margin are looked up by.

        ``per_call``: per-request prices, which LiteLLM prices with the generic formula for every provider."""
        formula = "generic" if per_call else formula_for(dispatch, rates)
        uplift = 1.0
        # the location and the data residency are read for the provider the call was routed to, whatever
        # provider model_info.pricing_provider prices it under
        route = self.names.deployment_provider(d) if d is not None and d.pricing_provider else call
        if route is not None and route.startswith("vertex_ai") and (per_call or dispatch == "vertex_ai"):
            # resolve_vertex_location_for_cost: the deployment's vertex_location, else us-central1 (non-global)
            location = (d.vertex_location if d is not None else None) or "us-central1"
            multiplier = number(rates.get("regional_endpoint_uplift_multiplier"))
            if location.lower() != "global" and multiplier is not None:
                uplift *= multiplier
        if route == "openai" and d is not None and d.api_base_host in _OPENAI_RESIDENCY_HOSTS \
                and (per_call or dispatch == "openai" or dispatch not in _DISPATCHED_PROVIDERS):
            # infer_openai_data_residency: a regional api_base host bills the model's residency uplift
            multiplier = number(rates.get(_OPENAI_RESIDENCY_HOSTS[d.api_base_host]))
            if multiplier is not None:
                uplift *= multiplier
        return {"formula": formula, "uplift": uplift, "call_provider": call, "discount_model": priced_name}

    def router_fee(self, priced: str, requested: str | None) -> dict[str, Any]:
        """llms/azure_ai/cost_calculator.py: a call priced under (or requested as) an Azure AI Model Router name
        pays the router's flat per-prompt-token fee on top, unless it is priced as the fee row itself."""
        def router(name: str) -> bool:
            lower = name.lower()
            return "model-router" in lower or "model_router" in lower

        bare = priced.lower().removeprefix("azure_ai/")
        if bare in ("model-router", "model_router"):
            return {}
        fee_name = priced if router(priced) else requested if requested and router(requested) else None
        if fee_name is None:
            return {}
        entry_name = fee_name.lower().removeprefix("azure_ai/")
        fee_row = self.cost_map.find(entry_name if entry_name in ("model-router", "model_router") else "model_router",
                                     "azure_ai")
        rate = number(self.cost_map.entry(fee_row.key).get("input_cost_per_token")) if fee_row else None
        return {"prompt_fee": rate} if rate else {}

    def replicate_gpu(self, model: str, d: Deployment | None, call: str | None, why: str,
                       warnings: tuple[str, ...] = ()) -> PriceSheet:
        """completion_cost prices a name containing "replicate" that is not in the cost map by GPU time:
        DEFAULT_REPLICATE_GPU_PRICE_PER_SECOND x the request duration, with no discount or margin."""
        note = (f"{why}: LiteLLM bills it by GPU time, ${REPLICATE_GPU_PRICE_PER_SECOND:g}/s x the request duration "
                "(no token prices, discount or margin)")
        return PriceSheet(model=model, provider=call, rates={}, sources={}, rule=f"replicate GPU time ({why})",
                          deployment=d, warnings=(*warnings, note), mode="chat", formula="replicate_gpu",
                          call_provider=call)
