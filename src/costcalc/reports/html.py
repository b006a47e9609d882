"""The ``--format html`` report: one self-contained file (no scripts, no external assets, every string
escaped) that reads top-down: headline total and period, notes, the spend chart with its legend beside it,
the table, then the accounting, reconciliation, unpriced models, rejections and warnings.

Layout promises (checked in headless Chromium by tests/test_html_browser.py): nothing overflows a 1280 px
page (a wide table scrolls inside its box, its label and total columns staying in view), and no two axis
labels of the chart overlap.
"""

from __future__ import annotations

import math
from html import escape
from typing import IO, Any

from .aggregate import TOTAL, Report, timeline_amount, to_float
from .money import figures, report_decimals, sign, usd
from .reconcile import RECONCILE_HEADERS, reconcile_rows, reconcile_summary
from .render import (
    FULL,
    ROUNDING_LABEL,
    _cells,
    accounting_line,
    elide,
    period_lines,
    present,
    printable,
    rounding_cells,
    rounding_note,
)

_PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")

# chart geometry (px): plot area inside the SVG, and the room one x label needs
_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 760, 300, 84, 16, 12, 44
_X_LABEL_PX = 44  # "03-15" at 11 px, with a gap
_Y_TICKS = 5
_LABEL_CHARS = 56  # characters of a row label before it is shortened in the middle


