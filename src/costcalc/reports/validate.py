"""Linting a LiteLLM proxy config: what a proxy would do with it that its author probably did not mean.

Reads the raw YAML itself (safe loader; ``include:`` followed) so that it can point at keys the pricing code never
keeps, then asks the engine's own resolution (resolve.Resolver) about every deployment. A problem that makes
``load_config`` refuse the config (a negative or non-numeric price) is reported as a finding for its deployment,
and the other deployments are still checked. Values are never printed except prices: no API key, no
``os.environ/`` variable — findings name keys only.
"""

from __future__ import annotations

import copy
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engines.streaming import adjuster_for
from ..errors import ConfigError
from ..rates.config import (
    ENV_REF,
    MAX_INCLUDE_DEPTH,
    MAX_PRICE,
    Deployment,
    ProxyConfig,
    YAMLProblem,
    is_price_key,
    load_yaml,
    parse_adjustments,
    parse_deployment,
    parse_model_group_alias,
    parse_price,
    read_config_bytes,
)
from ..rates.costmap import CostMap
from ..rates.fields import ABOVE_THRESHOLD, CUSTOM_PRICING_FIELDS, MODEL_INFO_FIELDS
from ..rates.resolve import Resolver
from ..rates.sheets import PriceSheet, Unpriced, prices_anything

LEVELS = ("error", "warning", "info")
MAX_PER_TOKEN = 0.001  # $1,000 per 1M tokens: no public model costs that much per token
_SECTIONS = ("litellm_params", "model_info")
_CACHE_KEYS = ("cache_read_input_token_cost", "cache_creation_input_token_cost")

# The proxy-rule warnings of RateCardRegistry.custom_pricing_warnings, by how they begin: (rule, level, key).
_PROXY_RULES = (
    ("output is billed at $0", "partial-override", "warning", "output_cost_per_token"),
    ("input (and cache reads/writes) is billed at $0", "partial-override", "warning", "input_cost_per_token"),
    ("sets only cache prices", "cache-only-override", "warning", None),
    ("sets only prices of calls priced by other units", "call-prices-only", "info", None),
    ("litellm_params sets", None, "", None),  # reported key by key as dropped-param-price
    ("a per-second price replaces", "per-second", "info", None),
    ("inherited cache-read price", "inherited-cache-above-input", "warning", "cache_read_input_token_cost"),
    ("inherits ", "inherited-rates", "info", None),
    ("long-context rates", "tier-rates-not-inherited", "warning", None),
    ("off_peak_pricing", "off-peak", "info", "off_peak_pricing"),
)


@dataclass(frozen=True, slots=True)
class Finding:
    level: str  # error | warning | info
    rule: str  # a stable id, e.g. unknown-price-key
    deployment: str | None  # the deployment's label; None for the config as a whole
    key: str | None  # the key concerned (a name, never its value)
    message: str
    index: int | None = None  # 1-based position in model_list

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "rule": self.rule, "deployment": self.deployment, "index": self.index,
                "key": self.key, "message": self.message}


@dataclass
class _Raw:
    """The config as written: every YAML document read (for the os.environ scan) and the merged model_list."""

    docs: list[tuple[str, Any]]
    entries: list[tuple[str, Any]]  # (file it came from, model_list entry)
    settings: dict[str, Any] = field(default_factory=dict)  # litellm_settings; the including file's keys win
    router: dict[str, Any] = field(default_factory=dict)  # router_settings, merged the same way
    general: dict[str, Any] = field(default_factory=dict)  # general_settings, merged the same way


class Findings:
    """The findings of one validate run, in the order they were found."""

    def __init__(self) -> None:
        self.items: list[Finding] = []

    def add(self, level: str, rule: str, message: str, *, deployment: str | None = None, key: str | None = None,
            index: int | None = None) -> None:
        self.items.append(Finding(level, rule, deployment, key, message, index))


