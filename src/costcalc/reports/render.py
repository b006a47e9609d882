"""Writers for reports: table (rich), json, jsonl (per record), csv and markdown, on one code path (the HTML
report is ``html.py``).

Nothing here prices or adds anything: amounts come from ``money.figures`` over the ``Report`` that
``aggregate`` (or another engine) built, so every format shows the same numbers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import IO, Any

import orjson

from ..engines.streaming import NotPriced, Outcome, Priced, PricingEngine, unit_charges
from ..pricing.approximate import approximate_reason
from ..pricing.exact import decimal_text as plain_decimal
from ..pricing.formulas import Pricer
from ..rates.costmap import CostMapInfo
from ..reading.names import ID_FIELDS
from ..reading.records import Rejected, Skipped
from ..version import __version__
from .aggregate import COST_PARTS, TOKEN_PARTS, TOTAL, Report, Totals, ids_of, request_id
from .cells import SafeCsvWriter, markdown_cell, printable, printable_all
from .fit import elide
from .money import (
    DECIMALS,
    Figures,
    Row,
    decimal_text,
    exact_text,
    figures,
    float_text,
    report_decimals,
    round_units,
    sign,
    usd,
)


def tokens(n: int) -> str:
    return f"{n:,}"


def accounting_line(report: Report) -> str:
    a = report.accounting
    line = (f"{a.read:,} records read: {a.priced:,} priced, {a.unpriced:,} unpriced, {a.rejected:,} rejected, "
            f"{a.skipped:,} skipped")
    if a.filtered:
        line += f", {a.filtered:,} outside --since/--until"
    if a.excluded:
        line += f", {a.excluded:,} left out by --where"
    if a.duplicates:
        line += f", {a.duplicates:,} duplicates dropped (same request id)"
    if a.approximate:
        line += f"; {a.approximate:,} of the priced approximate ({approximate_share(report)} of the total cost)"
    return line


def approximate_share(report: Report) -> str:
    """The approximate records' part of the report's total cost, as a percentage."""
    whole = report.totals.costs[TOTAL]
    part = report.approximate.costs[TOTAL]
    if not whole:
        return "0.0%" if not part else "all"
    return f"{100 * part / whole:.1f}%"


# -- JSON ----------------------------------------------------------------------------------------------

def _amount(units: int, decimals: int = DECIMALS) -> orjson.Fragment:
    """A JSON number written as the exact decimal (no float noise)."""
    return orjson.Fragment(decimal_text(units, decimals).encode())


def totals_dict(t: Totals, amounts: list[int], decimals: int = DECIMALS) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": t.requests, "tokens": dict(zip(TOKEN_PARTS, t.tokens)),
                           "cost": {name: _amount(v, decimals) for name, v in zip(COST_PARTS, amounts)}}
    if t.recorded_n:
        out["recorded"] = {
            "records": t.recorded_n,
            "recorded_cost": orjson.Fragment(exact_text(t.recorded).encode()),
            "computed_cost": orjson.Fragment(exact_text(t.recorded_computed).encode()),
            "difference": orjson.Fragment(exact_text(t.recorded_computed - t.recorded).encode()),
        }
    return out


def report_dict(report: Report, cost_map: CostMapInfo, config_path: str | None,
                warnings: Iterable[str] = ()) -> dict[str, Any]:
    """The ``--format json`` document (schema documented in the README). Money is in USD, exact decimals of at
    most ``DECIMALS`` places; each cost column of ``groups`` adds up to ``totals`` (unless ``groups_overlap``)."""
    fig = figures(report)
    groups = []
    for r in fig.rows:
        row = {"key": dict(zip(report.group_by, r.key))}
        row.update(totals_dict(r.totals, r.amounts))
        row["share"] = None if r.share is None else _amount(r.share, fig.share_decimals)
        if fig.compared:
            row["previous"] = _previous_dict(report, r.key)
        groups.append(row)
    return {
        "costcalc_version": __version__,
        "cost_map": cost_map.as_dict(),
        "config": config_path,
        **({"configs": [{k: c[k] for k in ("config", "from", "until")} for c in configs_in_force(report)]}
           if report.configs else {}),
        **({"renamed": list(report.renamed)} if report.renamed else {}),
        "notes": report_notes(report, config_path),
        "money": {"currency": "USD", "decimals": DECIMALS, "rounding": "half to even, each amount on its own; "
                  "with every place kept, groups add up to totals exactly"},
        "period": period_dict(report),
        "where": list(report.where),
        "group_by": list(report.group_by),
        "totals": totals_dict(report.totals, fig.total.amounts),
        "groups": groups,
        **({"subtotals": [_subtotal_dict(report, s, fig) for s in fig.subtotals or ()]}
           if len(report.group_by) > 1 else {}),
        "groups_overlap": report.multi_key,
        "top": report.top,
        "sort": report.sort,
        "accounting": report.accounting.as_dict(),
        "approximate": {"share": approximate_share(report), "reasons": dict(report.approximate_reasons)},
        "unpriced_models": [
            {"model": u.model, "count": u.count, "reason": u.reason, "suggestions": list(u.suggestions)}
            for u in sorted(report.unpriced.values(), key=lambda u: (-u.count, u.model))
        ],
        "rejected": [{"file": r.file, "line": r.line, "reason": r.reason} for r in report.rejected],
        "warnings": list(warnings),
        **({"previous": {"since": when_iso(report, report.previous.since),
                         "until": when_iso(report, report.previous.until),
                         "totals": _previous_dict(report, None)}} if report.previous is not None else {}),
    }


def _subtotal_dict(report: Report, s: Row, fig: Figures) -> dict[str, Any]:
    """An outer group's subtotal for JSON: its keys, its level (how many keys), and the exact sums of its rows."""
    row = {"key": dict(zip(report.group_by, s.key)), "level": len(s.key)}
    row.update(totals_dict(s.totals, s.amounts))
    row["share"] = None if s.share is None else _amount(s.share, fig.share_decimals)
    return row


