"""A config's custom prices against the public cost map: field by field, and spend over usage records.

``price_diffs`` compares, for every deployment that sets prices, each price field as the proxy registers it
(resolve.Resolver) with the cost-map entry of its backend model, and names the fields that change silently: a
side billed at $0, cache and service-tier rates inherited unchanged, long-context rates that are not.

``SpendDiff`` re-prices usage records twice, streaming: under the config (exactly as ``costcalc price`` does) and
under the bare cost map. "Under the bare cost map" means what the public price list charges for the model that
actually served the call: a PricingEngine with an empty config, called with the record's deployment's backend
model — for an alias, the deployment's ``base_model`` when the map knows it, else its ``litellm_params.model``
(for a wildcard deployment, the model it served). Custom prices, ``cost_discount_config`` and
``cost_margin_config`` do not apply there; the record's own per-request prices and service tier apply in both.
A record whose backend the map cannot price is counted (with its config spend), never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ..engines.streaming import Priced, PricingEngine
from ..pricing.calltypes import IMAGE_PRICE_FIELDS, OCR_PRICE_FIELDS
from ..rates.config import Deployment, ProxyConfig
from ..rates.costmap import CostMap
from ..rates.resolve import Resolver
from ..rates.sheets import PriceSheet, model_info_view, prices_anything
from ..reading.jsonl import read_usage
from ..reading.records import Rejected, Skipped
from .aggregate import exact, to_float
from .explain import config_routes, effective_rates

# A rate key → (part of the call it prices, size threshold in tokens or None, service-tier suffix or None).
_BASES = (
    ("cache_creation_input_token_cost_above_1hr", "cache_write_1h"),
    ("cache_creation_input_token_cost", "cache_write"),
    ("cache_read_input_token_cost", "cache_read"),
    ("output_cost_per_reasoning_token", "reasoning"),
    ("input_cost_per_audio_token", "audio_input"),
    ("output_cost_per_audio_token", "audio_output"),
    ("input_cost_per_image_token", "image_input"),
    ("input_cost_per_token", "input"),
    ("output_cost_per_token", "output"),
)
_RATE_KEY = re.compile(r"^(?P<base>[a-z_]+?(?:_above_1hr)?)(?:_above_(?P<n>\d+)(?P<k>k?)_tokens)?"
                       r"(?:_(?P<tier>priority|flex|balanced|ultrafast))?$")
_FIRST = ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost",
          "cache_creation_input_token_cost", "cache_creation_input_token_cost_above_1hr")


def _rate_key(name: str) -> tuple[str, int, str | None] | None:
    m = _RATE_KEY.match(name)
    if m is None:
        return None
    part = dict(_BASES).get(m["base"])
    if part is None:
        return None
    threshold = int(m["n"]) * (1000 if m["k"] else 1) if m["n"] else None
    # A prompt one token above the threshold lands in that band (xAI's ">=" is covered too).
    return part, (threshold + 1 if threshold is not None else 0), m["tier"]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One price field of a deployment: what the config sets, what the cost map says, what the proxy bills."""

    field: str
    config: Any  # the value the config sets (None: not set)
    cost_map: Any  # the backend model's map price (None: the map has no such field)
    applies: Any  # the rate the proxy bills for what this field prices (None: nothing of its kind applies)
    source: str  # where ``applies`` comes from (lookup's sources)
    status: str  # overridden | unchanged | added | inherited | zeroed | not inherited | ignored | dropped
    note: str = ""

    @property
    def delta(self) -> float | None:
        a, m = _number(self.applies), _number(self.cost_map)
        return None if a is None or m is None else a - m

    @property
    def change(self) -> float | None:
        """``delta`` as a fraction of the map price (None when the map price is 0 or absent)."""
        d, m = self.delta, _number(self.cost_map)
        return None if d is None or not m else d / m

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "config": self.config, "cost_map": self.cost_map, "applies": self.applies,
                "delta": self.delta, "change": self.change, "status": self.status, "source": self.source,
                "note": self.note}


