"""The audit sections a ``price`` report can carry beside its groups (bill reconciliation, budgets, currency),
written in every format by one object, so that the CLI hooks each format with a single call and the report's
own writers stay as they are.

- json: ``extend(doc)`` adds ``bill_reconciliation`` / ``budgets`` / ``currency`` keys.
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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from typing import IO, Any

from .bill import Reconciliation
from .budget import Budgets
from .cells import SafeCsvWriter
from .currency import FxRates

BUDGET_HEADERS = ("budget", "amount", "spent", "share", "forecast", "records", "status")
BILL_HEADERS = ("day", "provider", "model", "project", "records", "computed", "billed", "gap", "share", "status")


def _share_text(share: str | None) -> str:
    return "-" if share is None else f"{Decimal(share) * 100:+.2f}%"


@dataclass
class AuditSections:
    bill: Reconciliation | None = None
    budgets: Budgets | None = None
    currency: FxRates | None = None
    sources: dict[str, Any] | None = None  # which configs and cost map priced what (price history)
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

    def _budget_rows(self) -> list[list[str]]:
        assert self.budgets is not None
        cur = self.budgets.currency
        rows = []
        for b in self.budgets.lines:
            d = b.as_dict()
            rows.append([d["budget"], f"{d['amount']} {cur}", f"{d['spent']} {cur}",
                         f"{b.share * 100:.2f}%", f"{d['forecast']} {cur}", f"{b.records:,}", d["status"]])
        return rows

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
        assert self.bill is not None
        cur = self.bill.currency
        rows = []
        for r in self.bill.rows:
            d = r.as_dict()
            rows.append([d["day"], d["provider"], d["model"], d["project"], f"{r.records:,}",
                         f"{d['computed']} {cur}", f"{d['billed']} {cur}", f"{d['gap']} {cur}",
                         _share_text(d["share"]), d["status"]])
        t = self.bill.as_dict()["totals"]
        rows.append(["total", "", "", "", f"{self.bill.totals().records:,}", f"{t['computed']} {cur}",
                     f"{t['billed']} {cur}", f"{t['gap']} {cur}", _share_text(t["share"]), ""])
        return rows

    def _bill_summary(self) -> str:
        assert self.bill is not None
        b = self.bill.as_dict()
        files = ", ".join(f"{f['path']} ({f['kind']})" for f in b["files"])
        text = (f"provider bill vs computed ({files}): computed is config prices after discount, without the "
                f"proxy's margin; gap = billed - computed; share = gap / billed")
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
            _rich_section(console, self._bill_summary(), BILL_HEADERS, range(4, 9), self._bill_rows(),
                          alarm="bill only", warning="logs only")
        if self.budgets is not None:
            _rich_section(console, self._budget_summary(), BUDGET_HEADERS, range(1, 6), self._budget_rows(),
                          alarm="over", warning="forecast over")

    def markdown(self, out: IO[str]) -> None:
        for note in self.all_notes():
            out.write(f"\n{note}\n")
        if self.bill is not None:
            _markdown_section(out, self._bill_summary(), BILL_HEADERS, "|---|---|---|---|---:|---:|---:|---:|---:|---|",
                              self._bill_rows(), "bill only")
        if self.budgets is not None:
            _markdown_section(out, self._budget_summary(), BUDGET_HEADERS, "|---|---:|---:|---:|---:|---:|---|",
                              self._budget_rows(), "over")

    def html(self, page: str) -> str:
        parts = [f"<p>{escape(n)}</p>" for n in self.all_notes()]
        if self.bill is not None:
            parts.append(_html_section("Provider bill vs computed", self._bill_summary(), BILL_HEADERS,
                                       self._bill_rows(), "bill only", "bill-only"))
        if self.budgets is not None:
            parts.append(_html_section("Budgets", self._budget_summary(), BUDGET_HEADERS, self._budget_rows(),
                                       "over", "over"))
        if not parts:
            return page
        section = "\n".join(parts) + "\n"
        return page.replace("</body>", section + "</body>", 1) if "</body>" in page else page + section

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
            for r in self.bill.rows:
                d = r.as_dict()
                w.writerow([d["day"], d["provider"], d["model"], d["project"], d["records"], d["bill_lines"],
                            d["computed"], d["billed"], d["gap"], "" if d["share"] is None else d["share"],
                            d["status"], self.bill.currency])


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


def _rich_section(console: Any, summary: str, headers: Sequence[str], right: range, rows: list[list[str]], *,
                  alarm: str, warning: str) -> None:
    """One audit table for the terminal: the summary, then the rows, the ``right`` columns right-aligned, and
    each row styled by its status (the last cell): ``alarm`` in bold red capitals, ``warning`` in yellow."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console.print(Text(summary))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    for i, h in enumerate(headers):
        table.add_column(h, justify="right" if i in right else "left", overflow="fold")
    for row in rows:
        status = row[-1]
        style = "bold red" if status == alarm else ("yellow" if status == warning else None)
        table.add_row(*[Text(c) for c in row[:-1]], Text(status.upper() if status == alarm else status),
                      style=style)
    console.print(table)


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
            "<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr></thead>"
            "<tbody>" + "".join(body) + "</tbody></table>")