NO_CONFIG_NOTE = "no --config: priced from the public cost map only (the proxy's own prices, discounts and " \
    "margins are not applied)"


def _zone(report: Report) -> Any:
    if report.tz_name == "UTC":
        return timezone.utc
    from zoneinfo import ZoneInfo

    return ZoneInfo(report.tz_name)


def when_text(report: Report, ts: float) -> str:
    """A time as reports state it, in the report's zone: ``2026-03-01 10:00``."""
    return datetime.fromtimestamp(ts, _zone(report)).strftime("%Y-%m-%d %H:%M")


def when_iso(report: Report, ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, _zone(report)).isoformat()


def period_lines(report: Report) -> list[str]:
    """What a report covers, stated in every format: the records' period, the window asked for, filters, and
    the period compared with."""
    zone = report.tz_name
    if report.first is None or report.last is None:
        covered = "period: no priced record carries a timestamp"
    else:
        covered = f"period: {when_text(report, report.first)} to {when_text(report, report.last)} {zone} " \
                  "(first and last priced record)"
    if report.since is None and report.until is None:
        asked = "window: every record (no --since/--until)"
    else:
        start = "the beginning" if report.since is None else when_text(report, report.since)
        end = "the end" if report.until is None else when_text(report, report.until)
        asked = f"window: from {start} until {end} {zone} (end excluded)"
    lines = [covered, asked]
    if report.where:
        lines.append("filters: " + ", ".join(report.where))
    lines += config_lines(report)
    lines += report.renamed
    prev = report.previous
    if prev is not None and prev.since is not None and prev.until is not None:
        lines.append(f"compared with: {when_text(report, prev.since)} until {when_text(report, prev.until)} "
                     f"{zone} ({report.compared_with})")
    return lines


def configs_in_force(report: Report) -> list[dict[str, Any]]:
    """The configs of a price history that priced the reported period: each with the dates it applied from
    (None: from the start) and until (None: to the end)."""
    start = report.since if report.since is not None else report.first
    end = report.until if report.until is not None else report.last
    out = []
    dated = [c for c in report.configs if c[1] is not None]
    for path, at, text in report.configs:
        later = [c for c in dated if at is None or (c[1] or 0.0) > at]
        until = later[0] if later else None
        if end is not None and at is not None and (at >= end if report.until is not None else at > end):
            continue  # takes effect after the period (whose --until is excluded)
        if start is not None and until is not None and (until[1] or 0.0) <= start:
            continue  # replaced before the period
        out.append({"config": path, "from": text or None, "until": until[2] if until else None,
                    "starts_inside": at is not None and start is not None and start < at})
    return out


def config_lines(report: Report) -> list[str]:
    """A price history in the header: every config in force and its dates; a change inside the period said."""
    used = configs_in_force(report)
    if not used:
        return []
    parts = [c["config"] + (f" from {c['from']}" if c["from"] else "") + (f" until {c['until']}" if c["until"]
             else "") for c in used]
    lines = ["configs: " + "; ".join(parts)]
    changes = [f"{c['config']} from {c['from']}" for c in used if c["starts_inside"]]
    if changes:
        lines.append("prices change inside this period: " + "; ".join(changes))
    return lines