class RawConfigReader:
    """Reads the config as written, ``include:`` files followed, reporting what it cannot read as findings."""

    def __init__(self, path: str, findings: Findings):
        self.path = path
        self.findings = findings
        self.add = findings.add

    def read(self) -> _Raw | None:
        raw = _Raw([], [])
        top = Path(self.path)
        if not self._read_one(top, self.path, raw, frozenset({top.resolve()}), top=True):
            return None
        return raw

    def _read_one(self, path: Path, shown: str, raw: _Raw, seen: frozenset[Path], *, top: bool = False) -> bool:
        try:
            text = read_config_bytes(path)
        except OSError as exc:
            if top:
                raise ConfigError(shown, f"cannot read config ({exc.strerror})") from None
            self.add("error", "include", f"cannot read included file ({exc.strerror})", key="include")
            return False
        except YAMLProblem as exc:
            self.add("error", "yaml", f"{shown}: {exc}")
            return False
        try:
            doc = load_yaml(text)
        except YAMLProblem as exc:
            self.add("error", "yaml", f"{shown}: {exc}")
            return False
        raw.docs.append((shown, doc))
        if doc is None:
            return True
        if not isinstance(doc, dict):
            self.add("error", "structure", f"{shown}: a proxy config must be a YAML mapping")
            return False
        model_list = doc.get("model_list") or []
        if not isinstance(model_list, list):
            self.add("error", "structure", f"{shown}: model_list must be a list", key="model_list")
            model_list = []
        raw.entries.extend((shown, entry) for entry in model_list)
        settings = doc.get("litellm_settings") or {}
        if isinstance(settings, dict):
            for k, v in settings.items():
                raw.settings.setdefault(k, v)
        else:
            self.add("error", "settings", f"{shown}: litellm_settings must be a mapping", key="litellm_settings")
        general = doc.get("general_settings") or {}
        if isinstance(general, dict):
            for k, v in general.items():
                raw.general.setdefault(k, v)
        router = doc.get("router_settings") or {}
        if isinstance(router, dict):
            for k, v in router.items():
                raw.router.setdefault(k, v)
        else:
            self.add("error", "settings", f"{shown}: router_settings must be a mapping", key="router_settings")
        includes = doc.get("include") or []
        for name in [includes] if isinstance(includes, str) else includes if isinstance(includes, list) else []:
            if not isinstance(name, str):
                self.add("error", "include", "include entries must be file names", key="include")
                continue
            inc = (path.parent / name).resolve()
            if inc in seen:
                self.add("error", "include", f"include cycle through {name}", key="include")
                continue
            if len(seen) >= MAX_INCLUDE_DEPTH:
                self.add("error", "include", f"includes nested more than {MAX_INCLUDE_DEPTH} deep", key="include")
                continue
            self._read_one(inc, str(Path(shown).parent / name), raw, seen | {inc})
        return True


class EnvReferenceScan:
    """Finds mistyped ``os.environ/`` references anywhere in the YAML (values are never shown)."""

    def __init__(self, path: str, findings: Findings):
        self.path = path
        self.findings = findings
        self.add = findings.add

    def env_typos(self, raw: _Raw, labels: dict[int, str]) -> None:
        position = 0
        for shown, doc in raw.docs:
            if not isinstance(doc, dict):
                continue
            for k, v in doc.items():
                if k == "model_list" and isinstance(v, list):
                    for entry in v:
                        label = labels.get(position, f"#{position + 1}")
                        self._scan(entry, "", label, position + 1)
                        position += 1
                else:
                    self._scan(v, str(k) if shown == self.path else f"{shown}:{k}", None, None)

    def _scan(self, value: Any, where: str, label: str | None, index: int | None) -> None:
        """Walk a YAML value; ``where`` is the key path (relative to the deployment inside model_list)."""
        if isinstance(value, dict):
            for k, v in value.items():
                self._scan(v, f"{where}.{k}" if where else str(k), label, index)
        elif isinstance(value, list):
            for n, v in enumerate(value):
                self._scan(v, f"{where}[{n}]", label, index)
        elif isinstance(value, str) and _env_typo(value):
            self.add("error", "env-typo", "looks like a mistyped 'os.environ/' reference: the proxy will use the "
                     "literal string instead of the environment variable", deployment=label, key=where, index=index)


