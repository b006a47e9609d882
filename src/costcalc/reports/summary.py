"""``--format summary``: a report in a few lines to paste into a chat message or an email: the headline total and
period, the largest groups, the change against the comparison period and the budgets at risk, as plain text or
Slack-flavoured markdown (``*bold*``, ``•`` bullets), always under ``MAX_CHARS`` characters.

Amounts are the report's own (``money.figures``, one number of decimals for the whole summary, budgets included),
so a group shows here what it shows in the table.
"""

from __future__ import annotations

from fractions import Fraction
from typing import IO, Any

from .aggregate import SCALE, TOTAL, Report
from .money import figures, money_text, report_decimals, usd
from .render import change_text, elide, when_text

MAX_CHARS = 2000  # Slack's message preview and most chat inputs: the summary always fits
TOP_GROUPS = 5
LABEL_CHARS = 60  # a longer name is shortened in the middle
STYLES = ("plain", "slack")


def _when(report: Report, ts: float | None) -> str:
    return "?" if ts is None else when_text(report, ts)[:10]


def _change(now: int, before: int, decimals: int) -> str:
    """``+$120.12 (+6.8%) from $1,772.35``."""
    diff = Fraction(now - before, SCALE)
    pct = change_text(now, before)
    return f"{money_text(diff, decimals, signed=True)} ({pct}) from {money_text(Fraction(before, SCALE), decimals)}"


def summary_lines(report: Report, budgets: Any = None, style: str = "plain") -> list[str]:
    """The summary's lines; ``budgets`` is the run's ``budget.Budgets`` (or None)."""
    slack = style == "slack"
    bold = (lambda s: f"*{s}*") if slack else (lambda s: s)
    bullet = "• " if slack else "- "
    decimals = report_decimals(report)
    fig = figures(report, decimals)
    total = fig.total.amounts[TOTAL]
    period = (f"{_when(report, report.first)} to {_when(report, report.last)} {report.tz_name}"
              if report.first is not None else "no timestamped record")
    a = report.accounting
    lines = [bold(f"LLM spend: {usd(total, decimals)}") + f" ({period}; {a.priced:,} priced requests)"]
    prev = report.previous
    if prev is not None:
        before = prev.totals.costs[TOTAL]
        when = (f"{_when(report, prev.since)} to {_when(report, prev.until)}"
                if prev.since is not None and prev.until is not None else "the previous period")
        lines.append(f"vs {when}: " + (_change(report.totals.costs[TOTAL], before, decimals) if before
                                        else "no spend then"))
    firsts: dict[str, int] = {}
    for key, t in report.groups.items():
        firsts[key[0]] = firsts.get(key[0], 0) + t.costs[TOTAL]
    ranked = sorted(firsts.items(), key=lambda kv: (-kv[1], kv[0]))
    if ranked and not (len(ranked) == 1 and len(report.group_by) == 1):
        grand = report.totals.costs[TOTAL]
        lines.append(bold(f"Top {report.group_by[0]}s:"))
        for name, amount in ranked[:TOP_GROUPS]:
            share = f" ({amount * 100 / grand:.1f}%)" if grand > 0 else ""
            lines.append(f"{bullet}{elide(name, LABEL_CHARS)}: {money_text(Fraction(amount, SCALE), decimals)}"
                         + share)
        rest = ranked[TOP_GROUPS:]
        if rest:
            lines.append(f"{bullet}{len(rest)} more: {money_text(Fraction(sum(v for _, v in rest), SCALE), decimals)}")
    if budgets is not None:
        at_risk = [b for b in budgets.lines if b.status != "ok"]
        if at_risk:
            lines.append(bold("Budgets at risk:"))
            for b in at_risk:
                if b.status == "no match":
                    lines.append(f"{bullet}{elide(b.line.label, LABEL_CHARS)}: matches no record")
                    continue
                figure = b.spent if b.status == "over" else b.forecast
                what = "spent" if b.status == "over" else "forecast"
                lines.append(f"{bullet}{elide(b.line.label, LABEL_CHARS)}: {b.status}, {what} "
                             f"{money_text(figure, decimals)} of {money_text(b.line.amount, decimals)}")
        else:
            lines.append(f"Budgets: all {len(budgets.lines)} on track")
    if a.unpriced or a.rejected:
        lines.append(f"Not counted: {a.unpriced:,} unpriced, {a.rejected:,} rejected record(s)")
    return lines


def summary_text(report: Report, budgets: Any = None, style: str = "plain") -> str:
    """The summary as one text under ``MAX_CHARS``: lines beyond it are left out, saying how many."""
    lines = summary_lines(report, budgets, style)
    text = "\n".join(lines)
    while len(text) + 1 > MAX_CHARS and len(lines) > 1:
        lines = [*lines[:-2], "(and more: see the full report)"]
        text = "\n".join(lines)
    return text[: MAX_CHARS - 1] + "\n"


def write_summary(report: Report, out: IO[str], budgets: Any = None, style: str = "plain") -> None:
    out.write(summary_text(report, budgets, style))
