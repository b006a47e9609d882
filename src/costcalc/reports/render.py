"""Writers for reports: table (rich), json, jsonl (per record), csv and markdown, on one code path.

Nothing here prices anything: it formats what ``report.py`` and ``engine.py`` computed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import IO, Any

import orjson

from ..engines.streaming import NotPriced, Outcome, Priced, PricingEngine
from ..pricing.exact import Spend, decimal_text
from ..pricing.formulas import Pricer
from ..rates.costmap import CostMapInfo
from ..reading.records import Rejected, Skipped
from ..version import __version__
from .aggregate import COST_PARTS, Report, Totals, to_float

FORMATS = ("table", "json", "jsonl", "csv", "markdown", "html")


# The sign text formats print amounts with: "$", or the currency of a converted report (``money_sign``).
_SIGN = ["$"]


@contextmanager
def money_sign(sign: str) -> Iterator[None]:
    """Print amounts with ``sign`` (€, £, "CHF ") inside the block: the hook of ``--currency``."""
    previous, _SIGN[0] = _SIGN[0], sign
    try:
        yield
    finally:
        _SIGN[0] = previous


def money(value: float) -> str:
    """Dollars with precision that suits the size: $1,234.57, $12.3456, $0.009495, 3.20e-08."""
    a = abs(value)
    if a >= 1000:
        text = f"{a:,.2f}"
    elif a >= 1:
        text = f"{a:,.4f}"
    elif a >= 1e-6 or a == 0:
        text = f"{a:.6f}"
    else:
        text = f"{a:.2e}"
    return ("-" if value < 0 else "") + _SIGN[0] + text


def tokens(n: int) -> str:
    return f"{n:,}"


def share(part: int, whole: int) -> str:
    return f"{100.0 * float(part / whole):.1f}%" if whole else "-"


def accounting_line(report: Report) -> str:
    a = report.accounting
    line = (f"{a.read:,} records read: {a.priced:,} priced, {a.unpriced:,} unpriced, {a.rejected:,} rejected, "
            f"{a.skipped:,} skipped")
    if a.filtered:
        line += f", {a.filtered:,} outside --since/--until"
    return line


# -- JSON ----------------------------------------------------------------------------------------------

def report_dict(report: Report, cost_map: CostMapInfo, config_path: str | None,
                warnings: Iterable[str] = ()) -> dict[str, Any]:
    """The ``--format json`` document (schema documented in the README)."""
    groups = []
    grand = report.totals.costs[6]
    for key, totals in report.sorted_groups():
        row = {"key": dict(zip(report.group_by, key))}
        row.update(totals.as_dict())
        row["share"] = float(totals.costs[6] / grand) if grand else None
        groups.append(row)
    return {
        "costcalc_version": __version__,
        "cost_map": cost_map.as_dict(),
        "config": config_path,
        "group_by": list(report.group_by),
        "totals": report.totals.as_dict(),
        "groups": groups,
        "groups_overlap": report.multi_key,
        "top": report.top,
        "sort": report.sort,
        "accounting": report.accounting.as_dict(),
        "unpriced_models": [
            {"model": u.model, "count": u.count, "reason": u.reason, "suggestions": list(u.suggestions)}
            for u in sorted(report.unpriced.values(), key=lambda u: (-u.count, u.model))
        ],
        "rejected": [{"file": r.file, "line": r.line, "reason": r.reason} for r in report.rejected],
        "warnings": list(warnings),
    }


def exact_json(value: Any) -> Any:
    """orjson's ``default``: an exact amount is written as a JSON number with every digit it has, no float."""
    if isinstance(value, Decimal):
        return orjson.Fragment(decimal_text(value))
    raise TypeError(f"not JSON: {type(value).__name__}")


def write_json(doc: dict[str, Any], out: IO[bytes]) -> None:
    out.write(orjson.dumps(doc, default=exact_json, option=orjson.OPT_INDENT_2))
    out.write(b"\n")


# -- JSONL: one line per input record --------------------------------------------------------------------

# The parts of a record's cost, named as the Rates attributes that price them.
_PARTS = ("input", "cache_read", "cache_write", "cache_write_1h", "output", "reasoning", "audio_input",
          "audio_output", "image_input")


