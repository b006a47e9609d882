"""``costcalc price``: options → ``PriceRequest`` → ``reports.pipeline.run`` → the format's writer → exit code."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from ...formats.registry import EXPLAIN, FORMATS, Style
from ...reports.request import SORTS
from .. import options as o
from ..app import app
from ..output import Output, open_out, progress, stderr_summary
from ..presets import PresetCommand

Sort = Enum("Sort", {s: s for s in SORTS}, type=str)

COMPARE = typer.Option(None, "--compare", help="Each group against another period (needs a window: --since, "
                       "--month or --last): 'previous', the period of the same length before; 'previous-month', the "
                       "calendar month before the window's month.", metavar="previous|previous-month")
TOP = typer.Option(None, "--top", min=0, help="Keep the N largest groups; fold the rest into (other).")
SORT = typer.Option(None, "--sort", help="Order groups by cost, requests, tokens or name (default: time buckets in "
                    "time order, other groups by cost).")
PER_RECORD = typer.Option(False, "--per-record", help="With --format csv: one row per input line.")
OUTPUT = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout.")
EXPLAIN_OPT = typer.Option(False, "--explain", help="Show how each record's cost was reached.")
LINE = typer.Option(None, "--line", min=1, help="With --explain: only this line number.")
CHART = typer.Option(False, "--chart", help="Add a bar chart of spend per group (table format).")
RECONCILE = typer.Option(False, "--reconcile", help="List the groups whose recorded spend (spend, cost, costUSD in "
                         "the logs) differs from the computed cost, largest first.")
TOLERANCE = typer.Option(0.01, "--tolerance", min=0.0, help="With --reconcile: the relative difference that counts "
                         "(0.01 = 1%).")
RECONCILE_WITH = typer.Option([], "--reconcile-with", help="Compare with the provider's bill: OpenAI Costs API "
                              "pages, Anthropic cost reports (JSON) or a CSV (date,provider,model,amount,currency); "
                              "repeat for several files.", metavar="FILE")
RECONCILE_USAGE = typer.Option([], "--reconcile-usage", help="What bypassed the gateway: the provider's own usage "
                               "(OpenAI usage API pages, Anthropic usage reports, Bedrock invocation logs) priced with "
                               "the same config, joined to these logs per day, provider and model, each gap with its "
                               "likely cause; repeat for several files.", metavar="FILE")
USAGE_JOIN = typer.Option(None, "--usage-join", help="With --reconcile-usage: join on the usage's project or API key "
                          "as well (project or key).", metavar="project|key")
USAGE_PROXY_FIELD = typer.Option(None, "--usage-proxy-field", help="With --usage-join: the logs' field that names "
                                 "the provider project or key (a group-by path such as metadata.openai_project; "
                                 "default: project_id / workspace_id for a project).", metavar="PATH")
CURRENCY = typer.Option(None, "--currency", help="Report in this currency (ISO 4217), with --fx-rate or --fx-rates.",
                        metavar="CODE")
FX_RATE = typer.Option(None, "--fx-rate", help="Units of --currency per US dollar, for every record (0.92: $1 = "
                       "0.92).", metavar="RATE")
FX_RATES = typer.Option(None, "--fx-rates", help="CSV date,currency,rate: each record at its day's rate (the last "
                        "earlier one when a day has none).", metavar="FILE")
BUDGET = typer.Option([], "--budget", help="A budget line: KEY=VALUE:AMOUNT (team=agents:500) or total:AMOUNT, in "
                      "the report's currency; repeatable.", metavar="SPEC")
FAIL_OVER_BUDGET = typer.Option(False, "--fail-over-budget", help="Exit 1 when any budget is exceeded (for cron and "
                                "CI alerts).")
STRICT = typer.Option(False, help="Exit 1 if any record was unpriced or rejected.")
REJECTS = typer.Option(None, "--rejects", help="Write every rejected line here, verbatim, after a '# file:line: "
                       "reason' line.")
ALIAS = typer.Option([], "--alias", help="The name a team is shown by: team:ID=NAME (a team without an alias, "
                     "or another name); repeatable. Teams are grouped by id, shown by their latest alias.",
                     metavar="team:ID=NAME")
WIDE = typer.Option(False, "--wide", help="Table: every column, however wide the terminal.")
FOCUS_VERSION = typer.Option("1.2", "--focus-version", help="With --format focus: the FOCUS version, 1.2 or 1.3 "
                             "(adds ServiceProviderName and HostProviderName).", metavar="1.2|1.3")
PRESET = typer.Option(None, "--preset", help="Use the options saved as this preset in costcalc.toml (here, then "
                      "in the user's config directory); options given here win. 'costcalc presets' lists them.",
                      metavar="NAME")
COLUMNS = typer.Option(None, "--columns", help="Table and Markdown: exactly these columns, comma-separated or "
                       "repeated (requests, input_tokens, input_cost, uncached_tokens, uncached_cost, "
                       "cache_read_tokens, cache_read_cost, cache_write_5m_tokens, cache_write_5m_cost, "
                       "cache_write_1h_tokens, cache_write_1h_cost, output_tokens, output_cost, discount, margin, "
                       "total, share).", metavar="NAMES")


@app.command(cls=PresetCommand)
def price(
    usage: list[str] = o.USAGE, config: list[str] = o.CONFIGS, cost_map: str | None = o.COST_MAP,
    map_as_of: str | None = o.MAP_AS_OF, group_by: list[str] = o.GROUP_BY, since: str | None = o.SINCE,
    until: str | None = o.UNTIL, month: str | None = o.MONTH, last: str | None = o.LAST,
    compare: str | None = COMPARE, tz: str = o.TZ, top: int | None = TOP, sort: Sort | None = SORT,
    fmt: o.format_choice("price") = o.format_option("price", help="Output format."),  # type: ignore[valid-type]
    per_record: bool = PER_RECORD, output: Path | None = OUTPUT, explain: bool = EXPLAIN_OPT,
    line: int | None = LINE, chart: bool = CHART, reconcile: bool = RECONCILE, tolerance: float = TOLERANCE,
    reconcile_with: list[str] = RECONCILE_WITH, reconcile_usage: list[str] = RECONCILE_USAGE,
    usage_join: str | None = USAGE_JOIN, usage_proxy_field: str | None = USAGE_PROXY_FIELD,
    replay_budgets: str | None = o.REPLAY_BUDGETS, currency: str | None = CURRENCY, fx_rate: str | None = FX_RATE,
    fx_rates: str | None = FX_RATES, budget: list[str] = BUDGET, fail_over_budget: bool = FAIL_OVER_BUDGET,
    strict: bool = STRICT, rejects: Path | None = REJECTS, quiet: bool = o.QUIET, jobs: int | None = o.JOBS,
    engine_choice: o.Engine = o.ENGINE, statement_timeout: float | None = o.STATEMENT_TIMEOUT,  # type: ignore
    db_timeout: float = o.DB_TIMEOUT,
    where: list[str] | None = o.WHERE, dedupe: bool = o.DEDUPE, wide: bool = WIDE,
    columns: list[str] | None = COLUMNS, alias: list[str] = ALIAS, decimals: int | None = o.DECIMALS,
    focus_version: str = FOCUS_VERSION, preset: str | None = PRESET,
) -> None:
    """Price usage records and print a spend report."""
    from ...reports.focus import FOCUS_VERSIONS
    from ...reports.money import fixed_decimals
    from ...reports.pipeline import run

    fmt_name = fmt.value
    if focus_version not in FOCUS_VERSIONS:
        raise typer.BadParameter(f"{focus_version!r}: FOCUS {' or '.join(FOCUS_VERSIONS)}",
                                 param_hint="--focus-version")
    if focus_version != "1.2" and fmt_name != "focus":
        raise typer.BadParameter("--focus-version goes with --format focus", param_hint="--focus-version")
    o.check_format(fmt_name, {"--line": line is not None, "--reconcile": reconcile, "--reconcile-with":
                              bool(reconcile_with), "--budget": bool(budget), "--currency": currency is not None,
                              "--compare": compare is not None, "--fail-over-budget": fail_over_budget,
                              "--reconcile-usage": bool(reconcile_usage),
                              "--replay-budgets": replay_budgets is not None},
                   explain, per_record)
    style = Style(_columns(columns), wide, chart, focus_version)
    explained = EXPLAIN.Explanations(None, FORMATS[fmt_name].explains or "", line) if explain else None
    request = o.request(
        usage, config=config, cost_map=cost_map, map_as_of=map_as_of, group_by=group_by, since=since, until=until,
        month=month, last=last, compare=compare, tz=tz, top=top, sort=sort.value if sort is not None else None,
        reconcile=reconcile, tolerance=tolerance, bills=reconcile_with, usage_files=reconcile_usage,
        usage_join=usage_join, usage_proxy_field=usage_proxy_field, budget_file=replay_budgets, currency=currency,
        fx_rate=fx_rate, fx_rates=fx_rates, budgets=budget, jobs=jobs, engine=engine_choice.value, where=where or (),
        statement_timeout=statement_timeout, db_timeout=db_timeout, dedupe=dedupe, aliases=alias,
        records=explain or per_record or FORMATS[fmt_name].write is None,
        **{need: True for need in FORMATS[fmt_name].needs})
    _hide_password(usage, quiet)
    with ExitStack() as stack:
        stack.enter_context(fixed_decimals(decimals))
        out = Output(output, stack)
        records = _record_output(fmt_name, explained, per_record, out, stack)
        rej = stack.enter_context(open_out(rejects, binary=True)) if rejects is not None else None
        result = o.library_call(run, request, records=records, rejects=rej, progress=None if quiet else progress)
        if result.fallback and not quiet:
            typer.echo(f"costcalc: --engine {request.engine}: {result.fallback}; priced with the Python engine",
                       err=True)
        warnings = result.warnings
        if quiet and FORMATS[fmt_name].screen:  # the report alone; its warnings go to stderr below, once each
            result.warnings = []
        if explained is not None:
            _finish_explaining(explained, records)
        elif records is None:
            FORMATS[fmt_name].write(result, out, style)  # type: ignore[misc]
        elif FORMATS[fmt_name].finish is not None:
            records.out.flush()
            FORMATS[fmt_name].finish(records.out.name, out)  # type: ignore[misc]
    result.warnings = sorted({*warnings, *result.warnings})  # a writer may add its own (FOCUS)
    if quiet or not (FORMATS[fmt_name].screen and output is None and not explain):
        stderr_summary(result, quiet, notes=not (FORMATS[fmt_name].screen and output is None and not explain))
    code = _exit_code(result, strict, fail_over_budget)
    if code:
        raise typer.Exit(code)


def _hide_password(usage: list[str], quiet: bool) -> None:
    """A password in a database URL argument is overwritten in the process's arguments (``ps`` shows them to
    other users); where that cannot be done, a warning says how to give it instead."""
    from ...reading.postgres import PASSWORD_WARNING, hide_password, is_database, parse_source

    for arg in usage:
        if is_database(arg) and not arg.startswith("db:") and not hide_password(parse_source(arg)) and not quiet:
            sys.stderr.write(f"costcalc: warning: {PASSWORD_WARNING}\n")


def _columns(columns: list[str] | None) -> list[str] | None:
    from ...reports.render import parse_columns

    return o.library_call(parse_columns, columns) if columns else None


def _record_output(fmt: str, explained: Any, per_record: bool, out: Output, stack: ExitStack) -> Any:
    """Where and how records are written as they are priced (None: a report only)."""
    from ...reports.pipeline import RecordOutput

    if explained is not None:
        def make(engine: Any) -> Any:
            explained.engine = engine
            return explained.writer()

        return RecordOutput(make, out.binary(), one_stream=explained.one_stream)
    f = FORMATS[fmt]
    make_records = f.per_record if per_record else (f.records if f.write is None else None)
    if make_records is None:
        return None
    if f.finish is not None:  # staged, then converted into the output when the run is done
        import tempfile

        staged = stack.enter_context(tempfile.NamedTemporaryFile(prefix="costcalc-records-", suffix=".csv"))  # noqa: SIM115 - closed by the stack
        return RecordOutput(make_records, staged)
    return RecordOutput(make_records, out.binary())


def _finish_explaining(explained: Any, records: Any) -> None:
    missing = explained.missing_line()
    if missing is not None:
        raise o.CommandError(f"--line {missing}")
    explained.finish(records.out)


def _exit_code(result: Any, strict: bool, fail_over_budget: bool) -> int:
    accounting = result.report.accounting
    if strict and (accounting.unpriced or accounting.rejected):
        return 1
    if fail_over_budget and result.exceeded:
        over = ", ".join(f"{b.line.label} ({b.spent} of {b.line.amount})" for b in result.exceeded)
        sys.stderr.write(f"costcalc: over budget: {over}\n")
        return 1
    return 0
