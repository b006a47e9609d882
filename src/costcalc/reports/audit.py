"""The audit sections a ``price`` report can carry beside its groups (bill reconciliation, budgets, currency),
written in every format by one object, so that the CLI hooks each format with a single call and the report's
own writers stay as they are.

- json: ``extend(doc)`` adds ``bill_reconciliation`` / ``budgets`` / ``currency`` / ``usage_gap`` /
  ``budget_replay`` / ``record_differences`` keys.
- table / markdown: ``table(console)`` / ``markdown(out)`` print the sections after the report.
- html: ``html(page)`` inserts the sections before ``</body>``.
- csv: ``csv(out, report_csv)`` writes the one section asked for as the CSV (a CSV file holds one table), or
  the report's own CSV, labelled with the currency when converted.
- text formats: ``text_money()`` is the context they are written in (amounts with the currency's sign).
"""

from __future__ import annotations

import contextlib
import csv as csv_module
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from typing import IO, Any

from .bill import Reconciliation
from .budget import Budgets
from .budget_replay import Replay
from .cells import SafeCsvWriter
from .currency import FxRates
from .ledger import dollars
from .reconcile import RecordDifference
from .usage_gap import UsageGap

BUDGET_HEADERS = ("budget", "amount", "spent", "share", "forecast", "records", "status")
BILL_HEADERS = ("day", "provider", "model", "project", "records", "computed", "billed", "gap", "share", "direction",
                "status")
GAP_HEADERS = ("day", "provider", "model", "scope", "usage requests", "usage tokens", "usage cost", "proxy requests",
               "proxy tokens", "proxy cost", "gap", "likely cause")
REPLAY_HEADERS = ("budget", "max_budget", "window", "allowed", "refused", "refused cost", "first refused",
                  "blocked until", "status")
DIFFERENCE_HEADERS = ("record", "model", "recorded", "computed", "difference", "likely cause")
_NO_STATUS = "\0"  # a section whose last column is text, not a status to style
# the columns a narrow terminal drops first from the sections beside the proxy's logs
_SOURCE_OPTIONAL = {GAP_HEADERS: (5, 8, 4, 7, 3), REPLAY_HEADERS: (7, 2, 6, 1)}
SHOWN_DIFFERENCES = 50  # records listed on screen (table, markdown, html): the largest differences; JSON has all


def _share_text(share: str | None) -> str:
    return "-" if share is None else f"{Decimal(share) * 100:+.2f}%"


def _iso_or_dash(epoch: float | None) -> str:
    from datetime import datetime, timezone

    return "-" if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def bill_direction(computed: Decimal, billed: Decimal, decimals: int) -> str:
    """Which way the logs and the bill differ, in words: ``logs below bill by $0.75``."""
    from .money import money_text

    if computed == billed:
        return "logs match bill"
    side = "below" if computed < billed else "above"
    return f"logs {side} bill by {money_text(abs(billed - computed), decimals)}"


