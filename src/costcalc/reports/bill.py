"""``--reconcile-with FILE…``: the provider's bill against the computed cost, per day and model (and project or
workspace where the bill has them).

Three kinds of export are read, each as the provider publishes it (the README says where each comes from):

- OpenAI's organization Costs API (``GET /v1/organization/costs``): a page ``{"object": "page", "data": [bucket,
  …]}``; each bucket has ``start_time`` (Unix seconds, one day wide) and ``results`` of
  ``organization.costs.result`` with ``amount.value`` in dollars (a JSON number, read as an exact decimal),
  ``amount.currency`` (lowercase ISO 4217), ``line_item`` (``"gpt-4o-2024-08-06, input"`` when grouped by line
  item) and ``project_id`` (when grouped by project).
- Anthropic's Admin API cost report (``GET /v1/organizations/cost_report``): ``{"data": [bucket, …]}``; each
  bucket has ``starting_at`` (RFC 3339) and ``results`` with ``amount``, a decimal string in the currency's
  lowest unit (cents: ``"123.45"`` is $1.2345), ``currency``, ``model``, ``workspace_id`` and ``description``.
- A plain CSV with the header ``date,provider,model,amount,currency`` (and optionally ``project``), amounts in
  currency units, for any other provider.

A file may hold one page or a JSON array of pages; several files (pages) may be given.

Alignment: bill lines and computed records meet on (UTC day, provider, model, project). Rows keep the bill's own
model names, the provider's model ids (dated snapshots such as ``gpt-4o-2024-08-06``), so that two snapshots with
different prices never merge. A record meets the bill line of its own model id (the cost-map entry or deployment
model it was priced as, without a provider prefix, compared without case); a record logged under an alias
(``gpt-4o``) meets the snapshot of that alias when the bill has exactly one for the day (a proxy logs the alias
called, a bill the snapshot served), and stays on its own row when the bill has several. A provider's lines
are compared per project only when its bill names projects (records name theirs in ``project_id``/
``workspace_id``, at the top or in ``metadata``), and per model only when it names models. Only providers and
days the bills cover are compared: a bill for OpenAI says nothing about Azure, nor about days outside its
buckets.

The computed side is what the provider charges for the records: config prices after the discount
(``cost_discount_config``), without the proxy's own margin (``cost_margin_config``), which is not on a
provider's bill.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import CostcalcError
from .aggregate import NONE
from .ledger import SCALE, Ledger, dollars, is_day

CSV_FIELDS = ("date", "provider", "model", "amount", "currency")
MAX_AMOUNT = Decimal(10) ** 12  # as for recorded costs: no bill line is a trillion
ALL = "(all)"  # a bill line that names no model or project covers them all
_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")


class BillError(CostcalcError):
    """A bill file that cannot be read: one line naming the file, and the line or field."""

    exit_code = 2


@dataclass(frozen=True)
class BillLine:
    day: str  # YYYY-MM-DD (UTC)
    provider: str
    model: str  # as the bill names it; ALL when it names none
    project: str | None  # project / workspace id; None when the bill does not group by it
    amount: Decimal  # in currency units (dollars)
    currency: str  # upper-case ISO 4217
    where: str  # file and line or field, for messages


@dataclass
class Bill:
    """Lines from one or more files, and the days each provider's bill covers (empty buckets included)."""

    lines: list[BillLine] = field(default_factory=list)
    coverage: dict[str, set[str]] = field(default_factory=dict)  # provider -> days
    files: list[dict[str, str]] = field(default_factory=list)  # {"path", "kind"}

    def cover(self, provider: str, day: str) -> None:
        self.coverage.setdefault(provider, set()).add(day)


def model_id(name: str) -> str:
    """A bill's or a record's model as the provider names it: no provider prefix and, for OpenAI line items, no
    ``, input``/``, output`` part (``gpt-4o-2024-08-06, input`` → ``gpt-4o-2024-08-06``)."""
    return name.split(",", 1)[0].strip().rsplit("/", 1)[-1]


def normal_model(name: str) -> str:
    """The model a snapshot is of: lower case, no provider prefix, no snapshot date (``gpt-4o``)."""
    return _DATE_SUFFIX.sub("", model_id(name).lower())


