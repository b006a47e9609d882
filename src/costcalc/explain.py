"""Explaining prices: ``lookup`` (how a model resolves, every price with its source) and ``models`` (map search).

Both are built on the engine's own resolution (``resolve.py``) and rate selection (``pricing.band_rates``),
never on a second implementation of them.
"""

from __future__ import annotations

from typing import Any

from .config import ProxyConfig
from .costmap import CostMap
from .pricing import band_rates
from .resolve import PriceSheet, Resolver, Unpriced

PER_SECOND_KEYS = ("cost_per_second", "input_cost_per_second", "output_cost_per_second")

# The effective rates of the base band, with the rate field each falls back to.
_EFFECTIVE = (
    ("input", "input"), ("output", "output"), ("cache_read", "cache_read"), ("cache_write", "cache_write"),
    ("cache_write_1h", "cache_write_1h"), ("reasoning", "reasoning"), ("audio_input", "audio_input"),
    ("audio_output", "audio_output"), ("image_input", "image_input"),
)


def _rate_row(field: str, value: Any, source: str) -> dict[str, Any]:
    row: dict[str, Any] = {"field": field, "value": value, "source": source}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if field in PER_SECOND_KEYS:
            row["unit"] = "$/s"
        elif "multiplier" in field:
            row["unit"] = "x"
        else:
            row["unit"] = "$/token"
            row["per_million"] = value * 1_000_000
    return row


def sheet_doc(sheet: PriceSheet, service_tier: str | None = None) -> dict[str, Any]:
    """Everything about one rate card: how it was chosen, its fields with sources, the effective rates."""
    fields = [_rate_row(k, v, sheet.sources.get(k, "")) for k, v in sorted(sheet.rates.items())]
    doc: dict[str, Any] = {
        "model": sheet.model,
        "rule": sheet.rule,
        "provider": sheet.provider,
        "map_key": sheet.map_key,
        "deployment": None,
        "mode": sheet.mode,
        "per_second": sheet.per_second,
        "fields": fields,
        "warnings": list(sheet.warnings),
    }
    d = sheet.deployment
    if d is not None:
        doc["deployment"] = {"model_name": d.model_name, "model": d.model, "model_id": d.model_id,
                             "base_model": d.base_model, "index": d.index + 1}
    if sheet.per_second:
        key, rate = sheet.per_second_rate  # type: ignore[misc]
        doc["effective"] = [{"part": "per_second", "key": key, "value": rate, "unit": "$/s",
                             "source": sheet.sources.get(key, "")}]
        return doc
    rates = band_rates(sheet.rates, 0, service_tier, sheet.provider)
    effective = []
    for part, attr in _EFFECTIVE:
        value = getattr(rates, attr)
        key = rates.keys.get(part, "")
        if value is None:
            value, key = rates.input, f"{rates.keys.get('input', '')} (no dedicated rate)"
        base_key = key.split(" ")[0]
        source = sheet.sources.get(base_key)
        if source is None:
            source = "default: 0" if base_key in ("input_cost_per_token", "output_cost_per_token") else "default"
        if "(" in key:
            source = f"{source}; {key[key.index('(') + 1:-1]}"
        effective.append({"part": part, "key": base_key, "value": value, "unit": "$/token",
                          "per_million": value * 1_000_000, "source": source})
    doc["effective"] = effective
    return doc


def lookup_doc(cost_map: CostMap, config: ProxyConfig, model: str, *, model_id: str | None = None,
               service_tier: str | None = None) -> dict[str, Any]:
    """The ``lookup --format json`` document."""
    resolver = Resolver(cost_map, config)
    group = resolver.deployments_named(model)
    if model_id is not None:
        picked, _ = resolver.pick_deployment(model, model_id)
        group = [picked] if picked is not None else []
    results: list[Resolution] = []
    if group:
        results = [resolver.resolve_deployment(d, model) for d in group]
    else:
        results = [resolver.resolve(model)]
    doc: dict[str, Any] = {"query": model, "model_id": model_id, "service_tier": service_tier,
                           "cost_map": cost_map.info.as_dict(), "found": False, "resolutions": []}
    for res in results:
        if isinstance(res, PriceSheet):
            doc["found"] = True
            doc["resolutions"].append({"status": "priced", **sheet_doc(res, service_tier)})
        else:
            entry = {"status": "unpriced", "model": res.model, "reason": res.reason,
                     "suggestions": list(res.suggestions)}
            if res.deployment is not None:
                entry["deployment"] = {"model_name": res.deployment.model_name, "model": res.deployment.model,
                                       "model_id": res.deployment.model_id, "index": res.deployment.index + 1}
            doc["resolutions"].append(entry)
    return doc