@dataclass
class AuditSections:
    bill: Reconciliation | None = None
    budgets: Budgets | None = None
    currency: FxRates | None = None
    sources: dict[str, Any] | None = None  # which configs and cost map priced what (price history)
    usage_gap: UsageGap | None = None  # --reconcile-usage: the provider's usage against the logs
    budget_replay: Replay | None = None  # --replay-budgets
    record_differences: list[RecordDifference] | None = None  # --reconcile: records whose recorded cost differs
    notes: list[str] = field(default_factory=list)  # lines every format states (price history)

    def all_notes(self) -> list[str]:
        notes = [self.currency.describe()] if self.currency is not None else []
        if self.sources is not None:
            notes += self.sources["notes"]
        return notes + self.notes

    def text_money(self) -> Any:
        """The context text formats are written in: amounts with the report currency's sign."""
        from .money import money_sign

        return money_sign(self.currency.sign) if self.currency is not None else contextlib.nullcontext()

    # -- json ------------------------------------------------------------------------------------------------

    def extend(self, doc: dict[str, Any]) -> None:
        if self.currency is not None:
            doc["currency"] = self.currency.as_dict()
        if self.notes:
            doc["notes"] = list(self.notes)
        if self.sources is not None:
            doc["priced_with"] = {k: v for k, v in self.sources.items() if k != "notes"}
        if self.bill is not None:
            doc["bill_reconciliation"] = self.bill.as_dict()
        if self.budgets is not None:
            doc["budgets"] = self.budgets.as_dict()
        if self.usage_gap is not None:
            doc["usage_gap"] = self.usage_gap.as_dict()
        if self.budget_replay is not None:
            doc["budget_replay"] = self.budget_replay.as_dict()
        if self.record_differences is not None:
            doc["record_differences"] = [d.as_dict() for d in self.record_differences]

    # -- the sections beside the proxy's logs (docs/sources.md) ----------------------------------------------------

    def _gap_rows(self) -> list[list[str]]:
        from .money import decimals_for, money_text

        assert self.usage_gap is not None
        gap_rows = self.usage_gap.rows
        usage, proxy = sum(r.usage.cost for r in gap_rows), sum(r.proxy.cost for r in gap_rows)
        decimals = decimals_for(dollars(c) for r in gap_rows for c in (r.usage.cost, r.proxy.cost))

        def money(units: int, signed: bool = False) -> str:
            return money_text(dollars(units), decimals, signed=signed)

        rows = []
        for r in gap_rows:
            u, p = r.usage, r.proxy
            rows.append([r.day, r.provider, r.model, r.scope, f"{u.requests:,}", f"{u.prompt + u.completion:,}",
                         money(u.cost), f"{p.requests:,}", f"{p.prompt + p.completion:,}", money(p.cost),
                         money(u.cost - p.cost, signed=True), "; ".join(r.causes) or "agrees"])
        rows.append(["total", "", "", "", "", "", money(usage), "", "", money(proxy), money(usage - proxy, signed=True),
                     ""])
        return rows

    def _gap_summary(self) -> str:
        assert self.usage_gap is not None
        g = self.usage_gap
        text = ("provider usage vs the proxy's logs, joined on day, provider, model"
                + (f" and {g.by}" if g.by else "") + "; both priced with the config, after its discount and without "
                "its margin; gap = usage - proxy")
        if g.not_covered:
            text += f"; {g.not_covered:,} logged request(s) of providers or days the usage does not cover"
        if g.unpriced_usage:
            text += f"; {g.unpriced_usage:,} usage record(s) unpriced (their gap is unknown)"
        return text

    def _replay_decimals(self) -> int:
        from .money import decimals_for

        assert self.budget_replay is not None
        return decimals_for([*(o.budget.max_budget for o in self.budget_replay.outcomes
                               if o.budget.max_budget is not None and math.isfinite(o.budget.max_budget)),
                             *(dollars(o.refused_cost) for o in self.budget_replay.outcomes)])

    def _replay_rows(self) -> list[list[str]]:
        from .money import money_text

        assert self.budget_replay is not None
        decimals = self._replay_decimals()

        def amount(value: float | None) -> str:
            if value is None:
                return "-"
            return money_text(value, decimals) if math.isfinite(value) else str(value)

        rows = []
        for o in self.budget_replay.outcomes:
            b = o.budget
            limit = amount(b.max_budget) + (f" (soft {amount(b.soft_budget)})" if b.soft_budget is not None else "")
            rows.append([b.label, limit, b.duration or "none", f"{o.allowed:,}", f"{o.refused:,}",
                         money_text(dollars(o.refused_cost), decimals), _iso_or_dash(o.first_refused),
                         ", ".join(o.blocked_until) or "-", o.status])
        return rows

    def _replay_summary(self) -> str:
        from .money import money_text

        assert self.budget_replay is not None
        r = self.budget_replay
        text = (f"budget replay (LiteLLM's enforcement over these records at the config's prices): "
                f"{r.refused_requests:,} request(s) would have been refused, costing "
                f"{money_text(dollars(r.refused_cost), self._replay_decimals())}")
        alerted = [o.budget.label for o in r.outcomes if o.first_soft_alert is not None]
        if alerted:
            text += f"; soft budget alerts: {', '.join(alerted)}"
        if r.undated:
            text += f"; {r.undated:,} record(s) without a timestamp not replayed"
        return text

    def _difference_rows(self) -> list[list[str]]:
        from .money import decimals_for, money_text

        assert self.record_differences is not None
        largest = sorted(self.record_differences, key=lambda d: -abs(d.difference))[:SHOWN_DIFFERENCES]
        shown = sorted(largest, key=self.record_differences.index)  # in input order
        decimals = decimals_for(a for d in shown for a in (d.recorded, d.computed))
        return [[f"{d.file}:{d.line}", d.model, money_text(d.recorded, decimals), money_text(d.computed, decimals),
                 money_text(d.difference, decimals, signed=True), d.cause] for d in shown]

    def _difference_summary(self) -> str:
        assert self.record_differences is not None
        n = len(self.record_differences)
        if not n:
            return "every record's recorded cost agrees with costcalc's within the tolerance"
        text = (f"{n:,} record(s) whose recorded cost (the cost the tool that wrote the log gave) differs from "
                "costcalc's, each with its likely cause")
        if n > SHOWN_DIFFERENCES:
            text += f"; the {SHOWN_DIFFERENCES} largest differences shown (--format json lists every record)"
        return text

    def _budget_rows(self) -> list[list[str]]:
        from .money import decimals_for, money_text

        assert self.budgets is not None
        lines = self.budgets.lines
        decimals = decimals_for(max(b.line.amount, abs(b.spent)) for b in lines)
        return [[b.line.label, money_text(b.line.amount, decimals), money_text(b.spent, decimals),
                 f"{b.share * 100:.2f}%", money_text(b.forecast, decimals), f"{b.records:,}", b.status]
                for b in lines]

    def _budget_summary(self) -> str:
        assert self.budgets is not None
        p = self.budgets.period
        text = (f"budgets for {p.start} to {p.end} (exclusive), as of {p.as_of}: day {p.elapsed} of {p.days}; "
                "forecast = spent / days elapsed × days in the period")
        if self.budgets.outside:
            text += f"; {self.budgets.outside:,} priced record(s) outside the period not counted"
        over = self.budgets.exceeded
        if over:
            text += f"; OVER BUDGET: {', '.join(b.line.label for b in over)}"
        return text

    # -- rows shared by table, markdown and html ----------------------------------------------------------------

    def _bill_rows(self) -> list[list[str]]:
        from .money import decimals_for, money_text

        assert self.bill is not None
        total = self.bill.totals()
        decimals = decimals_for(max(abs(r.computed), abs(r.billed)) for r in self.bill.rows)
        rows = []
        for r in [*self.bill.rows, total]:
            d = r.as_dict()
            rows.append([d["day"] or "total", d["provider"], d["model"], d["project"], f"{r.records:,}",
                         money_text(r.computed, decimals), money_text(r.billed, decimals),
                         money_text(r.gap, decimals, signed=True), _share_text(d["share"]),
                         bill_direction(r.computed, r.billed, decimals), d["status"] if r.day else ""])
        return rows

    def _bill_summary(self) -> str:
        assert self.bill is not None
        b = self.bill.as_dict()
        files = ", ".join(f"{f['path']} ({f['kind']})" for f in b["files"])
        text = (f"provider bill vs computed ({files}): computed is config prices after discount, without the "
                f"proxy's margin; gap = billed - computed; share = gap / billed; amounts in {b['currency']}")
        if b["bill_only"]:
            text += f"; {b['bill_only']} bill line group(s) with no logged records (unlogged or $0-booked calls)"
        if b["records_not_covered"]:
            text += f"; {b['records_not_covered']:,} priced record(s) of providers or days the bills do not cover"
        return text

    # -- table, markdown, html, csv ------------------------------------------------------------------------------

    def table(self, console: Any) -> None:
        from rich.text import Text

        for note in self.all_notes():
            console.print(Text(note))
        if self.bill is not None:
            # narrow terminals keep day, model, the two amounts and the direction in words
            _rich_section(console, self._bill_summary(), BILL_HEADERS, self._bill_rows(), labels={1, 2, 3},
                          left={0, 9, 10}, optional=(8, 3, 1, 4, 7, 10), alarm="bill only", warning="logs only")
        if self.budgets is not None:
            _rich_section(console, self._budget_summary(), BUDGET_HEADERS, self._budget_rows(), labels={0},
                          left={6}, optional=(5, 3), alarm="over", warning="forecast over")
        for summary, headers, right, rows, alarm in self._source_sections():
            text = {i for i in range(len(headers)) if i not in right}
            _rich_section(console, summary, headers, rows, labels=text - {0}, left=text,
                          optional=_SOURCE_OPTIONAL.get(headers, ()), alarm=alarm, warning=_NO_STATUS)

    def markdown(self, out: IO[str]) -> None:
        for note in self.all_notes():
            out.write(f"\n{note}\n")
        if self.bill is not None:
            _markdown_section(out, self._bill_summary(), BILL_HEADERS,
                              "|---|---|---|---|---:|---:|---:|---:|---:|---|---|",
                              self._bill_rows(), "bill only")
        if self.budgets is not None:
            _markdown_section(out, self._budget_summary(), BUDGET_HEADERS, "|---|---:|---:|---:|---:|---:|---|",
                              self._budget_rows(), "over")
        for summary, headers, right, rows, alarm in self._source_sections():
            rule = "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|"
            _markdown_section(out, summary, headers, rule, rows, alarm)

    def html(self, page: str) -> str:
        parts = [f"<p>{escape(n)}</p>" for n in self.all_notes()]
        if self.bill is not None:
            parts.append(_html_section("Provider bill vs computed", self._bill_summary(), BILL_HEADERS,
                                       self._bill_rows(), "bill only", "bill-only"))
        if self.budgets is not None:
            parts.append(_html_section("Budgets", self._budget_summary(), BUDGET_HEADERS, self._budget_rows(),
                                       "over", "over"))
        titles = ("Provider usage vs the proxy's logs", "Budget replay", "Records whose recorded cost differs")
        for title, (summary, headers, _, rows, alarm) in zip(titles, self._source_sections(all_three=True)):
            if rows is not None:
                parts.append(_html_section(title, summary, headers, rows, alarm, "over"))
        if not parts:
            return page
        section = "\n".join(parts) + "\n"
        return page.replace("</body>", section + "</body>", 1) if "</body>" in page else page + section

    def _source_sections(self, all_three: bool = False) -> list[tuple[str, Sequence[str], range, Any, str]]:
        """(summary, headers, right-aligned columns, rows, alarm status) of the usage gap, the budget replay and
        the record differences that are present (with ``all_three``: None rows for the absent ones)."""
        found: list[tuple[str, Sequence[str], range, Any, str]] = []
        for present, make in ((self.usage_gap is not None, lambda: (self._gap_summary(), GAP_HEADERS, range(4, 11),
                                                                     self._gap_rows(), _NO_STATUS)),
                              (self.budget_replay is not None,
                               lambda: (self._replay_summary(), REPLAY_HEADERS, range(1, 6), self._replay_rows(),
                                        "blocked")),
                              (self.record_differences is not None,
                               lambda: (self._difference_summary(), DIFFERENCE_HEADERS, range(2, 5),
                                        self._difference_rows(), _NO_STATUS))):
            if present:
                found.append(make())
            elif all_three:
                found.append(("", (), range(0), None, _NO_STATUS))
        return found

    def csv(self, out: IO[str], report_csv: Callable[[IO[str]], None]) -> None:
        """The bill table when there is one, else the report's CSV (``report_csv``), labelled with the currency
        and its rate source in two last columns when converted."""
        w = SafeCsvWriter(out)
        if self.budgets is not None and self.bill is None:
            p = self.budgets.period
            w.writerow(["budget", "key", "value", "amount", "spent", "share", "forecast", "records", "status",
                        "currency", "period_start", "period_end", "as_of"])
            for b in self.budgets.lines:
                d = b.as_dict()
                w.writerow([d["budget"], d["key"] or "", d["value"] or "", d["amount"], d["spent"], d["share"],
                            d["forecast"], d["records"], d["status"], self.budgets.currency, p.start, p.end,
                            p.as_of])
            return
        if self.bill is None:
            if self.currency is None:
                report_csv(out)
                return
            buf = io.StringIO()
            report_csv(buf)
            buf.seek(0)
            for i, row in enumerate(csv_module.reader(buf)):
                w.writerow([*row, *(("currency", "fx_rate_source") if i == 0
                                    else (self.currency.currency, self.currency.describe()))])
            return
        if self.bill is not None:
            w.writerow([*BILL_HEADERS[:5], "bill_lines", *BILL_HEADERS[5:], "currency"])
            for r, shown in zip(self.bill.rows, self._bill_rows()):
                d = r.as_dict()
                w.writerow([d["day"], d["provider"], d["model"], d["project"], d["records"], d["bill_lines"],
                            d["computed"], d["billed"], d["gap"], "" if d["share"] is None else d["share"],
                            shown[9], d["status"], self.bill.currency])


