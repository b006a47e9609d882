"""The entry a LiteLLM proxy registers for a custom-priced deployment (PRICING.md §7): the prices it sets, what it
inherits from its backend model's cost-map row, how deployments sharing an id merge, the keys the Router adds to
its cost map as rows of their own, and the warnings about the proxy's custom-pricing rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .config import Deployment, ProxyConfig
from .costmap import CostMap
from .fields import CUSTOM_PRICING_FIELDS
from .sheets import OFF_PEAK_NOTE, PER_SECOND_FIELDS, is_pricing_field, model_info_view

# Cache prices a custom-priced deployment inherits from its backend model, only when it sets an input price.
_INHERITED_CACHE_FIELDS = (
    "cache_creation_input_token_cost",
    "cache_creation_input_token_cost_above_1hr",
    "cache_creation_input_token_cost_above_200k_tokens",
    "cache_read_input_token_cost",
    "cache_read_input_token_cost_above_200k_tokens",
)
_SERVICE_TIER_KEY_SUFFIXES = ("_balanced", "_flex", "_priority", "_ultrafast")
_OFF_PEAK_BASE_FIELDS = ("input_cost_per_token", "input_cost_per_second", "cost_per_second", "tiered_pricing")
# Keys that enable custom pricing when found in model_info (PRICING.md §7.2).
_MODEL_INFO_CUSTOM_KEYS = CUSTOM_PRICING_FIELDS | {"off_peak_pricing"}
_STANDARD_TIER_KEY = re.compile(r"^(input_cost_per_token|output_cost_per_token)_above_(\d+k?)_tokens$")


@dataclass
class RegisteredEntry:
    """A deployment's entry as the proxy registers it under its id (PRICING.md §7.1)."""

    entry: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    backend_key: str | None = None
    backend_rule: str | None = None


