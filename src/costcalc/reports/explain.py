"""Explaining prices: ``lookup`` (how a model resolves, every price with its source) and ``models`` (map search).

Both are built on the engine's own resolution (``resolve.py``) and rate selection (``pricing.band_rates``),
never on a second implementation of them.
"""

from __future__ import annotations

from typing import Any

from ..engines.streaming import PricingEngine
from ..pricing.calltypes import IMAGE_PRICE_FIELDS
from ..pricing.formulas import NO_ADJUSTMENT, Adjuster, band_rates
from ..rates.config import Deployment, ProxyConfig
from ..rates.costmap import CostMap
from ..rates.resolve import Resolver
from ..rates.sheets import PriceSheet, Unpriced, prices_anything

# The parts of a call's price, in the order lookup shows them, with the rate keys each part owns. A part
# whose rate comes from another part's key has "defaulted" to that part (LiteLLM's fallbacks, PRICING.md §2).
PARTS = ("input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning", "audio_input",
         "audio_output", "image_input")
_OWN_KEYS = {
    "input": ("input_cost_per_token",),
    "output": ("output_cost_per_token", "output_cost_per_image_token"),
    "cache_read": ("cache_read_input_token_cost",),
    "cache_write": ("cache_creation_input_token_cost",),
    "cache_write_1h": ("cache_creation_input_token_cost_above_1hr",),
    "reasoning": ("output_cost_per_reasoning_token",),
    "audio_input": ("input_cost_per_audio_token",),
    "audio_output": ("output_cost_per_audio_token",),
    "image_input": ("input_cost_per_image_token",),
}
# Key prefix → the part a defaulted rate was taken from, most specific first.
_DEFAULT_FROM = (
    ("cache_creation_input_token_cost", "cache-write"),
    ("input_cost_per_token", "input"),
    ("output_cost_per_token", "output"),
    ("output rate", "output"),
)
_TIER_SUFFIXES = ("_ultrafast", "_balanced", "_priority", "_flex", "_auto", "_fast")


def _owns(part: str, key: str) -> bool:
    if key.startswith("tiered_pricing"):
        return True
    own = _OWN_KEYS[part]
    if part == "cache_write":
        return key.startswith(own) and "_above_1hr" not in key
    return key.startswith(own)


def _key_source(key: str, rates: dict[str, Any], sources: dict[str, str]) -> tuple[str, str | None]:
    """(source, note) of the rate key ``key`` as band_rates used it: a service-tier key that the card lacks
    falls back to the standard key (LiteLLM's ``get_cost_per_unit``); a key the card lacks entirely is 0."""
    base = "tiered_pricing" if key.startswith("tiered_pricing") else key
    if rates.get(base) is not None:
        return sources.get(base, "config:model_info"), None
    for suffix in _TIER_SUFFIXES:
        if suffix in base:
            standard = base.replace(suffix, "")
            if rates.get(standard) is not None:
                return sources.get(standard, "config:model_info"), f"no {suffix[1:]} rate: the standard {standard}"
            break
    return "default-to-zero", f"{base} is not set"


def effective_rates(rates: dict[str, Any], sources: dict[str, str], provider: str | None,
                    prompt_tokens: int = 0, service_tier: str | None = None, *, formula: str = "generic",
                    uplift: float = 1.0) -> list[dict[str, Any]]:
    """The rate of every part of a call (pricing.band_rates, the engine's own rate selection), each with the
    key that supplied it and its source: config:…, inherited:…, cost_map:…, request, or default-to-input /
    -output / -cache-write (LiteLLM's fallbacks) and default-to-zero (a price left unset)."""
    if formula not in ("generic", "vertex_128k"):
        service_tier = None  # the provider's cost function passes no service tier
    band = band_rates(rates, prompt_tokens, service_tier, provider, formula=formula, uplift=uplift)
    rows = []
    for part in PARTS:
        value = getattr(band, part)
        key = band.keys.get(part, "")
        if value is None:  # audio/image input without a dedicated rate: billed at the input rate
            value, key = band.input, band.keys.get("input", "")
        key = key.split(" (", 1)[0]
        key_source, note = _key_source(key, rates, sources) if key != "output rate" else ("", None)
        if _owns(part, key):
            source = key_source
        else:
            from_part = next((p for prefix, p in _DEFAULT_FROM if key.startswith(prefix)), "input")
            source = f"default-to-{from_part}"
            if from_part == "output" and key == "output rate":
                key = band.keys.get("output", "output_cost_per_token")
                key_source, note = _key_source(key, rates, sources)
            note = f"no {part.replace('_', '-')} price: billed at the {from_part} rate ({key}, {key_source})"
        rows.append({"part": part, "value": value, "unit": "$/token", "per_million": value * 1_000_000,
                     "key": key, "source": source, "note": note})
    return rows