def pricing_sources(engine: Any, counts: dict[str, int], priced: int, map_info: Any,
                    map_note: str | None) -> dict[str, Any]:
    """Which configs (by the date each took effect: ``counts`` of priced records per config label) and which
    cost map priced how many records (``priced`` in all)."""
    configs = []
    describe = getattr(engine, "describe", None)
    if describe is not None:
        for c in describe():
            label = f"{c['from']}={c['config']}" if c["from"] else c["config"]
            configs.append({**c, "records": counts.get(label, 0)})
    elif engine.config.path:
        configs.append({"from": None, "config": engine.config.path, "records": priced})
    cost_map = {**map_info.as_dict(), "chosen": map_note or "the default map"}
    notes = []
    if configs:
        parts = [f"{c['config']} " + (f"from {c['from']}" if c["from"] else "(undated: before the first date)")
                 + f": {c['records']:,} record(s)" for c in configs]
        notes.append("priced with configs: " + "; ".join(parts))
    notes.append(f"cost map: {map_note or map_info.source} (sha256 {map_info.sha256[:12]})")
    return {"configs": configs, "cost_map": cost_map, "notes": notes}


def _rich_section(console: Any, summary: str, headers: Sequence[str], rows: list[list[str]], *, labels: set[int],
                  left: set[int], optional: Sequence[int], alarm: str, warning: str) -> None:
    """One audit table for the terminal, fitted to its width (``fit``): the summary, then the rows, each styled
    by its status (the last cell): ``alarm`` in bold red capitals, ``warning`` in yellow."""
    from rich.text import Text

    from .fit import fitted_table

    console.print(Text(summary))
    styles = ["bold red" if row[-1] == alarm else ("yellow" if row[-1] == warning else None) for row in rows]
    shown = [[*row[:-1], row[-1].upper() if row[-1] == alarm else row[-1]] for row in rows]
    console.print(fitted_table(console, headers, shown, labels=labels, left=left, optional=optional,
                               styles=styles))


def _markdown_section(out: IO[str], summary: str, headers: Sequence[str], rule: str,
                      rows: Iterable[list[str]], alarm: str) -> None:
    """A summary line and a pipe table whose rows with status ``alarm`` shout it in bold capitals."""
    out.write(f"\n{summary}\n\n")
    out.write("| " + " | ".join(headers) + f" |\n{rule}\n")
    for row in rows:
        if row[-1] == alarm:
            row = [*row[:-1], f"**{alarm.upper()}**"]
        out.write("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |\n")


def _html_section(title: str, summary: str, headers: Sequence[str], rows: Iterable[list[str]], alarm: str,
                  css_class: str) -> str:
    """A titled table whose rows with status ``alarm`` are red and bold (class ``css_class``)."""
    body = []
    for row in rows:
        cls = f' class="{css_class}"' if row[-1] == alarm else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    return (f"<h2>{escape(title)}</h2>"
            f"<p>{escape(summary)}</p>"
            f"<style>tr.{css_class} td {{ color: #b00020; font-weight: bold; }}</style>"
            '<div class="scroll"><table><thead><tr>' + "".join(f"<th>{escape(h)}</th>" for h in headers)
            + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>")