def nice_ticks(peak: float, count: int = _Y_TICKS) -> list[float]:
    """Round y-axis ticks from 0 to at least ``peak``: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if peak <= 0:
        return [0.0, 1.0]
    raw = peak / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(peak / step - 1e-9)
    return [i * step for i in range(n + 1)]


def _tick_text(value: float, step: float) -> str:
    """A tick as money, with as many decimals as the step needs ($0.025 steps: three)."""
    decimals = max(0, -math.floor(math.log10(step)))
    if abs(round(step, decimals) - step) > step * 1e-9:
        decimals += 1
    return f"{sign()}{value:,.{decimals}f}"


def _chart(report: Report) -> str:
    """Stacked bars of spend per day by the first group key, with a y axis of round ticks, a date axis that
    labels every k-th day so that labels never touch, and the legend beside the plot."""
    if not report.timeline:
        return '<p class="meta">No record carries a timestamp: no spend-over-time chart.</p>'
    days = sorted({d for d, _ in report.timeline})
    spent = {dk: timeline_amount(v) for dk, v in report.timeline.items()}
    per_key: dict[str, int] = {}
    for (_, k), v in spent.items():
        per_key[k] = per_key.get(k, 0) + v
    keys = [k for k, _ in sorted(per_key.items(), key=lambda kv: (-kv[1], kv[0]))]
    fits = len(keys) <= len(_PALETTE)  # else the smallest share one colour as "(other)"
    shown, rest = (keys, []) if fits else (keys[: len(_PALETTE) - 1], keys[len(_PALETTE) - 1:])
    series = shown + (["(other)"] if rest else [])
    stacks = []
    for d in days:
        vals = [spent.get((d, k), 0) for k in shown]
        if rest:
            vals.append(sum(spent.get((d, k), 0) for k in rest))
        stacks.append([to_float(v) for v in vals])
    ticks = nice_ticks(max((sum(s) for s in stacks), default=0.0))
    top_value = ticks[-1]
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    bw = plot_w / len(days)
    every = max(1, math.ceil(_X_LABEL_PX / bw))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
           f'role="img" aria-label="spend per day" class="chart">']
    step = ticks[1] - ticks[0]
    for t in ticks:
        y = _TOP + plot_h - plot_h * t / top_value
        out.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text class="ytick" x="{_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
                   f'{escape(_tick_text(t, step))}</text>')
    for i, (d, stack) in enumerate(zip(days, stacks)):
        x = _LEFT + i * bw
        y = _TOP + plot_h
        for j, v in enumerate(stack):
            if not v:
                continue
            bh = plot_h * v / top_value
            y -= bh
            title = escape(f"{d} {series[j]}: {sign()}{v:,.6f}")
            out.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bw - 2, 1):.1f}" height="{bh:.1f}" '
                       f'fill="{_PALETTE[j]}"><title>{title}</title></rect>')
        if i % every == 0:
            label = d[5:] if len({x[:4] for x in days}) == 1 else d
            out.append(f'<text class="xtick" x="{x + bw / 2:.1f}" y="{_TOP + plot_h + 16}" text-anchor="middle" '
                       f'font-size="11">{escape(label)}</text>')
    out.append(f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_W - _RIGHT}" y2="{_TOP + plot_h}" stroke="#888"/>')
    out.append(f'<text x="{_LEFT + plot_w / 2:.0f}" y="{_H - 6}" text-anchor="middle" font-size="11" '
               f'fill="#666">day ({escape(report.tz_name)})</text>')
    out.append("</svg>")
    legend = "".join(f'<li title="{escape(printable(name))}"><span class="swatch" style="background:{_PALETTE[j]}">'
                     f"</span>{escape(elide(printable(name), 60))}</li>" for j, name in enumerate(series))
    return f'<div class="chartbox">{"".join(out)}<ul class="legend">{legend}</ul></div>'


def _table(report: Report) -> tuple[str, Any]:
    """The groups table: one label column (nested keys as a path, a repeated parent greyed), the numbers,
    and the total last so that it can stay in view while the rest scrolls."""
    fig = figures(report, report_decimals(report))
    cols = present(report, FULL)
    total_col = next(c for c in cols if c.name == "total")
    cols = [c for c in cols if c is not total_col] + [total_col]
    cells_by_row, total_cells = _cells(report, fig, cols)
    heads = [" / ".join(report.group_by), *(c.header for c in cols)]
    rows = []
    prev: tuple[str, ...] | None = None
    budget = max(16, _LABEL_CHARS // len(report.group_by))  # long names keep both ends (they differ at the end)
    for r, numbers in zip(fig.lines(), cells_by_row):
        if r.subtotal:
            name = escape(" / ".join(printable(p) for p in r.key))
            rows.append(f'<tr class="subtotal"><th scope="row" class="k" title="{name}">{name} subtotal</th>'
                        + "".join(f'<td class="n">{escape(c)}</td>' for c in numbers[:-1])
                        + f'<td class="n tot">{escape(numbers[-1])}</td></tr>')
            continue
        parts = []
        for depth, part in enumerate(r.key):
            same = prev is not None and prev[: depth + 1] == r.key[: depth + 1] and depth < len(r.key) - 1
            text = escape(elide(printable(part), budget))
            parts.append(f'<span class="parent">{text}</span>' if same else text)
        prev = r.key
        label = " / ".join(parts)
        full = escape(" / ".join(printable(p) for p in r.key))
        rows.append(f'<tr><th scope="row" class="k" title="{full}">{label}</th>'
                    + "".join(f'<td class="n">{escape(c)}</td>' for c in numbers[:-1])
                    + f'<td class="n tot">{escape(numbers[-1])}</td></tr>')
    rounding = rounding_cells(fig, cols)
    if rounding is not None:
        rows.append(f'<tr class="rounding"><th scope="row" class="k">{ROUNDING_LABEL}</th>'
                    + "".join(f'<td class="n">{escape(c)}</td>' for c in rounding) + "</tr>")
    rows.append('<tr class="total"><th scope="row" class="k">total</th>'
                + "".join(f'<td class="n">{escape(c)}</td>' for c in total_cells[:-1])
                + f'<td class="n tot">{escape(total_cells[-1])}</td></tr>')
    head = ('<tr><th class="k">' + escape(heads[0]) + "</th>"
            + "".join(f'<th class="n">{escape(h)}</th>' for h in heads[1:-1])
            + f'<th class="n tot">{escape(heads[-1])}</th></tr>')
    html = (f'<div class="scroll"><table><thead>{head}</thead><tbody>\n' + "\n".join(rows)
            + "\n</tbody></table></div>")
    return html, fig


def _reconcile(report: Report, gaps: list[Any] | None, tolerance: float) -> str:
    if gaps is None:
        return ""
    summary = f"<p>{escape(reconcile_summary(report, gaps, tolerance))}</p>"
    if not gaps:
        return f"<h2>Reconciliation</h2>{summary}"
    head = "".join(f'<th class="{"k" if i == 0 else "n"}">{escape(h)}</th>' for i, h in enumerate(RECONCILE_HEADERS))
    body = "".join("<tr>" + "".join(f'<td class="{"k" if i in (0, 4) else "n"}">{escape(c)}</td>'
                                    for i, c in enumerate(row)) + "</tr>" for row in reconcile_rows(gaps))
    return (f'<h2>Reconciliation</h2>{summary}<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1232px; }
h1 { font-size: 1.4em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.6em 0 .4em; }
.headline { margin: 0; font-size: 1.1em; }
.headline .total { font-size: 2em; font-weight: 700; margin-right: .4em; font-variant-numeric: tabular-nums; }
ul.period { list-style: none; padding: 0; margin: .4em 0; color: #444; }
.meta { color: #666; font-size: 90%; }
.note { background: #fff4d6; border-left: 4px solid #e0a800; padding: 6px 10px; }
.chartbox { display: flex; align-items: flex-start; gap: 16px; max-width: 100%; }
.chart { flex: none; }
ul.legend { list-style: none; padding: 0; margin: 8px 0 0; font-size: 13px; max-width: 400px;
  overflow-wrap: anywhere; }
ul.legend li { margin: 0 0 6px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; }
.scroll { max-width: 100%; overflow-x: auto; border: 1px solid #eee; }
table { border-collapse: separate; border-spacing: 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; white-space: nowrap; background: #fff; }
thead th { background: #f4f4f4; }
.k { text-align: left; position: sticky; left: 0; z-index: 1; border-right: 1px solid #ddd; }
.n { text-align: right; font-variant-numeric: tabular-nums; }
.tot { position: sticky; right: 0; z-index: 1; border-left: 1px solid #ddd; font-weight: 600; }
thead .k, thead .tot { background: #f4f4f4; z-index: 2; }
tr.total th, tr.total td { font-weight: 700; border-top: 2px solid #888; }
tr.subtotal th, tr.subtotal td { font-style: italic; color: #444; }
.parent { color: #999; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  .scroll { overflow: visible; border: none; }
  .k, .tot { position: static; }
  th, td { padding: 2px 6px; }
  .chartbox { break-inside: avoid; }
  tr { break-inside: avoid; }
  .note { border: 1px solid #e0a800; }
}
"""


