"""The library's pricing pipeline: one ``PriceRequest`` in, one ``PriceResult`` out, every format renders it.

    result = costcalc.price("usage.jsonl", config=["2026-10-01=a.yaml", "2026-11-16=b.yaml"], month="2026-11",
                            group_by=["team"], currency="EUR", fx_rate="0.92", budgets=["total:500"])

The stages, in order: load the cost map and configs → the pricing engine (one per dated config) → the report
builder (groups, window, filters, de-duplication) → the engine that runs it (engines/choose.py: Python, DuckDB or
PostgreSQL) → the ledger of per-day sums when a section needs it → the comparison run → currency → bill, budgets
and pricing sources → the result. Nothing here knows about flags or formats.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import IO, Any

from ..engines.choose import choose_engine
from ..engines.streaming import PricingEngine
from ..errors import FieldError
from ..rates.costmap import CostMap
from .aggregate import GROUP_KEYS, Report, ReportBuilder, Where
from .audit import AuditSections
from .request import PriceRequest, zone
from .run import PriceRun, RecordWriter


@dataclass
class RecordOutput:
    """Where per-record output goes: ``make(engine)`` gives the run's per-record hook, which writes to ``out``."""

    make: Callable[[Any], RecordWriter]
    out: IO[bytes]
    one_stream: bool = False  # the writer needs every record in one stream (no worker processes)


@dataclass
class PriceResult:
    """One priced run: the report, its audit sections, and what it was priced with."""

    request: PriceRequest
    report: Report
    sections: AuditSections
    cost_map: CostMap
    config_path: str | None  # the undated config's path (None: none given)
    warnings: list[str] = field(default_factory=list)
    gaps: list[Any] | None = None  # --reconcile: groups whose recorded spend differs
    ledger: Any = None  # reports.ledger.Ledger, when a section needed per-day sums
    engine: Any = None  # the pricing engine (per-record writers and explanations ask it)
    fallback: str | None = None  # why the engine asked for by name did not price the run

    def as_dict(self) -> dict[str, Any]:
        """The JSON document (``--format json``)."""
        from .reconcile import reconcile_dict
        from .render import report_dict

        doc = report_dict(self.report, self.cost_map.info, self.config_path, self.warnings)
        self.sections.extend(doc)
        if self.gaps is not None:
            doc["reconcile"] = {"tolerance": self.request.tolerance, "groups": reconcile_dict(self.gaps)}
        return doc

    @property
    def exceeded(self) -> list[Any]:
        """The budget lines over their amount."""
        return self.sections.budgets.exceeded if self.sections.budgets is not None else []


Progress = Callable[[Iterable[Any], Any, Callable[[Any], int]], Iterable[Any]]


def price(usage: str | Iterable[str], **fields: Any) -> PriceResult:
    """Price ``usage`` (files, directories, ``-``, or a ``postgresql://`` URL) as ``costcalc price`` does.

    Every keyword is a ``PriceRequest`` field (``config`` takes a path or a list of paths and ``DATE=PATH``;
    ``since``/``until`` take ISO 8601 text or epoch seconds). Returns a ``PriceResult``: ``result.report`` (totals,
    groups, accounting), ``result.sections`` (budgets, bill, currency, pricing sources), ``result.as_dict()``."""
    return run(PriceRequest.build(usage, **fields))


def run(request: PriceRequest, *, records: RecordOutput | None = None, rejects: IO[bytes] | None = None,
        progress: Progress | None = None) -> PriceResult:
    """Run a checked request. ``records``: where per-record output goes (``request.records`` set);
    ``rejects``: where rejected lines go, verbatim; ``progress``: a progress display over the run's items."""
    result = _run(request, records, rejects, progress)
    _name_teams(result.report, request.team_names())
    return result


@dataclass
class _Inputs:
    """What a run is priced with, loaded once: the cost map, the pricing engine, and every section's inputs."""

    cost_map: CostMap
    map_note: str | None
    engine: Any
    config: Any
    fx: Any
    bill: Any
    budget_lines: list[Any]
    tz: Any
    filters: list[Where]
    teams: dict[str, set[str]] | None

    @classmethod
    def load(cls, request: PriceRequest) -> _Inputs:
        from ..rates.costmap import load_cost_map

        cm = load_cost_map(request.cost_map)
        map_note = None
        if request.map_as_of is not None:
            from ..rates.history import load_cost_map_as_of

            cm, map_note = load_cost_map_as_of(request.map_as_of)
        engine, cfg = _pricing_engine(request, cm)
        bill = None
        if request.bills:
            from .bill import load_bills

            bill = load_bills(list(request.bills))
        budget_lines = _budget_lines(request)
        filters = [Where.parse(text) for text in request.where]
        return cls(cm, map_note, engine, cfg, _fx(request), bill, budget_lines, zone(request.tz), filters,
                   _team_names(request, filters, budget_lines))

    def sheet_of(self, r: Any) -> Any:
        return getattr(self.engine.pricer(r.model, r.model_id, r.service_tier, r.request_prices), "sheet", None)


