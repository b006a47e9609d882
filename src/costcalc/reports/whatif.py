"""What-if before rollout: a new proxy config against the current one (``diff --config NEW --against CURRENT``).

Per deployment, every price field under both configs and the effective rate of each part of a call after each
config's discount and margin; with usage, the spend per model and in total under both, each side computed
exactly as ``costcalc price`` computes it with that config (one read of the input, priced by two engines).
Deployments are paired by ``model_name`` and ``model_info.id`` (without an id: by their order among the
deployments of that name).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..engines.streaming import PricingEngine
from ..pricing.calltypes import IMAGE_PRICE_FIELDS
from ..rates.config import Deployment, ProxyConfig
from ..rates.costmap import CostMap
from ..rates.sheets import PriceSheet
from .aggregate import TOTAL, Report
from .budget_replay import Replay
from .explain import adjusted_rate, adjustment_doc, effective_rates
from .money import exact_text

_PARTS = ("input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning")


def _keys(config: ProxyConfig) -> dict[tuple[str, str], Deployment]:
    """Each deployment under the key it is paired by."""
    out: dict[tuple[str, str], Deployment] = {}
    seen: dict[str, int] = {}
    for d in config.deployments:
        if d.model_id is not None:
            out[(d.model_name, f"id {d.model_id}")] = d
        else:
            n = seen[d.model_name] = seen.get(d.model_name, 0) + 1
            out[(d.model_name, f"#{n}")] = d
    return out


def _card(engine: PricingEngine, d: Deployment) -> dict[str, Any]:
    """One side of a deployment: its price fields, the effective rates after discount and margin, or why none."""
    if d.is_wildcard:
        return {"deployment": d.label, "status": "wildcard", "reason": "prices each called model from the cost map",
                "fields": {}, "effective": {}, "adjustment": None}
    card = engine.resolver.resolve_deployment(d, d.model_name)
    # the deployment's own image prices price its image calls whatever its token card is (pricing/calltypes.py)
    own = {**d.info_prices, **d.params_prices}
    images = {k: own[k] for k in IMAGE_PRICE_FIELDS if isinstance(own.get(k), (int, float))}
    if not isinstance(card, PriceSheet):
        return {"deployment": d.label, "status": "unpriced", "reason": card.reason, "fields": images,
                "effective": {}, "adjustment": None}
    adjuster = engine.adjuster(card)
    fields = {k: v for k, v in card.rates.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    fields.update(images)
    if card.per_second:
        rate = card.per_second_rate[1]  # type: ignore[index]
        effective = {"per_second": (rate, adjusted_rate(adjuster, rate))}
    else:
        rows = effective_rates(card.rates, card.sources, card.provider, 0, formula=card.formula, uplift=card.uplift)
        effective = {r["part"]: (r["value"], adjusted_rate(adjuster, r["value"])) for r in rows if r["part"] in _PARTS}
    return {"deployment": d.label, "status": "priced", "reason": None, "fields": fields, "effective": effective,
            "adjustment": adjustment_doc(adjuster)}


def _change(new: float | None, current: float | None) -> dict[str, Any]:
    delta = None if new is None or current is None else new - current
    return {"delta": delta, "change": delta / current + 0.0 if delta is not None and current else None}


def deployment_changes(cost_map: CostMap, new: ProxyConfig, current: ProxyConfig) -> list[dict[str, Any]]:
    """Every deployment of either config: ``changed``, ``unchanged``, ``added`` or ``removed``, with each price
    field and each part's effective rate (after discount and margin) under both."""
    engines = PricingEngine(cost_map, new), PricingEngine(cost_map, current)
    new_keys, current_keys = _keys(new), _keys(current)
    out = []
    for key in [*new_keys, *(k for k in current_keys if k not in new_keys)]:
        sides = [(_card(e, keys[key]) if key in keys else None) for e, keys in zip(engines, (new_keys, current_keys))]
        now, before = sides
        names = sorted({*(now or {}).get("fields", {}), *(before or {}).get("fields", {})})
        fields = []
        for name in names:
            a = (now or {}).get("fields", {}).get(name)
            b = (before or {}).get("fields", {}).get(name)
            fields.append({"field": name, "new": a, "current": b, **_change(a, b)})
        parts = list(dict.fromkeys([*(now or {}).get("effective", {}), *(before or {}).get("effective", {})]))
        effective = []
        for part in parts:
            a_rate, a_adj = (now or {}).get("effective", {}).get(part, (None, None))
            b_rate, b_adj = (before or {}).get("effective", {}).get(part, (None, None))
            effective.append({"part": part, "new": a_rate, "current": b_rate, "new_effective": a_adj,
                              "current_effective": b_adj, **_change(a_adj, b_adj)})
        if now is None or before is None:
            status = "added" if before is None else "removed"
        else:
            same = all(f["new"] == f["current"] for f in fields) and \
                all(e["new_effective"] == e["current_effective"] for e in effective) and \
                now["status"] == before["status"]
            status = "unchanged" if same else "changed"
        out.append({"model_name": key[0], "match": key[1], "status": status,
                    "new": None if now is None else {k: now[k] for k in ("deployment", "status", "reason",
                                                                         "adjustment")},
                    "current": None if before is None else {k: before[k] for k in ("deployment", "status", "reason",
                                                                                   "adjustment")},
                    "fields": fields, "effective": effective})
    return out


