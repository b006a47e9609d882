"""A LiteLLM proxy ``config.yaml`` → the deployments that matter for pricing.

Only ``model_list`` (and the cost adjustments in ``litellm_settings``) is read; everything else is accepted
and ignored. ``os.environ/…`` references are never resolved, and API keys are never kept in a form that a
report could print.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .fields import CUSTOM_PRICING_FIELDS

ENV_REF = "os.environ/"
# The largest price accepted anywhere ($ per token, second, image, ...; or a margin): far above any real
# price (the cost map's largest is about $2), and low enough that no cost of 2^53 tokens can overflow.
MAX_PRICE = 1e6

# model_info keys that are about the deployment, not its prices.
_INFO_NON_PRICE_KEYS = frozenset({"id", "base_model", "pricing_provider", "mode", "db_model", "team_id"})


def is_price_key(key: str) -> bool:
    """Whether a config key carries a price (as opposed to limits, ids or flags)."""
    return (
        "cost" in key
        or key in ("tiered_pricing", "off_peak_pricing")
        or key.endswith("multiplier")
    ) and key not in _INFO_NON_PRICE_KEYS


@dataclass(frozen=True, slots=True)
class PassThroughEndpoint:
    """One ``general_settings.pass_through_endpoints`` entry: the proxy forwards ``path`` to ``target`` and books
    ``cost_per_request`` (0 unless set) for a call whose upstream reports no usage."""

    path: str
    target: str
    include_subpath: bool
    cost_per_request: float


@dataclass(frozen=True, slots=True)
class SearchTool:
    """One ``search_tools`` entry: the name clients call, its ``search_provider`` and the per-query price its
    ``litellm_params`` set (``input_cost_per_query``, None when unset)."""

    name: str
    provider: str | None
    cost_per_query: float | None


@dataclass(frozen=True, slots=True)
class A2AAgent:
    """One ``agents`` (or ``agent_list``) entry: the agent's name, the id the proxy gives a config agent
    (``AgentRegistry._create_agent_id``: sha256 of the name), its card's ``name`` (logged as the model
    ``a2a_agent/<name>``) and the prices its ``litellm_params`` set (None when unset)."""

    name: str
    agent_id: str
    card_name: str | None
    cost_per_query: float | None
    input_cost_per_token: float | None
    output_cost_per_token: float | None


@dataclass(frozen=True, slots=True)
class Deployment:
    """One ``model_list`` entry, reduced to what pricing needs."""

    index: int  # position in model_list (0-based)
    model_name: str  # the alias clients call; may be a wildcard such as "openai/*"
    model: str  # litellm_params.model
    model_id: str | None  # model_info.id
    base_model: str | None  # model_info.base_model, else litellm_params.base_model
    custom_llm_provider: str | None
    pricing_provider: str | None
    params_prices: dict[str, Any]  # declared pricing keys set in litellm_params (they win)
    info_prices: dict[str, Any]  # price keys set in model_info
    dropped_params_prices: tuple[str, ...]  # price-like litellm_params keys LiteLLM silently drops
    string_prices: tuple[str, ...]  # "section.key" of prices written as strings (accepted)
    identity: str  # what LiteLLM registers the deployment's prices under (id, or a hash of name+params)
    params_keys: tuple[str, ...] = ()  # key names only: values may be secrets
    info_keys: tuple[str, ...] = ()
    # Where the deployment sends requests, as far as it changes the price (plain strings only; an os.environ/
    # reference is resolved by the proxy from an environment costcalc cannot see): Vertex AI location (regional
    # endpoint uplift), AWS region (Bedrock Mantle regional prices), api_base host (OpenAI data residency).
    vertex_location: str | None = None
    aws_region_name: str | None = None
    api_base_host: str | None = None

    @property
    def label(self) -> str:
        """How messages name this deployment."""
        suffix = f" (id {self.model_id})" if self.model_id else f" (#{self.index + 1})"
        return f"{self.model_name}{suffix}"

    @property
    def has_custom_prices(self) -> bool:
        return bool(self.params_prices or self.info_prices)

    @property
    def is_wildcard(self) -> bool:
        return "*" in self.model_name


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    path: str
    deployments: tuple[Deployment, ...]
    cost_discount_config: dict[str, float] = field(default_factory=dict)
    cost_margin_config: dict[str, Any] = field(default_factory=dict)
    # router_settings.model_group_alias: a called name → the model group the proxy routes it to
    model_group_alias: dict[str, str] = field(default_factory=dict)
    hidden_aliases: frozenset[str] = frozenset()  # aliases written {model: ..., hidden: true}: not listed by /models
    # general_settings.pass_through_endpoints: the per-request price each books (pricing in engines/streaming.py)
    pass_through: tuple[PassThroughEndpoint, ...] = ()
    search_tools: tuple[SearchTool, ...] = ()  # search_tools (or general_settings.search_tools)
    agents: tuple[A2AAgent, ...] = ()  # agents (or agent_list): A2A agents and their prices

    @classmethod
    def empty(cls) -> ProxyConfig:
        return cls(path="", deployments=())


MAX_CONFIG_BYTES = 64 << 20
MAX_INCLUDE_DEPTH = 32
# Bounds on what a config may expand to: aliases can make a small file a huge tree ("billion laughs"), and
# nesting deeper than this is not a proxy config; anything walking the tree stays fast and shallow.
MAX_YAML_NODES = 1_000_000
MAX_YAML_DEPTH = 64


class YAMLProblem(ValueError):
    """A YAML file that cannot be read as a config; ``str()`` is the one-line reason."""


def read_config_bytes(path: Path) -> bytes:
    """The bytes of a config file (OSError when unreadable; YAMLProblem when implausibly large)."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_CONFIG_BYTES + 1)  # bounded: the path may be /dev/zero
    if len(data) > MAX_CONFIG_BYTES:
        raise YAMLProblem(f"larger than {MAX_CONFIG_BYTES >> 20} MB; not a proxy config")
    return data