# the units of LiteLLM's non-token price fields (input_cost_per_image, input_cost_per_character, ...)
_PER_UNIT = {"image": "$/image", "pixel": "$/pixel", "character": "$/character", "query": "$/query",
             "request": "$/request", "page": "$/page", "credit": "$/credit", "session": "$/session"}


def _unit_of(field: str) -> str:
    """What a price field is per: ``output_cost_per_image_2K`` → image (a resolution's per-image price)."""
    unit = field.rsplit("_per_", 1)[-1]
    return unit if "token" in unit else unit.split("_", 1)[0]


def _rate_row(field: str, value: Any, source: str) -> dict[str, Any]:
    row: dict[str, Any] = {"field": field, "value": value, "unit": None, "per_million": None, "source": source}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "per_second" in field:
            row["unit"] = "$/s"
        elif (unit := _PER_UNIT.get(_unit_of(field))) is not None:
            row["unit"] = unit
        elif "multiplier" in field:
            row["unit"] = "x"
        elif "token" in field:
            row["unit"] = "$/token"
            row["per_million"] = value * 1_000_000
        else:
            row["unit"] = "$"
    return row


def _deployment_doc(d: Deployment, matched: str) -> dict[str, Any]:
    return {"label": d.label, "index": d.index + 1, "model_name": d.model_name, "model": d.model,
            "model_id": d.model_id, "base_model": d.base_model, "custom_prices": d.has_custom_prices,
            "matched_by": matched}


def _how(resolver: Resolver, sheet: PriceSheet) -> str:
    """Which resolution rule chose the rate card (SPEC §2)."""
    d = sheet.deployment
    if d is None:
        return "cost_map"
    if resolver.registry.uses_custom_pricing(d):
        used = prices_anything(resolver.registry.registered(d).entry)
        return "custom_prices" if used else "cache_only_override_ignored"
    return "base_model" if sheet.rule.startswith(f"deployment {d.label}: base_model") else "deployment_model"


def adjusted_rate(adjuster: Adjuster, rate: float) -> float:
    """A rate after the config's discount then percentage margin (the fixed margin is per call, not per unit)."""
    after = rate - rate * adjuster.discount if adjuster.discount else rate
    return after + after * adjuster.margin_pct if adjuster.margin_pct else after


def adjustment_doc(adjuster: Adjuster) -> dict[str, float]:
    return {"discount": adjuster.discount, "margin_percentage": adjuster.margin_pct,
            "margin_fixed": adjuster.margin_fixed}


def adjustment_text(adjustment: dict[str, float]) -> str:
    """``discount 10%, then margin 5% + $0.0001 per call`` (empty when the config adjusts nothing)."""
    parts = []
    if adjustment["discount"]:
        parts.append(f"discount {adjustment['discount'] * 100:g}%")
    if adjustment["margin_percentage"]:
        parts.append(f"margin {adjustment['margin_percentage'] * 100:g}%")
    if adjustment["margin_fixed"]:
        parts.append(f"${adjustment['margin_fixed']:g} per call")
    return ", then ".join(parts[:2]) + (f" + {parts[2]}" if len(parts) > 2 else "")