def period_dict(report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {"first": when_iso(report, report.first), "last": when_iso(report, report.last),
                           "since": when_iso(report, report.since), "until": when_iso(report, report.until),
                           "tz": report.tz_name}
    return out


def _previous_dict(report: Report, key: tuple[str, ...] | None) -> dict[str, Any] | None:
    prev = report.previous
    assert prev is not None
    before = prev.totals if key is None else prev.groups.get(key)
    now = report.totals if key is None else report.groups.get(key)
    if before is None:
        return None
    out: dict[str, Any] = {"requests": before.requests,
                           "total": orjson.Fragment(exact_text(before.costs[TOTAL]).encode())}
    if now is not None and before.costs[TOTAL]:
        out["change"] = orjson.Fragment(decimal_text(
            round_units(now.costs[TOTAL] - before.costs[TOTAL], before.costs[TOTAL], 6), 6).encode())
    return out


def report_notes(report: Report, config_path: str | None) -> list[str]:
    """Facts a reader must see in every format before trusting the numbers."""
    notes = []
    if not config_path:
        notes.append(NO_CONFIG_NOTE)
    return notes


def _currency() -> str:
    """The currency amounts are shown in: USD, or the one ``money.money_sign`` names."""
    return "USD" if sign() == "$" else sign().strip()


def exact_json(value: Any) -> Any:
    """orjson's ``default``: an exact amount (a Decimal) is written as a JSON number with every digit it has."""
    if isinstance(value, Decimal):
        return orjson.Fragment(plain_decimal(value))
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
    p = engine.explaining_pricer(o)
    if not isinstance(p, Pricer):
        return {}
    if r.batch or p.per_second is not None or r.extras is not None:
        charges = p.explain(r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens,
                            r.cache_write_1h_tokens, r.reasoning_tokens, r.audio_input_tokens,
                            r.audio_output_tokens, r.image_input_tokens, r.duration_s, r.batch, extras=r.extras,
                            band_prompt=r.band_prompt_tokens)
        return {c.part.replace(" ", "_").replace("(s)", "s").strip("_"): {"key": c.key, "rate": c.rate,
                                                                          "source": c.source or "default"}
                for c in charges}
    rates = p.rates_for(r.prompt_tokens if r.band_prompt_tokens is None else r.band_prompt_tokens)
    counts = _part_counts(r)
    return {part: entry for (part, entry), n in zip(_rate_table(p, rates), counts) if n}


def _prices_json(engine: PricingEngine, o: Priced) -> Any:
    """``prices_used`` as a per-record line holds it: a band's rates are the same JSON for every record with the
    same parts present, serialised once per (band, parts present) and kept with the pricer."""
    r = o.record
    p = engine.explaining_pricer(o)
    if not isinstance(p, Pricer) or r.batch or p.per_second is not None or r.extras is not None:
        return prices_used(engine, o)
    rates = p.rates_for(r.prompt_tokens if r.band_prompt_tokens is None else r.band_prompt_tokens)
    counts = _part_counts(r)
    key = (id(rates), *map(bool, counts))  # bands live as long as their pricer, which holds this cache
    found = p.rate_tables.get(key)
    if found is None:
        found = p.rate_tables[key] = orjson.Fragment(orjson.dumps(
            {part: entry for (part, entry), n in zip(_rate_table(p, rates), counts) if n}))
    return found


def _part_counts(r: Any) -> tuple[int, ...]:
    """A record's units per ``_PARTS``."""
    return (r.prompt_tokens, r.cache_read_tokens, r.cache_write_tokens - r.cache_write_1h_tokens,
            r.cache_write_1h_tokens, r.completion_tokens, r.reasoning_tokens, r.audio_input_tokens,
            r.audio_output_tokens, r.image_input_tokens)


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


# a record's cost parts as one JSON object, its amounts filled in (exact decimal text is JSON numbers' own form)
_COST_PARTS_JSON = "{" + ",".join(f'"{part}":%s' for part in COST_PARTS[:TOTAL]) + "}"


def record_dict(o: Outcome, engine: PricingEngine | None = None) -> dict[str, Any]:
    if o.__class__ is Priced:
        r = o.record
        sheet = o.sheet
        texts = record_texts(o)
        d = {"file": r.file, "line": r.line, "request_id": request_id(r), **ids_of(r), "model": r.model,
             "status": "priced", "approximate": approximate_reason(r, sheet) or "",
             "cost": orjson.Fragment(texts[TOTAL]), "cost_parts": orjson.Fragment(_COST_PARTS_JSON % texts[:TOTAL]),
             "deployment": sheet.deployment.label if sheet.deployment else None,
             "provider": sheet.provider, "map_key": sheet.map_key, "shape": r.shape, "tokens": _tokens(r)}
        if engine is not None:
            d["prices"] = _prices_json(engine, o)
        if r.recorded_cost is not None:
            d["recorded_cost"] = orjson.Fragment(float_text(r.recorded_cost))
        return d
    if isinstance(o, NotPriced):
        r = o.record
        d = {"file": r.file, "line": r.line, **_who(r), "model": r.model, "status": "unpriced", "cost": None,
             "reason": o.reason, "suggestions": list(o.suggestions), "shape": r.shape, "tokens": _tokens(r)}
        if r.recorded_cost is not None:  # what the log says was charged, kept for reconciling
            d["recorded_cost"] = orjson.Fragment(float_text(r.recorded_cost))
        return d
    if isinstance(o, Rejected):
        return {"file": o.file, "line": o.line, "model": o.model, "status": "rejected", "cost": None,
                "reason": o.reason}
    return {"file": o.file, "line": o.line, "model": None, "status": "skipped", "cost": None, "reason": o.reason}


def _who(r: Any) -> dict[str, str | None]:
    """The ids a per-record line is joined on: the request, and the team, user and key (ids and aliases)."""
    return {"request_id": request_id(r), **ids_of(r)}


def _tokens(r: Any) -> dict[str, int]:
    return {"prompt": r.prompt_tokens, "completion": r.completion_tokens, "cache_read": r.cache_read_tokens,
            "cache_write": r.cache_write_tokens, "cache_write_1h": r.cache_write_1h_tokens,
            "reasoning": r.reasoning_tokens}


def record_texts(o: Priced) -> tuple[str, ...]:
    """One record's exact amounts per COST_PARTS as decimal text, the same integers its group adds up
    (pricing/exact.py): the report's totals are exactly the sum of these."""
    band, units = o.measured
    return band.record_texts(units)


def write_jsonl(outcomes: Iterable[Outcome], out: IO[bytes], engine: PricingEngine) -> None:
    dumps, newline, write = orjson.dumps, orjson.OPT_APPEND_NEWLINE, out.write
    for o in outcomes:
        write(dumps(record_dict(o, engine), option=newline))


# -- columns shared by table, markdown and html -----------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One numeric column: its ``--columns`` name, header, and cell from (totals, shown amounts, share)."""

    name: str
    title: str
    cell: Callable[[Row, Figures], str]
    # what makes the column worth showing when it is optional: token part or cost part indexes that are non-zero
    tokens: tuple[int, ...] = ()
    costs: tuple[int, ...] = ()

    @property
    def header(self) -> str:
        """The title, money columns in the report's currency (``money.money_sign``)."""
        return self.title.replace("$", sign().strip()) if sign() != "$" else self.title


def _tok(i: int) -> Callable[[Row, Figures], str]:
    return lambda r, f: tokens(r.totals.tokens[i])


def _usd(*parts: int) -> Callable[[Row, Figures], str]:
    return lambda r, f: usd(sum(r.amounts[p] for p in parts), f.decimals)


def _share_cell(r: Row, f: Figures) -> str:
    return "-" if r.share is None else decimal_text(r.share // 10 ** (f.share_decimals - 3), 1, strip=False) + "%"


def _previous_cell(r: Row, f: Figures) -> str:
    return "-" if r.previous is None else usd(r.previous, f.decimals)


def change_text(now: int, before: int | None) -> str:
    """The change from the previous period, in percent of it: ``+12.5%``; ``new`` when it had nothing."""
    if before is None or before == 0:
        return "new" if now else "-"
    tenths = round_units((now - before) * 100, before, 1)  # percent of the previous period, one decimal
    return ("+" if tenths > 0 else "") + decimal_text(tenths, 1, strip=False) + "%"


def _change_cell(r: Row, f: Figures) -> str:
    return change_text(r.amounts[TOTAL], r.previous)


COLUMNS = {c.name: c for c in (
    Column("requests", "requests", lambda r, f: tokens(r.totals.requests)),
    Column("input_tokens", "in tok", _tok(0)),
    Column("input_cost", "in $", _usd(0, 1, 2, 3)),
    Column("uncached_tokens", "uncached tok", _tok(1)),
    Column("uncached_cost", "uncached $", _usd(0)),
    Column("cache_read_tokens", "cache read tok", _tok(2), (2,), (1,)),
    Column("cache_read_cost", "cache read $", _usd(1), (2,), (1,)),
    Column("cache_write_5m_tokens", "write 5m tok", _tok(3), (3,), (2,)),
    Column("cache_write_5m_cost", "write 5m $", _usd(2), (3,), (2,)),
    Column("cache_write_1h_tokens", "write 1h tok", _tok(4), (4,), (3,)),
    Column("cache_write_1h_cost", "write 1h $", _usd(3), (4,), (3,)),
    Column("output_tokens", "out tok", _tok(5)),
    Column("output_cost", "out $", _usd(4)),
    Column("discount", "discount $", _usd(5), (), (5,)),
    Column("margin", "margin $", _usd(6), (), (6,)),
    Column("total", "total $", _usd(TOTAL)),
    Column("share", "share", _share_cell),
    Column("previous", "previous $", _previous_cell),
    Column("change", "change", _change_cell),
)}

MONEY_COLUMNS = frozenset(name for name in COLUMNS if name.endswith(("_cost", "discount", "margin", "total")))

# Column sets from narrow to wide: the table shows the widest that fits the terminal.
COMPACT = ("requests", "input_tokens", "output_tokens", "total", "share")
MEDIUM = ("requests", "input_tokens", "input_cost", "output_tokens", "output_cost", "discount", "margin", "total",
          "share")
FULL = ("requests", "uncached_tokens", "uncached_cost", "cache_read_tokens", "cache_read_cost",
        "cache_write_5m_tokens", "cache_write_5m_cost", "cache_write_1h_tokens", "cache_write_1h_cost",
        "output_tokens", "output_cost", "discount", "margin", "total", "share")


def present(report: Report, names: Iterable[str]) -> list[Column]:
    """The columns of ``names`` that have something to show (an optional part that is zero everywhere is left
    out: no discount column without a discount)."""
    t = report.totals
    out = []
    for name in names:
        c = COLUMNS[name]
        if (c.tokens or c.costs) and not any(t.tokens[i] for i in c.tokens) and not any(t.costs[i] for i in c.costs):
            continue
        out.append(c)
    return out + _compared(report)


def _compared(report: Report) -> list[Column]:
    """With --compare: the previous period's total and the change, after the usual columns."""
    return [COLUMNS["previous"], COLUMNS["change"]] if report.previous is not None else []


def parse_columns(spec: Iterable[str]) -> list[str]:
    """``--columns a,b`` (repeatable) → column names, in the order given; an unknown name is an error."""
    from ..errors import FieldError

    names = [n.strip() for item in spec for n in item.split(",") if n.strip()]
    for n in names:
        if n not in COLUMNS:
            raise FieldError("columns", f": unknown column {n!r} (known: {', '.join(COLUMNS)})", about_value=True)
    return names


@dataclass
class Layout:
    """What a text table shows: label widths (one per group key) and the numeric columns."""

    label_widths: list[int]
    columns: list[Column]


_MIN_LABEL = 6
_GAP = 3  # between two columns: rich's padding either side of the (blank) divider


SUBTOTAL_LABEL = "subtotal"


def _cells(report: Report, fig: Figures, columns: list[Column]) -> tuple[list[list[str]], list[str]]:
    """The cells of ``fig.lines()`` (rows and subtotals) and of the total row."""
    rows = [[c.cell(r, fig) for c in columns] for r in fig.lines()]
    total = [c.cell(fig.total, fig) for c in columns]
    return rows, total


def layout(report: Report, fig: Figures, width: int | None, wide: bool = False,
           columns: list[str] | None = None) -> Layout:
    """The widest column set that fits ``width`` with the labels readable; ``wide``: every column; ``columns``:
    exactly those. The label columns are never dropped: they get what the numbers leave, at least 6 each."""
    labels = [[printable(r.key[i]) for r in fig.rows] for i in range(len(report.group_by))]
    needed = [max([len(report.group_by[i]), len("total"), *map(len, labels[i])]) for i in range(len(labels))]
    if fig.subtotals:
        needed = [max(n, len(SUBTOTAL_LABEL)) if i else n for i, n in enumerate(needed)]
    if fig.rounding is not None:
        needed[0] = max(needed[0], len(ROUNDING_LABEL))
    if columns is not None:
        candidates = [[COLUMNS[n] for n in columns]]
    elif wide:
        candidates = [[COLUMNS[n] for n in FULL] + _compared(report)]
    else:
        candidates = [present(report, FULL), present(report, MEDIUM), present(report, COMPACT)]
    for cols in candidates:
        rows, total = _cells(report, fig, cols)
        numeric = sum(max([len(c.header), len(total[i]), *(len(r[i]) for r in rows)]) for i, c in enumerate(cols))
        room = None if width is None or wide else width - numeric - _GAP * (len(cols) + len(needed) - 1)
        wanted = [min(n, 20) for n in needed]
        if room is None or room >= sum(wanted) or cols is candidates[-1]:
            break
    if room is None or room >= sum(needed):
        return Layout(needed, cols)
    # what is left goes to the label columns, in turn to those that still need more: never less than 6 each
    # (the numbers then give way), so a label is shortened, never cut to nothing
    widths = [min(n, _MIN_LABEL) for n in needed]
    spare = room - sum(widths)
    while spare > 0 and any(w < n for w, n in zip(widths, needed)):
        for i, n in enumerate(needed):
            if spare > 0 and widths[i] < n:
                widths[i] += 1
                spare -= 1
    return Layout(widths, cols)


def write_csv(report: Report, out: IO[str]) -> None:
    """One row per group and a TOTAL row: token counts per part, exact costs per part, share of the total."""
    fig = figures(report)
    nested = len(report.group_by) > 1  # nested groups: subtotal rows, told apart by a level column
    w = SafeCsvWriter(out)
    w.writerow([*report.group_by, "requests", *(f"{p}_tokens" for p in TOKEN_PARTS),
                *(f"{p}_cost" for p in COST_PARTS), "share", *(["previous_total_cost"] if fig.compared else []),
                *(["level"] if nested else [])])
    for r in fig.lines():
        t = r.totals
        key = [*r.key, *[""] * (len(report.group_by) - len(r.key))]
        w.writerow([*key, t.requests, *t.tokens, *(decimal_text(v, DECIMALS) for v in r.amounts),
                    "" if r.share is None else decimal_text(r.share, fig.share_decimals),
                    *([] if not fig.compared else [_prev_csv(report, r.key)]),
                    *([len(r.key)] if nested else [])])
    t = report.totals
    w.writerow(["TOTAL", *[""] * (len(report.group_by) - 1), t.requests, *t.tokens,
                *(decimal_text(v, DECIMALS) for v in fig.total.amounts), "1" if t.costs[TOTAL] > 0 else "",
                *([] if not fig.compared else [_prev_csv(report, None)]), *([0] if nested else [])])


def _prev_csv(report: Report, key: tuple[str, ...] | None) -> str:
    prev = report.previous
    assert prev is not None
    if key is not None and len(key) < len(report.group_by):  # a subtotal: its groups in the previous period
        earlier = [p.costs[TOTAL] for k, p in prev.groups.items() if k[: len(key)] == key]
        return exact_text(sum(earlier)) if earlier else ""
    before = prev.totals if key is None else prev.groups.get(key)
    return "" if before is None else exact_text(before.costs[TOTAL])


def rounding_note(report: Report, fig: Figures) -> str:
    if fig.overlap:
        return (f"amounts in {_currency()}, each rounded on its own to {fig.decimals} decimals (--decimals N to "
                "change); a record in several groups counts in each, so the rows add up to more than the total")
    text = (f"amounts in {_currency()}, each rounded on its own to {fig.decimals} decimals (--decimals N to "
            "change), so a group shows the same amount in every report")
    if fig.rounding is not None:
        text += "; the (rounding) line is what the rounded rows miss of the rounded total"
    return text


ROUNDING_LABEL = "(rounding)"


def rounding_cells(fig: Figures, columns: list[Column]) -> list[str] | None:
    """The ``(rounding)`` line's cells: the rounding difference in each money column, blank elsewhere."""
    if fig.rounding is None:
        return None
    row = Row((ROUNDING_LABEL,), fig.total.totals, fig.rounding, None)
    return [c.cell(row, fig) if c.name in MONEY_COLUMNS else "" for c in columns]


def _key_cells(report: Report, key: tuple[str, ...], previous: tuple[str, ...] | None,
               subtotal: bool = False) -> list[str]:
    """Nested keys print once: a repeated parent prints as blank. A subtotal row says so under its outer group:
    ``["", "subtotal"]`` for a team's subtotal of -g team -g model."""
    if subtotal:
        depth = len(key)
        return [""] * depth + [SUBTOTAL_LABEL] + [""] * (len(report.group_by) - depth - 1)
    cells = []
    for depth, part in enumerate(key):
        same = previous is not None and previous[: depth + 1] == key[: depth + 1] and depth < len(key) - 1
        cells.append("" if same else printable(part))
    return cells


def write_markdown(report: Report, out: IO[str], warnings: Iterable[str] = (), config_path: str | None = None,
                   columns: list[str] | None = None) -> None:
    fig = figures(report, report_decimals(report))
    cols = [COLUMNS[n] for n in columns] if columns is not None else present(report, FULL)
    for note in report_notes(report, config_path):
        out.write(f"> **note:** {_md(note)}\n\n")
    out.write("".join(f"{_md(line)}  \n" for line in period_lines(report)) + "\n")
    headers = [*report.group_by, *(c.header for c in cols)]
    out.write("| " + " | ".join(_md(h) for h in headers) + " |\n")
    out.write("|" + "|".join("---" if i < len(report.group_by) else "---:" for i in range(len(headers))) + "|\n")
    rows, total = _cells(report, fig, cols)
    prev = None
    for r, cells in zip(fig.lines(), rows):
        if r.subtotal:
            labels = [f"_{c}_" if c else "" for c in _key_cells(report, r.key, prev, subtotal=True)]
            out.write("| " + " | ".join(labels + [f"_{c}_" for c in cells]) + " |\n")
            continue
        key = r.key
        out.write("| " + " | ".join([_md(c) for c in _key_cells(report, key, prev)] + cells) + " |\n")
        prev = key
    rounding = rounding_cells(fig, cols)
    if rounding is not None:
        out.write("| " + " | ".join([ROUNDING_LABEL, *[""] * (len(report.group_by) - 1), *rounding]) + " |\n")
    out.write("| " + " | ".join(["**total**", *[""] * (len(report.group_by) - 1), *total]) + " |\n\n")
    out.write(accounting_line(report) + "\n\n")
    out.write(rounding_note(report, fig) + "\n")
    _md_unpriced(report, out)
    for w in warnings:
        out.write(f"\n> warning: {_md(w)}")
    if warnings:
        out.write("\n")


def _md(text: str) -> str:
    return markdown_cell(text)


def _md_unpriced(report: Report, out: IO[str], escape: Callable[[str], str] = _md) -> None:
    """The unpriced models as a list (``escape``: for Markdown, or for a terminal)."""
    if report.unpriced:
        out.write("\nUnpriced models:\n")
        for u in sorted(report.unpriced.values(), key=lambda u: (-u.count, u.model)):
            hint = f" (did you mean {', '.join(u.suggestions)}?)" if u.suggestions else ""
            out.write(escape(f"- `{u.model}` × {u.count}: {u.reason}{hint}") + "\n")
    if report.approximate_reasons:
        out.write("\nApproximate:\n")
        for reason, n in sorted(report.approximate_reasons.items(), key=lambda x: (-x[1], x[0])):
            out.write(escape(f"- {n:,} × {reason}") + "\n")


def write_table(report: Report, console: Any, warnings: Iterable[str] = (), title: str | None = None,
                chart: bool = False, config_path: str | None = None, wide: bool = False,
                columns: list[str] | None = None) -> None:
    from rich import box
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    for note in report_notes(report, config_path):
        console.print(Text(f"note: {note}", style="bold yellow"))
    for line in period_lines(report):
        console.print(Text(printable(line)))
    fig = figures(report, report_decimals(report))
    lay = layout(report, fig, None if wide else console.width, wide=wide, columns=columns)
    table = Table(title=title, show_footer=False, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                  show_edge=False)
    for name, w in zip(report.group_by, lay.label_widths):
        table.add_column(elide(name, w), min_width=w, max_width=w, no_wrap=True, overflow="ellipsis")
    for c in lay.columns:
        table.add_column(c.header, justify="right", no_wrap=True)
    rows, total = _cells(report, fig, lay.columns)
    prev = None
    for r, cells in zip(fig.lines(), rows):
        if r.subtotal:
            labels = [Text(elide(c, w)) for c, w in zip(_key_cells(report, r.key, prev, subtotal=True),
                                                       lay.label_widths)]
            table.add_row(*labels, *cells, style="italic")
            continue
        key = r.key
        labels = [Text(elide(c, w)) for c, w in zip(_key_cells(report, key, prev), lay.label_widths)]
        table.add_row(*labels, *cells)
        prev = key
    rounding = rounding_cells(fig, lay.columns)
    if rounding is not None:
        table.add_row(Text(elide(ROUNDING_LABEL, lay.label_widths[0]), style="dim"),
                      *[""] * (len(report.group_by) - 1), *rounding, style="dim")
    table.add_section()
    table.add_row(Text("total", style="bold"), *[""] * (len(report.group_by) - 1), *total, style="bold")
    if wide:  # as wide as the table wants: the terminal wraps it, a file or pager keeps it
        from rich.measure import Measurement

        width = console.width
        console.width = max(width, Measurement.get(console, console.options.update(width=10_000), table).maximum)
        console.print(table)
        console.width = width
    else:
        console.print(table)
    if chart:
        write_chart(report, console)
    console.print(Text(accounting_line(report)))
    console.print(Text(rounding_note(report, fig)))
    if report.unpriced:
        buf = io.StringIO()
        _md_unpriced(report, buf, printable)
        console.print(Text(buf.getvalue().strip()))
    if report.rejected:
        shown = report.rejected[:5]
        lines = [printable(f"{r.file}:{r.line}: {r.reason}") for r in shown]
        more = report.accounting.rejected - len(shown)
        if more > 0:
            lines.append(f"... and {more:,} more (use --rejects FILE to keep them all)")
        console.print(Text("Rejected:\n" + "\n".join(lines)))
    warnings = list(warnings)
    if warnings:
        console.print(Panel(Text("\n".join(f"• {printable(w)}" for w in warnings)), title="warnings",
                            title_align="left", border_style="yellow"))


def write_rejects(outcomes: Iterable[Outcome], out: IO[bytes]) -> Iterable[Outcome]:
    """Pass outcomes through, writing each rejected line as ``# file:line: reason`` then the line verbatim."""
    for o in outcomes:
        if isinstance(o, Rejected):
            out.write(f"# {o.file}:{o.line}: {o.reason}\n".encode())
            out.write(o.text)
            out.write(b"\n")
        yield o


# -- CSV per record ---------------------------------------------------------------------------------------

_CSV_NAMES = ("team", "user", "key", "customer")
RECORD_CSV_FIELDS = ("file", "line", "status", "timestamp", "request_id", "team", "user", "key", "customer",
                     "tags", "model", "deployment", "provider", *(f"{p}_tokens" for p in TOKEN_PARTS),
                     *(f"{p}_cost" for p in COST_PARTS), "recorded_cost", "reason", "approximate", *ID_FIELDS)


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return _from_timestamp(ts, _UTC).isoformat().replace("+00:00", "Z")


_from_timestamp, _UTC = datetime.fromtimestamp, timezone.utc  # once: this runs for every per-record CSV row


def _record_tokens(r: Any) -> list[int]:
    read, write, write_1h = r.cache_read_tokens, r.cache_write_tokens, r.cache_write_1h_tokens
    return [r.prompt_tokens, max(r.prompt_tokens - read - write, 0), read, write - write_1h, write_1h,
            r.completion_tokens, r.reasoning_tokens]


def write_csv_records(outcomes: Iterable[Outcome], out: IO[str], header: bool = True) -> None:
    """One row per input line: when, request id, who (team, user, key, customer, tags), what (model,
    deployment, provider), every token part and every cost part (exact decimals), and why when not priced."""
    from .aggregate import NONE, ids_of, names_of, request_id, tags_of

    w = SafeCsvWriter(out)
    if header:
        w.writerow(RECORD_CSV_FIELDS)
    blank_costs = [""] * len(COST_PARTS)
    for o in outcomes:
        if o.__class__ is Priced or o.__class__ is NotPriced:
            r = o.record
            sheet = o.sheet
            dep = sheet.deployment.label if sheet is not None and sheet.deployment else ""
            provider = sheet.provider if sheet is not None and sheet.provider else ""
            if o.__class__ is Priced:
                costs: Any = record_texts(o)
                approximate = approximate_reason(r, sheet)
            else:
                costs, approximate = blank_costs, None
            # who, as people know them and by id: text from the logs, made printable
            who = ["" if n == NONE else n for n in names_of(r, _CSV_NAMES)]
            who.append(";".join(t for t in tags_of(r) if t != NONE))
            who.extend(v or "" for v in ids_of(r).values())
            who = printable_all(who)
            w.writerow([r.file, r.line, "priced" if o.__class__ is Priced else "unpriced", _when(r.timestamp),
                        request_id(r) or "", *who[:5], r.model, dep, provider, *_record_tokens(r), *costs,
                        "" if r.recorded_cost is None else float_text(r.recorded_cost),
                        o.reason if o.__class__ is NotPriced else "", approximate or "", *who[5:]])
        else:
            status = "rejected" if isinstance(o, Rejected) else "skipped"
            w.writerow([o.file, o.line, status, "", "", "", "", "", "", "", getattr(o, "model", "") or "", "", "",
                        *[""] * len(TOKEN_PARTS), *blank_costs, "", o.reason, "", *[""] * len(ID_FIELDS)])


# -- --explain ---------------------------------------------------------------------------------------------

def explain_dict(engine: PricingEngine, o: Outcome) -> dict[str, Any]:
    """``--explain --format json``: the per-record document plus the resolution rule, each charge as
    units × rate = cost with the rate's key and source, and the discount and margin applied."""
    d = record_dict(o, engine)
    if not isinstance(o, Priced):
        return d
    r = o.record
    p = engine.explaining_pricer(o)
    d["rule"] = o.sheet.rule
    charges = unit_charges(o) if p is None else p.explain(  # None: a call priced by other units than tokens
        r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens, r.cache_write_1h_tokens,
        r.reasoning_tokens, r.audio_input_tokens, r.audio_output_tokens, r.image_input_tokens, r.duration_s, r.batch,
        extras=r.extras, band_prompt=r.band_prompt_tokens)
    d["charges"] = [{"part": c.part, "units": c.units, "rate": c.rate, "key": c.key,
                     "source": c.source or "default", "cost": orjson.Fragment(float_text(c.cost).encode())}
                    for c in charges]
    if o.cost.adjustment and not r.batch:
        a = p.adjust if p is not None else o.measured[0]  # a unit-priced call's discount and margin: its band's
        texts = record_texts(o)
        d["adjustment"] = {"discount_rate": float(a.discount), "margin_percentage": float(a.margin_pct),
                           "margin_fixed": float(a.margin_fixed),
                           "discount": orjson.Fragment(texts[COST_PARTS.index("discount")]),
                           "margin": orjson.Fragment(texts[COST_PARTS.index("margin")])}
    return d


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
    ids = [f"{k} {v}" for k, v in _who(r).items() if v]
    if ids:
        head += f" ({', '.join(ids)})"
    if isinstance(o, NotPriced):
        hint = f" (did you mean {', '.join(o.suggestions)}?)" if o.suggestions else ""
        return f"{head}: unpriced: {o.reason}{hint}"
    p = engine.explaining_pricer(o)
    lines = [f"{head}  [{o.sheet.rule}]"]
    if r.service_tier:
        lines[0] += f"  service tier {r.service_tier}"
    charges = unit_charges(o) if p is None else p.explain(
        r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.cache_write_tokens, r.cache_write_1h_tokens,
        r.reasoning_tokens, r.audio_input_tokens, r.audio_output_tokens, r.image_input_tokens, r.duration_s, r.batch,
        extras=r.extras, band_prompt=r.band_prompt_tokens)
    if r.batch:
        lines[0] += "  batch output line: batch rates, no discount or margin"
    for c in charges:
        # a duration in full (exact microseconds read as the shortest float), so that units × rate multiplies out
        units = f"{c.units!r} s" if c.part.startswith(("duration", "GPU time")) else f"{int(c.units):,}"
        lines.append(f"  {c.part:<15} {units:>12} × {c.rate!r} = {c.cost:.10g}   "
                     f"({c.key}; {c.source or 'default'})")
    base = o.cost.total - o.cost.adjustment
    if o.cost.adjustment:
        a = p.adjust if p is not None else o.measured[0]  # a unit-priced call's discount and margin: its band's
        lines.append(f"  subtotal {base:.10g}")
        if a.discount:
            lines.append(f"  discount {a.discount:.4g} of the subtotal {o.cost.discount:+.10g}")
        margin = float_text(o.cost.adjustment - o.cost.discount, 12)
        if a.margin_pct or a.margin_fixed:
            rule = " + ".join(([f"{a.margin_pct:.4g} of the discounted subtotal"] if a.margin_pct else [])
                              + ([f"fixed {a.margin_fixed:.4g}"] if a.margin_fixed else []))
            lines.append(f"  margin {rule} {'+' if not margin.startswith('-') else ''}{margin}")
    lines.append(f"  total {o.cost.total:.10g} USD")
    approximate = approximate_reason(r, o.sheet)
    if approximate:
        lines.append(f"  approximate: {approximate}")
    if r.recorded_cost is not None:
        lines.append(f"  recorded {r.recorded_cost:.10g} USD (difference {o.cost.total - r.recorded_cost:+.10g})")
    return "\n".join(lines)


# -- terminal chart ------------------------------------------------------------------------------------------

def write_chart(report: Report, console: Any, width: int = 40) -> None:
    """Horizontal bars of spend per group (per time bucket when grouping by time), drawn with rich."""
    from rich.table import Table
    from rich.text import Text
    fig = figures(report, report_decimals(report))  # the same amounts as the table above it
    rows = [(r.key, r.totals, r.amounts[TOTAL]) for r in fig.rows]
    if report.group_by[0] in ("hour", "day", "week", "month"):
        rows.sort(key=lambda row: row[0])
    peak = max((t.costs[TOTAL] for _, t, _ in rows), default=0)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("group", overflow="fold")
    table.add_column("bar")
    table.add_column("spend", justify="right")
    for key, t, shown in rows:
        n = 0 if peak <= 0 else max(t.costs[TOTAL], 0) * width / peak
        full = int(n)
        bar = "█" * full + ("▌" if n - full >= 0.5 else "")
        table.add_row(Text(printable(" / ".join(key))), Text(bar, style="cyan"), usd(shown, fig.decimals))
    console.print(table)
