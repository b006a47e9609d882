"""Every output format, declared once.

A ``Format`` names the commands whose ``--format`` offers it, its report writer (one signature:
``write(result, out, style)``), its per-record writer when it writes records as they are priced, what it
``needs`` the pipeline to compute (request fields: ``timeline`` for HTML's chart, ``ledger`` for FOCUS's per-day
rows; never anything that changes what is priced or summed) and the report sections it ``shows``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Protocol

from . import csv, explain, focus, html, json, jsonl, markdown, parquet, summary, table

# Report sections beyond the groups, and the request fields that ask for each.
SECTIONS = ("reconcile", "bill", "budgets", "currency", "compare", "usage_gap", "budget_replay")


class Output(Protocol):
    """Where a format writes: opened on first use (a file is only created when writing starts)."""

    def binary(self) -> IO[bytes]: ...

    def text(self) -> IO[str]: ...

    def console(self) -> Any: ...


@dataclass(frozen=True)
class Style:
    """How a report is shown (never what is priced): table and Markdown columns, width, the terminal chart."""

    columns: list[str] | None = None
    wide: bool = False
    chart: bool = False
    focus_version: str = "1.2"  # --format focus: the FOCUS version written


ReportWriter = Callable[[Any, Output, Style], None]  # (reports.pipeline.PriceResult, output, style)


@dataclass(frozen=True)
class Format:
    name: str
    commands: frozenset[str]  # the commands whose --format offers it
    write: ReportWriter | None = None  # the price report; None: the format writes records only
    records: Callable[[Any], Any] | None = None  # per-record output: (engine) -> run's record writer
    per_record: Callable[[Any], Any] | None = None  # the same, asked for with --per-record
    shows: frozenset[str] = frozenset()  # report sections it shows (SECTIONS)
    needs: frozenset[str] = frozenset()  # request fields it turns on
    screen: bool = False  # written for a person: the notes and the accounting are in it (else on stderr)
    one_table: bool = False  # holds one table: one audit section at most
    explains: str | None = "text"  # --explain in this format: "text", "json" (one array), "jsonl"; None: no
    # per-record output written to a staged file first, then ``finish(staged path, output)`` (Parquet: DuckDB
    # converts the staged CSV at the end)
    finish: Callable[[str, Any], None] | None = None


_EVERY_COMMAND = frozenset({"price", "diff", "diff --against", "lookup", "models", "map info", "map update",
                            "validate"})
_ALL = frozenset(SECTIONS)

FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("table", _EVERY_COMMAND, table.write, shows=_ALL, screen=True),
    Format("json", _EVERY_COMMAND, json.write, shows=_ALL, explains="json"),
    Format("jsonl", frozenset({"price"}), records=jsonl.records, explains="jsonl"),
    Format("csv", frozenset({"price", "diff"}), csv.write, per_record=csv.records, one_table=True,
           shows=frozenset({"reconcile", "bill", "budgets", "currency", "compare"})),
    Format("markdown", frozenset({"price", "diff"}), markdown.write, shows=_ALL, screen=True),
    Format("html", frozenset({"price"}), html.write, shows=_ALL, needs=frozenset({"timeline"})),
    Format("focus", frozenset({"price"}), focus.write, shows=frozenset({"currency"}), needs=frozenset({"ledger"}),
           explains=None),
    Format("summary", frozenset({"price"}), summary.write, shows=frozenset({"budgets", "compare", "currency"}),
           explains=None),
    Format("summary-slack", frozenset({"price"}), summary.write_slack,
           shows=frozenset({"budgets", "compare", "currency"}), explains=None),
    Format("parquet", frozenset({"price"}), parquet.write, per_record=parquet.records, finish=parquet.finish,
           one_table=True, shows=frozenset({"compare"}), explains=None),
)}

# --explain: each record's explanation, in the format's own kind of text
EXPLAIN = explain


def choices(command: str) -> list[str]:
    """The ``--format`` choices of ``command``, in declaration order."""
    return [f.name for f in FORMATS.values() if command in f.commands]


def showing(section: str) -> list[str]:
    """The price formats that show ``section`` in their report."""
    return [f.name for f in FORMATS.values() if section in f.shows and f.write is not None]


def write_document(fmt: str, doc: dict[str, Any], out: Output, table: Callable[[dict[str, Any], Any], None],
                   **text: Callable[[dict[str, Any], IO[str]], None]) -> None:
    """Another command's document (lookup, models, diff, validate, map) in format ``fmt``: JSON as it is, a table
    by ``table(doc, console)``, other text formats by ``text[fmt](doc, stream)``."""
    if fmt == "json":
        json.write_document(doc, out)
    elif fmt == "table":
        table(doc, out.console())
    else:
        text[fmt](doc, out.text())