def sheet_doc(sheet: PriceSheet, service_tier: str | None = None,
              adjuster: Adjuster = NO_ADJUSTMENT) -> dict[str, Any]:
    """Everything about one rate card: how it was chosen, its fields with sources, the effective rates (each also
    after the config's discount and margin, which ``adjustment`` gives)."""
    doc: dict[str, Any] = {
        "model": sheet.model,
        "rule": sheet.rule,
        "provider": sheet.provider,
        "map_key": sheet.map_key,
        "map_lookup": sheet.map_rule,
        "mode": sheet.mode,
        "per_second": sheet.per_second,
        "fields": [_rate_row(k, v, sheet.sources.get(k, "")) for k, v in sorted(sheet.rates.items())],
        "warnings": list(sheet.warnings),
    }
    if sheet.per_second:
        key, rate = sheet.per_second_rate  # type: ignore[misc]
        doc["effective"] = [{"part": "per_second", "value": rate, "unit": "$/s", "per_million": None, "key": key,
                             "source": sheet.sources.get(key, ""), "note": "billed as rate x request duration; "
                             "token counts are not priced"}]
    else:
        doc["effective"] = effective_rates(sheet.rates, sheet.sources, sheet.provider, 0, service_tier,
                                           formula=sheet.formula, uplift=sheet.uplift)
        if sheet.formula != "generic":
            doc["formula"] = sheet.formula  # the provider cost function that prices the call (pricing.FORMULAS)
    # GPU-time pricing is returned before discount and margin (pricing.FORMULAS)
    applies = adjuster if sheet.formula != "replicate_gpu" else NO_ADJUSTMENT
    doc["adjustment"] = adjustment_doc(applies)
    for row in doc["effective"]:
        row["adjusted"] = adjusted_rate(applies, row["value"])
    return doc


def _matched_by(d: Deployment, query: str, model_id: str | None) -> str:
    if model_id is not None and d.model_id == model_id:
        return "model_id"
    if d.model_name == query:
        return "model_name"
    if d.is_wildcard:
        return f"wildcard {d.model_name}"
    return "litellm_params.model"


def suggestions(cost_map: CostMap, config: ProxyConfig, model: str, n: int = 3) -> dict[str, list[str]]:
    """The closest config model_names and the closest cost-map keys, separately."""
    import difflib

    names = list(dict.fromkeys(d.model_name for d in config.deployments if not d.is_wildcard))
    lowered = {name.lower(): name for name in names}
    close = difflib.get_close_matches(model.lower(), list(lowered), n=n, cutoff=0.6)
    return {"config": [lowered[c] for c in close], "cost_map": cost_map.suggest(model, n)}


def lookup_doc(cost_map: CostMap, config: ProxyConfig, model: str, *, model_id: str | None = None,
               service_tier: str | None = None) -> dict[str, Any]:
    """The ``lookup --format json`` document (schema in the README)."""
    engine = PricingEngine(cost_map, config)
    resolver = engine.resolver
    notes: list[str] = []
    target = resolver.routing.alias_target(model)
    routed = model if target is None else target  # the model group the proxy serves the call from
    alias = None
    if target is not None:
        alias = {"alias": model, "target": target, "hidden": model in config.hidden_aliases}
        notes.append(f"router_settings.model_group_alias routes {model!r} to the model group {target!r}"
                     + (" (hidden from /models)" if alias["hidden"] else ""))
    group = resolver.routing.deployments_named(routed)
    if model_id is not None:
        if any(d.model_id == model_id for d in config.deployments):
            picked, _ = resolver.routing.pick_deployment(routed, model_id)
            group = [picked] if picked is not None else []
        else:
            notes.append(f"no deployment has model_info.id {model_id!r}: a record naming it is routed by "
                         "its model alone")
    elif len(group) > 1:
        _, ambiguity = resolver.routing.pick_deployment(routed, None)
        if ambiguity:
            notes.append(ambiguity)
    results: list[tuple[Resolution, str | None]]
    if group:
        results = [(resolver.resolve_deployment(d, routed), _matched_by(d, routed, model_id)) for d in group]
    else:
        results = [(resolver.resolve(model), None)]
    doc: dict[str, Any] = {"query": model, "model_id": model_id, "service_tier": service_tier,
                           "config": config.path or None, "cost_map": cost_map.info.as_dict(), "found": False,
                           "alias": alias,
                           "notes": notes, "resolutions": [], "suggestions": {"config": [], "cost_map": []}}
    for res, matched in results:
        entry: dict[str, Any] = {"status": "priced" if isinstance(res, PriceSheet) else "unpriced",
                                 "deployment": None if res.deployment is None else
                                 _deployment_doc(res.deployment, matched or "")}
        if isinstance(res, PriceSheet):
            doc["found"] = True
            entry["how"] = _how(resolver, res)
            entry.update(sheet_doc(res, service_tier, engine.adjuster(res)))
            unit = _NOT_BY_TOKEN_MODES.get(res.mode or "")
            if unit is not None:
                status = _CALL_STATUS.get(res.mode or "", "costcalc counts such calls unpriced for now")
                notes.append(f"mode {res.mode}: the proxy prices these calls {unit} (the price fields below); "
                             f"{status} (docs/pricing-call-types.md)")
            if (res.mode in _IMAGE_MODES or res.mode == "audio_speech") and res.map_key is not None:
                # per-image (by resolution too: xAI, fal.ai; per generation: Vertex Lyria) and per-pixel prices
                # reach LiteLLM's image calculators from the map row itself
                raw = cost_map.entry(res.map_key)
                shown = {f["field"] for f in entry["fields"]}
                entry["fields"] += [_rate_row(k, raw[k], f"cost_map:{res.map_key}") for k in sorted(raw)
                                    if _per_image_field(k) and raw.get(k) is not None and k not in shown]
        else:
            entry.update({"how": None, "model": res.model, "reason": res.reason,
                          "suggestions": list(res.suggestions)})
        doc["resolutions"].append(entry)
    if not group and not doc["found"]:
        doc["suggestions"] = suggestions(cost_map, config, model)
    return doc


