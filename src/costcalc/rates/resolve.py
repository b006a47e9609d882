"""Which prices apply to a call: a model name (+ deployment id, + per-request prices) → a PriceSheet.

This reproduces how a LiteLLM 1.110.2 proxy picks a rate card (PRICING.md §6–§7, SPEC §2): the deployment's
own rate card when it sets custom prices (with only the inheritance the proxy does), else the cost-map entry
of ``base_model`` or the deployment model, else the map entry of the called name. Every field keeps its
source, and every proxy rule that surprises becomes a warning.

The Resolver composes the parts: ``routing`` picks the deployment, ``registration`` holds custom-priced entries,
``naming`` decides the names and providers a call is priced under, ``costfunctions`` which cost function and
uplift apply, ``requestprices`` merges a record's own prices; the cards themselves are ``sheets``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import Any

from .config import ENV_REF, Deployment, ProxyConfig
from .costfunctions import REPLICATE_GPU_PRICE_PER_SECOND, CostFunctions, noted
from .costmap import CostMap
from .modelname import MapMatch
from .naming import PricingNames, fireworks_category
from .registration import RateCardRegistry
from .requestprices import REQUEST_PRICE_FIELDS, RequestPriceMerger
from .routing import DeploymentRouter
from .sheets import (
    OFF_PEAK_NOTE,
    PriceSheet,
    Resolution,
    Unpriced,
    model_info_view,
    prices_anything,
)

# The names other modules imported from here before the split keep working (their homes are the modules above).
__all__ = ["REPLICATE_GPU_PRICE_PER_SECOND", "REQUEST_PRICE_FIELDS", "PriceSheet", "Resolution", "Resolver",
           "Unpriced", "model_info_view", "prices_anything"]

# litellm_logging.deployment_pricing_model_info: the registered prices that make a deployment's batch lines use its
# own entry (the rest leaves them on the published one), and the key families one direction owns.
_DEPLOYMENT_PRICING_KEYS = (
    "input_cost_per_token", "output_cost_per_token", "input_cost_per_token_batches", "output_cost_per_token_batches",
    "input_cost_per_token_above_200k_tokens_batches", "input_cost_per_token_above_272k_tokens_batches",
    "output_cost_per_token_above_200k_tokens_batches", "output_cost_per_token_above_272k_tokens_batches",
    "cache_read_input_token_cost_batches", "cache_read_input_token_cost_above_200k_tokens_batches",
    "cache_read_input_token_cost_above_272k_tokens_batches", "cache_creation_input_token_cost_batches",
    "cache_creation_input_token_cost_above_200k_tokens_batches",
    "cache_creation_input_token_cost_above_272k_tokens_batches", "ocr_cost_per_page", "ocr_cost_per_page_batches",
    "annotation_cost_per_page", "annotation_cost_per_page_batches")
_INPUT_PRICE_PREFIXES = ("input_cost_per_token", "cache_read_input_token_cost", "cache_creation_input_token_cost")
_BATCH_FLAT_KEYS = ("input_cost_per_token_batches", "input_cost_per_token", "output_cost_per_token_batches",
                    "output_cost_per_token")


class Resolver:
    """Builds the rate card of a call from the deployment the router picks, the registry's entries and the cost
    map, with the names LiteLLM prices it under; every answer is cached."""

    def __init__(self, cost_map: CostMap, config: ProxyConfig | None = None, *, suggestions: bool = True):
        self.cost_map = cost_map
        # "did you mean" names for unpriced answers: a fuzzy search of the whole map, which a caller that shows
        # only the reasons (validate) skips
        self.suggestions = suggestions
        self.config = config or ProxyConfig.empty()
        self.registry = RateCardRegistry(cost_map, self.config)
        self.routing = DeploymentRouter(cost_map, self.config, self.registry)
        self.names = PricingNames(cost_map, self.registry)
        self.functions = CostFunctions(cost_map, self.names)
        self.request_prices = RequestPriceMerger(self.routing, self.registry, self.names, self.functions)
        self._cache: dict[tuple[Any, ...], Resolution] = {}

    def _backend_row(self, d: Deployment, served: str, provider: str, *, called: str, rule: str,
                     warnings: tuple[str, ...]) -> Resolution | None:
        """The row the proxy's lookup finds first for a deployment's own model, when that is not the map's.

        A Router registers every deployment's model under its backend key (``custom_llm_provider/model``, else
        the model as written). A key get_model_info cannot resolve on its own (``bedrock/eu-central-1/<model>``
        whose row is ``bedrock/<model>``, say) becomes a row of its own, priced from registration's fallback
        lookup or not at all, and the cost lookup, which tries ``provider/model`` first, finds that row. None:
        the map's row applies."""
        key = d.model if not d.custom_llm_provider else f"{d.custom_llm_provider}/{d.model}"
        combined = served if served.startswith(f"{provider}/") else f"{provider}/{served}"
        if d.is_wildcard or combined != key or key in self.cost_map:
            return None
        own = self.cost_map.index.find(key, None, lenient=True)
        if own is not None and own.in_map:
            return None  # registration merges into that row
        row = self.cost_map.index.registration_fallback(key)
        if row is None or not prices_anything(self.cost_map.entry(row.key)):
            if self.cost_map.find(served, provider) is None:
                return None  # nothing prices it either way: reported as an unmapped deployment
            return Unpriced(called, f"{rule}: the proxy registers {key!r} as a row of its own with no prices, "
                            "which its cost lookup finds before the map's (a LiteLLM proxy would book it at $0)",
                            deployment=d)
        return self._map_sheet(key, provider, called=called, deployment=d, warnings=warnings, call=provider,
                               rule=f"{rule}, registered as its own row from {row.key!r}", fixed=row)

    # -- resolution ---------------------------------------------------------------------------------

    def resolve(self, model: str, model_id: str | None = None,
                request_prices: tuple[tuple[str, Any], ...] = ()) -> Resolution:
        key = (model, model_id, request_prices)
        try:
            return self._cache[key]
        except KeyError:
            pass
        base = self._resolve_base(model, model_id)
        result = self.request_prices.merge(model, base, dict(request_prices)) if request_prices else base
        if not request_prices or len(self._cache) < 10_000:  # bounded: per-request prices may differ per record
            self._cache[key] = result
        return result

    def resolve_text_completion(self, model: str, model_id: str | None = None,
                                request_prices: tuple[tuple[str, Any], ...] = ()) -> Resolution:
        """The card a text completion is priced with. ``litellm.main.text_completion`` sends a call for an
        ``openai`` model that is not one of OpenAI's chat models (``open_ai_chat_completion_models``: the cost map's
        ``openai`` rows) to ``text-completion-openai/<model>``, so the proxy prices it under that provider (the
        ``custom_llm_provider`` its log shows); every other text completion is priced as the model's chat call."""
        key = (model, model_id, request_prices, "text_completion")
        try:
            return self._cache[key]
        except KeyError:
            pass
        result = self._text_completion_card(model, model_id)
        if result is None:
            result = self.resolve(model, model_id, request_prices)
        elif request_prices:
            result = self.request_prices.merge(model, result, dict(request_prices))
        if not request_prices or len(self._cache) < 10_000:
            self._cache[key] = result
        return result

    @cached_property
    def _openai_chat_models(self) -> frozenset[str]:
        return frozenset(k for k, e in self.cost_map.entries.items()
                         if e.get("litellm_provider") == "openai" and not (k.startswith("ft:") and k.count(":") <= 1))

    def _text_completion_card(self, model: str, model_id: str | None) -> Resolution | None:
        """The card under ``text-completion-openai``, or None when the call keeps its chat route."""
        target = self.routing.alias_target(model) or model
        d, ambiguity = self.routing.pick_deployment(target, model_id)
        written = self.routing.served_model(d, target) if d is not None else model
        provider = self.names.deployment_provider(d, written) if d is not None else self.names.lookup_provider(
            model, None)
        bare = written.removeprefix("openai/")
        if provider != "openai" or (d is not None and d.pricing_provider) or bare in self._openai_chat_models:
            return None
        rerouted = f"text-completion-openai/{bare}"
        if d is None:
            return self.resolve(rerouted)
        served = replace(d, model=rerouted, custom_llm_provider=None)
        card = self.resolve_deployment(served, target, (ambiguity,) if ambiguity else ())
        how = f"a text completion: litellm.main.text_completion calls {rerouted!r}"
        return replace(card, model=model, rule=f"{how}; {card.rule}") if isinstance(card, PriceSheet) \
            else replace(card, model=model, reason=f"{how}; {card.reason}")

    def _map_sheet(self, name: str, provider: str | None, *, called: str, rule: str,
                   deployment: Deployment | None = None, warnings: tuple[str, ...] = (),
                   call: str | None = None, unregistered: bool = False,
                   written: str | None = None, discount: str | None = None,
                   fixed: MapMatch | None = None) -> Resolution | None:
        """The cost-map card of ``name`` looked up under ``provider`` (else the provider LiteLLM decides for it);
        ``call``: the provider the call went to, when the card is priced under another (a base_model's own).
        ``unregistered``: a name the proxy's Router has not registered (the SDK path, a base_model), for which
        fireworks_ai's own lookup falls back further (``_resolve_model_info``)."""
        provider = self.names.lookup_provider(name, provider)
        match = self.cost_map.find(name, provider) if fixed is None else fixed
        if match is not None and written is not None and written != name and fixed is None:
            # the same row found from the name as written reads better in lookup's "lookup rule"
            plain = self.cost_map.find(written, provider)
            if plain is not None and plain.key == match.key:
                match = plain
        dispatch = match.provider if match is not None else provider
        if match is None and provider == "fireworks_ai" and unregistered:
            # llms/fireworks_ai/cost_calculator.py: the name without the provider, looked up on its own, else the
            # size class it spells (fireworks-ai-above-16b, ...)
            bare = name.removeprefix("fireworks_ai/")
            other = self.cost_map.index.find(bare, None, lenient=True)
            if other is not None and (not other.in_map or not prices_anything(self.cost_map.entry(other.key))):
                return Unpriced(called, f"{rule}: fireworks_ai prices {bare!r} by {other.rule}, which carries no "
                                "price (a LiteLLM proxy would book it at $0)", deployment=deployment)
            if other is None:
                other = self.cost_map.find(fireworks_category(name), "fireworks_ai")
            if other is not None:
                match = other
                dispatch = self.cost_map.entry(other.key).get("litellm_provider") or "fireworks_ai"
        if match is None:
            return None
        raw = self.cost_map.entry(match.key)
        rates = model_info_view(raw)
        if not any(k for k in rates if "cost" in k or k == "tiered_pricing"):
            return None  # an entry (or generalisation rule) that carries no price at all
        src = f"cost_map:{match.key}"
        sources = dict.fromkeys(rates, src)
        if isinstance(rates.get("off_peak_pricing"), dict):
            warnings = (*warnings, f"{OFF_PEAK_NOTE} (cost map key {match.key!r})")
        # the provider function is chosen by the lookup's provider; the generic formula inside it may run under the
        # row's own (fireworks_ai passes the row's litellm_provider on)
        rules = self.functions.rules(match.provider if dispatch == match.provider else provider, rates,
                            call or match.provider, deployment, discount or self.names.prefixed(name, provider))
        if match.provider == "azure_ai" and dispatch == match.provider:
            # cost_per_token's name: the first of provider/name, name, name without its prefix that is a key
            prefixed = self.names.prefixed(name, provider)
            normalized = next((n for n in (prefixed, name, name.partition("/")[2]) if n in self.cost_map), prefixed)
            rules.update(self.functions.router_fee(normalized, deployment.model if deployment is not None else called))
        return PriceSheet(model=called, provider=dispatch, rates=rates, sources=sources,
                          rule=f"{rule} (cost map key {match.key!r}, {match.rule}){noted(rules)}", map_key=match.key,
                          deployment=deployment, warnings=warnings, mode=raw.get("mode"), map_rule=match.rule,
                          **rules)

    def _resolve_base(self, model: str, model_id: str | None) -> Resolution:
        target = self.routing.alias_target(model)
        if target is not None:
            return self._resolve_alias(model, target, model_id)
        d, ambiguity = self.routing.pick_deployment(model, model_id)
        notes = (ambiguity,) if ambiguity else ()
        if d is None:
            call = self.names.lookup_provider(model, None)
            # completion_cost's candidates: the served name as it prices it, then the name as called
            for name in dict.fromkeys((self.names.priced_name(None, model, call), model)):
                if call is not None and "replicate" in name and name not in self.cost_map:
                    return self.functions.replicate_gpu(model, None, call, f"{name!r} is not in the cost map")
                sheet = self._map_sheet(name, call, called=model, rule="cost map", unregistered=True, written=model,
                                        discount=self.names.discount_name(None, model, call))
                if isinstance(sheet, PriceSheet):
                    # a batch line is priced from get_model_info of the model itself (no size class, no GPU time)
                    found = self.cost_map.provider_of(model, call)
                    row = self.cost_map.find(model if call == "bedrock" or found is None else found[1], call)
                    batch = model_info_view(self.cost_map.entry(row.key)) if row is not None else {}
                    return sheet if batch == sheet.rates else replace(sheet, batch_rates=batch)
                if sheet is not None:
                    return sheet
            return Unpriced(model, "not a config model_name and not in the cost map",
                            tuple(self.suggest(model)) if self.suggestions else ())
        return self.resolve_deployment(d, model, notes)

    def _resolve_alias(self, model: str, target: str, model_id: str | None) -> Resolution:
        """A called name the Router rewrites to another model group: priced as that group's deployment, and a
        call no deployment of the group serves fails at the proxy (it does not fall back to the cost map)."""
        d, ambiguity = self.routing.pick_deployment(target, model_id)
        how = f"router_settings.model_group_alias routes {model!r} to {target!r}"
        if d is None:
            return Unpriced(model, f"{how}, which no deployment serves (the proxy fails the call)")
        card = self.resolve_deployment(d, target, (ambiguity,) if ambiguity else ())
        return replace(card, model=model, rule=f"{how}; {card.rule}") if isinstance(card, PriceSheet) \
            else replace(card, model=model, reason=f"{how}; {card.reason}")

    def _base_model_provider(self, base_model: str, call: str | None) -> str | None:
        """completion_cost's ``_base_model_pricing_provider``: a base_model the call's provider has no priced row
        for is priced under its own row's provider, when that row has prices."""
        if call is None:
            return None
        own = self.cost_map.find(base_model, call)
        if own is not None and prices_anything(self.cost_map.entry(own.key)):
            return None
        other = self.cost_map.index.find(base_model, None, lenient=True)
        if other is None or not other.in_map or not prices_anything(self.cost_map.entry(other.key)):
            return None
        return self.cost_map.entry(other.key).get("litellm_provider") or None

    def resolve_deployment(self, d: Deployment, model: str, notes: tuple[str, ...] = ()) -> Resolution:
        """The rate card of deployment ``d`` serving a call for ``model`` (with the card its batch output lines are
        priced with, when that differs)."""
        card = self._deployment_card(d, model, notes)
        if isinstance(card, PriceSheet):
            batch = self._batch_rates(d, model)
            if batch is not None and batch != card.rates:
                card = replace(card, batch_rates=batch)
        return card

    def _batch_rates(self, d: Deployment, model: str) -> dict[str, Any] | None:
        """The rates the proxy prices this deployment's batch output lines with (batch_cost_calculator with
        litellm_logging.deployment_pricing_model_info), which is not the chat card:
        - custom prices that include an input or output price (flat or batch): the registered entry, the side it
          leaves unset taking the deployment model's published flat and batch rates;
        - otherwise (no custom price, or one without such a price): the published entry of the deployment model
          itself (never base_model);
        and a card with no input or output price at all is completed by the published entry."""
        written = self.routing.served_model(d, model)
        provider = self.names.deployment_provider(d, written)
        if provider is None:
            return None
        found = self.cost_map.provider_of(written, provider)
        cost_model = written if provider == "bedrock" or found is None else found[1]
        row = self.cost_map.find(cost_model, provider)
        published_row = model_info_view(self.cost_map.entry(row.key)) if row is not None else {}
        entry = self.registry.registered(d).entry if self.registry.uses_custom_pricing(d) else {}
        if any(entry.get(k) is not None for k in _DEPLOYMENT_PRICING_KEYS):
            rates = model_info_view(entry)
            own = self.cost_map.index.find(written, None, lenient=True)  # get_model_info(deployment model)
            published = model_info_view(self.cost_map.entry(own.key)) if own is not None and own.in_map else {}
            for flat, prefixes in (("input_cost_per_token", _INPUT_PRICE_PREFIXES),
                                   ("output_cost_per_token", ("output_cost_per_token",))):
                if entry.get(flat) is not None or entry.get(f"{flat}_batches") is not None:
                    continue  # the deployment owns this direction
                for k, v in published.items():
                    if entry.get(k) is None and (k == flat or (k.startswith(prefixes) and k.endswith("_batches"))):
                        rates[k] = v
        else:
            rates = dict(published_row)
        if not any(rates.get(k) is not None for k in _BATCH_FLAT_KEYS):
            rates = {**published_row, **rates}
        return rates

    def _deployment_card(self, d: Deployment, model: str, notes: tuple[str, ...] = ()) -> Resolution:
        written = served = self.routing.served_model(d, model)
        provider = self.names.call_provider(d, served)
        from_env = d.model.startswith(ENV_REF)
        if provider is None and from_env and d.base_model:
            # the proxy reads the model from its environment; base_model says what it is, and its provider
            found = self.cost_map.provider_of(d.base_model)
            provider = found[0] if found is not None else None
            if provider is not None:
                notes = (*notes, f"litellm_params.model comes from an environment variable ({d.model}) costcalc "
                         f"cannot read: priced as base_model {d.base_model!r}, provider {provider}")
        if provider is None:
            if from_env:
                return Unpriced(model, f"deployment {d.label} takes its model from an environment variable "
                                f"({d.model}) that costcalc cannot read; set model_info.base_model to the model it "
                                "names to price its calls", deployment=d)
            return Unpriced(model, f"deployment {d.label} calls {served!r}, whose provider LiteLLM cannot tell: the "
                            "proxy drops this deployment when it starts (its Router is built with "
                            "ignore_invalid_deployments) and serves the others, so calls to it fail", deployment=d)
        served = self.names.priced_name(d, served, provider)
        if self.registry.uses_custom_pricing(d):
            reg = self.registry.registered(d)
            used = prices_anything(reg.entry)
            warnings = (*notes, *self.registry.custom_pricing_warnings(d, reg, used))
            if used and "replicate" in self.names.prefixed(d.identity, provider):
                return self.functions.replicate_gpu(model, d, provider, f"deployment {d.label} sets custom prices, "
                                           "which the proxy looks up as 'replicate/<deployment id>'", notes)
            category = self.names.together_name(d.identity, provider) if used else d.identity
            if category != d.identity:
                sheet = self._map_sheet(category, provider, called=model, deployment=d, call=provider,
                                        rule=f"deployment {d.label}: together_ai size class of its deployment id",
                                        warnings=(*notes, f"the proxy ignores the custom prices of this together_ai "
                                                  f"deployment: it prices 'together_ai/{d.identity}' (not a "
                                                  f"registered model) by the size class its id spells, {category}"))
                if sheet is not None:
                    return sheet
            if used:
                rates = model_info_view(reg.entry)
                sources = {k: reg.sources.get(k, "config:model_info") for k in rates}
                # discount patterns are matched against the deployment model as written (custom_priced_request_model)
                rules = self.functions.rules(provider, rates, provider, d, written)
                if provider == "azure_ai" and rules["formula"] == "generic":
                    rules.update(self.functions.router_fee(d.identity, d.model))
                return PriceSheet(model=model, provider=provider, rates=rates, sources=sources,
                                  rule=f"deployment {d.label}: custom prices{noted(rules)}", map_key=reg.backend_key,
                                  deployment=d, warnings=warnings, mode=reg.entry.get("mode"),
                                  map_rule=reg.backend_rule, **rules)
            # the proxy then prices the deployment's model as written (a Mantle region in it included)
            sheet = self._map_sheet(self.names.together_name(written, provider), provider, called=model,
                                    rule=f"deployment {d.label}: deployment model {written!r}",
                                    deployment=d, warnings=warnings)
            if sheet is not None:
                return sheet
            return Unpriced(model, f"deployment {d.label} sets only cache prices (ignored by the proxy) and its "
                            f"model {served!r} is not in the cost map", deployment=d)
        candidates: list[tuple[str, str | None, str]] = []
        if d.base_model:
            own = self._base_model_provider(d.base_model, provider)
            rule = f"deployment {d.label}: base_model"
            if own is not None:
                rule += f" (the {provider} row has no prices: priced under its own provider {own})"
            candidates.append((self.names.together_name(self.names.prefixed(d.base_model, own or provider), provider),
                               own or provider, rule))
        candidates.append((served, provider, f"deployment {d.label}: model {served!r}"))
        for name, lookup, rule in candidates:
            if name != served and "replicate" in name and name not in self.cost_map:
                return self.functions.replicate_gpu(model, d, provider, f"base_model {name!r} is not in the cost map",
                                                    notes)
            if name == served:
                if "replicate" in served and served not in self.cost_map and served not in self.registry.router_rows:
                    # the name is priced as written: a registration merged into a row found by stripping does not
                    # add it, so completion_cost's replicate branch takes it
                    return self.functions.replicate_gpu(model, d, provider, f"{served!r} is not a cost map key", notes)
                row = self._backend_row(d, served, provider, called=model, rule=rule, warnings=notes)
                if row is not None:
                    return row
            discount = self.names.discount_name(d, written, provider) if name == served \
                else self.names.prefixed(d.base_model or name, lookup)
            sheet = self._map_sheet(name, lookup, called=model, rule=rule, deployment=d, warnings=notes,
                                    call=provider, unregistered=name != served,
                                    written=written if name == served else None, discount=discount)
            if sheet is not None:
                return sheet
        tried = " or ".join(repr(n) for n, _, _ in candidates)
        return Unpriced(model, f"deployment {d.label} sets no prices and {tried} is not in the cost map "
                        "(a LiteLLM proxy would book it at $0)",
                        tuple(self.cost_map.suggest(d.base_model or served)) if self.suggestions else (),
                        deployment=d)
    def suggest(self, model: str, n: int = 3) -> list[str]:
        import difflib

        names = [d.model_name for d in self.config.deployments]
        close = difflib.get_close_matches(model, names, n=n, cutoff=0.6)
        return close + [s for s in self.cost_map.suggest(model, n) if s not in close][: max(0, n - len(close))]