def load_yaml(text: bytes) -> Any:
    """Parse YAML with the safe loader (tags that construct objects are refused), bounded in size and depth;
    YAMLProblem with a one-line reason (and line number when known) on any failure."""
    import yaml  # here: a command given no config never loads it (start-up)

    # libyaml's safe loader when PyYAML has it (six times faster on a large model_list), else PyYAML's own
    safe_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        try:
            doc = yaml.load(text, Loader=safe_loader)
        except yaml.YAMLError:
            doc = yaml.safe_load(text)  # PyYAML's own loader words the problem (libyaml's messages differ)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YAMLProblem(f"{where}invalid YAML ({problem})") from None
    except RecursionError:
        raise YAMLProblem(f"invalid YAML (nested deeper than {MAX_YAML_DEPTH} levels)") from None
    except (ValueError, OverflowError) as exc:  # a value the loader cannot build: 2024-13-45, !!int abc, 10^5000
        reason = str(exc).split(":")[0][:120]  # what went wrong, not the value (it may be a secret)
        raise YAMLProblem(f"invalid YAML ({reason})") from None
    _check_bounds(doc)
    return doc


def _check_bounds(doc: Any) -> None:
    """Refuse a tree that expands (aliases counted as often as they are used) to more than MAX_YAML_NODES
    values, nests deeper than MAX_YAML_DEPTH, or contains itself. Shared nodes are measured once."""
    size: dict[int, tuple[int, int] | None] = {}  # id → (expanded values, depth); None while being measured
    stack: list[tuple[Any, bool]] = [(doc, False)]
    distinct = 0  # values as written (each shared node once): what the config holds before aliases expand
    while stack:
        node, finished = stack.pop()
        children = list(node.values()) if isinstance(node, dict) else node if isinstance(node, (list, tuple)) \
            else None
        if children is None:
            continue
        if finished:
            count, depth = 1, 0
            for child in children:
                measured = size.get(id(child)) if isinstance(child, (dict, list, tuple)) else (1, 0)
                assert measured is not None
                count, depth = count + measured[0], max(depth, measured[1])
            if count > MAX_YAML_NODES:
                if distinct > MAX_YAML_NODES:  # big as written, not through aliases
                    raise YAMLProblem(f"the config holds more than {MAX_YAML_NODES:,} values (a proxy config holds "
                                      "thousands): not read")
                raise YAMLProblem(f"YAML aliases expand to more than {MAX_YAML_NODES:,} values")
            if depth + 1 > MAX_YAML_DEPTH:
                raise YAMLProblem(f"invalid YAML (nested deeper than {MAX_YAML_DEPTH} levels)")
            size[id(node)] = (count, depth + 1)
            continue
        if id(node) in size:
            continue
        size[id(node)] = None
        distinct += 1 + sum(1 for c in children if not isinstance(c, (dict, list, tuple)))
        stack.append((node, True))
        for child in [*node, *children] if isinstance(node, dict) else children:
            if isinstance(child, str) and not child.isascii():
                _check_text(child)
            elif isinstance(child, (dict, list, tuple)):
                if id(child) in size and size[id(child)] is None:
                    raise YAMLProblem("a YAML alias refers to a value that contains it (a cycle)")
                stack.append((child, False))


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a "\ud800" escape: no report, terminal or JSON could show it
        raise YAMLProblem("invalid YAML (a string holds a lone UTF-16 surrogate)") from None