def prices_used(engine: PricingEngine, o: Priced) -> dict[str, Any]:
    """Each rate that priced this record: the key it came from, its value and its source."""
    r = o.record
    p = engine.pricer(r.model, r.model_id, r.service_tier, r.request_prices)
    if not isinstance(p, Pricer):
        return {}
    if r.batch or p.per_second is not None or r.extras is not None:
        charges = p.explain(r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens,
                            r.cache_write_1h_tokens, r.reasoning_tokens, r.audio_input_tokens,
                            r.audio_output_tokens, r.image_input_tokens, r.duration_s, r.batch, extras=r.extras)
        return {c.part.replace(" ", "_").replace("(s)", "s").strip("_"): {"key": c.key, "rate": c.rate,
                                                                          "source": c.source or "default"}
                for c in charges}
    table = _rate_table(p, p.rates_for(r.prompt_tokens))
    counts = (r.prompt_tokens, r.cache_read_tokens, r.cache_write_tokens - r.cache_write_1h_tokens,
              r.cache_write_1h_tokens, r.completion_tokens, r.reasoning_tokens, r.audio_input_tokens,
              r.audio_output_tokens, r.image_input_tokens)
    return {part: entry for (part, entry), n in zip(table, counts) if n}


def _rate_table(p: Pricer, rates: Any) -> list[tuple[str, dict[str, Any]]]:
    """(part, {key, rate, source}) for every part of one band of one pricer, built once and shared."""
    cache_key = id(rates)  # bands live as long as their pricer, which holds this cache
    table = p.rate_tables.get(cache_key)
    if table is None:
        sources = p.sheet.sources
        table = []
        for part in _PARTS:
            rate = getattr(rates, part)
            key = rates.keys.get(part, "")
            if rate is None:
                rate, key = rates.input, rates.keys.get("input", "")
            table.append((part, {"key": key, "rate": rate,
                                 "source": sources.get(key.split(" ")[0], "default: 0")}))
        p.rate_tables[cache_key] = table
    return table


def record_costs(o: Priced) -> tuple[str, ...]:
    """One record's exact amounts per COST_PARTS, as decimal text (what the report's totals add up)."""
    band, units = o.measured
    return band.money(1, units).report_texts()


def record_dict(o: Outcome, engine: PricingEngine | None = None) -> dict[str, Any]:
    if isinstance(o, Priced):
        r = o.record
        parts = [orjson.Fragment(text) for text in record_costs(o)]
        d = {"file": r.file, "line": r.line, "model": r.model, "status": "priced", "cost": parts[-1],
             "cost_parts": dict(zip(COST_PARTS[:-1], parts[:-1])),
             "deployment": o.sheet.deployment.label if o.sheet.deployment else None,
             "provider": o.sheet.provider, "map_key": o.sheet.map_key, "shape": r.shape,
             "tokens": _tokens(r)}
        if engine is not None:
            d["prices"] = prices_used(engine, o)
        if r.recorded_cost is not None:
            d["recorded_cost"] = r.recorded_cost
        return d
    if isinstance(o, NotPriced):
        r = o.record
        d = {"file": r.file, "line": r.line, "model": r.model, "status": "unpriced", "cost": None,
             "reason": o.reason, "suggestions": list(o.suggestions), "shape": r.shape, "tokens": _tokens(r)}
        if r.recorded_cost is not None:
            d["recorded_cost"] = r.recorded_cost  # what the log says was charged, kept for reconciling
        return d
    if isinstance(o, Rejected):
        return {"file": o.file, "line": o.line, "model": o.model, "status": "rejected", "cost": None,
                "reason": o.reason}
    return {"file": o.file, "line": o.line, "model": None, "status": "skipped", "cost": None, "reason": o.reason}


def _tokens(r: Any) -> dict[str, int]:
    return {"prompt": r.prompt_tokens, "completion": r.completion_tokens, "cache_read": r.cache_read_tokens,
            "cache_write": r.cache_write_tokens, "reasoning": r.reasoning_tokens}


def write_jsonl(outcomes: Iterable[Outcome], out: IO[bytes], engine: PricingEngine) -> None:
    dumps = orjson.dumps
    for o in outcomes:
        out.write(dumps(record_dict(o, engine), default=exact_json))
        out.write(b"\n")


# -- rows shared by table, csv and markdown ----------------------------------------------------------------

def row_headers(report: Report) -> list[str]:
    """Columns shared by table and markdown; the adjustment column only when discounts/margins applied."""
    sign = _SIGN[0].strip()
    heads = ["requests", "input tok", "cached tok", "output tok", f"input {sign}", f"cache {sign}", f"output {sign}"]
    if report.totals.costs[5]:
        heads.append(f"adjust {sign}")
    return [*heads, f"total {sign}", "share"]


