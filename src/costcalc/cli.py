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

from .errors import CostcalcError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Price LLM usage exactly as a LiteLLM proxy would: offline, from config.yaml and usage JSONL.",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
map_app = typer.Typer(help="The cost map in use: where it came from, and refreshing it.", no_args_is_help=True)
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
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width,
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


def _parse_date(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    from .reading.records import BadField, parse_time

    try:
        return parse_time(value, option)
    except BadField:
        raise typer.BadParameter(f"{value!r} is not a date or ISO 8601 datetime", param_hint=option) from None


def _tz(name: str) -> Any:
    if name.upper() == "UTC":
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"unknown time zone {name!r}", param_hint="--tz") from None


@app.command()
def price(
    usage: list[str] = typer.Argument(..., help="Usage JSONL files ('-' for stdin; .gz read transparently; "
                                      "directories are searched for *.jsonl)."),
    config: list[str] = typer.Option([], "--config", "-c", help="LiteLLM proxy config.yaml; DATE=CFG prices the "
                                     "records from DATE on with CFG (repeat for a price history).", metavar="CFG"),
    cost_map: str | None = CostMapOpt,
    map_as_of: str | None = typer.Option(None, "--map-as-of", help="Price with the cost map snapshot (kept by "
                                         "map update) in force at this date/time.", metavar="DATE"),
    group_by: list[str] = typer.Option(["model"], "--group-by", "-g", help="model, deployment, provider, user, "
                                       "team, key, end_user, tag, shape, hour, day, week, month, or a dotted path "
                                       "(metadata.project); repeat to nest."),
    since: str | None = typer.Option(None, help="Only records at or after this date/time (UTC unless given)."),
    until: str | None = typer.Option(None, help="Only records before this date/time (exclusive)."),
    tz: str = typer.Option("UTC", "--tz", help="Time zone for hour/day/week/month buckets."),
    top: int | None = typer.Option(None, "--top", min=0, help="Keep the N largest groups; fold the rest "
                                      "into (other)."),
    sort: Sort = typer.Option(Sort.cost, "--sort", help="Order groups by cost, requests, tokens or name."),
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
                                         "for aggregate reports over 16 MiB of files or more, python otherwise."),
) -> None:
    """Price usage records and print a spend report."""
    from .engines.streaming import PricingEngine
    from .reading.jsonl import expand_paths
    from .reports.aggregate import GROUP_KEYS, ReportBuilder
    from .reports.render import (
        explain_record,
        report_dict,
        write_csv,
        write_csv_records,
        write_html,
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
    if reconcile and (explain or fmt in (Format.jsonl, Format.csv, Format.html)):
        raise typer.BadParameter("--reconcile goes with --format table, markdown or json", param_hint="--reconcile")
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
    start, end = _parse_date(since, "--since"), _parse_date(until, "--until")
    zone = _tz(tz)
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

    def make_builder() -> ReportBuilder:
        b = ReportBuilder(group_by, tz=zone, since=start, until=end, timeline=fmt is Format.html)
        b.report.top, b.report.sort = top, sort.value
        return b

    writer = None
    if explain:
        def explain_lines(outcomes: Any, out: Any, first: bool) -> None:
            for o in outcomes:
                if line is None or getattr(o, "line", None) == line or \
                        getattr(getattr(o, "record", None), "line", None) == line:
                    out.write(explain_record(engine, o) + "\n")

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
                   progress=None if quiet else _progress)
    paths = expand_paths(usage)
    with ExitStack() as stack:
        if ledger is not None:
            out = stack.enter_context(tempfile.TemporaryFile())
        else:
            out = stack.enter_context(_open_out(output, binary=True)) if writer is not None else None
        rej = stack.enter_context(_open_out(rejects, binary=True)) if rejects is not None else None
        report = _execute(run, paths, out, rej, jobs, engine_choice.value, aggregate=writer is None, quiet=quiet)
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
                doc["reconcile"] = {"tolerance": tolerance, "groups": [g.as_dict() for g in gaps]}
            if fmt is Format.json:
                write_json(doc, stack.enter_context(_open_out(output, binary=True)))
            elif fmt is Format.csv:
                sections.csv(stack.enter_context(_open_out(output, binary=False)), lambda o: write_csv(report, o))
            elif fmt is Format.markdown:
                stack.enter_context(sections.text_money())
                out_md = stack.enter_context(_open_out(output, binary=False))
                write_markdown(report, out_md, warnings)
                if gaps is not None:
                    write_reconcile_markdown(report, gaps, tolerance, out_md)
                sections.markdown(out_md)
            elif fmt is Format.html:
                stack.enter_context(sections.text_money())
                page = io.StringIO()
                write_html(report, page, doc)
                stack.enter_context(_open_out(output, binary=False)).write(sections.html(page.getvalue()))
            else:
                if output is None:
                    console = _console()
                else:
                    from rich.console import Console

                    fh = stack.enter_context(_open_out(output, binary=False))
                    console = Console(file=fh, width=200, no_color=True, highlight=False)
                stack.enter_context(sections.text_money())
                write_table(report, console, warnings, chart=chart)
                if gaps is not None:
                    write_reconcile_table(report, gaps, tolerance, console)
                sections.table(console)
    text_on_stdout = fmt in (Format.table, Format.markdown) and output is None and not explain
    if not text_on_stdout:
        _stderr_summary(report, sorted(engine.warnings), quiet)
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
             aggregate: bool, quiet: bool) -> Any:
    """Run with the engine asked for (or the one ``auto`` picks); a DuckDB run it cannot take is said on stderr
    when DuckDB was asked for by name, and priced by the Python engine."""
    from .reports.run import choose_engine

    engine, why_not = choose_engine(requested, paths, aggregate=aggregate)
    if engine == "duckdb":
        from .engines.duckdb_engine import Unsupported

        try:
            return run.execute_duckdb(paths, rejects)
        except Unsupported as exc:
            why_not = str(exc)
    if why_not and requested == "duckdb" and not quiet:
        typer.echo(f"costcalc: --engine duckdb: {why_not}; priced with the Python engine", err=True)
    return run.execute(paths, out, rejects, jobs)


