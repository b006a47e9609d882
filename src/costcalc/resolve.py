"""Which prices apply to a call: a model name (+ deployment id, + per-request prices) → a PriceSheet.

This reproduces how a LiteLLM 1.110.2 proxy picks a rate card (PRICING.md §6–§7, SPEC §2): the deployment's
own rate card when it sets custom prices (with only the inheritance the proxy does), else the cost-map entry
of ``base_model`` or the deployment model, else the map entry of the called name. Every field keeps its
source, and every proxy rule that surprises becomes a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .config import Deployment, ProxyConfig
from .costmap import CostMap
from .fields import ABOVE_THRESHOLD, CUSTOM_PRICING_FIELDS, MODEL_INFO_FIELDS
from .modelname import PROVIDER_PREFIXES

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
_NON_TOKEN_RATE_FIELDS = frozenset({
    "cost_per_second", "input_cost_per_second", "output_cost_per_second", "input_cost_per_query",
    "input_cost_per_text_message", "tiered_pricing",
})
_PER_SECOND_FIELDS = ("cost_per_second", "input_cost_per_second", "output_cost_per_second")
# Keys that enable custom pricing when found in model_info (PRICING.md §7.2).
_MODEL_INFO_CUSTOM_KEYS = CUSTOM_PRICING_FIELDS | {"off_peak_pricing"}
_STANDARD_TIER_KEY = re.compile(r"^(input_cost_per_token|output_cost_per_token)_above_(\d+k?)_tokens$")

# Price fields a usage record may carry (SPEC §1.3): what LiteLLM accepts as per-call pricing.
REQUEST_PRICE_FIELDS = CUSTOM_PRICING_FIELDS


def is_pricing_field(name: str) -> bool:
    return "cost" in name or name in ("tiered_pricing", "off_peak_pricing") or name.endswith("multiplier")


def model_info_view(entry: dict[str, Any]) -> dict[str, Any]:
    """The pricing fields of ``entry`` that LiteLLM's ``get_model_info`` hands to the cost formulas (§2.6)."""
    return {
        k: v
        for k, v in entry.items()
        if v is not None
        and is_pricing_field(k)
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
        return any(r.get(k) is not None for k in _PER_SECOND_FIELDS)

    @property
    def per_second_rate(self) -> tuple[str, float] | None:
        for k in _PER_SECOND_FIELDS:
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


@dataclass
class _Registered:
    """A deployment's entry as the proxy registers it under its id (PRICING.md §7.1)."""

    entry: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    backend_key: str | None = None
    backend_rule: str | None = None


def wildcard_regex(model_name: str) -> str:
    """LiteLLM's pattern router: ``*`` becomes a group, matched from the start (``re.match``, no end anchor)."""
    return re.escape(model_name).replace(r"\*", "(.*)")


def _specificity(model_name: str) -> tuple[int, int]:
    """LiteLLM tries longer regexes first, then those with more regex syntax (stable for ties)."""
    regex = wildcard_regex(model_name)
    return len(regex), sum(regex.count(ch) for ch in "*+?\\^$|()")


class Resolver:
    """Resolves model names against one cost map and one proxy config; every answer is cached."""

    def __init__(self, cost_map: CostMap, config: ProxyConfig | None = None):
        self.cost_map = cost_map
        self.config = config or ProxyConfig.empty()
        self._by_name: dict[str, list[Deployment]] = {}
        self._by_id: dict[str, Deployment] = {}
        self._wildcards: list[Deployment] = []
        for d in self.config.deployments:
            if d.is_wildcard:
                self._wildcards.append(d)
            else:
                self._by_name.setdefault(d.model_name, []).append(d)
            if d.model_id is not None:
                self._by_id.setdefault(d.model_id, d)
        self._wildcards.sort(key=lambda d: _specificity(d.model_name), reverse=True)
        self._wildcard_regex = {d.model_name: re.compile(wildcard_regex(d.model_name)) for d in self._wildcards}
        self._registered: dict[str, _Registered] = {}
        self._cache: dict[tuple[Any, ...], Resolution] = {}

    # -- deployments -------------------------------------------------------------------------------

    def deployments_named(self, model: str) -> list[Deployment]:
        """Deployments a proxy routes ``model`` to: exact model_name; else the most specific wildcard (also
        tried as ``provider/model``, so a bare ``gpt-4o`` reaches ``openai/*``); else deployments whose
        ``litellm_params.model`` is exactly ``model``."""
        exact = self._by_name.get(model)
        if exact:
            return exact
        if self._wildcards:
            for name in self._wildcard_names(model):
                for d in self._wildcards:
                    if self._wildcard_regex[d.model_name].match(name):
                        return [w for w in self._wildcards if w.model_name == d.model_name]
        return [d for d in self.config.deployments if d.model == model and not d.is_wildcard]

    def pick_deployment(self, model: str, model_id: str | None) -> tuple[Deployment | None, str | None]:
        """(deployment, ambiguity note). ``model_id`` wins; otherwise the first of several, noted if prices differ."""
        if model_id is not None and model_id in self._by_id:
            return self._by_id[model_id], None
        group = self.deployments_named(model)
        if not group:
            return None, None
        first = group[0]
        if len(group) > 1:
            signatures = {self._price_signature(d) for d in group}
            if len(signatures) > 1:
                return first, (
                    f"{len(group)} deployments share the name {model!r} with different prices and the record "
                    f"names no model_id: priced with the first ({first.label})"
                )
        return first, None

    def _price_signature(self, d: Deployment) -> tuple[Any, ...]:
        return (d.model, d.base_model, repr(sorted(self.registered(d).entry.items())))

    def _wildcard_names(self, model: str) -> list[str]:
        """The request as the pattern router tries it: as called, then as ``provider/model``."""
        names = [model]
        found = self.cost_map.provider_of(model)
        if found is not None:
            names.append(f"{found[0]}/{model}")
        return names

    def served_model(self, d: Deployment, called: str) -> str:
        """The backend model a wildcard deployment calls for ``called`` (``openai/*`` → ``openai/gpt-4o``)."""
        if not d.is_wildcard or "*" not in d.model:
            return d.model
        regex = self._wildcard_regex[d.model_name]
        for name in self._wildcard_names(called):
            m = regex.match(name)
            if m is not None:
                if len(m.groups()) > d.model.count("*"):
                    return name
                out = d.model
                for part in m.groups():
                    out = out.replace("*", part, 1)
                return out
        return d.model

    def deployment_provider(self, d: Deployment, model: str | None = None) -> str | None:
        if d.custom_llm_provider:
            return d.custom_llm_provider
        found = self.cost_map.provider_of(model or d.model)
        return found[0] if found else None

    # -- the registered entry of a custom-priced deployment ---------------------------------------

    @staticmethod
    def uses_custom_pricing(d: Deployment) -> bool:
        return bool(d.params_prices) or any(k in _MODEL_INFO_CUSTOM_KEYS for k in d.info_prices)

    def registered(self, d: Deployment) -> _Registered:
        """The entry the proxy registers under the deployment's id: deployments sharing an id merge (§8.13)."""
        key = d.identity
        if key not in self._registered:
            merged = _Registered()
            for other in self.config.deployments:
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

    def _payload(self, d: Deployment) -> _Registered:
        reg = _Registered()
        entry, sources = reg.entry, reg.sources
        for k, v in d.info_prices.items():
            entry[k], sources[k] = v, "config:model_info"
        for k, v in d.params_prices.items():
            entry[k], sources[k] = v, "config:litellm_params"
        backend, provider = self._backend(d)
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

    def custom_pricing_warnings(self, d: Deployment, reg: _Registered, used: bool) -> list[str]:
        w: list[str] = []
        e = reg.entry
        if d.dropped_params_prices:
            keys = ", ".join(d.dropped_params_prices)
            w.append(f"litellm_params sets {keys}, which the proxy silently drops (only model_info carries it)")
        if not used:
            w.append(
                "sets only cache prices; the proxy ignores a cache-only override and prices the deployment "
                f"model {d.model!r} from the cost map"
            )
            return w
        per_second = any(e.get(k) is not None for k in _PER_SECOND_FIELDS)
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
            w.append("off_peak_pricing depends on the wall clock at request time and is not applied offline")
        return w

    # -- resolution ---------------------------------------------------------------------------------

    def resolve(self, model: str, model_id: str | None = None,
                request_prices: tuple[tuple[str, Any], ...] = ()) -> Resolution:
        key = (model, model_id, request_prices)
        try:
            return self._cache[key]
        except KeyError:
            pass
        base = self._resolve_base(model, model_id)
        result = self._apply_request_prices(model, base, dict(request_prices)) if request_prices else base
        if not request_prices or len(self._cache) < 10_000:  # bounded: per-request prices may differ per record
            self._cache[key] = result
        return result

    def _map_sheet(self, name: str, provider: str | None, *, called: str, rule: str,
                   deployment: Deployment | None = None, warnings: tuple[str, ...] = ()) -> PriceSheet | None:
        match = self.cost_map.find(name, provider)
        if match is None:
            return None
        raw = self.cost_map.entry(match.key)
        rates = model_info_view(raw)
        if not any(k for k in rates if "cost" in k or k == "tiered_pricing"):
            return None  # an entry (or generalisation rule) that carries no price at all
        src = f"cost_map:{match.key}"
        sources = dict.fromkeys(rates, src)
        return PriceSheet(model=called, provider=match.provider, rates=rates, sources=sources,
                          rule=f"{rule} (cost map key {match.key!r}, {match.rule})", map_key=match.key,
                          deployment=deployment, warnings=warnings, mode=raw.get("mode"), map_rule=match.rule)

    def _resolve_base(self, model: str, model_id: str | None) -> Resolution:
        d, ambiguity = self.pick_deployment(model, model_id)
        notes = (ambiguity,) if ambiguity else ()
        if d is None:
            sheet = self._map_sheet(model, None, called=model, rule="cost map")
            if sheet is not None:
                return sheet
            return Unpriced(model, "not a config model_name and not in the cost map",
                            tuple(self.suggest(model)))
        return self.resolve_deployment(d, model, notes)

    def resolve_deployment(self, d: Deployment, model: str, notes: tuple[str, ...] = ()) -> Resolution:
        """The rate card of deployment ``d`` serving a call for ``model``."""
        served = self.served_model(d, model)
        provider = self.deployment_provider(d, served)
        if self.uses_custom_pricing(d):
            reg = self.registered(d)
            used = prices_anything(reg.entry)
            warnings = (*notes, *self.custom_pricing_warnings(d, reg, used))
            if used:
                rates = model_info_view(reg.entry)
                sources = {k: reg.sources.get(k, "config:model_info") for k in rates}
                return PriceSheet(model=model, provider=provider, rates=rates, sources=sources,
                                  rule=f"deployment {d.label}: custom prices", map_key=reg.backend_key,
                                  deployment=d, warnings=warnings, mode=reg.entry.get("mode"),
                                  map_rule=reg.backend_rule)
            sheet = self._map_sheet(served, d.custom_llm_provider, called=model,
                                    rule=f"deployment {d.label}: deployment model {served!r}",
                                    deployment=d, warnings=warnings)
            if sheet is not None:
                return sheet
            return Unpriced(model, f"deployment {d.label} sets only cache prices (ignored by the proxy) and its "
                            f"model {served!r} is not in the cost map", deployment=d)
        candidates = []
        if d.base_model:
            candidates.append((self.prefixed(d.base_model, provider), f"deployment {d.label}: base_model"))
        candidates.append((served, f"deployment {d.label}: model {served!r}"))
        for name, rule in candidates:
            sheet = self._map_sheet(name, d.custom_llm_provider if name == served else None, called=model,
                                    rule=rule, deployment=d, warnings=notes)
            if sheet is not None:
                return sheet
        tried = " or ".join(repr(n) for n, _ in candidates)
        return Unpriced(model, f"deployment {d.label} sets no prices and {tried} is not in the cost map "
                        "(a LiteLLM proxy would book it at $0)",
                        tuple(self.cost_map.suggest(d.base_model or served)), deployment=d)

    def prefixed(self, name: str, provider: str | None) -> str:
        """The name LiteLLM prices a base_model under: ``provider/name`` unless it starts with a known provider."""
        if provider is None or name.split("/", 1)[0] in PROVIDER_PREFIXES:
            return name
        return f"{provider}/{name}"

    def _apply_request_prices(self, model: str, base: Resolution, custom: dict[str, Any]) -> Resolution:
        """Per-call prices merge field by field (PRICING.md §7.5): the cost-map row of the called model, then a
        custom-priced deployment's registered entry, then the request's own prices."""
        d = base.deployment
        served = self.served_model(d, model) if d is not None else model
        registered = self.registered(d) if d is not None and self.uses_custom_pricing(d) else None
        if registered is not None:
            custom = {k: v for k, v in custom.items() if registered.entry.get(k) != v}
            if not custom:
                return base
        match = self.cost_map.find(served, d.custom_llm_provider if d is not None else None)
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
        if any(k in custom for k in _PER_SECOND_FIELDS) and not any(
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
        if match is not None:
            provider = match.provider
        elif d is not None:
            provider = self.deployment_provider(d, served)
        else:
            found = self.cost_map.provider_of(model)
            provider = found[0] if found else None
        rule = "per-request prices over " + (f"cost map key {match.key!r}" if match else "no cost map entry")
        return PriceSheet(model=model, provider=provider, rates=rates, sources=sources, rule=rule,
                          map_key=match.key if match else None, deployment=d,
                          warnings=base.warnings if isinstance(base, PriceSheet) else (), mode=mode or "chat",
                          map_rule=match.rule if match else None)

    def suggest(self, model: str, n: int = 3) -> list[str]:
        import difflib

        names = [d.model_name for d in self.config.deployments]
        close = difflib.get_close_matches(model, names, n=n, cutoff=0.6)
        return close + [s for s in self.cost_map.suggest(model, n) if s not in close][: max(0, n - len(close))]
