"""Rate cards: what one call is priced with (``PriceSheet``) or why nothing prices it (``Unpriced``), and the
tests LiteLLM applies to a cost-map or registered entry (which fields reach the formulas, whether it prices at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import Deployment
from .fields import ABOVE_THRESHOLD, MODEL_INFO_FIELDS

_NON_TOKEN_RATE_FIELDS = frozenset({
    "cost_per_second", "input_cost_per_second", "output_cost_per_second", "input_cost_per_query",
    "input_cost_per_text_message", "tiered_pricing",
})
PER_SECOND_FIELDS = ("cost_per_second", "input_cost_per_second", "output_cost_per_second")
OFF_PEAK_NOTE = ("off_peak_pricing replaces these rates inside its UTC windows: each record is priced at its "
                 "timestamp, a record without one at the current time (as a live proxy prices at request time)")


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_pricing_field(name: str) -> bool:
    # provider_specific_entry holds Anthropic's regional (usage.inference_geo) price multipliers
    return "cost" in name or name in ("tiered_pricing", "off_peak_pricing", "provider_specific_entry") \
        or "_multiplier" in name


def model_info_view(entry: dict[str, Any]) -> dict[str, Any]:
    """The pricing fields of ``entry`` that LiteLLM's ``get_model_info`` hands to the cost formulas (§2.6)."""
    return {
        k: v
        for k, v in entry.items()
        if v is not None
        and (is_pricing_field(k) or k == "web_search_billing_unit")  # Gemini grounding: per query or per prompt
        and (k in MODEL_INFO_FIELDS or ABOVE_THRESHOLD.search(k) is not None)
    }


def prices_anything(entry: dict[str, Any]) -> bool:
    """LiteLLM's test for whether a registered deployment entry is used at all (PRICING.md §7.3)."""
    return any(
        v is not None and (k in _NON_TOKEN_RATE_FIELDS or ("cost_per" in k and "token" in k))
        for k, v in entry.items()
    )


@dataclass(frozen=True, slots=True)
class PriceSheet:
    """The rate card one call is priced with. ``rates`` holds only fields that reach LiteLLM's formulas;
    ``sources`` says where each came from (request, config:litellm_params, config:model_info,
    inherited:<key>, cost_map:<key>, default)."""

    model: str
    provider: str | None
    rates: dict[str, Any]
    sources: dict[str, str]
    rule: str  # how the card was chosen, in words
    map_key: str | None = None  # the cost-map entry priced against or inherited from
    deployment: Deployment | None = None
    warnings: tuple[str, ...] = ()
    mode: str | None = None
    map_rule: str | None = None  # which LiteLLM lookup rule found ``map_key`` ("as given", "prefix stripped", …)
    formula: str = "generic"  # which of LiteLLM's provider cost functions prices the call (pricing.FORMULAS)
    uplift: float = 1.0  # regional multiplier on every token rate (Vertex regional endpoint, OpenAI data residency)
    call_provider: str | None = None  # the provider the call went to: discount and margin are looked up by it
    discount_model: str | None = None  # the model name cost_discount_config patterns are matched against
    prompt_fee: float = 0.0  # $ per prompt token on top of the rates (Azure AI Model Router's routing fee)
    batch_rates: dict[str, Any] | None = None  # the card batch output lines are priced with (None: ``rates``)

    @property
    def per_second(self) -> bool:
        """Per-second pricing applies only without a positive token price or a tier table (PRICING.md §5)."""
        r = self.rates
        if (r.get("input_cost_per_token") or 0) > 0 or (r.get("output_cost_per_token") or 0) > 0:
            return False
        if r.get("tiered_pricing") is not None:
            return False
        if self.mode not in (None, "chat", "completion", "embedding", "responses", "audio_transcription"):
            return False
        return any(r.get(k) is not None for k in PER_SECOND_FIELDS)

    @property
    def per_second_rate(self) -> tuple[str, float] | None:
        for k in PER_SECOND_FIELDS:
            if self.rates.get(k) is not None:
                return k, float(self.rates[k])
        return None


@dataclass(frozen=True, slots=True)
class Unpriced:
    """Nothing prices this call: never booked at $0 silently (SPEC §2.6)."""

    model: str
    reason: str
    suggestions: tuple[str, ...] = ()
    deployment: Deployment | None = None


Resolution = PriceSheet | Unpriced