def _run(request: PriceRequest, records: RecordOutput | None, rejects: IO[bytes] | None,
         progress: Progress | None) -> PriceResult:
    """A run whose teams are still keyed by id (a comparison names both periods' teams alike), in stages: load
    the inputs, price (the engine the rule picks), then the checks and sections of a report of totals."""
    if (records is not None) != request.records:
        raise FieldError("records", "per-record output needs somewhere to go, and only then")
    inputs = _Inputs.load(request)
    report, ledger, fallback, aggregate = _price(request, inputs, records, rejects, progress)
    if request.dated_configs:
        report.configs = tuple((c.path, c.start, c.since) for c in request.configs)
    result = PriceResult(request, report, AuditSections(), inputs.cost_map, _config_label(request, report),
                         ledger=ledger, engine=inputs.engine, fallback=fallback)
    if records is None:
        _complete(result, inputs, aggregate)
    result.warnings = _once(request, [*result.warnings, *inputs.engine.warnings])
    return result


def _price(request: PriceRequest, inputs: _Inputs, records: RecordOutput | None, rejects: IO[bytes] | None,
           progress: Progress | None) -> tuple[Report, Any, str | None, bool]:
    """The report (and the per-day ledger when a section needs one); why the engine asked for did not price it;
    whether it was a report of totals alone."""
    def make_builder(start: float | None = request.since, end: float | None = request.until) -> ReportBuilder:
        b = ReportBuilder(request.group_by, tz=inputs.tz, since=start, until=end, timeline=request.timeline,
                          where=inputs.filters, sheet_of=inputs.sheet_of, dedupe=request.dedupe, teams=inputs.teams)
        b.report.top, b.report.sort = request.top, request.sort or "auto"
        return b

    writer = records.make(inputs.engine) if records is not None else None
    ledger = None
    if request.ledger_needed:
        from .ledger import Ledger

        ledger = Ledger(inputs.engine, PricingEngine(inputs.cost_map), inputs.config.path or None,
                        group_by=tuple(request.group_by) if request.day_rates else (), tz=inputs.tz,
                        price_points=request.ledger)
        ledger.watch_budgets([None if b.key is None else (b.key, b.value) for b in inputs.budget_lines],
                             inputs.teams)
        writer = ledger.writer()
    # worker parts are kept beside the output file (a run directory, removed however the run ends)
    beside = getattr(records.out, "name", None) if records is not None else getattr(rejects, "name", None)
    price_run = PriceRun(inputs.engine, make_builder, writer, keep_rejects=rejects is not None, progress=progress,
                         parts_beside=beside if isinstance(beside, str) else None)
    jobs = 1 if records is not None and records.one_stream else request.jobs
    with ExitStack() as stack:
        out = stack.enter_context(tempfile.TemporaryFile()) if ledger is not None else (
            records.out if records is not None else None)
        report, fallback = _execute(request, price_run, out, rejects, jobs, aggregate=writer is None)
        if ledger is not None:
            out.seek(0)
            ledger.read(out)
    return report, ledger, fallback, writer is None


def _complete(result: PriceResult, inputs: _Inputs, aggregate: bool) -> None:
    """A report of totals: its checks, currency and sections, the period it is compared with, the gaps."""
    request, report = result.request, result.report
    if aggregate:
        _check_group_keys(report)
    if (inputs.filters and not report.totals.requests and report.accounting.excluded and not request.database
            and "-" not in request.usage):
        _check_filters(inputs.filters, _paths(request), inputs.sheet_of, inputs.tz)
    _sections(result, inputs.fx, inputs.bill, inputs.budget_lines, inputs.map_note)
    if result.sections.budgets is not None:
        result.warnings = [*result.warnings, *result.sections.budgets.warnings()]
    if request.compare is not None:
        before, result.report.compared_with = previous_request(request)
        previous = _run(before, None, None, None)
        result.report.previous = previous.report
        result.warnings = [*result.warnings, *previous.warnings]
    if request.reconcile:
        from .reconcile import reconcile as find_gaps

        result.gaps = find_gaps(result.report, request.tolerance)
    if request.rereads or (request.reconcile and request.rereadable):
        def window() -> Callable[[Any], Any]:
            return ReportBuilder(request.group_by, tz=inputs.tz, since=request.since, until=request.until,
                                 where=inputs.filters, sheet_of=inputs.sheet_of, dedupe=request.dedupe,
                                 teams=inputs.teams).window

        _reread_sections(result, inputs.cost_map, window)