def _progress(results: Any) -> Any:
    """A lines-processed counter on stderr, only when stderr is a terminal (one-process runs)."""
    if not sys.stderr.isatty():
        return results
    return _progress_bar(results)


def _progress_bar(results: Any) -> Any:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("pricing {task.completed:,} lines"), TimeElapsedColumn(),
                  console=_console(stderr=True), transient=True) as progress:
        task = progress.add_task("pricing", total=None)
        for n, r in enumerate(results, 1):
            if n % 5000 == 0:
                progress.update(task, completed=n)
            yield r


def _stderr_summary(report: Any, warnings: list[str], quiet: bool) -> None:
    """Machine formats keep stdout clean: the accounting and warnings go to stderr."""
    from .reports.render import accounting_line

    if quiet:
        return
    err = sys.stderr
    err.write(accounting_line(report) + "\n")
    for w in warnings:
        err.write(f"warning: {w}\n")


class _open_out:
    """stdout, or a file that is only created when writing starts."""

    def __init__(self, path: Path | None, *, binary: bool):
        self.path, self.binary = path, binary
        self.fh: IO[Any] | None = None

    def __enter__(self) -> IO[Any]:
        if self.path is None or str(self.path) == "-":
            return sys.stdout.buffer if self.binary else sys.stdout
        try:
            self.fh = open(self.path, "wb" if self.binary else "w", newline=None if self.binary else "")
        except OSError as exc:
            raise CostcalcErrorWithCode(f"{self.path}: cannot write ({exc.strerror})", 2) from None
        return self.fh

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            self.fh.close()


class CostcalcErrorWithCode(CostcalcError):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.exit_code = code


@app.command()
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


@app.command()
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


@map_app.command("info")
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


@map_app.command("update")
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


@app.command()
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


@app.command()
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
    try:
        result = app(args=argv, prog_name="costcalc", standalone_mode=False)
    except CostcalcError as exc:
        sys.stderr.write(f"costcalc: error: {exc}\n")
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
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
    return result if isinstance(result, int) else 0