def _read_yaml(path: Path, shown: str) -> Any:
    try:
        return load_yaml(read_config_bytes(path))
    except OSError as exc:
        raise ConfigError(shown, f"cannot read config ({exc.strerror})") from None
    except YAMLProblem as exc:
        raise ConfigError(shown, str(exc)) from None


def _load_model_list(path: Path, shown: str, seen: frozenset[Path]
                     ) -> tuple[list[Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    doc = _read_yaml(path, shown)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(shown, "a proxy config must be a YAML mapping")
    model_list = doc.get("model_list") or []
    if not isinstance(model_list, list):
        raise ConfigError(shown, "model_list must be a list", key="model_list")
    settings = doc.get("litellm_settings") or {}
    if not isinstance(settings, dict):
        raise ConfigError(shown, "litellm_settings must be a mapping", key="litellm_settings")
    router = doc.get("router_settings") or {}
    if not isinstance(router, dict):
        raise ConfigError(shown, "router_settings must be a mapping", key="router_settings")
    general = doc.get("general_settings") or {}
    if not isinstance(general, dict):
        raise ConfigError(shown, "general_settings must be a mapping", key="general_settings")
    if doc.get("search_tools"):
        # the proxy reads the top-level search_tools first, general_settings.search_tools only without them
        general = {**general, "search_tools": doc["search_tools"]}
    agents = doc.get("agents", doc.get("agent_list"))
    if agents is not None:  # the proxy reads its A2A agents from the top level (ProxyConfig.load_config)
        general = {**general, "agents": agents}
    includes = doc.get("include") or []
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list):
        raise ConfigError(shown, "include must be a list of file names", key="include")
    merged = list(model_list)
    for name in includes:
        if not isinstance(name, str):
            raise ConfigError(shown, "include entries must be file names", key="include")
        inc = (path.parent / name).resolve()
        if inc in seen:
            raise ConfigError(shown, f"include cycle through {name}", key="include")
        if len(seen) >= MAX_INCLUDE_DEPTH:
            raise ConfigError(shown, f"includes nested more than {MAX_INCLUDE_DEPTH} deep", key="include")
        inc_list, inc_settings, inc_router, inc_general = _load_model_list(inc, str(Path(shown).parent / name),
                                                                           seen | {inc})
        merged.extend(inc_list)
        settings = {**inc_settings, **settings}
        router = {**inc_router, **router}
        general = {**inc_general, **general}
    return merged, settings, router, general


def parse_price(value: Any, *, where: str, deployment: str | None, key: str,
                limit: float | None = MAX_PRICE) -> float:
    """A price as LiteLLM's Router accepts it: a number or a numeric string, finite, not negative, and at most
    ``limit``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(where, f"price must be a number, got {type(value).__name__}", deployment=deployment,
                          key=key)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(ENV_REF):
            raise ConfigError(where, "a price cannot be an os.environ/ reference (LiteLLM's Router refuses it)",
                              deployment=deployment, key=key)
        try:
            number = float(text)
        except ValueError:
            # the value is not shown: a string in a price key may be a pasted API key
            raise ConfigError(where, "price must be a number, not str (value not shown)", deployment=deployment,
                              key=key) from None
    else:
        number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ConfigError(where, "price must be finite", deployment=deployment, key=key)
    if number < 0:
        raise ConfigError(where, f"price must not be negative ({number:g})", deployment=deployment, key=key)
    if limit is not None and number > limit:
        raise ConfigError(where, f"price {number:g} is implausibly large (at most {limit:g})",
                          deployment=deployment, key=key)
    return number


def _parse_tiers(value: Any, *, where: str, deployment: str, key: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ConfigError(where, "tiered_pricing must be a list of tiers", deployment=deployment, key=key)
    tiers = []
    for n, tier in enumerate(value):
        if not isinstance(tier, dict):
            raise ConfigError(where, f"tier {n + 1} must be a mapping", deployment=deployment, key=key)
        parsed: dict[str, Any] = {}
        for name, rate in tier.items():
            if not isinstance(name, str):
                raise ConfigError(where, f"tier {n + 1}: keys must be field names, got {name!r}",
                                  deployment=deployment, key=key)
            if name == "range":
                if not (isinstance(rate, list) and len(rate) == 2):
                    raise ConfigError(where, f"tier {n + 1}: range must be [start, end]", deployment=deployment,
                                      key=key)
                parsed[name] = [parse_price(x, where=where, deployment=deployment, key=f"{key}[{n}].range",
                                            limit=None) for x in rate]
            elif rate is not None:
                parsed[name] = parse_price(rate, where=where, deployment=deployment, key=f"{key}[{n}].{name}")
        tiers.append(parsed)
    return tiers


def _prices(section: dict[str, Any], keys: Any, *, where: str, deployment: str, prefix: str,
            strings: list[str]) -> dict[str, Any]:
    prices: dict[str, Any] = {}
    for key in keys:
        value = section.get(key)
        if value is None:
            continue
        shown_key = f"{prefix}.{key}"
        if key == "tiered_pricing":
            prices[key] = _parse_tiers(value, where=where, deployment=deployment, key=shown_key)
        elif key == "off_peak_pricing":
            prices[key] = value  # not priced offline (needs the wall clock); kept so lookup can warn
        elif key == "search_context_cost_per_query" and isinstance(value, dict):
            # the web search prices by context size (pricing/tools.py): a registered deployment's own win
            prices[key] = {str(size): parse_price(rate, where=where, deployment=deployment, key=f"{shown_key}.{size}")
                           for size, rate in value.items() if rate is not None}
        elif isinstance(value, (dict, list)):
            continue  # other structured extras price nothing costcalc books
        else:
            if isinstance(value, str):
                strings.append(shown_key)
            prices[key] = parse_price(value, where=where, deployment=deployment, key=shown_key)
    return prices


def _optional_str(section: dict[str, Any], key: str, *, where: str, deployment: str, prefix: str) -> str | None:
    value = section.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ConfigError(where, "must be a string", deployment=deployment, key=f"{prefix}.{key}")
    return str(value)


def _identity(model_name: str, params: dict[str, Any], model_id: str | None) -> str:
    """The deployment id: model_info.id, else the id the Router generates (router_api.deployment_id): a sha256
    over model_name and every litellm_params key and value in config order (not model_info: same inputs, same
    registration). The Router hashes os.environ/ references after resolving them; costcalc never resolves one
    and hashes it as LiteLLM does an unset variable (None)."""
    if model_id is not None:
        return model_id
    parts = [model_name]
    for key, value in params.items():
        if isinstance(value, str) and value.strip().startswith(ENV_REF):
            value = None
        for item in (key, value):
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict):
                parts.append(json.dumps(item, default=lambda o: f"{type(o).__module__}.{type(o).__qualname__}"))
            else:
                parts.append(str(item))
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def parse_deployment(index: int, entry: Any, where: str) -> Deployment:
    """One model_list entry → Deployment; raises ConfigError naming the deployment and key."""
    label = f"#{index + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(where, "each model_list entry must be a mapping", deployment=label)
    model_name = entry.get("model_name")
    if not isinstance(model_name, str) or not model_name.strip():
        raise ConfigError(where, "model_name is missing", deployment=label, key="model_name")
    label = f"{model_name!r} (#{index + 1})"
    params = entry.get("litellm_params")
    if not isinstance(params, dict):
        raise ConfigError(where, "litellm_params is missing or not a mapping", deployment=label,
                          key="litellm_params")
    model = params.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(where, "litellm_params.model is missing", deployment=label, key="litellm_params.model")
    info = entry.get("model_info") or {}
    if not isinstance(info, dict):
        raise ConfigError(where, "model_info must be a mapping", deployment=label, key="model_info")
    for section, mapping in (("litellm_params", params), ("model_info", info)):
        for k in mapping:
            if not isinstance(k, str):
                raise ConfigError(where, f"keys must be strings, got {type(k).__name__} {k!r}"[:120],
                                  deployment=label, key=section)

    strings: list[str] = []
    params_price_keys = [k for k in params if k in CUSTOM_PRICING_FIELDS]
    dropped = tuple(
        k for k in params if k not in CUSTOM_PRICING_FIELDS and is_price_key(k) and params[k] is not None
    )
    params_prices = _prices(params, params_price_keys, where=where, deployment=label, prefix="litellm_params",
                            strings=strings)
    # Undeclared keys are dropped by the proxy, but a nonsense value there is still a config error.
    _prices(params, [k for k in dropped if k != "off_peak_pricing"], where=where, deployment=label,
            prefix="litellm_params", strings=[])
    info_prices = _prices(info, [k for k in info if is_price_key(k)], where=where, deployment=label,
                          prefix="model_info", strings=strings)

    model_id = _optional_str(info, "id", where=where, deployment=label, prefix="model_info")
    base_model = _optional_str(info, "base_model", where=where, deployment=label, prefix="model_info") or \
        _optional_str(params, "base_model", where=where, deployment=label, prefix="litellm_params")
    return Deployment(
        index=index,
        model_name=model_name,
        model=model.strip(),
        model_id=model_id,
        base_model=base_model,
        custom_llm_provider=_optional_str(params, "custom_llm_provider", where=where, deployment=label,
                                          prefix="litellm_params"),
        pricing_provider=_optional_str(info, "pricing_provider", where=where, deployment=label,
                                       prefix="model_info"),
        params_prices=params_prices,
        info_prices=info_prices,
        dropped_params_prices=dropped,
        string_prices=tuple(strings),
        identity=_identity(model_name, params, model_id),
        params_keys=tuple(str(k) for k in params),
        info_keys=tuple(str(k) for k in info),
        vertex_location=_plain(params.get("vertex_location")) or _plain(params.get("vertex_ai_location")),
        aws_region_name=_plain(params.get("aws_region_name")),
        api_base_host=_host(params.get("api_base")),
    )


def _plain(value: Any) -> str | None:
    """A routing setting costcalc can read: a non-empty string that is not an os.environ/ reference."""
    if not isinstance(value, str) or not value.strip() or value.strip().startswith(ENV_REF):
        return None
    return value.strip()


def _host(value: Any) -> str | None:
    """The host of an api_base URL (never the URL itself: it may carry credentials)."""
    from urllib.parse import urlparse

    text = _plain(value)
    if text is None:
        return None
    try:
        host = urlparse(text).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def parse_adjustments(settings: dict[str, Any], where: str,
                      problems: list[ConfigError] | None = None) -> tuple[dict[str, float], dict[str, Any]]:
    """``cost_discount_config`` and ``cost_margin_config``. The first error is raised, unless ``problems`` is
    given: then every error is added to it and the entries that parse are returned (``validate`` reports them
    all in one run)."""

    def problem(exc: ConfigError) -> None:
        if problems is None:
            raise exc
        problems.append(exc)

    discount = settings.get("cost_discount_config") or {}
    margin = settings.get("cost_margin_config") or {}
    if not isinstance(discount, dict):
        problem(ConfigError(where, "must be a mapping of provider to fraction",
                            key="litellm_settings.cost_discount_config"))
        discount = {}
    if not isinstance(margin, dict):
        problem(ConfigError(where, "must be a mapping of provider to margin",
                            key="litellm_settings.cost_margin_config"))
        margin = {}
    discounts = {}
    for name, value in discount.items():
        key = f"litellm_settings.cost_discount_config.{name}"
        try:
            number = parse_price(value, where=where, deployment=None, key=key)
            if number > 1:
                raise ConfigError(where, f"a discount is a fraction from 0 to 1, got {number:g}", key=key)
        except ConfigError as exc:
            problem(exc)
            continue
        discounts[str(name)] = number
    margins: dict[str, Any] = {}
    for name, value in margin.items():
        key = f"litellm_settings.cost_margin_config.{name}"
        try:
            if isinstance(value, dict):
                unknown = set(value) - {"percentage", "fixed_amount"}
                if unknown:
                    raise ConfigError(where, f"unknown margin field {sorted(unknown)[0]!r}", key=key)
                margins[str(name)] = {k: parse_price(v, where=where, deployment=None, key=f"{key}.{k}")
                                      for k, v in value.items()}
            else:
                margins[str(name)] = parse_price(value, where=where, deployment=None, key=key)
        except ConfigError as exc:
            problem(exc)
    return discounts, margins


def parse_model_group_alias(router: dict[str, Any], where: str) -> tuple[dict[str, str], frozenset[str]]:
    """router_settings.model_group_alias as the Router resolves it (resolve_model_group_alias): ``alias: target``
    or ``alias: {model: target, hidden: true}``; an entry without a non-empty string target rewrites nothing."""
    aliases = router.get("model_group_alias") or {}
    if not isinstance(aliases, dict):
        raise ConfigError(where, "must be a mapping of alias to model group", key="router_settings.model_group_alias")
    routes: dict[str, str] = {}
    hidden = set()
    for alias, entry in aliases.items():
        target = entry.get("model") if isinstance(entry, dict) else entry
        if isinstance(alias, str) and isinstance(target, str) and target:
            routes[alias] = target
            if isinstance(entry, dict) and entry.get("hidden") is True:
                hidden.add(alias)
    return routes, frozenset(hidden)


def _objects(general: dict[str, Any], key: str, where: str, what: str, *, shown_key: str | None = None
             ) -> list[tuple[int, dict[str, Any]]]:
    """(index, entry) of each object in the config's list ``key`` (absent or empty: none; not a list: an error;
    an entry that is not an object prices nothing)."""
    entries = general.get(key) or []
    if not isinstance(entries, list):
        raise ConfigError(where, f"must be a list of {what}", key=shown_key or key)
    return [(n, entry) for n, entry in enumerate(entries) if isinstance(entry, dict)]


def parse_pass_through(general: dict[str, Any], where: str) -> tuple[PassThroughEndpoint, ...]:
    """general_settings.pass_through_endpoints: path, target, include_subpath and cost_per_request of each (an
    entry without a plain path and target, such as an ``os.environ/`` target, prices nothing here)."""
    found = []
    for n, entry in _objects(general, "pass_through_endpoints", where, "endpoints",
                             shown_key="general_settings.pass_through_endpoints"):
        path, target = entry.get("path"), entry.get("target")
        if not (isinstance(path, str) and isinstance(target, str)) or target.startswith(ENV_REF):
            continue
        cost = entry.get("cost_per_request")
        found.append(PassThroughEndpoint(path, target, entry.get("include_subpath") is True, 0.0 if cost is None else
                                         parse_price(cost, where=where, deployment=None,
                                                     key=f"general_settings.pass_through_endpoints[{n}].cost_per_request")))
    return tuple(found)


def parse_search_tools(general: dict[str, Any], where: str) -> tuple[SearchTool, ...]:
    """search_tools: each tool's name, provider and configured per-query price (entries without a name price
    nothing here)."""
    found = []
    for n, entry in _objects(general, "search_tools", where, "search tools"):
        params, name = entry.get("litellm_params"), entry.get("search_tool_name")
        if not isinstance(name, str) or not isinstance(params, dict):
            continue
        provider = params.get("search_provider")
        cost = params.get("input_cost_per_query")
        found.append(SearchTool(name, provider if isinstance(provider, str) else None, None if cost is None else
                                parse_price(cost, where=where, deployment=None,
                                            key=f"search_tools[{n}].litellm_params.input_cost_per_query")))
    return tuple(found)


def parse_agents(general: dict[str, Any], where: str) -> tuple[A2AAgent, ...]:
    """agents: each A2A agent's name, id, card name and the prices A2ACostCalculator reads from its litellm_params
    (entries without a name and card parameters are not registered by the proxy, and price nothing here)."""
    found = []
    for n, entry in _objects(general, "agents", where, "agents"):
        name, card = entry.get("agent_name"), entry.get("agent_card_params")
        if not isinstance(name, str) or not name or not isinstance(card, dict) or not card:
            continue
        params = entry.get("litellm_params")
        params = params if isinstance(params, dict) else {}
        prices = [None if params.get(k) is None else parse_price(params[k], where=where, deployment=None,
                                                                key=f"agents[{n}].litellm_params.{k}")
                  for k in ("cost_per_query", "input_cost_per_token", "output_cost_per_token")]
        card_name = card.get("name")
        found.append(A2AAgent(name, hashlib.sha256(name.encode()).hexdigest(),
                              card_name if isinstance(card_name, str) and card_name else None, *prices))
    return tuple(found)


def load_config(path: str | Path) -> ProxyConfig:
    """Read a proxy config; raises ConfigError (one line, naming deployment and key) when it cannot be priced."""
    shown = str(path)
    real = Path(path).resolve()
    model_list, settings, router, general = _load_model_list(real, shown, frozenset({real}))
    deployments = tuple(parse_deployment(i, entry, shown) for i, entry in enumerate(model_list))
    discounts, margins = parse_adjustments(settings, shown)
    aliases, hidden = parse_model_group_alias(router, shown)
    return ProxyConfig(path=shown, deployments=deployments, cost_discount_config=discounts,
                       cost_margin_config=margins, model_group_alias=aliases, hidden_aliases=hidden,
                       pass_through=parse_pass_through(general, shown),
                       search_tools=parse_search_tools(general, shown), agents=parse_agents(general, shown))