class RateCardRegistry:
    """The registered entries of one config's custom-priced deployments, built on first use per deployment id."""

    def __init__(self, cost_map: CostMap, config: ProxyConfig):
        self.cost_map = cost_map
        self.config = config
        self._registered: dict[str, RegisteredEntry] = {}
        self._sharing: dict[str, list[Deployment]] | None = None  # deployments by the id they register under

    @staticmethod
    def uses_custom_pricing(d: Deployment) -> bool:
        return bool(d.params_prices) or any(k in _MODEL_INFO_CUSTOM_KEYS for k in d.info_prices)

    def registered(self, d: Deployment) -> RegisteredEntry:
        """The entry the proxy registers under the deployment's id: deployments sharing an id merge (§8.13)."""
        key = d.identity
        if key not in self._registered:
            if self._sharing is None:
                self._sharing = {}
                for other in self.config.deployments:
                    self._sharing.setdefault(other.identity, []).append(other)
            merged = RegisteredEntry()
            for other in self._sharing.get(key, [d]):
                if other.identity == key:
                    one = self._payload(other)
                    merged.entry.update(one.entry)
                    merged.sources.update(one.sources)
                    merged.warnings.extend(one.warnings)
                    merged.backend_key, merged.backend_rule = one.backend_key, one.backend_rule
            self._registered[key] = merged
        return self._registered[key]

    def _backend(self, d: Deployment) -> tuple[str, str | None]:
        backend = d.base_model or d.model
        return backend, d.pricing_provider or d.custom_llm_provider

    def _payload(self, d: Deployment) -> RegisteredEntry:
        reg = RegisteredEntry()
        entry, sources = reg.entry, reg.sources
        for k, v in d.info_prices.items():
            entry[k], sources[k] = v, "config:model_info"
        for k, v in d.params_prices.items():
            entry[k], sources[k] = v, "config:litellm_params"
        backend, provider = self._backend(d)
        if provider is None:
            # registration asks get_model_info without a provider, which goes on where get_llm_provider gives up
            # (a bare deepseek-v4-flash finds its row); a capability-rule match carries no prices
            match = self.cost_map.index.find(backend, None, lenient=True)
            match = match if match is not None and match.in_map else None
        else:
            match = self.cost_map.find(backend, provider)
        if match is None:
            return reg
        reg.backend_key, reg.backend_rule = match.key, match.rule
        raw = self.cost_map.entry(match.key)
        info = model_info_view(raw)
        inherited = f"inherited:{match.key}"

        def inherit(name: str, value: Any) -> None:
            entry[name], sources[name] = value, inherited

        if entry.get("off_peak_pricing") and not any(entry.get(k) is not None for k in _OFF_PEAK_BASE_FIELDS):
            for k, v in raw.items():
                if entry.get(k) is None and v is not None and is_pricing_field(k):
                    inherit(k, v)
        if entry.get("input_cost_per_token") is not None:
            wanted = _INHERITED_CACHE_FIELDS
            if entry.get("cache_read_input_token_cost") is None:
                wanted = (*wanted, "explicit_cache_read_input_token_cost")
            for k in wanted:
                if entry.get(k) is None and info.get(k) is not None:
                    inherit(k, info[k])
        if entry.get("input_cost_per_token") is not None or entry.get("output_cost_per_token") is not None:
            for k, v in raw.items():
                if k.endswith(_SERVICE_TIER_KEY_SUFFIXES) and entry.get(k) is None and v is not None:
                    inherit(k, v)
        tiers = entry.get("tiered_pricing")
        if (
            isinstance(tiers, list) and tiers and entry.get("output_cost_per_token") is None
            and not all(isinstance(t, dict) and "output_cost_per_token" in t for t in tiers)
            and info.get("output_cost_per_token")
        ):
            inherit("output_cost_per_token", info["output_cost_per_token"])
        return reg

    # -- warnings about the proxy's custom-pricing rules -----------------------------------------

    def custom_pricing_warnings(self, d: Deployment, reg: RegisteredEntry, used: bool) -> list[str]:
        w: list[str] = []
        e = reg.entry
        if d.dropped_params_prices:
            keys = ", ".join(d.dropped_params_prices)
            w.append(f"litellm_params sets {keys}, which the proxy silently drops (only model_info carries it)")
        if not used:
            own = sorted({**d.info_prices, **d.params_prices})
            if own and not any("cache" in k for k in own):
                # input_cost_per_image, ocr_cost_per_page, ...: read by the image, video and OCR calculators
                video = reg.backend_key is not None and \
                    self.cost_map.entry(reg.backend_key).get("mode") == "video_generation"
                w.append(f"sets only prices of calls priced by other units than tokens ({', '.join(own)}): they "
                         f"apply to those calls; token calls are priced from the cost map entry of {d.model!r}"
                         + ("; a video call reads this deployment's own prices alone (_deployment_model_info): "
                            "per-second prices it does not set book $0" if video else ""))
            else:
                w.append(
                    "sets only cache prices; the proxy ignores a cache-only override and prices the deployment "
                    f"model {d.model!r} from the cost map"
                )
            return w
        per_second = any(e.get(k) is not None for k in PER_SECOND_FIELDS)
        has_in, has_out = e.get("input_cost_per_token") is not None, e.get("output_cost_per_token") is not None
        if per_second and not (has_in or has_out) and reg.backend_key:
            w.append("a per-second price replaces token pricing entirely for this deployment")
        if e.get("tiered_pricing") is None and not per_second:
            if has_in and not has_out:
                w.append("output is billed at $0 because only input_cost_per_token is set "
                         "(the proxy does not fall back to the cost map for the other side)")
            elif has_out and not has_in:
                w.append("input (and cache reads/writes) is billed at $0 because only output_cost_per_token is set "
                         "(the proxy does not fall back to the cost map for the other side)")
        inherited = sorted(k for k, s in reg.sources.items() if s.startswith("inherited:"))
        if inherited and reg.backend_key:
            w.append(f"inherits {', '.join(inherited)} unchanged from the cost map entry {reg.backend_key!r}")
            in_rate = e.get("input_cost_per_token")
            cr = e.get("cache_read_input_token_cost")
            if in_rate is not None and cr is not None and reg.sources.get("cache_read_input_token_cost", "") \
                    .startswith("inherited:") and float(cr) > float(in_rate):
                w.append(f"inherited cache-read price {cr:g} is above the overridden input price {in_rate:g}")
        if reg.backend_key and (has_in or has_out):
            raw = self.cost_map.entry(reg.backend_key)
            lost = sorted(k for k in raw if _STANDARD_TIER_KEY.match(k) and k not in e)
            if lost:
                w.append(f"long-context rates of {reg.backend_key!r} ({', '.join(lost)}) are not inherited: "
                         "large prompts are billed at the flat override price")
        if e.get("off_peak_pricing") is not None:
            w.append(OFF_PEAK_NOTE)
        return w

    @cached_property
    def router_rows(self) -> frozenset[str]:
        """Keys the proxy's Router adds to its cost map as rows of their own: the backend keys of deployments
        that get_model_info cannot resolve by themselves (see ``_backend_row``)."""
        rows = set()
        for d in self.config.deployments:
            key = d.model if not d.custom_llm_provider else f"{d.custom_llm_provider}/{d.model}"
            if d.is_wildcard or key in self.cost_map:
                continue
            own = self.cost_map.index.find(key, None, lenient=True)
            if own is None or not own.in_map:
                rows.add(key)
        return frozenset(rows)