def write_html(report: Report, out: IO[str], doc: dict[str, Any], gaps: list[Any] | None = None,
               tolerance: float = 0.01) -> None:
    """One self-contained HTML file; ``gaps``: the --reconcile section."""
    table, fig = _table(report)
    cm = doc["cost_map"]
    extras = []
    if report.unpriced:
        items = "".join(f"<li><code>{escape(printable(u.model))}</code> × {u.count}: {escape(u.reason)}</li>"
                        for u in sorted(report.unpriced.values(), key=lambda u: (-u.count, u.model)))
        extras.append(f"<h2>Unpriced models</h2><ul>{items}</ul>")
    if report.rejected:
        items = "".join(f"<li>{escape(r.file)}:{r.line}: {escape(printable(r.reason))}</li>" for r in report.rejected)
        extras.append(f"<h2>Rejected lines</h2><ul>{items}</ul>")
    if doc["warnings"]:
        items = "".join(f"<li>{escape(w)}</li>" for w in doc["warnings"])
        extras.append(f"<h2>Warnings</h2><ul>{items}</ul>")
    notes = "".join(f'<p class="note"><strong>Note:</strong> {escape(n)}</p>' for n in doc["notes"])
    period = "".join(f"<li>{escape(printable(line))}</li>" for line in period_lines(report))
    out.write(f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LLM spend report</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>LLM spend report</h1>
<p class="headline"><span class="total">{escape(usd(fig.total.amounts[TOTAL], fig.decimals))}</span>
{escape(f"{report.totals.requests:,}")} priced requests</p>
<ul class="period">{period}</ul>
{notes}
<h2>Spend per day by {escape(report.group_by[0])}</h2>
{_chart(report)}
<h2>Spend by {escape(" / ".join(report.group_by))}</h2>
{table}
<p>{escape(accounting_line(report))}</p>
<p class="meta">{escape(rounding_note(report, fig))}</p>
{_reconcile(report, gaps, tolerance)}
{"".join(extras)}
<p class="meta">Priced with {escape(str(cm['source']))} (LiteLLM {escape(str(cm['litellm_version']))},
sha256 {escape(str(cm['sha256'])[:12])}…); config {escape(str(doc['config'] or '(none)'))};
costcalc {escape(str(doc['costcalc_version']))}.</p>
</body>
</html>
""")