def _per_image_field(field: str) -> bool:
    return field in IMAGE_PRICE_FIELDS or field == "output_cost_per_pixel" or (
        field.startswith("output_cost_per_image_") and "token" not in field)


Resolution = PriceSheet | Unpriced
# cost-map modes whose calls LiteLLM prices by other units than tokens (cost_calculator.completion_cost)
_NOT_BY_TOKEN_MODES = {"image_generation": "per image (by size and quality), per pixel or per image token",
                       "image_edit": "per image or per image token", "audio_speech": "per character or per token",
                       "audio_transcription": "per second of audio or per token", "rerank": "per query",
                       "video_generation": "per second of video", "search": "per query", "ocr": "per page",
                       "moderation": "per call"}

_IMAGE_MODES = ("image_generation", "image_edit")
_CALL_STATUS = {
    "image_generation": "costcalc prices them as the provider's image calculator does: by the response's image and "
                        "text tokens (gpt-image, Gemini, Vertex and Tencent image models), else per image or pixel "
                        "(CometAPI, RunwayML and DashScope per image)",
    "image_edit": "costcalc prices them as image generations (by the response's tokens, else per image)",
    "audio_speech": "costcalc prices them per character of the logged input, or by the response's tokens (without "
                    "a logged usage: the input text's tokens, estimated and marked approximate)",
    "audio_transcription": "costcalc prices them per second of the logged audio duration, or by the response's "
                           "tokens",
    "rerank": "costcalc prices them per search unit of the logged response (Jina AI, Voyage: per billed token)",
    "search": "costcalc prices them per query (the search tool's price, else this row's)",
    "video_generation": "costcalc prices them per second of the logged response's duration, plus its billable input "
                        "images at input_cost_per_image (a provider's reported cost where the deployment sets no "
                        "prices)",
    "ocr": "costcalc prices them per page of the logged response's usage_info (a deployment's own OCR prices laid "
           "over these field by field)",
}

_HOW = {
    "cost_map": "the cost map (no deployment by this name)",
    "custom_prices": "the deployment's own prices, as the proxy registers them",
    "cache_only_override_ignored": "the cost map: the deployment sets only cache prices, which the proxy ignores",
    "base_model": "the cost map entry of base_model",
    "deployment_model": "the cost map entry of the deployment's model",
}


def per_million_text(value: float) -> str:
    """Dollars per 1M tokens with at least two decimals and no trailing zeros beyond: $2.50, $3.375, $0.075."""
    if 0 < abs(value) < 1e-6:
        return f"${value:.2e}"
    text = f"{value:,.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def search_prices_text(value: dict[str, Any]) -> str:
    """A web search price table (``search_context_cost_per_query``) as its dollars per query by context size."""
    return ", ".join(f"{k.removeprefix('search_context_size_')} ${v:g}" for k, v in value.items()) + " per query"