def _day_of_epoch(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise BillError(f"{where}: not Unix seconds: {value!r}")
    try:
        return datetime.fromtimestamp(float(value), timezone.utc).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        raise BillError(f"{where}: not Unix seconds in the years 1970 to 9999: {value!r}") from None


def _day_of_rfc3339(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise BillError(f"{where}: not an RFC 3339 time: {value!r}")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BillError(f"{where}: not an RFC 3339 time: {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d")


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool):
        raise BillError(f"{where}: not a number: {value!r}")
    try:
        d = Decimal(value) if isinstance(value, (int, str, Decimal)) else None
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite():
        raise BillError(f"{where}: not a decimal number: {value!r}")
    if abs(d) > MAX_AMOUNT:
        raise BillError(f"{where}: {value!r} is beyond any bill (more than {MAX_AMOUNT:,} in absolute value)")
    return d


def _opt_str(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BillError(f"{where}: not a string: {value!r}")
    return value


def _bucket_results(doc: dict[str, Any], where: str, provider: str, day_field: str, day_of,
                    bill: Bill) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(day, location, result) for every result of every daily bucket; both providers page their costs so."""
    data = doc.get("data")
    if not isinstance(data, list):
        raise BillError(f"{where}: data: not a list of buckets")
    for i, bucket in enumerate(data):
        at = f"{where}: data[{i}]"
        if not isinstance(bucket, dict):
            raise BillError(f"{at}: not a bucket object")
        day = day_of(bucket.get(day_field), f"{at}.{day_field}")
        bill.cover(provider, day)
        results = bucket.get("results", [])
        if not isinstance(results, list):
            raise BillError(f"{at}.results: not a list")
        for j, r in enumerate(results):
            rat = f"{at}.results[{j}]"
            if not isinstance(r, dict):
                raise BillError(f"{rat}: not an object")
            yield day, rat, r


def _currency_code(value: Any, where: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise BillError(f"{where}: not an ISO 4217 code: {value!r}")
    return value.upper()


def read_openai_page(page: dict[str, Any], where: str, bill: Bill) -> None:
    for day, rat, r in _bucket_results(page, where, "openai", "start_time", _day_of_epoch, bill):
        amount = r.get("amount")
        if not isinstance(amount, dict):
            raise BillError(f"{rat}.amount: missing or not an object")
        value = _decimal(amount.get("value"), f"{rat}.amount.value")
        currency = _currency_code(amount.get("currency", "usd"), f"{rat}.amount.currency")
        item = _opt_str(r.get("line_item"), f"{rat}.line_item")
        project = _opt_str(r.get("project_id"), f"{rat}.project_id")
        bill.lines.append(BillLine(day, "openai", item or ALL, project, value, currency, rat))


def read_anthropic_report(doc: dict[str, Any], where: str, bill: Bill) -> None:
    for day, rat, r in _bucket_results(doc, where, "anthropic", "starting_at", _day_of_rfc3339, bill):
        if not isinstance(r.get("amount"), str):
            raise BillError(f"{rat}.amount: not a decimal string: {r.get('amount')!r}")
        cents = _decimal(r["amount"], f"{rat}.amount")
        currency = _currency_code(r.get("currency", "USD"), f"{rat}.currency")
        model = _opt_str(r.get("model"), f"{rat}.model")
        if model is None and r.get("cost_type") not in (None, "tokens"):
            model = str(r["cost_type"])  # web search, code execution: not a model, still on the bill
        workspace = _opt_str(r.get("workspace_id"), f"{rat}.workspace_id")  # null: the default workspace
        bill.lines.append(BillLine(day, "anthropic", model or ALL, workspace, cents / 100, currency, rat))


def read_csv_bill(path: str, text: str, bill: Bill) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise BillError(f"{path}: empty file (expected the header {','.join(CSV_FIELDS)})")
    names = [h.strip().lower() for h in header]
    missing = [f for f in CSV_FIELDS if f not in names]
    if missing:
        raise BillError(f"{path}:1: header lacks {', '.join(missing)} (expected {','.join(CSV_FIELDS)}"
                        "[,project])")
    col = {n: i for i, n in enumerate(names)}
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) < len(names):
            raise BillError(f"{path}:{line}: {len(row)} fields, the header has {len(names)}")
        cell = {n: row[i].strip() for n, i in col.items()}
        day = cell["date"]
        if not is_day(day):
            try:
                day = _day_of_rfc3339(day, "")
            except BillError:
                raise BillError(f"{path}:{line}: date: not YYYY-MM-DD: {cell['date']!r}") from None
        if not cell["provider"]:
            raise BillError(f"{path}:{line}: provider: empty")
        amount = _decimal(cell["amount"], f"{path}:{line}: amount")
        currency = cell["currency"] or "USD"
        if not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise BillError(f"{path}:{line}: currency: not an ISO 4217 code: {currency!r}")
        provider = cell["provider"].lower()
        bill.cover(provider, day)
        project = cell.get("project") or None
        bill.lines.append(BillLine(day, provider, cell["model"] or ALL, project, amount, currency.upper(),
                                   f"{path}:{line}"))


def load_bills(paths: list[str]) -> Bill:
    """Read every file; the kind is recognised from its content (CSV by its header)."""
    bill = Bill()
    for path in paths:
        kind = _read_one(path, bill)
        bill.files.append({"path": path, "kind": kind})
    return bill


def _read_one(path: str, bill: Bill) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BillError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise BillError(f"{path}: not UTF-8 text") from None
    if not text.lstrip().startswith(("{", "[")):
        read_csv_bill(path, text, bill)
        return "csv"
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise BillError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    pages = doc if isinstance(doc, list) else [doc]
    kinds = set()
    for n, page in enumerate(pages):
        where = f"{path}" if not isinstance(doc, list) else f"{path}: [{n}]"
        if not isinstance(page, dict):
            raise BillError(f"{where}: not a cost page object")
        kind = _kind(page)
        if kind == "openai":
            read_openai_page(page, where, bill)
        elif kind == "anthropic":
            read_anthropic_report(page, where, bill)
        else:
            raise BillError(f"{where}: not an OpenAI Costs API page (\"object\": \"page\" with buckets of "
                            "organization.costs.result) nor an Anthropic cost report (data[].starting_at)")
        kinds.add(kind)
    return "+".join(sorted(kinds)) or "empty"


def _kind(page: dict[str, Any]) -> str | None:
    data = page.get("data")
    buckets = [b for b in data if isinstance(b, dict)] if isinstance(data, list) else []
    if page.get("object") == "page" or any("start_time" in b for b in buckets):
        return "openai"
    if any("starting_at" in b for b in buckets) or ("has_more" in page and isinstance(data, list) and not data):
        return "anthropic"
    return None


def _within(bill: Bill, since: float | None, until: float | None) -> Bill:
    def inside(day: str) -> bool:
        start = datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp()
        return (since is None or start + 86400 > since) and (until is None or start < until)

    kept = Bill(files=bill.files)
    kept.lines = [b for b in bill.lines if inside(b.day)]
    kept.coverage = {p: {d for d in days if inside(d)} for p, days in bill.coverage.items()}
    return kept


# -- alignment ----------------------------------------------------------------------------------------------------

@dataclass
class BillRow:
    day: str
    provider: str
    model: str
    project: str
    computed: Decimal
    billed: Decimal
    records: int
    bill_lines: int

    @property
    def gap(self) -> Decimal:
        return self.billed - self.computed

    @property
    def share(self) -> Decimal | None:
        """The gap as a share of the bill (how much of it the logs do not explain)."""
        return (self.gap / self.billed).quantize(Decimal("0.0001")) if self.billed else None

    @property
    def status(self) -> str:
        if self.records == 0 and self.bill_lines:
            return "bill only"  # unlogged calls, or calls the logs booked at $0
        if self.bill_lines == 0:
            return "logs only"
        return "match" if self.gap == 0 else "gap"

    def as_dict(self) -> dict[str, Any]:
        share = self.share
        return {"day": self.day, "provider": self.provider, "model": self.model, "project": self.project,
                "records": self.records, "bill_lines": self.bill_lines, "computed": _text(self.computed),
                "billed": _text(self.billed), "gap": _text(self.gap),
                "share": None if share is None else _text(share), "status": self.status}


def _text(d: Decimal) -> str:
    text = format(d.normalize(), "f") if d else "0"
    return text


@dataclass
class Reconciliation:
    rows: list[BillRow]
    files: list[dict[str, str]]
    currency: str
    not_covered: int  # priced records of providers or days the bills do not cover

    def totals(self) -> BillRow:
        return BillRow("", "", "", "", sum((r.computed for r in self.rows), Decimal(0)),
                       sum((r.billed for r in self.rows), Decimal(0)), sum(r.records for r in self.rows),
                       sum(r.bill_lines for r in self.rows))

    def as_dict(self) -> dict[str, Any]:
        t = self.totals()
        return {"files": self.files, "currency": self.currency,
                "computed_is": "config prices after cost_discount_config, without cost_margin_config",
                "rows": [r.as_dict() for r in self.rows],
                "totals": {"computed": _text(t.computed), "billed": _text(t.billed), "gap": _text(t.gap),
                           "share": None if t.share is None else _text(t.share)},
                "bill_only": sum(1 for r in self.rows if r.status == "bill only"),
                "logs_only": sum(1 for r in self.rows if r.status == "logs only"),
                "records_not_covered": self.not_covered}


def reconcile_bill(ledger: Ledger, bill: Bill, currency: str = "USD", rate: Any = None,
                   since: float | None = None, until: float | None = None) -> Reconciliation:
    """Align ``bill`` with the ledger's computed costs. ``rate(day)`` converts dollars into ``currency``
    (None: dollars); bill lines in another currency are an error (one line naming the line). With a
    --since/--until window, bill days wholly outside it are left out, as the records there were."""
    if since is not None or until is not None:
        bill = _within(bill, since, until)
    for b in bill.lines:
        if b.currency != currency:
            raise BillError(f"{b.where}: amount in {b.currency}, the report is in {currency} (give --currency "
                            f"{b.currency} with its rates to compare)")
    by_model = {p: any(b.model != ALL for b in bill.lines if b.provider == p) for p in bill.coverage}
    # lines without a project (Anthropic's default workspace, null) meet the records that name none
    by_project = {p: any(b.project is not None for b in bill.lines if b.provider == p) for p in bill.coverage}

    def where(day: str, provider: str, project: str | None) -> tuple[str, str, str]:
        return (day, provider, (project or NONE) if by_project[provider] else ALL)

    rows: dict[tuple[str, str, str, str], BillRow] = {}
    # per (day, provider, project): the bill's model ids by lower-case id and by the model they are snapshots of
    billed_ids: dict[tuple[str, str, str], dict[str, str]] = {}
    snapshots: dict[tuple[str, str, str], dict[str, set[str]]] = {}
    for b in bill.lines:
        at = where(b.day, b.provider, b.project)
        name = model_id(b.model) if by_model[b.provider] else ALL
        if name != ALL:
            billed_ids.setdefault(at, {})[name.lower()] = name
            snapshots.setdefault(at, {}).setdefault(normal_model(name), set()).add(name)
        k = (*at[:2], name, at[2])
        row = rows.get(k)
        if row is None:
            row = rows[k] = BillRow(*k, computed=Decimal(0), billed=Decimal(0), records=0, bill_lines=0)
        row.billed += b.amount
        row.bill_lines += 1

    def billed_as(at: tuple[str, str, str], model: str) -> str:
        """The bill's id for a record's model: its own id, or the one snapshot billed of the alias it names."""
        if not by_model[at[1]]:
            return ALL
        own = model_id(model)
        found = billed_ids.get(at, {}).get(own.lower())
        if found is not None:
            return found
        same = snapshots.get(at, {}).get(normal_model(own), set())
        return next(iter(same)) if len(same) == 1 else own

    exact: dict[tuple[str, str, str, str], Fraction] = {}
    not_covered = 0
    for (day, provider, _rid, _rname, _team, model, project), cell in ledger.cells.items():
        p = provider.lower()
        if day not in bill.coverage.get(p, ()):
            not_covered += cell.requests
            continue
        at = where(day, p, project if project != NONE else None)
        k = (*at[:2], billed_as(at, model), at[2])
        row = rows.get(k)
        if row is None:
            row = rows[k] = BillRow(*k, computed=Decimal(0), billed=Decimal(0), records=0, bill_lines=0)
        row.records += cell.requests
        amount = Fraction(cell.discounted, SCALE)
        if rate is not None:
            amount *= Fraction(rate(day))
        exact[k] = exact.get(k, Fraction(0)) + amount
    for k, amount in exact.items():
        rows[k].computed = dollars(amount)
    ordered = sorted(rows.values(), key=lambda r: (r.day, r.provider, r.model, r.project))
    return Reconciliation(ordered, bill.files, currency, not_covered)