def _row(report: Report, totals: Totals) -> list[str]:
    c = totals.costs
    cells = [tokens(totals.requests), tokens(totals.tokens[0]), tokens(totals.tokens[1]), tokens(totals.tokens[3]),
             money(to_float(c[0])), money(to_float(c[1] + c[2])), money(to_float(c[3] + c[4]))]
    if report.totals.costs[5]:
        cells.append(money(to_float(c[5])))
    return [*cells, money(to_float(c[6])), share(c[6], report.totals.costs[6])]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text from the logs as it may reach a terminal: control characters (escape sequences) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text) if _CONTROL.search(text) else text


def _key_cells(report: Report, key: tuple[str, ...], previous: tuple[str, ...] | None) -> list[str]:
    """Nested keys print once: a repeated parent prints as blank."""
    cells = []
    for depth, part in enumerate(key):
        same = previous is not None and previous[: depth + 1] == key[: depth + 1] and depth < len(key) - 1
        cells.append("" if same else printable(part))
    return cells


def write_csv(report: Report, out: IO[str]) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow([*report.group_by, "requests", "input_tokens", "cached_tokens", "cache_write_tokens",
                "output_tokens", "reasoning_tokens", *(f"{p}_cost" for p in COST_PARTS), "share"])
    grand = report.totals.costs[6]
    for key, t in report.sorted_groups():
        w.writerow([*key, t.requests, *t.tokens, *(decimal_text(v) for v in t.costs),
                    repr(float(t.costs[6] / grand)) if grand else ""])
    t = report.totals
    w.writerow(["TOTAL", *[""] * (len(report.group_by) - 1), t.requests, *t.tokens,
                *(decimal_text(v) for v in t.costs), "1.0" if grand else ""])


def write_markdown(report: Report, out: IO[str], warnings: Iterable[str] = ()) -> None:
    headers = [*report.group_by, *row_headers(report)]
    out.write("| " + " | ".join(headers) + " |\n")
    out.write("|" + "|".join("---" if i < len(report.group_by) else "---:" for i in range(len(headers))) + "|\n")
    prev = None
    for key, t in report.sorted_groups():
        cells = [_md(c) for c in _key_cells(report, key, prev)] + _row(report, t)
        out.write("| " + " | ".join(cells) + " |\n")
        prev = key
    total = ["**total**", *[""] * (len(report.group_by) - 1), *_row(report, report.totals)]
    out.write("| " + " | ".join(total) + " |\n\n")
    out.write(accounting_line(report) + "\n")
    _md_unpriced(report, out)
    for w in warnings:
        out.write(f"\n> warning: {_md(w)}")
    if warnings:
        out.write("\n")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_unpriced(report: Report, out: IO[str]) -> None:
    if report.unpriced:
        out.write("\nUnpriced models:\n")
        for u in sorted(report.unpriced.values(), key=lambda u: (-u.count, u.model)):
            hint = f" (did you mean {', '.join(u.suggestions)}?)" if u.suggestions else ""
            out.write(f"- `{_md(u.model)}` × {u.count}: {_md(u.reason)}{hint}\n")


def write_table(report: Report, console: Any, warnings: Iterable[str] = (), title: str | None = None,
                chart: bool = False) -> None:
    from rich import box
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_footer=False, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in report.group_by:
        table.add_column(name, overflow="fold", min_width=8)
    for h in row_headers(report):
        table.add_column(h, justify="right", no_wrap=True)
    prev = None
    for key, t in report.sorted_groups():
        table.add_row(*[Text(c) for c in _key_cells(report, key, prev)], *_row(report, t))
        prev = key
    table.add_section()
    table.add_row(Text("total", style="bold"), *[""] * (len(report.group_by) - 1),
                  *_row(report, report.totals), style="bold")
    console.print(table)
    if chart:
        write_chart(report, console)
    console.print(Text(accounting_line(report)))
    if report.multi_key:
        console.print(Text("note: a record with several tags counts under each, so group totals exceed the total"))
    if report.unpriced:
        buf = io.StringIO()
        _md_unpriced(report, buf)
        console.print(Text(buf.getvalue().strip()))
    if report.rejected:
        shown = report.rejected[:5]
        lines = [f"{r.file}:{r.line}: {r.reason}" for r in shown]
        more = report.accounting.rejected - len(shown)
        if more > 0:
            lines.append(f"... and {more:,} more (use --rejects FILE to keep them all)")
        console.print(Text("Rejected:\n" + "\n".join(lines)))
    warnings = list(warnings)
    if warnings:
        console.print(Panel(Text("\n".join(f"• {w}" for w in warnings)), title="warnings", title_align="left",
                            border_style="yellow"))