def _rate(value: Any, unit: str | None) -> str:
    if isinstance(value, dict) and value and all(isinstance(v, (int, float)) for v in value.values()) \
            and all(k.startswith("search_context_size_") for k in value):
        return search_prices_text(value)
    if isinstance(value, (list, dict)):
        return "(table)"
    if unit is not None and unit.startswith("$/") and unit != "$/token":
        return f"{value:.6g} {unit}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def render_lookup(doc: dict[str, Any], console: Any) -> None:
    from rich.text import Text

    from .fit import fitted_table

    def line(text: str, style: str | None = None) -> None:
        console.print(Text(text, style=style or ""), soft_wrap=True)

    if not doc["found"] and not any(r["deployment"] for r in doc["resolutions"]):
        reason = doc["resolutions"][0]["reason"] if doc["resolutions"] else "not found"
        line(f"{doc['query']}: not found ({reason})", "bold")
        for where, names in doc["suggestions"].items():
            if names:
                line(f"did you mean ({where.replace('_', ' ')}): {', '.join(names)}")
        return
    for note in doc["notes"]:
        line(f"note: {note}", "yellow")
    for n, res in enumerate(doc["resolutions"]):
        if n:
            line("")
        d = res["deployment"]
        if d is None:
            line(f"{doc['query']} → cost map", "bold")
        else:
            ident = f" (id {d['model_id']})" if d["model_id"] else ""
            line(f"{doc['query']} → deployment #{d['index']} {d['model_name']}{ident}, matched by {d['matched_by']}",
                 "bold")
            line(f"  litellm_params.model: {d['model']}   base_model: {d['base_model'] or '-'}")
        if res["status"] != "priced":
            line(f"  not priced: {res['reason']}", "red")
            if res["suggestions"]:
                line(f"  did you mean (cost map): {', '.join(res['suggestions'])}")
            continue
        line(f"  priced from: {_HOW[res['how']]}")
        lookup = f" (lookup rule: {res['map_lookup']})" if res["map_lookup"] else ""
        line(f"  cost-map key: {res['map_key'] or '-'}{lookup}   provider: {res['provider'] or '-'}   "
             f"mode: {res['mode'] or '-'}")
        tier = f", service tier {doc['service_tier']}" if doc["service_tier"] else ""
        adjusting = adjustment_text(res["adjustment"])
        if adjusting:
            line(f"  litellm_settings: {adjusting}: the effective rates below include them")
        columns = ("part", "rate", "per 1M tokens", *(("effective per 1M",) if adjusting else ()), "key", "source")
        rates = []
        for row in res["effective"]:
            per_m = "" if row["per_million"] is None else per_million_text(row["per_million"])
            effective = () if not adjusting else \
                ("" if row["per_million"] is None else per_million_text(row["adjusted"] * 1_000_000),)
            rates.append([row["part"], _rate(row["value"], row["unit"]), per_m, *effective, row["key"], row["source"]])
        # key and source are the words that give way (elided in the middle); numbers stay whole
        words = {0, len(columns) - 2, len(columns) - 1}
        console.print(fitted_table(console, columns, rates, labels=words,
                                   title=f"rates that apply (prompt below every threshold{tier})"))
        fields = [[row["field"], _rate(row["value"], row["unit"]),
                   "" if row["per_million"] is None else per_million_text(row["per_million"]), row["source"]]
                  for row in res["fields"]]
        console.print(fitted_table(console, ("field", "value", "per 1M tokens", "source"), fields, labels={0, 3},
                                   title="price fields of the rate card"))
        for w in res["warnings"]:
            line(f"  warning: {w}", "yellow")


_WORD_START = "/-._:@"


def _rank(key: str, q: str) -> int:
    """0: the key (or its name after the provider) is the query; 1: starts with it; 2: the query starts a word
    of the key (after / - . _ : @); 3: anywhere."""
    low = key.lower()
    tail = low.rsplit("/", 1)[-1]
    if q in (low, tail):
        return 0
    if low.startswith(q) or tail.startswith(q):
        return 1
    at = low.find(q)
    while at > 0:
        if low[at - 1] in _WORD_START:
            return 2
        at = low.find(q, at + 1)
    return 3


