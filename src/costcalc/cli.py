"""The ``costcalc`` command: argument parsing and calls into the library, no pricing logic.

Errors are values until here: a ``CostcalcError`` becomes one line on stderr and its exit code
(1 data/lookup problem, 2 usage or config error); nothing ever ends in a traceback.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import tempfile
from contextlib import ExitStack
from datetime import timezone
from enum import Enum
from pathlib import Path
from typing import IO, Any

import typer
from typer.core import TyperCommand, TyperGroup

from .errors import CostcalcError
from .version import __version__


def _placeholder(param: Any) -> str:
    """What help shows for a parameter's value, in words a user knows (never ``<list[str]>``): nothing for a
    flag, the choices, N, NUMBER, FILE, or the parameter's name."""
    if getattr(param, "is_flag", False):
        return ""
    desc = param.type_descriptor
    if desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    annotation = desc.annotation
    if annotation is int:
        word = "N"
    elif annotation is float:
        word = "NUMBER"
    elif annotation is Path or param.name == "usage":
        word = "FILE"
    else:
        word = param.name.upper().replace("_", "-")
    return word


def _plain(params: list[Any]) -> None:
    for param in params:
        if param.metavar is None:
            param.metavar = _placeholder(param)
        if param.param_type_name == "argument":
            # the name column already says FILE...; typer would add the Python type (<list[str]>) beside it
            param.display_type_rich = lambda ctx: None


class PlainCommand(TyperCommand):
    """A command whose help has no type jargon."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _plain(params)
        return params


class PlainGroup(TyperGroup):
    """A command group whose help has no type jargon."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _plain(params)
        return params


app = typer.Typer(
    cls=PlainGroup,
    no_args_is_help=True,
    help="Price LLM usage exactly as a LiteLLM proxy would: offline, from config.yaml and usage JSONL.",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"costcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", "-V", callback=_print_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    pass


map_app = typer.Typer(help="The cost map in use: where it came from, and refreshing it.", no_args_is_help=True,
                      cls=PlainGroup)
app.add_typer(map_app, name="map")


class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    markdown = "markdown"
    html = "html"
    focus = "focus"


class Engine(str, Enum):
    auto = "auto"
    python = "python"
    duckdb = "duckdb"
    postgres = "postgres"


class Sort(str, Enum):
    cost = "cost"
    requests = "requests"
    tokens = "tokens"
    name = "name"


class ShortFormat(str, Enum):
    table = "table"
    json = "json"


CostMapOpt = typer.Option(None, "--cost-map", help="LiteLLM-format cost map JSON (default: $COSTCALC_COST_MAP, "
                          "the refreshed map in the cache, else the embedded snapshot).", metavar="PATH")
ConfigOpt = typer.Option(None, "--config", "-c", help="LiteLLM proxy config.yaml.", metavar="CFG")


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Not a terminal (a pipe, a file, CI): plain text, wide enough that tables do not fold.
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "0") or 0) or 160

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1; a closed pipe (`| head`) means the reader has what it wanted: main() exits 0
            self.quiet = True
            raise BrokenPipeError

    return PipeConsole(stderr=stderr, highlight=False, soft_wrap=False, width=width,
                       no_color=bool(os.environ.get("NO_COLOR")) or None)


def _load(cost_map: str | None, config: str | None) -> tuple[Any, Any]:
    from .rates.config import ProxyConfig, load_config
    from .rates.costmap import load_cost_map

    cm = load_cost_map(cost_map)
    cfg = load_config(_config_path(config)) if config is not None else ProxyConfig.empty()
    return cm, cfg


def _config_path(config: str) -> str:
    if not config.strip():  # an unset shell variable: not "no config"
        raise typer.BadParameter("empty file name", param_hint="--config")
    return config


def _config_schedule(configs: list[str]) -> tuple[str | None, list[tuple[float, str, str]]]:
    """--config values: (the undated config, [(effective epoch seconds, date as given, path)…] by date)."""
    plain: str | None = None
    dated: list[tuple[float, str, str]] = []
    for value in configs:
        head, sep, path = value.partition("=")
        when = None
        if sep and head.strip():
            from .reading.records import BadField, parse_time

            try:
                when = parse_time(head.strip(), "--config")
            except BadField:
                when = None  # not a date: a file name with "=" in it
        if when is None:
            if plain is not None:
                raise typer.BadParameter(f"two undated configs ({plain}, {value}): give DATE=CFG for all but one",
                                         param_hint="--config")
            plain = value
        else:
            if any(t == when for t, _, _ in dated):
                raise typer.BadParameter(f"two configs take effect at {head.strip()}", param_hint="--config")
            dated.append((when, head.strip(), _config_path(path)))
    return plain, sorted(dated)


_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def _ago(value: str) -> float | None:
    """``7d``, ``12h``, ``2w``: that long before now (epoch seconds); None when ``value`` is not a duration."""
    import re
    import time

    m = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", value)
    if m is None:
        return None
    return time.time() - int(m.group(1)) * _UNITS[m.group(2)]


def _month(value: str, zone: Any) -> tuple[float, float]:
    """``2026-10`` → the start of that month and of the next, in ``zone``."""
    import re
    from datetime import datetime

    m = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise typer.BadParameter(f"{value!r} is not a month (YYYY-MM)", param_hint="--month")
    year, month = int(m.group(1)), int(m.group(2))
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start.timestamp(), end.timestamp()