def write_rejects(outcomes: Iterable[Outcome], out: IO[bytes]) -> Iterable[Outcome]:
    """Pass outcomes through, writing each rejected line as ``# file:line: reason`` then the line verbatim."""
    for o in outcomes:
        if isinstance(o, Rejected):
            out.write(f"# {o.file}:{o.line}: {o.reason}\n".encode())
            out.write(o.text)
            out.write(b"\n")
        yield o


# -- CSV per record ---------------------------------------------------------------------------------------

RECORD_CSV_FIELDS = ("file", "line", "status", "model", "deployment", "provider", "prompt_tokens",
                     "completion_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
                     *(f"{p}_cost" for p in COST_PARTS), "recorded_cost", "reason")


def write_csv_records(outcomes: Iterable[Outcome], out: IO[str], header: bool = True) -> None:
    w = csv.writer(out, lineterminator="\n")
    if header:
        w.writerow(RECORD_CSV_FIELDS)
    for o in outcomes:
        if isinstance(o, (Priced, NotPriced)):
            r = o.record
            sheet = o.sheet
            dep = sheet.deployment.label if sheet is not None and sheet.deployment else ""
            provider = sheet.provider if sheet is not None and sheet.provider else ""
            costs = list(record_costs(o)) if isinstance(o, Priced) else [""] * len(COST_PARTS)
            reason = o.reason if isinstance(o, NotPriced) else ""
            w.writerow([r.file, r.line, "priced" if isinstance(o, Priced) else "unpriced", r.model, dep, provider,
                        r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens,
                        r.reasoning_tokens, *costs, "" if r.recorded_cost is None else repr(r.recorded_cost),
                        reason])
        else:
            status = "rejected" if isinstance(o, Rejected) else "skipped"
            w.writerow([o.file, o.line, status, getattr(o, "model", "") or "", "", "", "", "", "", "", "",
                        *[""] * len(COST_PARTS), "", o.reason])


# -- --explain ---------------------------------------------------------------------------------------------

def explain_record(engine: PricingEngine, o: Outcome) -> str:
    """How one record's cost was reached (control characters from the logs made visible)."""
    return "\n".join(printable(line) for line in _explain_record(engine, o).split("\n"))


def _explain_record(engine: PricingEngine, o: Outcome) -> str:
    """How one record's cost was reached: resolution, each charge as units × rate with its source, the total."""
    if isinstance(o, Rejected):
        return f"{o.file}:{o.line}: rejected: {o.reason}"
    if isinstance(o, Skipped):
        return f"{o.file}:{o.line}: skipped: {o.reason}"
    r = o.record
    head = f"{r.file}:{r.line}: {r.model}"
    if isinstance(o, NotPriced):
        hint = f" (did you mean {', '.join(o.suggestions)}?)" if o.suggestions else ""
        return f"{head}: unpriced: {o.reason}{hint}"
    p = engine.pricer(r.model, r.model_id, r.service_tier, r.request_prices)
    lines = [f"{head}  [{o.sheet.rule}]"]
    if r.service_tier:
        lines[0] += f"  service tier {r.service_tier}"
    assert isinstance(p, Pricer)
    charges = p.explain(r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens,
                        r.cache_write_1h_tokens, r.reasoning_tokens, r.audio_input_tokens, r.audio_output_tokens,
                        r.image_input_tokens, r.duration_s, r.batch, extras=r.extras)
    if r.batch:
        lines[0] += "  batch output line: batch rates, no discount or margin"
    for c in charges:
        # a duration in full (exact microseconds read as the shortest float), so that units × rate multiplies out
        units = f"{c.units!r} s" if c.part.startswith(("duration", "GPU time")) else f"{int(c.units):,}"
        lines.append(f"  {c.part:<15} {units:>12} × {c.rate!r} = {c.cost:.10g}   "
                     f"({c.key}; {c.source or 'default'})")
    base = o.cost.total - o.cost.adjustment
    if o.cost.adjustment:
        a = p.adjust
        parts = []
        if a.discount:
            parts.append(f"discount {a.discount:.4g}")
        if a.margin_pct:
            parts.append(f"margin {a.margin_pct:.4g}")
        if a.margin_fixed:
            parts.append(f"+ fixed {a.margin_fixed:.4g}")
        lines.append(f"  subtotal {base:.10g}; {', '.join(parts)} → adjustment {o.cost.adjustment:+.10g}")
    lines.append(f"  total {o.cost.total:.10g} USD")
    if r.recorded_cost is not None:
        lines.append(f"  recorded {r.recorded_cost:.10g} USD (difference {o.cost.total - r.recorded_cost:+.10g})")
    return "\n".join(lines)