def _reread_sections(result: PriceResult, cm: CostMap, window: Callable[[], Callable[[Any], Any]]) -> None:
    """The sections that price the logs again record by record (the report keeps sums only): the provider's usage
    against the logs, the budget replay, and, with --reconcile (not over standard input), the records whose
    recorded cost differs. ``window()``: a fresh filter of the run's window, --where filters and de-duplication."""
    from ..reading.jsonl import read_usage

    request, engine, sections = result.request, result.engine, result.sections

    def logged() -> Iterable[Any]:
        if request.database:
            from ..reading.postgres import parse_source
            from .database import database_lines

            source = replace(parse_source(request.usage[0]), statement_timeout_s=request.statement_timeout,
                             timeout_s=request.db_timeout)
            return engine.outcomes(window()(database_lines(source)))
        return engine.outcomes(window()(read_usage(_paths(request))))

    if request.usage_files:
        from .usage_gap import usage_gap

        # the provider's usage in the same window (no --where: its records name none of the logs' fields)
        usage_window = ReportBuilder(("model",), tz=zone(request.tz), since=request.since, until=request.until,
                                     dedupe=request.dedupe).window
        usage = engine.outcomes(usage_window(read_usage(list(request.usage_files))))
        sections.usage_gap = usage_gap(logged(), usage, by=request.usage_join, proxy_field=request.usage_proxy_field,
                                       tolerance=request.tolerance)
    if request.budget_file is not None:
        from ..reading.postgres import is_database
        from .budget_replay import (
            config_budgets,
            config_settings,
            free_model_groups,
            load_budgets,
            load_database_budgets,
            replay,
        )

        if is_database(request.budget_file):
            budgets, settings = load_database_budgets(request.budget_file), None
        else:
            budgets, settings = load_budgets(request.budget_file)
        if not any(b.entity == "proxy" for b in budgets):  # the config's proxy-wide budget, unless given
            budgets += config_budgets(request.plain_config)
        if settings is None:
            settings = config_settings(request.plain_config)
        # a price history's configs each have their own free models: the bypass is replayed for one config only
        free = free_model_groups(engine) if isinstance(engine, PricingEngine) else frozenset()
        sections.budget_replay = replay(logged(), budgets, settings, free_groups=free)
    if request.reconcile and request.rereadable:
        from .reconcile import record_differences

        # the public list price is another tool's usual mistake only when the config sets prices of its own
        listed = PricingEngine(cm).price if request.configs else None
        sections.record_differences = record_differences(logged(), engine.price, listed, request.tolerance)


def _once(request: PriceRequest, warnings: Iterable[str]) -> list[str]:
    """Each warning once, sorted; with dated configs, one text the configs share names them all once."""
    if not request.dated_configs:
        return sorted(set(warnings))
    from ..engines.dated import merge_config_warnings

    labels = [f"{c.since}={c.path}" for c in request.dated_configs]
    if request.plain_config is not None:
        labels.append(request.plain_config)
    return merge_config_warnings(warnings, labels)


def previous_request(request: PriceRequest) -> tuple[PriceRequest, str]:
    """The request of the period a comparison is made against, and that period in words: the same run (configs,
    filters, currency) over the period of the same length just before (``previous``), or over the calendar month
    before the window's first month (``previous-month``)."""
    assert request.since is not None and request.until is not None
    if request.compare == "previous-month":
        from datetime import datetime

        tz = zone(request.tz)
        first = datetime.fromtimestamp(request.since, tz)
        start = datetime(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1, tzinfo=tz).timestamp()
        until = datetime(first.year, first.month, 1, tzinfo=tz).timestamp()
        words = "the calendar month before"
    else:
        start, until = request.since - (request.until - request.since), request.since
        words = "the previous period of the same length"
    return replace(request, since=start, until=until, compare=None, budgets=(), bills=(), reconcile=False,
                   keep_rejects=False, usage_files=(), usage_join=None, usage_proxy_field=None,
                   budget_file=None), words