def _amount(units: int) -> Decimal:
    """An exact amount (10^-72 USD) as a Decimal: JSON writes it with every digit it has."""
    return Decimal(exact_text(units))


def _spend_row(model: str, new: Any, current: Any, unpriced: tuple[int, int]) -> dict[str, Any]:
    a = new.costs[TOTAL] if new is not None else 0
    b = current.costs[TOTAL] if current is not None else 0
    return {"model": model, "requests": {"new": new.requests if new else 0, "current": current.requests if current
                                         else 0},
            "new": _amount(a), "current": _amount(b), "difference": _amount(a - b),  # exact amounts
            "change": (a - b) / b if b else None,
            "unpriced": {"new": unpriced[0], "current": unpriced[1]}}


def spend_doc(new: Report, current: Report) -> dict[str, Any]:
    models = list(dict.fromkeys([*(k[0] for k in new.groups), *(k[0] for k in current.groups),
                                 *new.unpriced, *current.unpriced]))
    rows = [_spend_row(m, new.groups.get((m,)), current.groups.get((m,)),
                       (new.unpriced[m].count if m in new.unpriced else 0,
                        current.unpriced[m].count if m in current.unpriced else 0)) for m in models]
    rows.sort(key=lambda r: (-abs(r["new"] - r["current"]), r["model"]))
    total = _spend_row("TOTAL", new.totals, current.totals, (new.accounting.unpriced, current.accounting.unpriced))
    return {"rows": rows, "total": total,
            "accounting": {"new": new.accounting.as_dict(), "current": current.accounting.as_dict()}}


def alias_changes(new: ProxyConfig, current: ProxyConfig) -> list[dict[str, Any]]:
    """router_settings.model_group_alias entries that differ: a call to the alias is priced as another group."""
    out = []
    for alias in dict.fromkeys([*new.model_group_alias, *current.model_group_alias]):
        a, b = new.model_group_alias.get(alias), current.model_group_alias.get(alias)
        if a != b:
            status = "added" if b is None else "removed" if a is None else "changed"
            out.append({"alias": alias, "new": a, "current": b, "status": status})
    return out


def replay_doc(new: Replay, current: Replay) -> dict[str, Any]:
    """The budget replay under each config, side by side: per budget (in the order of the budgets) who would have
    been blocked under the current and the new config, from when, and the traffic and spend refused."""
    def side(o: Any) -> dict[str, Any]:
        d = o.as_dict()
        return {k: d[k] for k in ("allowed_requests", "refused_requests", "refused_cost", "first_refused",
                                  "blocked_until", "first_soft_alert", "status")}

    budgets = [{"budget": n.budget.label, **{k: v for k, v in n.as_dict().items()
                                              if k in ("entity", "id", "alias", "max_budget", "soft_budget",
                                                       "budget_duration")},
                "current": side(c), "new": side(n)} for n, c in zip(new.outcomes, current.outcomes)]
    totals = {name: {"refused_requests": r.refused_requests, "refused_cost": r.as_dict()["refused_cost"],
                     "undated_records": r.undated} for name, r in (("current", current), ("new", new))}
    return {"budgets": budgets, "totals": totals}


def whatif_doc(cost_map: CostMap, new: ProxyConfig, current: ProxyConfig,
               spend: tuple[Report, Report] | None = None,
               replays: tuple[Replay, Replay] | None = None) -> dict[str, Any]:
    """The ``diff --against --format json`` document (schema in the README); ``spend``: the per-model reports
    of the same usage priced under ``new`` and under ``current`` (reports.pipeline, once per config);
    ``replays``: the budget replay under each (``--replay-budgets``)."""
    doc: dict[str, Any] = {"config": new.path or None, "against": current.path or None,
                           "cost_map": cost_map.info.as_dict(),
                           "deployments": deployment_changes(cost_map, new, current),
                           "aliases": alias_changes(new, current), "spend": None}
    if spend is not None:
        doc["spend"] = spend_doc(*spend)
    if replays is not None:
        doc["budget_replay"] = replay_doc(*replays)
    return doc


# -- rendering (rich only here) --------------------------------------------------------------------------------

# fields priced per image, pixel, character or query are shown in their own units, not per 1M tokens
_PER_UNIT = {"image": "/image", "pixel": "/pixel", "character": "/character", "query": "/query"}


def _rate(value: float | None, per_second: bool = False) -> str:
    from .explain import per_million_text

    if value is None:
        return "-"
    return f"${value:.6g}/s" if per_second else per_million_text(value * 1_000_000)


def _field_rate(field: str, value: float | None) -> str:
    unit = _PER_UNIT.get(field.rsplit("_per_", 1)[-1])
    if unit is None or value is None:
        return _rate(value, "per_second" in field)
    return f"${value:.6g}{unit}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:+.1f}%"