Resolution = PriceSheet | Unpriced


def _fmt_rate(row: dict[str, Any]) -> tuple[str, str]:
    value = row["value"]
    if row.get("unit") == "$/s":
        return f"{value:g} $/s", ""
    if "per_million" in row:
        return f"{value:.6g}", f"${row['per_million']:,.4f}".rstrip("0").rstrip(".")
    return str(value), ""


def render_lookup(doc: dict[str, Any], console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    for res in doc["resolutions"]:
        if res["status"] != "priced":
            console.print(Text(f"{res['model']}: not priced — {res['reason']}"))
            if res.get("suggestions"):
                console.print(Text("did you mean: " + ", ".join(res["suggestions"])))
            continue
        d = res["deployment"]
        head = f"{doc['query']}"
        if d is not None:
            head += f" → deployment #{d['index']} ({d['model']}"
            head += f", id {d['model_id']})" if d["model_id"] else ")"
        console.print(Text(head, style="bold"))
        console.print(Text(f"resolved by: {res['rule']}"))
        console.print(Text(f"provider: {res['provider'] or '(unknown)'}   cost-map key: {res['map_key'] or '-'}"))
        table = Table(title="effective rates (prompt below every threshold)", title_justify="left")
        for col in ("part", "rate ($/token)", "per 1M tokens", "from key", "source"):
            table.add_column(col, justify="right" if col.startswith(("rate", "per")) else "left")
        for row in res["effective"]:
            rate, per_m = _fmt_rate(row)
            table.add_row(row["part"], rate, per_m, row["key"], row["source"])
        console.print(table)
        table = Table(title="all price fields", title_justify="left")
        for col in ("field", "value", "per 1M tokens", "source"):
            table.add_column(col, justify="right" if col in ("value", "per 1M tokens") else "left")
        for row in res["fields"]:
            if isinstance(row["value"], (list, dict)):
                table.add_row(row["field"], "(table)", "", row["source"])
                continue
            rate, per_m = _fmt_rate(row)
            table.add_row(row["field"], rate, per_m, row["source"])
        console.print(table)
        for w in res["warnings"]:
            console.print(Text(f"warning: {w}", style="yellow"))
    if not doc["found"]:
        for res in doc["resolutions"]:
            if res["status"] == "unpriced":
                break


def search_models(cost_map: CostMap, query: str | None, *, provider: str | None = None, mode: str | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
    """Map entries whose key contains ``query`` (case-insensitive), exact and prefix matches first."""
    q = (query or "").lower()
    hits = []
    for key, entry in cost_map.entries.items():
        low = key.lower()
        if q and q not in low:
            continue
        if provider and entry.get("litellm_provider") != provider:
            continue
        if mode and entry.get("mode") != mode:
            continue
        tail = low.rsplit("/", 1)[-1]
        rank = (0 if low == q or tail == q else 1 if low.startswith(q) or tail.startswith(q) else 2, len(key), key)
        hits.append((rank, key, entry))
    hits.sort(key=lambda h: h[0])

    def per_m(entry: dict[str, Any], field: str) -> float | None:
        v = entry.get(field)
        return v * 1_000_000 if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    return [
        {"model": key, "provider": entry.get("litellm_provider"), "mode": entry.get("mode"),
         "input_per_million": per_m(entry, "input_cost_per_token"),
         "output_per_million": per_m(entry, "output_cost_per_token"),
         "cache_read_per_million": per_m(entry, "cache_read_input_token_cost"),
         "cache_write_per_million": per_m(entry, "cache_creation_input_token_cost"),
         "max_input_tokens": entry.get("max_input_tokens")}
        for _, key, entry in hits[:limit]
    ]


def render_models(rows: list[dict[str, Any]], console: Any) -> None:
    from rich.table import Table

    table = Table(title="prices per 1M tokens", title_justify="left")
    for col in ("model", "provider", "mode", "input", "output", "cache read", "cache write", "context"):
        table.add_column(col, justify="left" if col in ("model", "provider", "mode") else "right")

    def m(v: float | None) -> str:
        return "-" if v is None else f"${v:,.4f}".rstrip("0").rstrip(".")

    for r in rows:
        table.add_row(r["model"], r["provider"] or "", r["mode"] or "", m(r["input_per_million"]),
                      m(r["output_per_million"]), m(r["cache_read_per_million"]), m(r["cache_write_per_million"]),
                      f"{r['max_input_tokens']:,}" if isinstance(r["max_input_tokens"], int) else "-")
    console.print(table)
    if not rows:
        console.print("no matching models")