class WrittenEntryCheck:
    """Checks one model_list entry as written: price key names and price values, then parses it as
    ``load_config`` would with the invalid prices left out (``tainted`` holds the entries that had some)."""

    def __init__(self, cost_map: CostMap, path: str, findings: Findings):
        self.cost_map = cost_map
        self.path = path
        self.findings = findings
        self.add = findings.add
        self._real_keys: set[str] | None = None
        self._price_keys: list[str] | None = None
        self._close: dict[str, str | None] = {}
        # Deployments checked with an invalid price left out: what the proxy makes of them is moot until fixed.
        self.tainted: set[int] = set()

    @property
    def real_keys(self) -> set[str]:
        if self._real_keys is None:
            keys = set(CUSTOM_PRICING_FIELDS) | set(MODEL_INFO_FIELDS)
            for entry in self.cost_map.entries.values():
                keys.update(entry)
            self._real_keys = keys
        return self._real_keys

    def _known(self, key: str) -> bool:
        if key in self.real_keys:
            return True
        m = ABOVE_THRESHOLD.search(key)
        return m is not None and key[: m.start()] in self.real_keys

    def raw_entry(self, i: int, shown: str, entry: Any) -> Deployment | None:
        """Checks on one model_list entry as written; returns its Deployment when it can be parsed once the
        prices reported as invalid are left out."""
        index = i + 1
        if not isinstance(entry, dict):
            self.add("error", "structure", "each model_list entry must be a mapping", deployment=f"#{index}",
                     index=index)
            return None
        name = entry.get("model_name")
        label = f"{name} (#{index})" if isinstance(name, str) and name.strip() else f"#{index}"
        clean = copy.deepcopy(entry)
        for section in _SECTIONS:
            block = entry.get(section)
            if not isinstance(block, dict):
                continue
            for key in list(block):
                if not isinstance(key, str):
                    continue
                where = f"{section}.{key}"
                self._key_name(section, key, where, label, index)
                if is_price_key(key) and not self._price_value(block[key], key, where, label, index):
                    del clean[section][key]
                    self.tainted.add(i)
        try:
            # config.load_config's own parser, one entry at a time, so one bad deployment hides no other
            return parse_deployment(i, clean, shown)
        except ConfigError as exc:
            prefix = f"{exc.path}: deployment {exc.deployment}: " + (f"{exc.key}: " if exc.key else "")
            leaf = (exc.key or "").rsplit(".", 1)[-1].split("[", 1)[0]
            self.add("error", "invalid-price" if leaf and is_price_key(leaf) else "structure",
                     str(exc).removeprefix(prefix), deployment=label, key=exc.key, index=index)
            return None

    def _close_price_key(self, key: str) -> str | None:
        """The real price key ``key`` is probably a typo of; one fuzzy search per distinct key name (a config
        repeats rpm, api_base, ... in every deployment)."""
        if key not in self._close:
            if self._price_keys is None:
                self._price_keys = [k for k in self.real_keys if is_price_key(k)]
            close = difflib.get_close_matches(key, self._price_keys, n=1, cutoff=0.8 if is_price_key(key) else 0.88)
            self._close[key] = close[0] if close else None
        return self._close[key]

    def _key_name(self, section: str, key: str, where: str, label: str, index: int) -> None:
        if self._known(key):
            return
        close = self._close_price_key(key)
        if close:
            self.add("error", "unknown-price-key", f"unknown price key; did you mean {close}? As written the "
                     "proxy does not apply it", deployment=label, key=where, index=index)
        elif is_price_key(key):
            self.add("warning", "unknown-price-key", "not a price key LiteLLM knows: the proxy does not apply it",
                     deployment=label, key=where, index=index)

    def _price_value(self, value: Any, key: str, where: str, label: str, index: int) -> bool:
        """False when the value cannot be a price (reported as an error)."""
        if value is None or key == "off_peak_pricing" or isinstance(value, dict):
            return True
        if key == "tiered_pricing" or isinstance(value, list):
            return True  # checked by parsing the deployment
        if isinstance(value, str) and value.strip().startswith(ENV_REF):
            self.add("error", "invalid-price", "a price cannot be an os.environ/ reference (LiteLLM's Router "
                     "refuses it)", deployment=label, key=where, index=index)
            return False
        try:
            number = parse_price(value, where=self.path, deployment=label, key=where)
        except ConfigError:
            bad = _float(value)
            if bad is None:
                problem = f"price must be a number, not {type(value).__name__} (value not shown)"
            elif math.isnan(bad) or math.isinf(bad):
                problem = "price must be finite"
            elif bad > MAX_PRICE:
                problem = f"price {bad:g} is implausibly large (at most {MAX_PRICE:g})"
            else:
                problem = f"price must not be negative ({bad:g})"
            self.add("error", "invalid-price", problem, deployment=label, key=where, index=index)
            return False
        if "token" in key and "per_second" not in key and number > MAX_PER_TOKEN:
            self.add("warning", "implausible-price", f"{number:g} per token is ${number * 1e6:,.0f} per 1M "
                     f"tokens — above ${MAX_PER_TOKEN:g} per token; is it a per-1M or per-1K price?",
                     deployment=label, key=where, index=index)
        return True