def render_whatif(doc: dict[str, Any], console: Any) -> None:
    from rich.text import Text

    from .explain import adjustment_text
    from .fit import fitted_table
    from .money import decimals_for, money_text

    def line(text: str, style: str = "") -> None:
        console.print(Text(text, style=style), soft_wrap=True)

    for a in doc["aliases"]:
        line(f"alias {a['alias']}: {a['status']}: model group {a['current'] or '-'} → {a['new'] or '-'}", "bold")
    unchanged = [d for d in doc["deployments"] if d["status"] == "unchanged"]
    for dep in doc["deployments"]:
        if dep["status"] == "unchanged":
            continue
        side = dep["new"] or dep["current"]
        line(f"{side['deployment']}: {dep['status']}", "bold")
        for name in ("current", "new"):
            s = dep[name]
            if s is None:
                continue
            adjusting = adjustment_text(s["adjustment"]) if s["status"] == "priced" else ""
            how = s["reason"] if s["status"] != "priced" else adjusting or "no discount or margin"
            line(f"  {name}: {how}")
        rates = []
        for f in dep["fields"]:
            if f["new"] != f["current"]:
                rates.append([f["field"], _field_rate(f["field"], f["current"]), _field_rate(f["field"], f["new"]),
                              "", "", _pct(f["change"])])
        for e in dep["effective"]:
            per_second = e["part"] == "per_second"
            rates.append([e["part"], _rate(e["current"], per_second), _rate(e["new"], per_second),
                          _rate(e["current_effective"], per_second), _rate(e["new_effective"], per_second),
                          _pct(e["change"])])
        console.print(fitted_table(console, ("field / part", "current", "new", "current effective",
                                             "new effective", "change"), rates, labels={0}))
        line("prices per 1M tokens (per second for time prices); effective: after each config's discount and "
             "margin")
    line(f"{len(unchanged)} deployment(s) price the same under both configs")
    spend = doc["spend"]
    if spend is None:
        return
    decimals = decimals_for(max(abs(r["new"]), abs(r["current"])) for r in spend["rows"])

    def cells(r: dict[str, Any]) -> list[str]:
        u = r["unpriced"]
        return [r["model"], f"{max(r['requests']['new'], r['requests']['current']):,}",
                money_text(r["current"], decimals), money_text(r["new"], decimals),
                money_text(r["difference"], decimals, signed=True), _pct(r["change"]),
                "-" if not (u["new"] or u["current"]) else f"{u['current']:,} / {u['new']:,}"]

    rows = [cells(r) for r in [*spend["rows"], spend["total"]]]
    console.print(fitted_table(console, ("model", "requests", "current", "new", "difference", "change",
                                         "unpriced (current/new)"), rows, labels={0}, optional=(6, 5, 1),
                               styles=[None] * (len(rows) - 1) + ["bold"],
                               title=f"spend under {doc['config']} (new) vs {doc['against']} (current)"))
    for name in ("current", "new"):
        a = spend["accounting"][name]
        line(f"{name}: {a['read']:,} records read: {a['priced']:,} priced, {a['unpriced']:,} unpriced, "
             f"{a['rejected']:,} rejected, {a['skipped']:,} skipped")
    if "budget_replay" in doc:
        _render_replay(doc, console)


def _render_replay(doc: dict[str, Any], console: Any) -> None:
    """The budget replay under both configs: one row per budget, refusals under the current and the new config."""
    from .fit import fitted_table
    from .money import decimals_for, money_text

    replay = doc["budget_replay"]
    sides = [b[name] for b in replay["budgets"] for name in ("current", "new")]
    decimals = decimals_for(Decimal(s["refused_cost"]) for s in sides)

    def refused(s: dict[str, Any]) -> str:
        if not s["refused_requests"]:
            return "soft alert" if s["first_soft_alert"] else "-"
        return f"{s['refused_requests']:,} ({money_text(Decimal(s['refused_cost']), decimals)}) from " \
               f"{s['first_refused']}"

    rows, styles = [], []
    for b in replay["budgets"]:
        cur, new = b["current"], b["new"]
        change = "same" if cur["refused_requests"] == new["refused_requests"] else \
            "newly blocked" if not cur["refused_requests"] else "unblocked" if not new["refused_requests"] else \
            f"{new['refused_requests'] - cur['refused_requests']:+,} refused"
        rows.append([b["budget"], refused(cur), refused(new), change])
        styles.append("bold red" if new["refused_requests"] > cur["refused_requests"] else None)
    totals = [replay["totals"][name] for name in ("current", "new")]
    rows.append(["total", *(f"{t['refused_requests']:,} ({money_text(Decimal(t['refused_cost']), decimals)})"
                            for t in totals), ""])
    styles.append("bold")
    console.print(fitted_table(console, ("budget", "refused under current", "refused under new", "change"), rows,
                               labels={0}, styles=styles,
                               title="budget replay (LiteLLM's enforcement): requests refused (their cost) from when"))