def _config_label(request: PriceRequest, report: Report) -> str | None:
    """The config a report names: the one given, or with a price history the last one in force in the period
    (None only when no config was given: the report then says the prices are the public cost map's)."""
    if not request.dated_configs:
        return request.plain_config
    from .render import configs_in_force

    used = configs_in_force(report)
    return used[-1]["config"] if used else request.configs[-1].path


def _pricing_engine(request: PriceRequest, cm: CostMap) -> tuple[Any, Any]:
    """The engine that prices each record (one per dated config), and the undated config."""
    from ..rates.config import ProxyConfig, load_config

    plain = request.plain_config
    cfg = load_config(plain) if plain is not None else ProxyConfig.empty()
    if not request.dated_configs:
        return PricingEngine(cm, cfg), cfg
    from ..engines.dated import DatedConfig, DatedConfigEngine

    return DatedConfigEngine(cm, [DatedConfig(c.start, c.since, load_config(c.path)) for c in request.dated_configs],
                             DatedConfig(None, "", cfg) if plain is not None else None), cfg


def _fx(request: PriceRequest) -> Any:
    """The rates of the report's currency, or None for dollars."""
    if request.currency is None:
        return None
    from .currency import check_currency, fixed_rate, load_fx_rates

    if request.fx_rate is not None:
        return fixed_rate(request.currency, request.fx_rate)
    if request.fx_rates is not None:
        return load_fx_rates(request.fx_rates, request.currency)
    if check_currency(request.currency) == "USD":
        return None
    raise FieldError("currency", f"give {{fx_rate}} or {{fx_rates}} for {request.currency}")


def _budget_lines(request: PriceRequest) -> list[Any]:
    if not request.budgets:
        return []
    from .budget import parse_budget

    return [parse_budget(spec, GROUP_KEYS) for spec in request.budgets]


def _paths(request: PriceRequest) -> list[str]:
    from ..reading.jsonl import expand_paths

    return [] if request.database else expand_paths(list(request.usage))


def _execute(request: PriceRequest, price_run: PriceRun, out: IO[bytes] | None, rejects: IO[bytes] | None,
             jobs: int | None, *, aggregate: bool) -> tuple[Report, str | None]:
    """Run with the engine the rule picks (engines/choose.py); an in-SQL engine that cannot take the run leaves it
    to the Python engine, and the reason is returned when that engine was asked for by name."""
    paths = _paths(request)
    choice = choose_engine(request.engine, paths, database=request.database, aggregate=aggregate,
                           filters=bool(request.where), dedupe=request.dedupe)
    why_not = choice.why_not
    if request.database:
        from dataclasses import replace

        from ..reading.postgres import parse_source
        from .database import execute_database

        source = replace(parse_source(request.usage[0]), statement_timeout_s=request.statement_timeout,
                         timeout_s=request.db_timeout)
        report = execute_database(price_run, source, choice.engine, out, rejects)
        if source.table is not None and choice.engine == "postgres":
            why_not = "it prices LiteLLM_SpendLogs; a daily spend table is read by the Python engine"
        return report, why_not if request.engine == "postgres" else None
    if choice.engine == "duckdb":
        from ..engines.contract import Unsupported

        try:
            return price_run.execute_duckdb(paths, rejects), None
        except Unsupported as exc:
            why_not = str(exc)
    return price_run.execute(paths, out, rejects, jobs), why_not if request.engine == "duckdb" else None


def _team_names(request: PriceRequest, filters: list[Where], budget_lines: list[Any]) -> dict[str, set[str]] | None:
    """Every name each team id goes by in the input (its aliases over time, and ``aliases``), read first when a
    filter or a budget names a team: ``team=agents`` then means the team now called agents, whatever it was
    called when a record was logged. (A database and standard input are read once: there, a record's team is
    matched by the names that record carries.)"""
    named = any(f.key == "team" for f in filters) or any(b.key == "team" for b in budget_lines)
    if request.database or "-" in request.usage or not named:
        return None
    from ..reading.jsonl import read_usage
    from ..reading.records import UsageRecord
    from .aggregate import NONE, team_of

    names: dict[str, set[str]] = {}
    for r in read_usage(_paths(request)):
        if isinstance(r, UsageRecord):
            team_id, alias = team_of(r)
            if alias != NONE and alias != team_id:
                names.setdefault(team_id, set()).add(alias)
    for team_id, name in request.team_names().items():
        names.setdefault(team_id, set()).add(name)
    return names