class ProxyBehaviourCheck:
    """What the proxy makes of the parsed deployments, asked of the engine's own resolution: custom-pricing rules,
    unpriced models, shared ids, wildcard shadowing and ambiguous names."""

    def __init__(self, cost_map: CostMap, path: str, findings: Findings, tainted: set[int],
                 adjustments: tuple[dict[str, float], dict[str, Any]] = ({}, {})):
        self.cost_map = cost_map
        self.path = path
        self.discounts, self.margins = adjustments
        self.findings = findings
        self.add = findings.add
        self.tainted = tainted

    def deployments(self, deployments: list[Deployment]) -> None:
        config = ProxyConfig(path=self.path, deployments=tuple(deployments), cost_discount_config=self.discounts,
                             cost_margin_config=self.margins)
        resolver = Resolver(self.cost_map, config, suggestions=False)
        self._cards: dict[int, Any] = {}
        for d in deployments:
            self._deployment(resolver, d)
        self._duplicates(deployments, resolver)
        self._shadowed(resolver, deployments)
        self._ambiguous(resolver, deployments)

    def _deployment(self, resolver: Resolver, d: Deployment) -> None:
        label, index = d.label, d.index + 1
        for where in d.string_prices:
            self.add("info", "string-price", "price written as a string (PyYAML reads 1e-6 as one); accepted, as "
                     "LiteLLM's Router converts it", deployment=label, key=where, index=index)
        typos = {f.key for f in self.findings.items if f.rule == "unknown-price-key" and f.index == index}
        for key in d.dropped_params_prices:
            if f"litellm_params.{key}" not in typos:
                self.add("warning", "dropped-param-price", "the proxy silently drops this key in litellm_params "
                         "(it is not a declared custom-pricing field); move it to model_info",
                         deployment=label, key=f"litellm_params.{key}", index=index)
        if d.index in self.tainted:
            return
        custom = resolver.registry.uses_custom_pricing(d)
        if custom:
            reg = resolver.registry.registered(d)
            used = prices_anything(reg.entry)
            for w in resolver.registry.custom_pricing_warnings(d, reg, used):
                rule, level, key = next(((r, lv, k) for prefix, r, lv, k in _PROXY_RULES if w.startswith(prefix)),
                                        ("proxy-rule", "warning", None))
                if rule is None:
                    continue
                if rule == "cache-only-override":
                    key = ", ".join(k for k in sorted(reg.entry) if k.startswith(_CACHE_KEYS))
                self.add(level, rule, w, deployment=label, key=key, index=index)
            self._price_units(d, reg)
            out, cache_read = reg.entry.get("output_cost_per_token"), reg.entry.get("cache_read_input_token_cost")
            if used and out is not None and cache_read and float(out) < float(cache_read):
                self.add("warning", "output-below-cache-read", f"output ({float(out):g}) is cheaper than a cache "
                         f"read ({float(cache_read):g}); prices swapped or in different units?",
                         deployment=label, key="output_cost_per_token", index=index)
        if d.is_wildcard:
            return
        res = self._card(resolver, d)
        if custom and isinstance(res, PriceSheet) and res.sources and any(
                s.startswith("config:") for s in res.sources.values()):
            discount = adjuster_for(resolver, res).discount
            if discount:
                self.add("info", "discount-on-negotiated", f"cost_discount_config takes {discount * 100:g}% off this "
                         "deployment's own prices too: if they are already negotiated (discounted) prices, the "
                         "discount applies twice", deployment=label, key="litellm_settings.cost_discount_config",
                         index=index)
        if isinstance(res, Unpriced):
            self.add("warning", "unpriced-model", f"{res.reason}; costcalc reports its calls as unpriced",
                     deployment=label, key="litellm_params.model", index=index)
        elif not custom and d.base_model and not res.rule.startswith(f"deployment {d.label}: base_model"):
            self.add("warning", "base-model-unknown", f"base_model is not in the cost map; priced from the "
                     f"deployment model instead ({res.map_key})", deployment=label, key="model_info.base_model",
                     index=index)

    def _price_units(self, d: Deployment, reg: Any) -> None:
        """A price the config sets that is 1,000x or 1,000,000x the cost map's for the same backend model: a per-1K
        or per-1M price pasted as per token (or per second)."""
        if reg.backend_key is None:
            return
        published = self.cost_map.entry(reg.backend_key)
        for key, value in reg.entry.items():
            if not reg.sources.get(key, "").startswith("config:") or "cost_per" not in key:
                continue
            mine, theirs = _float(value), _float(published.get(key))
            if not mine or not theirs or theirs <= 0:
                continue
            for factor, unit in UNIT_FACTORS:
                if factor / UNIT_SLACK <= mine / theirs <= factor * UNIT_SLACK:
                    where = "model_info" if reg.sources[key] == "config:model_info" else "litellm_params"
                    per = "token" if "token" in key else "second" if "second" in key else key.rsplit("_per_", 1)[-1]
                    self.add("warning", "price-unit", f"{mine:g} is {factor:,}x the cost map's {theirs:g} for "
                             f"{reg.backend_key!r}: a {unit} price written as a per-{per} price? The proxy bills "
                             "it as written", deployment=d.label, key=f"{where}.{key}", index=d.index + 1)
                    break

    def _card(self, resolver: Resolver, d: Deployment) -> Any:
        """The deployment's rate card for a call by its own name (asked once per deployment)."""
        card = self._cards.get(d.index)
        if card is None:
            card = self._cards[d.index] = resolver.resolve_deployment(d, d.model_name)
        return card

    def _duplicates(self, deployments: list[Deployment], resolver: Resolver) -> None:
        first_by_id: dict[str, Deployment] = {}
        first_by_identity: dict[str, Deployment] = {}
        for d in deployments:
            if d.model_id is not None:
                first = first_by_id.setdefault(d.model_id, d)
                if first is not d:
                    self.add("error", "duplicate-id", f"model_info.id is also used by {first.label} (#"
                             f"{first.index + 1}): the proxy keeps one price entry per id, so their prices merge "
                             "and the later ones win", deployment=d.label, key="model_info.id", index=d.index + 1)
                continue
            first = first_by_identity.setdefault(d.identity, d)
            if first is not d and (first.info_prices != d.info_prices):
                self.add("warning", "shared-identity", f"same model_name and litellm_params as {first.label}: "
                         "the proxy registers both under one id, so their model_info prices overwrite each other; "
                         "give each a model_info.id", deployment=d.label, key="model_info", index=d.index + 1)

    def _shadowed(self, resolver: Resolver, deployments: list[Deployment]) -> None:
        """A name that reaches a deployment's backend, but that a wildcard captures and prices differently."""
        wildcards = [d for d in deployments if d.is_wildcard]
        if not wildcards:
            return
        for d in deployments:
            if d.is_wildcard or d.index in self.tainted:
                continue
            names = [d.model]
            found = self.cost_map.provider_of(d.model_name)
            if found is not None and d.model_name.startswith(f"{found[0]}/"):
                names.append(found[1])  # "openai/gpt-4o" is also called as "gpt-4o"
            mine = self._card(resolver, d)
            for name in dict.fromkeys(names):
                if name == d.model_name:
                    continue
                group = resolver.routing.deployments_named(name)
                if not group or not group[0].is_wildcard:
                    continue
                theirs = resolver.resolve_deployment(group[0], name)
                same = not isinstance(mine, Unpriced) and not isinstance(theirs, Unpriced) and \
                    mine.rates == theirs.rates
                if same:
                    continue
                self.add("warning", "shadowed-by-wildcard", f"calls to {name!r} are routed to the wildcard "
                         f"{group[0].model_name!r}, not to this deployment, and are priced differently; call "
                         f"{d.model_name!r} to reach it", deployment=d.label, key="litellm_params.model",
                         index=d.index + 1)

    def _ambiguous(self, resolver: Resolver, deployments: list[Deployment]) -> None:
        for name in dict.fromkeys(d.model_name for d in deployments if not d.is_wildcard):
            group = resolver.routing.deployments_named(name)
            if len(group) < 2:
                continue
            _, note = resolver.routing.pick_deployment(name, None)
            if note:
                self.add("warning", "ambiguous-name", note + "; usage records should carry model_id",
                         deployment=group[0].label, key="model_name", index=group[0].index + 1)


    def aliases(self, router: dict[str, Any], deployments: list[Deployment]) -> None:
        """router_settings.model_group_alias: where each alias sends its calls, and the entries that mislead."""
        key = "router_settings.model_group_alias"
        try:
            routes, hidden = parse_model_group_alias(router, self.path)
        except ConfigError as exc:
            self.add("error", "settings", str(exc).removeprefix(f"{exc.path}: {key}: "), key=key)
            return
        written = router.get("model_group_alias") or {}
        for alias in written:
            if alias not in routes:
                self.add("warning", "alias-ignored", "the entry names no model group (a non-empty string, or "
                         "{model: <group>}): the proxy does not rewrite this name", key=f"{key}.{alias}")
        config = ProxyConfig(path=self.path, deployments=tuple(deployments), model_group_alias=routes,
                             hidden_aliases=hidden)
        routing = Resolver(self.cost_map, config).routing
        names = {d.model_name for d in deployments}
        for alias, target in routes.items():
            where = f"{key}.{alias}"
            group = routing.deployments_named(target)
            if not group:
                self.add("warning", "alias-unserved", f"routes {alias!r} to {target!r}, which no deployment serves: "
                         "the proxy fails these calls (costcalc reports them as unpriced)", key=where)
                continue
            first = group[0]
            self.add("info", "alias", f"calls to {alias!r} are served by the model group {target!r} and priced "
                     f"as its deployment {first.label}" + (" (hidden from /models)" if alias in hidden else ""),
                     deployment=first.label, key=where, index=first.index + 1)
            if alias in names:
                self.add("warning", "alias-shadows-deployment", f"a deployment is also named {alias!r}, but the "
                         f"alias wins: calls to {alias!r} go to {target!r}, never to that deployment", key=where)