def _parse_date(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    relative = _ago(value)
    if relative is not None:
        return relative
    from .reading.records import BadField, parse_time

    try:
        return parse_time(value, option)
    except BadField:
        raise typer.BadParameter(f"{value!r} is not a date, an ISO 8601 time or a duration ago (7d, 12h, 2w)",
                                 param_hint=option) from None


def _window(since: str | None, until: str | None, month: str | None, last: str | None,
            zone: Any) -> tuple[float | None, float | None]:
    """The time window asked for, as epoch seconds (None: open): --since/--until, --month or --last."""
    start, end = _parse_date(since, "--since"), _parse_date(until, "--until")
    if month is None and last is None:
        return start, end
    if since is not None or until is not None or (month is not None and last is not None):
        raise typer.BadParameter("give one window: --month, --last, or --since/--until",
                                 param_hint="--month" if month is not None else "--last")
    if month is not None:
        return _month(month, zone)
    import time

    start = _ago(last or "")
    if start is None:
        raise typer.BadParameter(f"{last!r} is not a duration (7d, 12h, 2w)", param_hint="--last")
    return start, time.time()


def _tz(name: str) -> Any:
    if name.upper() == "UTC":
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"unknown time zone {name!r}", param_hint="--tz") from None


@app.command(cls=PlainCommand)
def price(
    usage: list[str] = typer.Argument(..., help="Usage files: JSONL, a JSON array of records, or Parquet ('-' "
                                      "for stdin; gzip, bz2 and zstd recognised by their bytes; directories are "
                                      "searched for *.jsonl, *.ndjson and *.parquet), or LiteLLM's PostgreSQL "
                                      "database: postgresql://USER@HOST:PORT/DB, or db: for $DATABASE_URL."),
    config: list[str] = typer.Option([], "--config", "-c", help="LiteLLM proxy config.yaml; DATE=CFG prices the "
                                     "records from DATE on with CFG (repeat for a price history).", metavar="CFG"),
    cost_map: str | None = CostMapOpt,
    map_as_of: str | None = typer.Option(None, "--map-as-of", help="Price with the cost map snapshot (kept by "
                                         "map update) in force at this date/time.", metavar="DATE"),
    group_by: list[str] = typer.Option(["model"], "--group-by", "-g", help="model, deployment, provider, user, "
                                       "team, key, customer, org, tag, shape, hour, day, week, month, or a dotted "
                                       "path (metadata.project); repeat to nest.", metavar="KEY"),
    since: str | None = typer.Option(None, help="Only records at or after this date/time (UTC unless given), or "
                                     "this long ago: 7d, 12h, 2w.", metavar="WHEN"),
    until: str | None = typer.Option(None, help="Only records before this date/time (exclusive), or this long "
                                     "ago.", metavar="WHEN"),
    month: str | None = typer.Option(None, "--month", help="Only records of this calendar month (2026-10), in "
                                     "--tz.", metavar="YYYY-MM"),
    last: str | None = typer.Option(None, "--last", help="Only records of the last 7d, 12h, 2w (until now).",
                                    metavar="DURATION"),
    compare: str | None = typer.Option(None, "--compare", help="'previous': each group against the previous "
                                       "period of the same length (needs a window: --since, --month or --last).",
                                       metavar="previous"),
    tz: str = typer.Option("UTC", "--tz", help="Time zone for hour/day/week/month buckets."),
    top: int | None = typer.Option(None, "--top", min=0, help="Keep the N largest groups; fold the rest "
                                      "into (other)."),
    sort: Sort | None = typer.Option(None, "--sort", help="Order groups by cost, requests, tokens or name "
                                     "(default: time buckets in time order, other groups by cost)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    per_record: bool = typer.Option(False, "--per-record", help="With --format csv: one row per input line."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
    explain: bool = typer.Option(False, "--explain", help="Show how each record's cost was reached."),
    line: int | None = typer.Option(None, "--line", min=1, help="With --explain: only this line number."),
    chart: bool = typer.Option(False, "--chart", help="Add a bar chart of spend per group (table format)."),
    reconcile: bool = typer.Option(False, "--reconcile", help="List the groups whose recorded spend (spend, "
                                   "cost, costUSD in the logs) differs from the computed cost, largest first."),
    tolerance: float = typer.Option(0.01, "--tolerance", min=0.0, help="With --reconcile: the relative "
                                    "difference that counts (0.01 = 1%)."),
    reconcile_with: list[str] = typer.Option([], "--reconcile-with", help="Compare with the provider's bill: "
                                             "OpenAI Costs API pages, Anthropic cost reports (JSON) or a CSV "
                                             "(date,provider,model,amount,currency); repeat for several files.",
                                             metavar="FILE"),
    currency: str | None = typer.Option(None, "--currency", help="Report in this currency (ISO 4217), with "
                                        "--fx-rate or --fx-rates.", metavar="CODE"),
    fx_rate: str | None = typer.Option(None, "--fx-rate", help="Units of --currency per US dollar, for every "
                                       "record (0.92: $1 = 0.92).", metavar="RATE"),
    fx_rates: str | None = typer.Option(None, "--fx-rates", help="CSV date,currency,rate: each record at its "
                                        "day's rate (the last earlier one when a day has none).", metavar="FILE"),
    budget: list[str] = typer.Option([], "--budget", help="A budget line: KEY=VALUE:AMOUNT (team=agents:500) or "
                                     "total:AMOUNT, in the report's currency; repeatable.", metavar="SPEC"),
    fail_over_budget: bool = typer.Option(False, "--fail-over-budget", help="Exit 1 when any budget is "
                                          "exceeded (for cron and CI alerts)."),
    strict: bool = typer.Option(False, help="Exit 1 if any record was unpriced or rejected."),
    rejects: Path | None = typer.Option(None, "--rejects", help="Write every rejected line here, verbatim, "
                                           "after a '# file:line: reason' line."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no warnings on stderr."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: every core, "
                                    "for plain-file inputs of 64 MiB or more; 1 otherwise)."),
    engine_choice: Engine = typer.Option(Engine.auto, "--engine", help="Which engine prices: python (the "
                                         "reference), duckdb (aggregate reports, large inputs), or auto: duckdb "
                                         "for aggregate reports over 4 MiB of files or more, python otherwise; "
                                         "postgres (a database's aggregate reports, the default there) prices "
                                         "inside the database."),
    statement_timeout: float | None = typer.Option(None, "--statement-timeout", min=0.0, help="With a "
                                                   "database: cancel any query running longer than this many "
                                                   "seconds.", metavar="SECONDS"),
    db_timeout: float = typer.Option(300.0, "--db-timeout", min=0.0, help="With a database: give up when the "
                                     "server has not answered for this many seconds (a frozen server, a dead "
                                     "network; 0: wait forever).", metavar="SECONDS"),
    where: list[str] | None = typer.Option(None, "--where", help="Only records whose KEY (a group key or field "
                                           "path) matches VALUE, a glob: team=search, model!=gpt-4o*; repeat "
                                           "to narrow (the same key twice: either value).", metavar="KEY=VALUE"),
    dedupe: bool = typer.Option(True, "--dedupe/--no-dedupe", help="Count each request id (spend-log "
                                "request_id, provider response id) once across all inputs."),
    wide: bool = typer.Option(False, "--wide", help="Table: every column, however wide the terminal."),
    columns: list[str] | None = typer.Option(None, "--columns", help="Table and Markdown: exactly these columns, "
                                             "comma-separated or repeated (requests, input_tokens, input_cost, "
                                             "uncached_tokens, uncached_cost, cache_read_tokens, cache_read_cost, "
                                             "cache_write_5m_tokens, cache_write_5m_cost, cache_write_1h_tokens, "
                                             "cache_write_1h_cost, output_tokens, output_cost, discount, margin, "
                                             "total, share).", metavar="NAMES"),
) -> None:
    """Price usage records and print a spend report."""
    from .engines.streaming import PricingEngine
    from .reading.jsonl import expand_paths
    from .reports.aggregate import GROUP_KEYS, ReportBuilder, Where
    from .reports.render import (
        explain_dict,
        explain_record,
        parse_columns,
        report_dict,
        write_csv,
        write_csv_records,
        write_json,
        write_jsonl,
        write_markdown,
        write_reconcile_markdown,
        write_reconcile_table,
        write_table,
    )
    from .reports.run import PriceRun, text_writer

    for key in group_by:
        if key not in GROUP_KEYS and not all(part.strip() for part in key.split(".")):
            raise typer.BadParameter(f"unknown group key {key!r}", param_hint="--group-by")
    if per_record and fmt is not Format.csv:
        raise typer.BadParameter("--per-record goes with --format csv", param_hint="--per-record")
    if line is not None and not explain:
        raise typer.BadParameter("--line goes with --explain", param_hint="--line")
    if reconcile and (explain or fmt in (Format.jsonl, Format.csv)):
        raise typer.BadParameter("--reconcile goes with --format table, markdown, html or json",
                                 param_hint="--reconcile")
    if fmt is Format.focus and (explain or reconcile or reconcile_with):
        raise typer.BadParameter("--format focus writes the FOCUS dataset only: no --explain or --reconcile",
                                 param_hint="--format")
    if reconcile_with and (explain or per_record or fmt is Format.jsonl):
        raise typer.BadParameter("--reconcile-with goes with --format table, json, csv, markdown or html",
                                 param_hint="--reconcile-with")
    fx = _fx(currency, fx_rate, fx_rates)
    if fx is not None and (explain or per_record or fmt is Format.jsonl):
        raise typer.BadParameter("per-record formats stay in USD: --currency goes with table, json, csv, markdown, "
                                 "html or focus", param_hint="--currency")
    budget_lines = []
    if budget:
        from .reports.budget import parse_budget

        if explain or per_record or fmt in (Format.jsonl, Format.focus):
            raise typer.BadParameter("--budget goes with --format table, json, csv, markdown or html",
                                     param_hint="--budget")
        if fmt is Format.csv and reconcile_with:
            raise typer.BadParameter("a CSV holds one table: --budget or --reconcile-with, not both",
                                     param_hint="--budget")
        budget_lines = [parse_budget(spec, GROUP_KEYS) for spec in budget]
    elif fail_over_budget:
        raise typer.BadParameter("--fail-over-budget needs at least one --budget", param_hint="--fail-over-budget")
    bill = None
    if reconcile_with:
        from .reports.bill import load_bills

        bill = load_bills(reconcile_with)
    if not math.isfinite(tolerance):
        raise typer.BadParameter("must be a finite number", param_hint="--tolerance")
    picked = parse_columns(columns) if columns else None
    filters = [Where.parse(text) for text in where or ()]
    zone = _tz(tz)
    start, end = _window(since, until, month, last, zone)
    if compare is not None:
        if compare != "previous":
            raise typer.BadParameter(f"{compare!r}: the one comparison is 'previous'", param_hint="--compare")
        if start is None:
            raise typer.BadParameter("needs a window: --since, --month or --last", param_hint="--compare")
        if "-" in usage:
            raise typer.BadParameter("reads the input twice: give files, not stdin", param_hint="--compare")
        if explain or fmt is Format.jsonl or per_record:
            raise typer.BadParameter("goes with an aggregate report (table, json, csv, markdown, html)",
                                     param_hint="--compare")
        if end is None:
            import time

            end = time.time()
    if start is not None and end is not None and start >= end:
        raise typer.BadParameter(f"--since {since} is not before --until {until}: the window holds no time",
                                 param_hint="--since")
    plain, dated = _config_schedule(config)
    cm, cfg = _load(cost_map, plain)
    map_note = None
    if map_as_of is not None:
        if cost_map is not None:
            raise typer.BadParameter("--cost-map names the map already", param_hint="--map-as-of")
        from .rates.history import load_cost_map_as_of

        when = _parse_date(map_as_of, "--map-as-of")
        assert when is not None
        cm, map_note = load_cost_map_as_of(when)
    engine: Any = PricingEngine(cm, cfg)
    if dated:
        from .engines.dated import DatedConfig, DatedConfigEngine
        from .rates.config import load_config

        engine = DatedConfigEngine(cm, [DatedConfig(t, since, load_config(_config_path(path)))
                                        for t, since, path in dated],
                                   DatedConfig(None, "", cfg) if plain is not None else None)

    def sheet_of(r: Any) -> Any:
        return getattr(engine.pricer(r.model, r.model_id, r.service_tier, r.request_prices), "sheet", None)

    def make_builder(start: float | None = start, end: float | None = end) -> ReportBuilder:
        b = ReportBuilder(group_by, tz=zone, since=start, until=end, timeline=fmt is Format.html, where=filters,
                          sheet_of=sheet_of, dedupe=dedupe)
        b.report.top, b.report.sort = top, sort.value if sort is not None else "auto"
        return b

    writer = None
    explained = {"last": 0, "count": 0}
    if explain:
        def wanted(o: Any) -> bool:
            number = getattr(o, "line", None)
            if number is None:
                number = o.record.line
            explained["last"] = max(explained["last"], number)
            return line is None or number == line

        if fmt in (Format.json, Format.jsonl):
            import orjson

            def explain_json(outcomes: Any, out: Any, first: bool) -> None:
                for o in outcomes:
                    if wanted(o):
                        doc = orjson.dumps(explain_dict(engine, o))
                        if fmt is Format.json:
                            out.write(b"[\n" if not explained["count"] else b",\n")
                        out.write(doc)
                        if fmt is Format.jsonl:
                            out.write(b"\n")
                        explained["count"] += 1

            writer = explain_json
            jobs = 1  # one JSON array: its commas need the records in one stream
        else:
            def explain_lines(outcomes: Any, out: Any, first: bool) -> None:
                for o in outcomes:
                    if wanted(o):
                        out.write(explain_record(engine, o) + "\n")
                        explained["count"] += 1

            writer = text_writer(explain_lines)
    elif fmt is Format.jsonl:
        def jsonl(outcomes: Any, out: Any, first: bool) -> None:
            write_jsonl(outcomes, out, engine)

        writer = jsonl
    elif per_record:
        writer = text_writer(lambda outcomes, out, first: write_csv_records(outcomes, out, header=first))
    # FOCUS, bill reconciliation and budgets need per-day sums beside the report: a ledger fed by the run's
    # per-record writer hook (it works the same in forked workers)
    ledger = None
    # (per-record formats have their own writer: with a price history they just price each record by its date)
    day_rates = fx is not None and fx.fixed is None  # converted per day: per-day sums of every group
    if fmt is Format.focus or bill is not None or day_rates or budget_lines or (dated and writer is None):
        from .reports.ledger import Ledger

        ledger = Ledger(engine, PricingEngine(cm), cfg.path or None,
                        group_by=tuple(group_by) if day_rates else (), tz=zone)
        ledger.watch_budgets([None if b.key is None else (b.key, b.value) for b in budget_lines])
        writer = ledger.writer()
    sections = None
    run = PriceRun(engine, make_builder, writer, keep_rejects=rejects is not None,
                   progress=None if quiet else _progress, parts_beside=None if output is None else str(output))
    database = _database_source(usage, engine_choice.value, statement_timeout, db_timeout, quiet)
    paths = expand_paths(usage) if database is None else []
    with ExitStack() as stack:
        if ledger is not None:
            out = stack.enter_context(tempfile.TemporaryFile())
        else:
            out = stack.enter_context(_open_out(output, binary=True)) if writer is not None else None
        rej = stack.enter_context(_open_out(rejects, binary=True)) if rejects is not None else None
        why_python = "it does not apply --where filters" if filters else None
        if database is not None:
            report = _execute_database(run, database, out, rej, engine_choice.value, aggregate=writer is None,
                                       quiet=quiet, why_python=why_python)
        else:
            report = _execute(run, paths, out, rej, jobs, engine_choice.value, aggregate=writer is None,
                              quiet=quiet, why_python=why_python)
        if explain and line is not None and not explained["count"]:
            raise CostcalcErrorWithCode(f"--line {line}: no such line (the input's last line is "
                                        f"{explained['last']:,})", 2)
        if explain and fmt is Format.json and out is not None:
            out.write(b"\n]\n" if explained["count"] else b"[]\n")
        if ledger is not None:
            out.seek(0)
            ledger.read(out)
        if fmt is Format.focus:
            from .reports.focus import undated_records, write_focus

            assert ledger is not None
            write_focus(ledger, stack.enter_context(_open_out(output, binary=False)),
                        *((fx.currency, fx.rate) if fx is not None else ()))
            undated = undated_records(ledger)
            if undated:
                engine.warnings.setdefault(f"{undated:,} priced record(s) have no timestamp: no FOCUS charge "
                                           "period, left out of the FOCUS file", "focus")
        elif writer is None or ledger is not None:
            from .reports.audit import AuditSections

            sections = AuditSections()
            if writer is None:
                for key in report.absent_keys():
                    from .reports.aggregate import NAME_FIELDS

                    looked = NAME_FIELDS.get("customer" if key == "end_user" else key)
                    why = f" (looked for {', '.join(looked)})" if looked else ""
                    hint = [k for k in report.suggest_keys(key) if k != key]
                    raise CostcalcErrorWithCode(
                        f"--group-by {key}: no record has it{why}, every record would be in (none)"
                        + (f"; did you mean {', '.join(hint)}?" if hint else f"; known keys: {', '.join(GROUP_KEYS)}"
                           ", or a field path such as metadata.project"), 2)
                if compare is not None and start is not None and end is not None:
                    length = end - start
                    before = PriceRun(engine, lambda: make_builder(start - length, start), None)
                    report.previous = before.execute(paths, None, None, jobs)
            if fx is not None:
                from .reports.currency import convert_report

                report = convert_report(report, ledger, fx)
            if bill is not None:
                from .reports.bill import reconcile_bill

                assert ledger is not None
                sections.bill = reconcile_bill(ledger, bill, *((fx.currency, fx.rate) if fx is not None
                                                               else ("USD", None)), since=start, until=end)
            if budget_lines:
                from .reports.budget import evaluate

                assert ledger is not None
                sections.budgets = evaluate(budget_lines, ledger.budget_days, ledger.record_days(), start, end,
                                            *((fx.currency, fx.rate) if fx is not None else ()))
            if fx is not None:
                sections.currency = fx
            if dated or map_note is not None:
                from .reports.audit import pricing_sources

                sections.sources = pricing_sources(engine, ledger.config_counts if ledger is not None else {},
                                                   report.accounting.priced, cm.info, map_note)
            warnings = sorted(engine.warnings)
            doc = report_dict(report, cm.info, cfg.path or None, warnings)
            sections.extend(doc)
            gaps = None
            if reconcile:
                from .reports.reconcile import reconcile as find_gaps

                gaps = find_gaps(report, tolerance)
                from .reports.render import reconcile_dict

                doc["reconcile"] = {"tolerance": tolerance, "groups": reconcile_dict(gaps)}
            if fmt is Format.json:
                write_json(doc, stack.enter_context(_open_out(output, binary=True)))
            elif fmt is Format.csv:
                sections.csv(stack.enter_context(_open_out(output, binary=False)), lambda o: write_csv(report, o))
            elif fmt is Format.markdown:
                stack.enter_context(sections.text_money())
                out_md = stack.enter_context(_open_out(output, binary=False))
                write_markdown(report, out_md, warnings, config_path=cfg.path or None, columns=picked)
                if gaps is not None:
                    write_reconcile_markdown(report, gaps, tolerance, out_md)
                sections.markdown(out_md)
            elif fmt is Format.html:
                from .reports.html import write_html

                stack.enter_context(sections.text_money())
                page = io.StringIO()
                write_html(report, page, doc, gaps, tolerance)
                stack.enter_context(_open_out(output, binary=False)).write(sections.html(page.getvalue()))
            else:
                if output is None:
                    console = _console()
                else:
                    from rich.console import Console

                    fh = stack.enter_context(_open_out(output, binary=False))
                    console = Console(file=fh, width=200, no_color=True, highlight=False)
                stack.enter_context(sections.text_money())
                write_table(report, console, warnings, chart=chart, config_path=cfg.path or None, wide=wide,
                            columns=picked)
                if gaps is not None:
                    write_reconcile_table(report, gaps, tolerance, console)
                sections.table(console)
    text_on_stdout = fmt in (Format.table, Format.markdown) and output is None and not explain
    if not text_on_stdout:
        _stderr_summary(report, sorted(engine.warnings), quiet, cfg.path or None)
    if strict and (report.accounting.unpriced or report.accounting.rejected):
        raise typer.Exit(1)
    if fail_over_budget and sections is not None and sections.budgets is not None and sections.budgets.exceeded:
        over = ", ".join(f"{b.line.label} ({b.spent} of {b.line.amount})" for b in sections.budgets.exceeded)
        sys.stderr.write(f"costcalc: over budget: {over}\n")
        raise typer.Exit(1)


def _fx(currency: str | None, rate: str | None, rates: str | None) -> Any:
    """The rates of --currency, or None for dollars."""
    if currency is None:
        if rate is not None or rates is not None:
            raise typer.BadParameter("give the currency the rates convert to", param_hint="--currency")
        return None
    from .reports.currency import check_currency, fixed_rate, load_fx_rates

    if rate is not None and rates is not None:
        raise typer.BadParameter("one of --fx-rate or --fx-rates", param_hint="--fx-rate")
    if rate is not None:
        return fixed_rate(currency, rate)
    if rates is not None:
        return load_fx_rates(rates, currency)
    if check_currency(currency) == "USD":
        return None
    raise typer.BadParameter(f"give --fx-rate or --fx-rates for {currency}", param_hint="--currency")


def _execute(run: Any, paths: list[str], out: Any, rejects: Any, jobs: int | None, requested: str, *,
             aggregate: bool, quiet: bool, why_python: str | None = None) -> Any:
    """Run with the engine asked for (or the one ``auto`` picks); a DuckDB run it cannot take is said on stderr
    when DuckDB was asked for by name, and priced by the Python engine."""
    from .reports.run import choose_engine

    engine, why_not = choose_engine(requested, paths, aggregate=aggregate)
    if engine == "duckdb" and why_python:
        engine, why_not = "python", why_python
    if engine == "duckdb":
        from .engines.duckdb_engine import Unsupported

        try:
            return run.execute_duckdb(paths, rejects)
        except Unsupported as exc:
            why_not = str(exc)
    if why_not and requested == "duckdb" and not quiet:
        typer.echo(f"costcalc: --engine duckdb: {why_not}; priced with the Python engine", err=True)
    return run.execute(paths, out, rejects, jobs)


def _database_source(usage: list[str], engine: str, timeout: float | None, db_timeout: float = 300.0,
                     quiet: bool = False) -> Any:
    """The database a usage argument names (None for files); one database per run, and only its engines. A
    password in the URL is overwritten in the process's arguments (or a warning says it cannot be)."""
    from dataclasses import replace

    from .reading.postgres import PASSWORD_WARNING, hide_password, is_database, parse_source

    if not any(is_database(u) for u in usage):
        if engine == "postgres":
            raise typer.BadParameter("postgres prices a database: give postgresql://… or db:", param_hint="--engine")
        if timeout is not None:
            raise typer.BadParameter("goes with a database", param_hint="--statement-timeout")
        return None
    if len(usage) != 1:
        raise typer.BadParameter("a database is priced on its own: give one usage argument", param_hint="USAGE")
    if engine == "duckdb":
        raise typer.BadParameter("duckdb reads files; a database is priced by postgres or python",
                                 param_hint="--engine")
    source = replace(parse_source(usage[0]), statement_timeout_s=timeout, timeout_s=db_timeout)
    if not usage[0].startswith("db:") and not hide_password(source) and not quiet:
        sys.stderr.write(f"costcalc: warning: {PASSWORD_WARNING}\n")
    return source


def _execute_database(run: Any, source: Any, out: Any, rejects: Any, requested: str, *, aggregate: bool,
                      quiet: bool, why_python: str | None = None) -> Any:
    from .reports.database import choose_database_engine, execute_database

    engine, why_not = choose_database_engine(requested, aggregate=aggregate)
    if engine == "postgres" and why_python:
        engine, why_not = "python", why_python
    if why_not and requested == "postgres" and not quiet:
        typer.echo(f"costcalc: --engine postgres: {why_not}; priced with the Python engine", err=True)
    return execute_database(run, source, engine, out, rejects)


def _progress(items: Any, position: Any, lines_of: Any) -> Any:
    """A progress bar on stderr, only when stderr is a terminal: percent and time left when the input's size
    is known (files), else the lines done. ``items``: input lines, or finished spans with --jobs."""
    if not sys.stderr.isatty():
        return items
    return _progress_bar(items, position, lines_of)


def _progress_bar(items: Any, position: Any, lines_of: Any) -> Any:
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    sized = position.total is not None and position.total > 0
    columns: list[Any] = [SpinnerColumn(), TextColumn("pricing {task.fields[lines]:,} lines")]
    if sized:
        columns += [BarColumn(), TaskProgressColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    else:
        columns.append(TimeElapsedColumn())
    with Progress(*columns, console=_console(stderr=True), transient=True) as progress:
        task = progress.add_task("pricing", total=position.total if sized else None, lines=0)
        lines = 0
        for n, item in enumerate(items, 1):
            lines += lines_of(item)
            if n % 5000 == 0 or lines_of(item) > 1:
                progress.update(task, completed=position.bytes_read() if sized else lines, lines=lines)
            yield item


def _stderr_summary(report: Any, warnings: list[str], quiet: bool, config_path: str | None) -> None:
    """Machine formats keep stdout clean: the notes, accounting and warnings go to stderr (the notes even with
    --quiet: they say the numbers may not be what the proxy charged)."""
    from .reports.render import accounting_line, period_lines, report_notes

    err = sys.stderr
    for note in report_notes(report, config_path):
        err.write(f"note: {note}\n")
    if quiet:
        return
    for line in period_lines(report):
        err.write(line + "\n")
    err.write(accounting_line(report) + "\n")
    for w in warnings:
        err.write(f"warning: {w}\n")


def _open_out(path: Path | None, *, binary: bool) -> Any:
    """stdout, or a file written whole or not at all (reports.output)."""
    from .reports.output import AtomicOutput

    return AtomicOutput(path, binary=binary)


class CostcalcErrorWithCode(CostcalcError):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.exit_code = code


@app.command(cls=PlainCommand)
def lookup(
    model: str = typer.Argument(..., help="A config model_name or a cost-map model (gpt-4o, anthropic/claude-…)."),
    config: str | None = ConfigOpt,
    cost_map: str | None = CostMapOpt,
    model_id: str | None = typer.Option(None, "--model-id", help="Pick the deployment with this model_info.id."),
    service_tier: str | None = typer.Option(None, "--service-tier", help="priority, flex, …"),
    fmt: ShortFormat = typer.Option(ShortFormat.table, "--format", "-f"),
) -> None:
    """The resolved prices of a model, each with where it came from."""
    from .reports.explain import lookup_doc, render_lookup

    cm, cfg = _load(cost_map, config)
    doc = lookup_doc(cm, cfg, model, model_id=model_id, service_tier=service_tier)
    if fmt is ShortFormat.json:
        from .reports.render import write_json

        write_json(doc, sys.stdout.buffer)
    else:
        render_lookup(doc, _console())
    if not doc["found"]:
        raise typer.Exit(1)


@app.command(cls=PlainCommand)
def models(
    query: str | None = typer.Argument(None, help="Substring to search for (case-insensitive)."),
    cost_map: str | None = CostMapOpt,
    provider: str | None = typer.Option(None, "--provider", help="Only this litellm_provider."),
    mode: str | None = typer.Option(None, "--mode", help="Only this mode (chat, embedding, …)."),
    limit: int = typer.Option(50, "--limit", "-n", help="At most this many rows."),
    fmt: ShortFormat = typer.Option(ShortFormat.table, "--format", "-f"),
    config: str | None = typer.Option(None, "--config", "-c",
                                      help="Also list the config's model_group_alias routes matching the query."),
) -> None:
    """Search the cost map: prices per 1M tokens."""
    from .reports.explain import config_routes, render_models, search_models

    cm, cfg = _load(cost_map, config)
    doc = search_models(cm, query, provider=provider, mode=mode, limit=limit)
    if config is not None:
        doc["aliases"] = config_routes(cm, cfg, query)
    if fmt is ShortFormat.json:
        from .reports.render import write_json

        write_json(doc, sys.stdout.buffer)
    else:
        render_models(doc, _console())
    if not doc["models"] and not doc.get("aliases"):
        raise typer.Exit(1)


@map_app.command("info", cls=PlainCommand)
def map_info(
    cost_map: str | None = CostMapOpt,
    fmt: ShortFormat = typer.Option(ShortFormat.table, "--format", "-f"),
) -> None:
    """Where the cost map in use came from (source, LiteLLM version, date, hash, models)."""
    cm, _ = _load(cost_map, None)
    info = cm.info.as_dict()
    if fmt is ShortFormat.json:
        from .reports.render import write_json

        write_json(info, sys.stdout.buffer)
        return
    for k, v in info.items():
        typer.echo(f"{k:16} {v}")


@map_app.command("update", cls=PlainCommand)
def map_update(
    source: str | None = typer.Option(None, "--from", help="URL (http, https, file) or path of a LiteLLM-format "
                                      "map (default: LiteLLM's model_prices_and_context_window.json on GitHub).",
                                      metavar="URL|PATH"),
    timeout: float = typer.Option(30.0, "--timeout", min=1, help="Seconds to wait for the download."),
    fmt: ShortFormat = typer.Option(ShortFormat.table, "--format", "-f"),
) -> None:
    """Download or copy a newer cost map into the user cache; it becomes the default map. Validated first: on
    any failure the map in use is left as it was (exit 2)."""
    from .rates.mapupdate import update_cost_map

    result = update_cost_map(source, timeout=timeout).as_dict()
    if fmt is ShortFormat.json:
        from .reports.render import write_json

        write_json(result, sys.stdout.buffer)
        return
    state = "unchanged" if result["unchanged"] else "updated"
    typer.echo(f"cost map {state}: {result['models']:,} models ({result['priced_models']:,} with token prices) "
               f"from {result['source']}")
    typer.echo(f"{'path':16} {result['path']}")
    typer.echo(f"{'sha256':16} {result['sha256']}")
    if result["snapshot"]:
        typer.echo(f"{'snapshot':16} {result['snapshot']} (for --map-as-of)")


class DiffFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


@app.command(cls=PlainCommand)
def diff(
    usage: list[str] = typer.Argument(None, help="Usage JSONL files to re-price under the config and under the "
                                      "bare cost map ('-' for stdin)."),
    config: str = typer.Option(..., "--config", "-c", help="LiteLLM proxy config.yaml.", metavar="CFG"),
    cost_map: str | None = CostMapOpt,
    fmt: DiffFormat = typer.Option(DiffFormat.table, "--format", "-f"),
    against: str | None = typer.Option(None, "--against", metavar="CURRENT",
                                       help="Compare --config (new) with this config (current) instead of the "
                                       "cost map: rates, effective rates and spend under both."),
) -> None:
    """The config's custom prices against the cost map, field by field; with usage, spend under each."""
    from .reports.diff import diff_doc, render_diff, write_diff_csv, write_diff_markdown

    cm, cfg = _load(cost_map, config)
    if against is not None:
        from .rates.config import load_config
        from .reports.whatif import render_whatif, whatif_doc

        if fmt not in (DiffFormat.table, DiffFormat.json):
            raise typer.BadParameter("--against writes table or json", param_hint="--format")
        doc = whatif_doc(cm, cfg, load_config(_config_path(against)), usage or ())
        if fmt is DiffFormat.json:
            from .reports.render import write_json

            write_json(doc, sys.stdout.buffer)
        else:
            render_whatif(doc, _console())
        return
    doc = diff_doc(cm, cfg, usage or ())
    if fmt is DiffFormat.json:
        from .reports.render import write_json

        write_json(doc, sys.stdout.buffer)
    elif fmt is DiffFormat.csv:
        write_diff_csv(doc, sys.stdout)
    elif fmt is DiffFormat.markdown:
        write_diff_markdown(doc, sys.stdout)
    else:
        render_diff(doc, _console())


@app.command(cls=PlainCommand)
def validate(
    config: str = typer.Option(..., "--config", "-c", help="LiteLLM proxy config.yaml.", metavar="CFG"),
    cost_map: str | None = CostMapOpt,
    fmt: ShortFormat = typer.Option(ShortFormat.table, "--format", "-f"),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="List every finding (a rule firing 3 or more times is one line otherwise)."),
) -> None:
    """Lint a proxy config: exit 1 on errors, 0 when there are only warnings."""
    from .rates.costmap import load_cost_map
    from .reports.validate import render_validate, validate_doc

    doc = validate_doc(_config_path(config), load_cost_map(cost_map))
    if fmt is ShortFormat.json:
        from .reports.render import write_json

        write_json(doc, sys.stdout.buffer)
    else:
        render_validate(doc, _console(), verbose)
    if not doc["ok"]:
        raise typer.Exit(1)


@app.command()
def sql(
    config: str = typer.Option(None, "--config", "-c", help="LiteLLM proxy config.yaml whose prices the query uses."),
    dialect: str = typer.Option("duckdb", help="duckdb, postgres, spark, bigquery, snowflake or trino."),
    table: str = typer.Option(..., help="The table (or view) holding the usage."),
    schema: str = typer.Option("canonical", help="canonical (SPEC 1.3 columns) or spendlogs (LiteLLM_SpendLogs)."),
    group_by: list[str] = typer.Option(["model"], "--group-by", "-g", help="Group key (repeatable)."),
    since: str | None = typer.Option(None, help="Only records at or after this date/time (UTC unless given)."),
    until: str | None = typer.Option(None, help="Only records before this date/time."),
    per_record: bool = typer.Option(False, "--per-record", help="One row per record: id, model, cost parts, cost."),
    models: str | None = typer.Option(None, "--models", help="Price only these models (a file, one per line)."),
    cost_map: str | None = typer.Option(None, "--cost-map", help="Cost map JSON (default: the bundled snapshot)."),
) -> None:
    """Print one self-contained query that prices a usage table in place, exactly (costcalc sql)."""
    from datetime import datetime

    from .engines.dialects import DIALECTS, script
    from .engines.sqlcompile import SqlError, SqlOptions, compile_query, covered_keys
    from .engines.streaming import PricingEngine

    if dialect not in DIALECTS:
        raise typer.BadParameter(f"choose one of {', '.join(DIALECTS)}", param_hint="--dialect")
    cm, cfg = _load(cost_map, config)
    engine = PricingEngine(cm, cfg)
    wanted = None
    if models is not None:
        with open(models, encoding="utf-8") as f:
            wanted = [line.strip() for line in f if line.strip()]
    start, end = _parse_date(since, "--since"), _parse_date(until, "--until")

    def when(t: float | None) -> Any:
        return None if t is None else datetime.fromtimestamp(t, timezone.utc)

    opts = SqlOptions(table, schema, list(group_by), when(start), when(end), per_record)
    try:
        q = compile_query(engine, covered_keys(engine, wanted), opts)
    except SqlError as exc:
        raise typer.BadParameter(str(exc)) from None
    from .version import __version__

    info = cm.info
    header = [f"costcalc {__version__} sql ({dialect}): prices {table} ({schema} columns) exactly",
              f"cost map: {info.source} (LiteLLM {info.litellm_version or '?'}, {info.snapshot_date or '?'}, "
              f"sha256 {info.sha256[:12]}, {info.models} models)",
              f"config: {config or '(none)'}; models covered: {q.keys} keys, {q.cards} rate cards, {q.bands} bands",
              f"money: exact decimals with {q.scale} places; unpriced records: status 'unpriced', cost NULL"]
    sys.stdout.write(script(q.sql, dialect, header))


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning every error into one line and an exit code."""
    from .errors import stop_on_signals

    restore = stop_on_signals()
    try:
        return _main(argv)
    finally:
        restore()


def _main(argv: list[str] | None) -> int:
    from .errors import Interrupted

    try:
        result = app(args=argv, prog_name="costcalc", standalone_mode=False)
    except Interrupted as exc:
        sys.stderr.write(f"costcalc: stopped by {exc.name}\n")
        return 128 + exc.signum
    except CostcalcError as exc:
        sys.stderr.write(f"costcalc: error: {exc}\n")
        return exc.exit_code
    except typer.Exit as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # typer's own handling of Ctrl-C
            sys.stderr.write("costcalc: interrupted\n")
        return exc.exit_code
    except SystemExit:
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":
            # typer met a closed pipe (`costcalc … | head`) and exits 1: the reader has what it wanted
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
            return 0
        raise
    except typer.Abort:
        sys.stderr.write("costcalc: aborted\n")
        return 130
    except typer.TyperException as exc:  # usage errors: typer prints them with the usage line
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"costcalc: error: {exc}\n")
        return int(getattr(exc, "exit_code", 2))
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("costcalc: interrupted\n")
        return 130
    except OSError as exc:  # input or output failed on the way (a full disk, /dev/full, a vanished file)
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"costcalc: error: {where}{exc.strerror or exc}\n")
        return 2
    except UnicodeEncodeError as exc:  # an argument or file name that is not valid UTF-8, on its way out
        sys.stderr.write(f"costcalc: error: cannot write text that is not valid UTF-8 ({exc.reason})\n")
        return 2
    except Exception as exc:
        if isinstance(exc, TypeError) and "surrogates not allowed" in str(exc):  # the same, through orjson
            sys.stderr.write("costcalc: error: cannot write text that is not valid UTF-8 (surrogates not allowed)\n")
            return 2
        sys.stderr.write(f"costcalc: internal error: {type(exc).__name__}: {exc}\n")
        return 3
    if result == 130:  # typer turns Ctrl-C into exit code 130 (nothing here exits 130 otherwise)
        sys.stderr.write("costcalc: interrupted\n")
    return result if isinstance(result, int) else 0