# -- terminal chart ------------------------------------------------------------------------------------------

def write_chart(report: Report, console: Any, width: int = 40) -> None:
    """Horizontal bars of spend per group (per time bucket when grouping by time), drawn with rich."""
    from rich.table import Table
    from rich.text import Text
    rows = report.sorted_groups()
    if report.group_by[0] in ("hour", "day", "week", "month"):
        rows = sorted(rows, key=lambda kv: kv[0])
    peak = max((t.costs[6] for _, t in rows), default=0)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("group", overflow="fold")
    table.add_column("bar")
    table.add_column("spend", justify="right")
    for key, t in rows:
        n = 0 if not peak else t.costs[6] * width / peak
        full = int(n)
        bar = "█" * full + ("▌" if n - full >= 0.5 else "")
        table.add_row(Text(" / ".join(key)), Text(bar, style="cyan"), money(to_float(t.costs[6])))
    console.print(table)


# -- HTML ----------------------------------------------------------------------------------------------------

_PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")


def _svg_timeline(report: Report) -> str:
    """Stacked bars of spend per day by the first group key, inline SVG (no scripts, no external assets)."""
    from html import escape
    if not report.timeline:
        return "<p>No timestamps: no spend-over-time chart.</p>"
    days = sorted({d for d, _ in report.timeline})
    # a Spend, or an amount already converted to another currency
    spent = {dk: s.money.total if isinstance(s, Spend) else s for dk, s in report.timeline.items()}
    per_key: dict[str, Any] = {}
    for (_, k), v in spent.items():
        per_key[k] = per_key.get(k, 0) + v
    keys = [k for k, _ in sorted(per_key.items(), key=lambda kv: -kv[1])]
    shown, rest = keys[: len(_PALETTE) - 1], keys[len(_PALETTE) - 1:]
    series = shown + (["(other)"] if rest else [])
    stacks = []
    for d in days:
        vals = [spent.get((d, k), 0) for k in shown]
        if rest:
            vals.append(sum(spent.get((d, k), 0) for k in rest))
        stacks.append([to_float(v) for v in vals])
    peak = max((sum(s) for s in stacks), default=0.0) or 1.0
    w, h, left, bottom, top = 720, 260, 70, 40, 10
    bw = (w - left - 10) / max(len(days), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 20 * len(series)}" '
             f'role="img" aria-label="spend per day">']
    parts.append(f'<line x1="{left}" y1="{h - bottom}" x2="{w - 10}" y2="{h - bottom}" stroke="#888"/>')
    parts.append(f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" font-size="11">{escape(money(peak))}</text>')
    parts.append(f'<text x="{left - 6}" y="{h - bottom}" text-anchor="end" font-size="11">{escape(_SIGN[0])}0</text>')
    for i, (d, stack) in enumerate(zip(days, stacks)):
        x = left + i * bw
        y = h - bottom
        for j, v in enumerate(stack):
            bh = (h - bottom - top) * v / peak
            y -= bh
            title = escape(f"{d} {series[j]}: {money(v)}")
            parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bw - 2, 1):.1f}" height="{bh:.1f}" '
                         f'fill="{_PALETTE[j]}"><title>{title}</title></rect>')
        if len(days) <= 31 or i % max(len(days) // 15, 1) == 0:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{h - bottom + 14}" text-anchor="middle" '
                         f'font-size="10">{escape(d[5:])}</text>')
    for j, name in enumerate(series):
        y = h + 4 + 20 * j
        parts.append(f'<rect x="{left}" y="{y}" width="12" height="12" fill="{_PALETTE[j]}"/>')
        parts.append(f'<text x="{left + 18}" y="{y + 11}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def write_html(report: Report, out: IO[str], doc: dict[str, Any]) -> None:
    """One self-contained HTML file: the tables and an inline SVG chart; every string escaped."""
    from html import escape

    heads = [*report.group_by, *row_headers(report)]
    rows = []
    prev = None
    for key, t in report.sorted_groups():
        cells = _key_cells(report, key, prev) + _row(report, t)
        rows.append("<tr>" + "".join(
            f'<td class="{"k" if i < len(report.group_by) else "n"}">{escape(c)}</td>' for i, c in enumerate(cells)
        ) + "</tr>")
        prev = key
    total = ["total", *[""] * (len(report.group_by) - 1), *_row(report, report.totals)]
    rows.append('<tr class="total">' + "".join(
        f'<td class="{"k" if i < len(report.group_by) else "n"}">{escape(c)}</td>' for i, c in enumerate(total)
    ) + "</tr>")
    cm = doc["cost_map"]
    extras = []
    if report.unpriced:
        items = "".join(f"<li><code>{escape(u.model)}</code> × {u.count}: {escape(u.reason)}</li>"
                        for u in sorted(report.unpriced.values(), key=lambda u: (-u.count, u.model)))
        extras.append(f"<h2>Unpriced models</h2><ul>{items}</ul>")
    if report.rejected:
        items = "".join(f"<li>{escape(r.file)}:{r.line}: {escape(r.reason)}</li>" for r in report.rejected)
        extras.append(f"<h2>Rejected lines</h2><ul>{items}</ul>")
    if doc["warnings"]:
        items = "".join(f"<li>{escape(w)}</li>" for w in doc["warnings"])
        extras.append(f"<h2>Warnings</h2><ul>{items}</ul>")
    out.write(f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>LLM spend report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ padding: 4px 10px; border-bottom: 1px solid #ddd; }}
th {{ text-align: left; background: #f4f4f4; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.total td {{ font-weight: bold; border-top: 2px solid #888; }}
.meta {{ color: #666; font-size: 90%; }}
</style>
</head>
<body>
<h1>LLM spend report</h1>
<p class="meta">Priced with {escape(str(cm['source']))} (LiteLLM {escape(str(cm['litellm_version']))},
sha256 {escape(str(cm['sha256'])[:12])}…); config {escape(str(doc['config'] or '(none)'))};
costcalc {escape(str(doc['costcalc_version']))}.</p>
<h2>Spend per day by {escape(report.group_by[0])}</h2>
{_svg_timeline(report)}
<h2>Spend by {escape(" / ".join(report.group_by))}</h2>
<table>
<thead><tr>{"".join(f"<th>{escape(h)}</th>" for h in heads)}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<p>{escape(accounting_line(report))}</p>
{"".join(extras)}
</body>
</html>
""")


# -- --reconcile ---------------------------------------------------------------------------------------------

def _reconcile_rows(gaps: Iterable[Any]) -> list[list[str]]:
    rows = []
    for g in gaps:
        rel = "new spend" if g.relative in (float("inf"), float("-inf")) else f"{100 * g.relative:+.1f}%"
        rows.append([" / ".join(g.group), f"{g.records:,}", money(g.recorded), money(g.computed),
                     ("+" if g.difference > 0 else "") + money(g.difference), rel])
    return rows


_RECONCILE_HEADERS = ("group", "records", "recorded $", "computed $", "difference", "relative")


def _reconcile_summary(report: Report, gaps: list[Any], tolerance: float) -> str:
    t = report.totals
    if not t.recorded_n:
        return "reconcile: no record carries a recorded cost (spend, cost, costUSD), nothing to compare"
    head = (f"reconcile: {t.recorded_n:,} records carry a recorded cost: recorded {money(to_float(t.recorded))}, "
            f"computed {money(to_float(t.recorded_computed))}")
    if not gaps:
        return head + f"; every group agrees within {100 * tolerance:g}%"
    return head + f"; {len(gaps)} group(s) differ by more than {100 * tolerance:g}%"


def write_reconcile_table(report: Report, gaps: list[Any], tolerance: float, console: Any) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console.print(Text(_reconcile_summary(report, gaps, tolerance)))
    if not gaps:
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    for i, h in enumerate(_RECONCILE_HEADERS):
        table.add_column(h, justify="left" if i == 0 else "right", overflow="fold" if i == 0 else None)
    for row in _reconcile_rows(gaps):
        table.add_row(Text(row[0]), *row[1:])
    console.print(table)


def write_reconcile_markdown(report: Report, gaps: list[Any], tolerance: float, out: IO[str]) -> None:
    out.write("\n" + _reconcile_summary(report, gaps, tolerance) + "\n")
    if gaps:
        out.write("\n| " + " | ".join(_RECONCILE_HEADERS) + " |\n|---|---:|---:|---:|---:|---:|\n")
        for row in _reconcile_rows(gaps):
            out.write("| " + " | ".join(_md(c) for c in row) + " |\n")