# A custom price this many times the map's (within UNIT_SLACK either way) is probably in the wrong unit.
UNIT_FACTORS = ((1_000_000, "per-1M"), (1_000, "per-1K"))
UNIT_SLACK = 1.5
SHORT_MODEL_LIST = 3  # at most this many deployments next to store_model_in_db: the rest probably sit in the DB


def _truthy(value: Any) -> bool:
    """A YAML flag as the proxy reads it: true, or a string spelling true."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _env_typo(value: str) -> bool:
    text = value.strip()
    if value.startswith(ENV_REF):
        return False
    if text.startswith(ENV_REF):
        return True  # leading whitespace: the proxy's startswith check misses it
    head = text.split("/", 1)[0] if "/" in text else text[: len("os.environ") + 1]
    low = head.lower()
    if not low.startswith("os") or len(head) > 16:
        return False
    if low.startswith("os.environ") and low != "os.environ":
        return True  # os.environ.X, os.environ:X
    return difflib.SequenceMatcher(None, low, "os.environ").ratio() >= 0.8 and "/" in text


def validate_config(path: str, cost_map: CostMap) -> list[Finding]:
    """Every finding for the config at ``path``, ordered by deployment. Raises ConfigError only when the file
    cannot be read at all."""
    findings = Findings()
    raw = RawConfigReader(path, findings).read()
    if raw is not None:
        written = WrittenEntryCheck(cost_map, path, findings)
        labels: dict[int, str] = {}
        parsed = []
        for i, (shown, entry) in enumerate(raw.entries):
            d = written.raw_entry(i, shown, entry)
            if d is not None:
                parsed.append(d)
                labels[i] = d.label
            elif isinstance(entry, dict) and isinstance(entry.get("model_name"), str):
                labels[i] = f"{entry['model_name']} (#{i + 1})"
        EnvReferenceScan(path, findings).env_typos(raw, labels)
        problems: list[ConfigError] = []  # every settings error, not just the first load_config would stop at
        adjustments = parse_adjustments(raw.settings, path, problems)  # discount and margin, as load_config reads
        for exc in problems:
            prefix = f"{exc.path}: " + (f"{exc.key}: " if exc.key else "")
            findings.add("error", "settings", str(exc).removeprefix(prefix), key=exc.key)
        behaviour = ProxyBehaviourCheck(cost_map, path, findings, written.tainted, adjustments)
        behaviour.deployments(parsed)
        behaviour.aliases(raw.router, parsed)
        if _truthy(raw.general.get("store_model_in_db")) and len(raw.entries) <= SHORT_MODEL_LIST:
            findings.add("warning" if not raw.entries else "info", "models-in-database",
                         f"store_model_in_db is on and model_list has {len(raw.entries) or 'no'} "
                         f"deployment{'s' if len(raw.entries) != 1 else ''}: models added through the proxy's UI or "
                         "API are kept in its database, which costcalc cannot see; calls to them are priced from "
                         "the cost map alone or reported unpriced. Export them into the config to price them as "
                         "the proxy does", key="general_settings.store_model_in_db")
    order = {level: n for n, level in enumerate(LEVELS)}
    return sorted(findings.items, key=lambda f: (f.index or 0, order[f.level]))


def validate_doc(path: str, cost_map: CostMap) -> dict[str, Any]:
    """The ``validate --format json`` document (schema in the README)."""
    findings = validate_config(path, cost_map)
    counts = {level: sum(1 for f in findings if f.level == level) for level in LEVELS}
    return {"config": path, "cost_map": cost_map.info.as_dict(), "ok": counts["error"] == 0, "counts": counts,
            "findings": [f.as_dict() for f in findings]}


def finding_line(f: dict[str, Any]) -> str:
    """``level: deployment: key: message``, one line per finding (the table format)."""
    parts = [f["level"], f["deployment"] or "(config)", *([f["key"]] if f["key"] else []), f["message"]]
    return ": ".join(parts)


GROUP_AT = 3  # a rule that fires this often (at one level) prints as one line with a count, unless --verbose
_NAMES_SHOWN = 5


def grouped_lines(findings: list[dict[str, Any]], verbose: bool = False) -> list[tuple[str, str]]:
    """(level, line) to print: one per finding with ``verbose``; else a rule that fires GROUP_AT times or more
    at one level becomes one line where it first fires: its first message, the count, and where the others are."""
    if verbose:
        return [(f["level"], finding_line(f)) for f in findings]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in findings:
        groups.setdefault((f["level"], f["rule"]), []).append(f)
    lines = []
    for f in findings:
        group = groups[(f["level"], f["rule"])]
        if len(group) < GROUP_AT:
            lines.append((f["level"], finding_line(f)))
        elif f is group[0]:
            first = f["deployment"] or f["key"] or "(config)"
            where = [w for w in dict.fromkeys(g["deployment"] or g["key"] or "(config)" for g in group) if w != first]
            shown = ", ".join(where[:_NAMES_SHOWN]) + (", …" if len(where) > _NAMES_SHOWN else "")
            also = f"; also {shown}" if where else ""
            lines.append((f["level"], f"{finding_line(f)} [{f['rule']}: {len(group)} times{also}; "
                          "--verbose lists each]"))
    return lines


def render_validate(doc: dict[str, Any], console: Any, verbose: bool = False) -> None:
    from rich.text import Text

    style = {"error": "red", "warning": "yellow", "info": ""}
    for level, line in grouped_lines(doc["findings"], verbose):
        console.print(Text(line, style=style[level]), soft_wrap=True)
    c = doc["counts"]
    verdict = "invalid" if c["error"] else "ok"
    console.print(Text(f"{doc['config']}: {verdict}: {c['error']} error(s), {c['warning']} warning(s), "
                       f"{c['info']} info"), soft_wrap=True)