def search_models(cost_map: CostMap, query: str | None, *, provider: str | None = None, mode: str | None = None,
                  limit: int = 50) -> dict[str, Any]:
    """Cost-map models whose key contains ``query`` (case-insensitive), best matches first: exact, prefix,
    word start, anywhere; then shorter keys, then alphabetical. Without a query: alphabetical.
    ``provider`` matches ``litellm_provider`` exactly or as its family (``vertex_ai`` finds
    ``vertex_ai-language-models``). Alias rows (``alias_of``) show their target's prices."""
    q = (query or "").strip().lower()
    want_provider = (provider or "").lower()
    hits = []
    for key in cost_map.entries:
        if q and q not in key.lower():
            continue
        entry = cost_map.entry(key)
        entry_provider = entry.get("litellm_provider")
        if not isinstance(entry_provider, str):
            continue  # not a model (e.g. LiteLLM's fallback_generalizations block)
        if want_provider and entry_provider.lower() != want_provider and \
                not entry_provider.lower().startswith(f"{want_provider}-"):
            continue
        if mode and entry.get("mode") != mode:
            continue
        rank = (_rank(key, q), len(key), key) if q else (0, 0, key)
        hits.append((rank, key, entry))
    hits.sort(key=lambda h: h[0])

    def per_m(entry: dict[str, Any], field: str) -> float | None:
        v = entry.get(field)
        return v * 1_000_000 if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    rows = []
    for _, key, entry in hits[: max(limit, 0)]:
        alias = cost_map.entries[key].get("alias_of")
        rows.append({
            "model": key, "alias_of": alias if isinstance(alias, str) else None,
            "provider": entry.get("litellm_provider"), "mode": entry.get("mode"),
            "input_per_million": per_m(entry, "input_cost_per_token"),
            "output_per_million": per_m(entry, "output_cost_per_token"),
            "cache_read_per_million": per_m(entry, "cache_read_input_token_cost"),
            "cache_write_per_million": per_m(entry, "cache_creation_input_token_cost"),
            "max_input_tokens": entry.get("max_input_tokens"),
        })
    return {"query": query, "provider": provider, "mode": mode, "matches": len(hits), "models": rows}


def config_routes(cost_map: CostMap, config: ProxyConfig, query: str | None) -> list[dict[str, Any]]:
    """The config's router_settings.model_group_alias entries whose alias or target contains ``query``: names a
    client may call that the proxy serves from another model group (``models --config`` lists them)."""
    q = (query or "").strip().lower()
    routing = Resolver(cost_map, config).routing
    return [{"alias": alias, "target": target, "hidden": alias in config.hidden_aliases,
             "served": bool(routing.deployments_named(target))}
            for alias, target in config.model_group_alias.items()
            if not q or q in alias.lower() or q in target.lower()]


def render_models(doc: dict[str, Any], console: Any) -> None:
    from .fit import fitted_table

    rows = doc["models"]
    for route in doc.get("aliases") or []:
        hidden = " (hidden)" if route["hidden"] else ""
        served = "" if route["served"] else ": no deployment serves it (the proxy fails these calls)"
        console.print(f"alias {route['alias']} → model group {route['target']}{hidden}{served}", soft_wrap=True)
    if not rows:
        console.print("no matching models")
        return
    def m(v: float | None) -> str:
        return "-" if v is None else per_million_text(v)

    cells = []
    for r in rows:
        name = r["model"] if r["alias_of"] is None else f"{r['model']} → {r['alias_of']}"
        cells.append([name, r["provider"] or "", r["mode"] or "", m(r["input_per_million"]),
                      m(r["output_per_million"]), m(r["cache_read_per_million"]), m(r["cache_write_per_million"]),
                      f"{r['max_input_tokens']:,}" if isinstance(r["max_input_tokens"], int) else "-"])
    # narrow terminals lose the mode, then the context size, before a model name is shortened
    console.print(fitted_table(console, ("model", "provider", "mode", "input", "output", "cache read", "cache write",
                                         "context"), cells, labels={0, 1, 2}, optional=(2, 7),
                               title="prices per 1M tokens"))
    if doc["matches"] > len(rows):
        console.print(f"{len(rows)} of {doc['matches']} matches (--limit to see more)")