def _name_teams(report: Report, names: dict[str, str]) -> None:
    """Teams grouped by id, shown by name: the same name in the report and in the period it is compared with."""
    from .aggregate import label_teams, team_labels

    reports = [report] + ([report.previous] if report.previous is not None else [])
    labels, renamed = team_labels(reports, names)
    for r in reports:
        label_teams(r, labels, renamed)


def _check_group_keys(report: Report) -> None:
    """A group key no record has would put every record in (none): an error, with the keys records do have."""
    from .aggregate import NAME_FIELDS

    for key in report.absent_keys():
        looked = NAME_FIELDS.get("customer" if key == "end_user" else key)
        why = f" (looked for {', '.join(looked)})" if looked else ""
        hint = [k for k in report.suggest_keys(key) if k != key]
        raise FieldError("group_by", f" {key}: no record has it{why}, every record would be in (none)"
                         + (f"; did you mean {', '.join(hint)}?" if hint else f"; known keys: {', '.join(GROUP_KEYS)}"
                            ", or a field path such as metadata.project"), about_value=True)


_LOOK_AT = 100_000  # records read to suggest a filter value (only when the filters left nothing)


def _check_filters(filters: list[Where], paths: list[str], sheet_of: Callable[[Any], Any], tz: Any) -> None:
    """Filters that left nothing: a key no record has, or a value that matches only in another case, is an
    error with what the records do have ("did you mean team=agents?")."""
    import difflib
    import itertools
    from fnmatch import fnmatchcase

    from ..reading.jsonl import read_usage
    from ..reading.records import UsageRecord
    from .aggregate import NONE, field_paths, key_function

    wanted = [f for f in filters if not f.negated]
    values: dict[str, set[str]] = {f.key: set() for f in wanted}
    fields: set[str] = set()
    keys = {key: key_function(key, tz) for key in values}
    for r in itertools.islice((r for r in read_usage(paths) if isinstance(r, UsageRecord)), _LOOK_AT):
        sheet = sheet_of(r)
        for key, values_of in keys.items():
            if len(values[key]) < 1000:
                values[key].update(values_of(r, sheet))
        if r.raw and len(fields) < 1000:
            fields.update(field_paths(r.raw))
    for f in wanted:
        seen = values[f.key] - {NONE}
        if any(fnmatchcase(v, f.pattern) for v in seen):
            continue
        if not seen:
            near = difflib.get_close_matches(f.key, sorted({*GROUP_KEYS, *fields}), n=3, cutoff=0.6)
            hint = "; did you mean " + ", ".join(f"{k}={f.pattern}" for k in near) + "?" if near else ""
            raise FieldError("where", f" {f.text!r}: no record has {f.key!r}, so every record was left out{hint}",
                             about_value=True)
        cased = sorted(v for v in seen if fnmatchcase(v.casefold(), f.pattern.casefold()))
        if cased:
            raise FieldError("where", f" {f.text!r}: no {f.key} matches {f.pattern!r} (values match case exactly); "
                             "did you mean " + ", ".join(f"{f.key}={v}" for v in cased[:3]) + "?", about_value=True)


def _sections(result: PriceResult, fx: Any, bill: Any, budget_lines: list[Any], map_note: str | None) -> None:
    """Currency conversion and the audit sections (bill, budgets, pricing sources) of an aggregate report."""
    request, ledger, sections = result.request, result.ledger, result.sections
    if fx is not None:
        from .currency import convert_report

        result.report = convert_report(result.report, ledger, fx)
        sections.currency = fx
    money = (fx.currency, fx.rate) if fx is not None else ()
    if bill is not None:
        from .bill import reconcile_bill

        sections.bill = reconcile_bill(ledger, bill, *(money or ("USD", None)), since=request.since,
                                       until=request.until)
    if budget_lines:
        from .budget import evaluate

        sections.budgets = evaluate(budget_lines, ledger.budget_days, ledger.record_days(), request.since,
                                    request.until, *(money or ("USD", None)), values=ledger.budget_values)
    if request.dated_configs or map_note is not None:
        from .audit import pricing_sources

        sections.sources = pricing_sources(result.engine, ledger.config_counts if ledger is not None else {},
                                           result.report.accounting.priced, result.cost_map.info, map_note)