@dataclass(frozen=True, slots=True)
class DeploymentDiff:
    deployment: Deployment
    backend: str  # the model the proxy inherits from: base_model, else litellm_params.model
    map_key: str | None  # its cost-map entry; None: the map does not know the backend
    pricing: str  # custom_prices | per_second | cache_only_override_ignored | not_custom_prices
    fields: tuple[FieldDiff, ...]
    warnings: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        d = self.deployment
        return {"deployment": d.label, "index": d.index + 1, "model_name": d.model_name, "model": d.model,
                "model_id": d.model_id, "backend": self.backend, "map_key": self.map_key,
                "known_to_map": self.map_key is not None, "pricing": self.pricing,
                "fields": [f.as_dict() for f in self.fields], "warnings": list(self.warnings)}


def _order(name: str) -> tuple[int, str]:
    return (_FIRST.index(name), "") if name in _FIRST else (len(_FIRST), name)


def _config_values(d: Deployment) -> dict[str, Any]:
    return {**d.info_prices, **d.params_prices}  # litellm_params wins (PRICING.md §7.1)


def deployment_diff(resolver: Resolver, d: Deployment) -> DeploymentDiff:
    """How deployment ``d``'s prices differ from the cost map's prices of its backend model."""
    backend = d.base_model or d.model
    set_by_config = _config_values(d)
    if resolver.registry.uses_custom_pricing(d):
        reg = resolver.registry.registered(d)
        map_key = reg.backend_key
    else:
        reg = None
        match = resolver.cost_map.find(backend, d.pricing_provider or d.custom_llm_provider)
        map_key = match.key if match is not None else None
    map_view = model_info_view(resolver.cost_map.entries[map_key]) if map_key else {}
    sheet = resolver.resolve_deployment(d, d.model if d.is_wildcard else d.model_name)
    warnings = sheet.warnings if isinstance(sheet, PriceSheet) else ()
    rows: list[FieldDiff] = []
    dropped = [FieldDiff(k, None, map_view.get(k), None, "dropped", "dropped",
                         "an undeclared litellm_params key: the proxy drops it (model_info would carry it)")
               for k in d.dropped_params_prices]

    if reg is None or not prices_anything(reg.entry):
        # Not custom pricing at all (only keys LiteLLM does not read), or a cache-only override: the proxy prices
        # the deployment from the cost map, so every value the config sets is ignored.
        pricing = "not_custom_prices" if reg is None else "cache_only_override_ignored"
        rates = sheet.rates if isinstance(sheet, PriceSheet) else {}
        src = sheet.sources if isinstance(sheet, PriceSheet) else {}
        for k in sorted(set_by_config, key=_order):
            if k in IMAGE_PRICE_FIELDS and (d.custom_llm_provider or d.model.split("/", 1)[0]) == "bedrock":
                # llms/bedrock/image_generation: the image calculators read the cost map alone
                rows.append(FieldDiff(k, set_by_config[k], map_view.get(k), map_view.get(k), "cost_map", "ignored",
                                      "Bedrock's image calculators price image calls from the cost map only"))
                continue
            if k in IMAGE_PRICE_FIELDS:
                # the image calculator reads the deployment's own model_info whether or not the Router registered it
                rows.append(FieldDiff(k, set_by_config[k], map_view.get(k), set_by_config[k], "config", "overridden",
                                      "prices image calls (LiteLLM's image calculator reads the deployment's "
                                      "own prices)"))
                continue
            if k in OCR_PRICE_FIELDS:
                # cost_calculator._ocr_model_info: the deployment's own OCR prices over the map's, field by field
                rows.append(FieldDiff(k, set_by_config[k], map_view.get(k), set_by_config[k], "config", "overridden",
                                      "prices OCR calls (laid over the cost map's OCR prices field by field)"))
                continue
            applies = rates.get(k)
            rows.append(FieldDiff(k, set_by_config[k], map_view.get(k), applies,
                                  src.get(k, "cost_map") if applies is not None else "-", "ignored",
                                  "a cache-only override is ignored by the proxy" if reg is not None
                                  else "no key here turns on custom pricing: the deployment is priced from "
                                  "the cost map"))
        return DeploymentDiff(d, backend, map_key, pricing, (*rows, *dropped), tuple(warnings))

    card = model_info_view(reg.entry)
    sources = {k: reg.sources.get(k, "config:model_info") for k in card}
    provider = sheet.provider if isinstance(sheet, PriceSheet) else None
    per_second = isinstance(sheet, PriceSheet) and sheet.per_second
    bands: dict[tuple[int, str | None], dict[str, dict[str, Any]]] = {}

    def effective(part: str, prompt: int, tier: str | None) -> dict[str, Any]:
        if (prompt, tier) not in bands:
            bands[prompt, tier] = {r["part"]: r for r in effective_rates(card, sources, provider, prompt, tier)}
        return bands[prompt, tier][part]

    for k in sorted(set(card) | set(map_view) | set(set_by_config), key=_order):
        cfg, mapped = set_by_config.get(k), map_view.get(k)
        if k not in card and cfg is not None:
            rows.append(FieldDiff(k, cfg, mapped, None, "-", "ignored", "not a price LiteLLM's cost formulas read"))
            continue
        if k in card:
            applies, source = card[k], sources[k]
            if source.startswith("inherited:"):
                status, note = "inherited", "copied unchanged from the cost map"
            elif mapped is None:
                status, note = "added", "the cost map has no such price"
            else:
                status, note = ("unchanged", "") if applies == mapped else ("overridden", "")
            rows.append(FieldDiff(k, cfg, mapped, applies, source, status, note))
            continue
        # The map prices this; the deployment's rate card does not carry it.
        key = _rate_key(k)
        if per_second:
            rows.append(FieldDiff(k, None, mapped, None, "-", "not inherited",
                                  "per-second pricing replaces token prices"))
        elif key is None or k.endswith("_batches"):
            rows.append(FieldDiff(k, None, mapped, None, "-", "not inherited",
                                  "the proxy does not copy it onto the deployment's rate card"))
        else:
            part, prompt, tier = key
            eff = effective(part, prompt, tier)
            applies = eff["value"]
            zeroed = applies == 0 and (_number(mapped) or 0) > 0
            where = f" above {prompt - 1:,} prompt tokens" if prompt else ""
            note = (f"billed at $0{where}" if zeroed else
                    f"billed at {eff['key']} ({eff['source']}){where}")
            rows.append(FieldDiff(k, None, mapped, applies, eff["source"], "zeroed" if zeroed else "not inherited",
                                  note))
    pricing = "per_second" if per_second else "custom_prices"
    return DeploymentDiff(d, backend, map_key, pricing, (*rows, *dropped), tuple(warnings))


