"""The names and providers LiteLLM prices a call under: the provider of a deployment and of its calls, the model
name as completion_cost prices it (provider prefix, Bedrock Mantle region, together_ai size class) and the name
discount and margin patterns are matched against.
"""

from __future__ import annotations

import re

from .config import Deployment
from .costmap import CostMap
from .modelname import PROVIDER_PREFIXES
from .registration import RateCardRegistry

_TOGETHER_SIZE = re.compile(r"(\d+b)")
_TOGETHER_CATEGORIES = ((4, "together-ai-up-to-4b"), (8, "together-ai-4.1b-8b"), (21, "together-ai-8.1b-21b"),
                        (41, "together-ai-21.1b-41b"), (80, "together-ai-41.1b-80b"), (110, "together-ai-81.1b-110b"))


def together_category(name: str) -> str | None:
    """together_ai's ``get_model_params_and_category``: the price class of the first ``<N>b`` in the name."""
    found = _TOGETHER_SIZE.search(name.lower())
    if found is None:
        return None
    size = float(found.group(1)[:-1])
    return next((category for limit, category in _TOGETHER_CATEGORIES if size <= limit), None)


class PricingNames:
    """Name and provider decisions over one cost map and the rows one config's Router adds to it."""

    def __init__(self, cost_map: CostMap, registry: RateCardRegistry):
        self.cost_map = cost_map
        self.registry = registry

    def deployment_provider(self, d: Deployment, model: str | None = None) -> str | None:
        if d.custom_llm_provider:
            return d.custom_llm_provider
        found = self.cost_map.provider_of(model or d.model)
        return found[0] if found else None

    def call_provider(self, d: Deployment, model: str | None = None) -> str | None:
        """The provider the proxy prices a deployment's calls under: model_info.pricing_provider, else the
        provider it calls (completion_cost's ``custom_llm_provider``)."""
        return d.pricing_provider or self.deployment_provider(d, model)

    def priced_name(self, d: Deployment | None, name: str, provider: str | None) -> str:
        """The model name the proxy prices a call under. Bedrock Mantle: a region in the model string only routes;
        the row of the configured region (litellm_params.aws_region_name, a bedrock-mantle.<region>.api.aws
        api_base, else LiteLLM's default us-east-1) prices when the map has one, else the region-free name."""
        if provider != "bedrock_mantle":
            # the served model as get_llm_provider leaves it (routed by the deployment's own provider), prefixed
            # again with the pricing provider (a repeated provider prefix, as in perplexity/perplexity/sonar,
            # collapses: the call is priced as perplexity/sonar)
            route = self.deployment_provider(d, name) if d is not None else provider
            found = self.cost_map.provider_of(name, route)
            if found is not None and found[1]:
                name = self.prefixed(found[1], provider or found[0])
            return self.together_name(name, provider)
        found = self.cost_map.provider_of(name, provider)
        bare = found[1] if found else name.rsplit("/", 1)[-1]
        region = d.aws_region_name if d is not None else None
        host = d.api_base_host if d is not None else None
        if region is None and host and host.startswith("bedrock-mantle.") and host.endswith(".api.aws"):
            region = host[len("bedrock-mantle."):-len(".api.aws")] or None
        regional = f"bedrock_mantle/{region or 'us-east-1'}/{bare}"
        return regional if regional in self.cost_map else f"bedrock_mantle/{bare}"

    def discount_name(self, d: Deployment | None, name: str, provider: str | None) -> str:
        """The name completion_cost matches cost_discount_config patterns against: the served model prefixed with
        the pricing provider, before together_ai's size-class renaming."""
        route = self.deployment_provider(d, name) if d is not None else provider
        found = self.cost_map.provider_of(name, route)
        return self.prefixed(found[1] if found is not None and found[1] else name, provider)

    def together_name(self, name: str, call: str | None) -> str:
        """completion_cost prices a together_ai call whose name has no ``together_ai/<name>`` row by the size class
        the name spells (``...-70b-...`` → together-ai-41.1b-80b), mapped models included."""
        priced = self.prefixed(name, call)
        if "togethercomputer" not in priced and "together_ai" not in priced and call != "together_ai":
            return name
        key = f"together_ai/{priced.removeprefix('together_ai/')}"
        row = self.cost_map.entries.get(key)
        if row is None and key in self.registry.router_rows:  # a deployment's own row, priced by registration
            fallback = self.cost_map.index.registration_fallback(key)
            row = self.cost_map.entry(fallback.key) if fallback is not None else None
        if isinstance(row, dict) and "input_cost_per_token" in row:
            return name
        category = together_category(priced)
        return category if category is not None and category in self.cost_map else name

    def prefixed(self, name: str, provider: str | None) -> str:
        """The name LiteLLM prices a model under (``_cost_map_model_name``): ``provider/name`` unless it starts
        with a known provider, with unregistered leading segments dropped down to a mapped key
        (``vertex_ai/vertex/claude-x`` → ``vertex_ai/claude-x``; a segment naming a provider stops that)."""
        if provider is None or name.split("/", 1)[0] in PROVIDER_PREFIXES:
            return name
        model = f"{provider}/{name}"
        segments = model.split("/")
        rows = self.registry.router_rows
        if "/".join(segments[1:]) in self.cost_map or "/".join(segments[1:]) in rows:
            return model
        tail = segments[1:]
        stop = next((i for i, segment in enumerate(tail) if segment in PROVIDER_PREFIXES), len(tail))
        for start in range(min(stop, len(tail) - 1) + 1):
            candidate = f"{provider}/{'/'.join(tail[start:])}"
            if candidate in self.cost_map or candidate in rows:
                return candidate
        return model

    def lookup_provider(self, name: str, provider: str | None) -> str | None:
        """completion_cost always looks a name up under a provider: the one given, else the one LiteLLM decides
        for the name (``gemini-3.5-flash`` → vertex_ai, whose ``vertex_ai/gemini-3.5-flash`` row comes first)."""
        if provider:
            return provider
        found = self.cost_map.provider_of(name)
        return found[0] if found else None


def fireworks_category(name: str) -> str:
    """fireworks_ai's ``get_base_model_for_pricing``: the price class of an unmapped model, by its size."""
    name = name.lower()
    moe = re.search(r"(\d+)x(\d+)b", name)
    if moe:
        total = int(moe.group(1)) * int(moe.group(2))
        if total <= 56:
            return "fireworks-ai-moe-up-to-56b"
        if total <= 176:
            return "fireworks-ai-56b-to-176b"
    size = re.search(r"(\d+(?:p\d+)?)b", name)
    if size is not None:
        billions = float(size.group(1).replace("p", "."))
        return "fireworks-ai-up-to-4b" if billions <= 4 else \
            "fireworks-ai-4.1b-to-16b" if billions <= 16 else "fireworks-ai-above-16b"
    return "fireworks-ai-default"