def price_diffs(cost_map: CostMap, config: ProxyConfig) -> list[DeploymentDiff]:
    """One DeploymentDiff per deployment that sets any price (including ones the proxy ignores or drops)."""
    resolver = Resolver(cost_map, config)
    return [deployment_diff(resolver, d) for d in config.deployments
            if d.has_custom_prices or d.dropped_params_prices]


# -- spend ---------------------------------------------------------------------------------------------------


def map_model(resolver: Resolver, d: Deployment, called: str) -> str:
    """The model a call for ``called`` through deployment ``d`` is, to the public cost map: ``base_model``
    (under the deployment's provider, as the resolver prices it) when the map knows it, else the model the
    deployment serves (``custom_llm_provider`` prefixed when the name has no provider)."""
    served = resolver.routing.served_model(d, called)
    provider = resolver.names.deployment_provider(d, served)
    if d.custom_llm_provider and not served.startswith(f"{d.custom_llm_provider}/"):
        served = f"{d.custom_llm_provider}/{served}"
    if d.base_model:
        base = resolver.names.prefixed(d.base_model, d.pricing_provider or provider)
        if resolver.cost_map.find(base) is not None:
            return base
    return served


@dataclass(slots=True)
class SpendRow:
    """Spend of one deployment (or of one model called without a deployment), in exact integer units."""

    deployment: str | None
    model: str
    map_model: str
    records: int = 0
    both: int = 0  # records priced under the config and under the map
    config: int = 0  # spend of those records under the config
    cost_map: int = 0  # ... and under the bare cost map
    map_unpriced: int = 0  # records only the config prices
    map_unpriced_config: int = 0  # their spend under the config
    config_unpriced: int = 0  # records only the map prices
    config_unpriced_map: int = 0  # their spend under the map
    neither: int = 0

    def merge(self, other: SpendRow) -> None:
        for name in ("records", "both", "config", "cost_map", "map_unpriced", "map_unpriced_config",
                     "config_unpriced", "config_unpriced_map", "neither"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def config_spend(self) -> int:
        """Everything the config prices (what ``costcalc price`` totals), whether the map prices it or not."""
        return self.config + self.map_unpriced_config

    @property
    def map_spend(self) -> int:
        return self.cost_map + self.config_unpriced_map

    def as_dict(self, total_difference: int) -> dict[str, Any]:
        config, cost_map = self.config_spend, self.map_spend
        diff = config - cost_map
        return {
            "deployment": self.deployment, "model": self.model, "map_model": self.map_model,
            "records": self.records, "priced_by_both": self.both,
            "config": to_float(config), "cost_map": to_float(cost_map), "difference": to_float(diff),
            # "+ 0.0" turns a -0.0 (no difference, over a negative total) into 0.0
            "change": diff / cost_map + 0.0 if cost_map else None,
            "share": diff / total_difference + 0.0 if total_difference else None,
            "unpriced_by_map": {"records": self.map_unpriced, "config": to_float(self.map_unpriced_config)},
            "unpriced_by_config": {"records": self.config_unpriced, "cost_map": to_float(self.config_unpriced_map)},
            "unpriced_by_both": self.neither,
        }


@dataclass
class SpendReport:
    rows: dict[str, SpendRow] = field(default_factory=dict)
    read: int = 0
    rejected: int = 0
    skipped: int = 0

    @property
    def total(self) -> SpendRow:
        total = SpendRow(None, "TOTAL", "")
        for row in self.rows.values():
            total.merge(row)
        return total

    def sorted_rows(self) -> list[SpendRow]:
        """Largest absolute difference first; then by name."""
        return sorted(self.rows.values(),
                      key=lambda r: (-abs(r.config_spend - r.map_spend), r.deployment or r.model))

    def as_dict(self) -> dict[str, Any]:
        total = self.total
        whole = total.config_spend - total.map_spend
        return {"rows": [r.as_dict(whole) for r in self.sorted_rows()], "total": total.as_dict(whole),
                "accounting": {"read": self.read, "records": total.records, "rejected": self.rejected,
                               "skipped": self.skipped}}


class SpendDiff:
    """Re-prices records under the config and under the bare cost map; memory grows with deployments only."""

    def __init__(self, cost_map: CostMap, config: ProxyConfig):
        self.config_engine = PricingEngine(cost_map, config)
        self.map_engine = PricingEngine(cost_map, ProxyConfig.empty())
        self.report = SpendReport()
        self._routes: dict[tuple[str, str | None], tuple[str, str | None, str, str]] = {}

    def _route(self, model: str, model_id: str | None) -> tuple[str, str | None, str, str]:
        """(row key, deployment label, row name, the name the bare map is called with) for a record."""
        key = (model, model_id)
        route = self._routes.get(key)
        if route is None:
            resolver = self.config_engine.resolver
            target = resolver.routing.alias_target(model)  # router_settings.model_group_alias
            routed = model if target is None else target
            d, _ = resolver.routing.pick_deployment(routed, model_id)
            if d is None:
                route = (f"model:{model}", None, model, model)
            else:
                route = (f"deployment:{d.index}", d.label, d.model_name, map_model(resolver, d, routed))
            self._routes[key] = route
        return route

    def add(self, outcome: Any) -> None:
        rep = self.report
        rep.read += 1
        if isinstance(outcome, Rejected):
            rep.rejected += 1
            return
        if isinstance(outcome, Skipped):
            rep.skipped += 1
            return
        r = outcome.record
        key, label, name, bare_name = self._route(r.model, r.model_id)
        row = rep.rows.get(key)
        if row is None:
            row = rep.rows[key] = SpendRow(label, name, bare_name)
        elif row.map_model != bare_name and not row.map_model.endswith("(several)"):
            row.map_model = f"{row.map_model} (several)"
        bare = self.map_engine.price(replace(r, model=bare_name, model_id=None))
        row.records += 1
        config_ok, map_ok = isinstance(outcome, Priced), isinstance(bare, Priced)
        if config_ok and map_ok:
            row.both += 1
            row.config += exact(outcome.cost.total)
            row.cost_map += exact(bare.cost.total)
        elif config_ok:
            row.map_unpriced += 1
            row.map_unpriced_config += exact(outcome.cost.total)
        elif map_ok:
            row.config_unpriced += 1
            row.config_unpriced_map += exact(bare.cost.total)
        else:
            row.neither += 1

    def run(self, paths: Iterable[str]) -> SpendReport:
        for outcome in self.config_engine.outcomes(read_usage(paths)):
            self.add(outcome)
        return self.report


def diff_doc(cost_map: CostMap, config: ProxyConfig, usage: Iterable[str] = ()) -> dict[str, Any]:
    """The ``diff --format json`` document (schema in the README)."""
    usage = list(usage)
    doc: dict[str, Any] = {
        "config": config.path or None,
        "cost_map": cost_map.info.as_dict(),
        "deployments": [d.as_dict() for d in price_diffs(cost_map, config)],
        "aliases": config_routes(cost_map, config, None),
        "spend": None,
    }
    if usage:
        doc["spend"] = SpendDiff(cost_map, config).run(usage).as_dict()
    return doc


# -- rendering (rich is imported only here, by the CLI's table format) ------------------------------------------


def _value(name: str, v: Any, signed: bool = False) -> str:
    from .explain import per_million_text, search_prices_text

    if v is None:
        return "-"
    if isinstance(v, dict) and v and all(isinstance(x, (int, float)) for x in v.values()):
        return search_prices_text(v)
    if isinstance(v, (dict, list)):
        return "(table)"
    sign = ("+" if v > 0 else "-" if v < 0 else "") if signed else ("-" if v < 0 else "")
    a = abs(v)
    if "per_second" in name:
        return f"{sign}${a:.6g}/s"
    if "multiplier" in name:
        return f"{sign}{a:g}x"
    if "token" in name:
        return sign + per_million_text(a * 1_000_000)
    return f"{sign}${a:.6g}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:+.1f}%"


def _heading(dep: dict[str, Any]) -> str:
    head = f"{dep['deployment']}: {dep['backend']}"
    if dep["map_key"] is None:
        return head + " is not in the cost map (every price here is the config's own)"
    ignored = {"cache_only_override_ignored": "; the proxy ignores this cache-only override",
               "not_custom_prices": "; no key here turns on custom pricing",
               "per_second": "; priced per second"}.get(dep["pricing"], "")
    if any(str(w).startswith("sets only prices of calls priced by other units") for w in dep.get("warnings") or ()):
        ignored = "; its prices apply to calls priced by other units than tokens (images, video, OCR)"
    return f"{head} vs cost map {dep['map_key']!r}{ignored}"


FIELD_COLUMNS = ("field", "config", "cost map", "applies", "delta", "change", "status", "source")
SPEND_COLUMNS = ("deployment", "records", "config", "cost map", "difference", "change", "share",
                 "unpriced by map", "unpriced by config")


def field_cells(f: dict[str, Any]) -> list[str]:
    name = f["field"]
    return [name, _value(name, f["config"]), _value(name, f["cost_map"]), _value(name, f["applies"]),
            _value(name, f["delta"], signed=True), _pct(f["change"]), f["status"], f["source"]]


def spend_decimals(spend: dict[str, Any]) -> int:
    """The spend table's decimals, from its rows' amounts (``money.decimals_for``)."""
    from .money import decimals_for

    return decimals_for(max(abs(r["config"]), abs(r["cost_map"])) for r in spend["rows"])


def spend_cells(row: dict[str, Any], decimals: int) -> list[str]:
    from .money import money_text

    def money(v: float, signed: bool = False) -> str:
        return money_text(v, decimals, signed=signed)

    um, uc = row["unpriced_by_map"], row["unpriced_by_config"]
    name = row["deployment"] or (row["model"] if row["model"] == "TOTAL" else f"{row['model']} (no deployment)")
    return [name, f"{row['records']:,}", money(row["config"]), money(row["cost_map"]),
            money(row["difference"], signed=True), _pct(row["change"]),
            "-" if row["share"] is None else f"{row['share'] * 100:.1f}%",
            f"{um['records']:,} ({money(um['config'])} under config)" if um["records"] else "-",
            f"{uc['records']:,} ({money(uc['cost_map'])} under map)" if uc["records"] else "-"]


def accounting_text(spend: dict[str, Any]) -> str:
    a, t = spend["accounting"], spend["total"]
    return (f"{a['read']:,} records read: {t['priced_by_both']:,} priced both ways, "
            f"{t['unpriced_by_map']['records']:,} unpriced by the map, "
            f"{t['unpriced_by_config']['records']:,} unpriced by the config, {t['unpriced_by_both']:,} by neither, "
            f"{a['rejected']:,} rejected, {a['skipped']:,} skipped")


def render_diff(doc: dict[str, Any], console: Any) -> None:
    from rich.text import Text

    from .fit import fitted_table

    for route in doc.get("aliases") or []:
        served = "its calls are priced as that group's" if route["served"] else \
            "no deployment serves it (the proxy fails these calls)"
        console.print(Text(f"alias {route['alias']} → model group {route['target']}: {served}"), soft_wrap=True)
    if not doc["deployments"]:
        console.print(Text("no deployment sets prices: everything is priced from the cost map"), soft_wrap=True)
    for dep in doc["deployments"]:
        console.print(Text(_heading(dep), style="bold"), soft_wrap=True)
        # status and source are words that may be elided; the applied price and the change go last when narrow
        console.print(fitted_table(console, FIELD_COLUMNS, [field_cells(f) for f in dep["fields"]],
                                   labels={0, 6, 7}, optional=(7, 3, 5)))
        console.print(Text("prices per 1M tokens; per second for time prices"))
        for w in dep["warnings"]:
            console.print(Text(f"  warning: {w}", style="yellow"), soft_wrap=True)
        console.print()
    spend = doc["spend"]
    if spend is None:
        return
    decimals = spend_decimals(spend)
    rows = [spend_cells(row, decimals) for row in [*spend["rows"], spend["total"]]]
    console.print(fitted_table(console, SPEND_COLUMNS, rows, labels={0}, optional=(8, 7, 6, 5, 1),
                               styles=[None] * (len(rows) - 1) + ["bold"],
                               title="spend under the config vs under the bare cost map"))
    console.print(Text(accounting_text(spend)), soft_wrap=True)


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |\n"


def write_diff_markdown(doc: dict[str, Any], out: Any) -> None:
    for dep in doc["deployments"]:
        out.write(f"### {_heading(dep)}\n\n")
        out.write(_md_row(FIELD_COLUMNS))
        out.write(_md_row("---" for _ in FIELD_COLUMNS))
        for f in dep["fields"]:
            out.write(_md_row(field_cells(f)))
        out.write("\nPrices per 1M tokens; per second for time prices.\n")
        for w in dep["warnings"]:
            out.write(f"- warning: {w}\n")
        out.write("\n")
    spend = doc["spend"]
    if spend is not None:
        out.write("### Spend under the config vs under the bare cost map\n\n")
        out.write(_md_row(SPEND_COLUMNS))
        out.write(_md_row("---" for _ in SPEND_COLUMNS))
        decimals = spend_decimals(spend)
        for row in spend["rows"]:
            out.write(_md_row(spend_cells(row, decimals)))
        out.write(_md_row(f"**{c}**" for c in spend_cells(spend["total"], decimals)))
        out.write(f"\n{accounting_text(spend)}\n")


def write_diff_csv(doc: dict[str, Any], out: Any) -> None:
    """Without usage: one row per deployment and field. With usage: one row per deployment's spend + TOTAL."""
    from .cells import SafeCsvWriter

    w = SafeCsvWriter(out)
    spend = doc["spend"]
    if spend is None:
        w.writerow(["deployment", "backend", "map_key", "field", "config", "cost_map", "applies", "delta", "change",
                    "status", "source"])
        for dep in doc["deployments"]:
            for f in dep["fields"]:
                w.writerow([dep["deployment"], dep["backend"], dep["map_key"] or "", f["field"],
                            *(_csv(f[k]) for k in ("config", "cost_map", "applies", "delta", "change")),
                            f["status"], f["source"]])
        return
    w.writerow(["deployment", "model", "map_model", "records", "priced_by_both", "config", "cost_map", "difference",
                "change", "share", "unpriced_by_map", "unpriced_by_map_config", "unpriced_by_config",
                "unpriced_by_config_cost_map", "unpriced_by_both"])
    for row in [*spend["rows"], spend["total"]]:
        w.writerow([row["deployment"] or "", row["model"], row["map_model"], row["records"], row["priced_by_both"],
                    *(_csv(row[k]) for k in ("config", "cost_map", "difference", "change", "share")),
                    row["unpriced_by_map"]["records"], _csv(row["unpriced_by_map"]["config"]),
                    row["unpriced_by_config"]["records"], _csv(row["unpriced_by_config"]["cost_map"]),
                    row["unpriced_by_both"]])


def _csv(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        import json

        return json.dumps(v, sort_keys=True)
    return repr(v) if isinstance(v, float) else str(v)
