"""``costcalc sql``: one self-contained query that prices a usage table in place."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import typer

from .. import options as o
from ..app import PlainCommand, app


@app.command(cls=PlainCommand)
def sql(
    config: str = typer.Option(None, "--config", "-c", help="LiteLLM proxy config.yaml whose prices the query uses."),
    dialect: str = typer.Option("duckdb", help="duckdb, postgres, spark, bigquery, snowflake or trino."),
    table: str = typer.Option(..., help="The table (or view) holding the usage."),
    schema: str = typer.Option("canonical", help="canonical (SPEC 1.3 columns) or spendlogs (LiteLLM_SpendLogs)."),
    group_by: list[str] = typer.Option(["model"], "--group-by", "-g", help="Group key (repeatable)."),
    since: str | None = o.SINCE,
    until: str | None = o.UNTIL,
    per_record: bool = typer.Option(False, "--per-record", help="One row per record: id, model, cost parts, cost."),
    models: str | None = typer.Option(None, "--models", help="Price only these models (a file, one per line)."),
    rates_table: str | None = typer.Option(
        None, "--rates-table", help="Read the rate cards from this table instead of inline VALUES (with --rates-out)."),
    rates_out: str | None = typer.Option(
        None, "--rates-out", help="Write that table's rows here (.csv or .parquet) and its CREATE TABLE beside it "
        "(<name>.<dialect>.sql)."),
    cost_map: str | None = o.COST_MAP,
) -> None:
    """Print one self-contained query that prices a usage table in place, exactly (costcalc sql)."""
    from ...engines.dialects import DIALECTS, script
    from ...engines.sqlcompile import SqlError, SqlOptions, compile_query, covered_keys
    from ...engines.streaming import PricingEngine
    from ...reports.request import parse_when

    if dialect not in DIALECTS:
        raise typer.BadParameter(f"choose one of {', '.join(DIALECTS)}", param_hint="--dialect")
    cm, cfg = o.load(cost_map, config)
    # the query carries each unpriced name's reason, never "did you mean" names: skip that fuzzy search of the map
    engine = PricingEngine(cm, cfg, suggestions=False)
    wanted = None
    if models is not None:
        with open(models, encoding="utf-8") as f:
            wanted = [line.strip() for line in f if line.strip()]
    start, end = (None if t is None else o.library_call(parse_when, t, name) for t, name in ((since, "since"),
                                                                                          (until, "until")))
    if (rates_table is None) != (rates_out is None):
        raise typer.BadParameter("give --rates-table and --rates-out together", param_hint="--rates-table")
    opts = SqlOptions(table, schema, list(group_by), _utc(start), _utc(end), per_record, rates_table)
    try:
        q = compile_query(engine, covered_keys(engine, wanted), opts)
    except SqlError as exc:
        raise typer.BadParameter(str(exc)) from None
    header = _header(cm.info, q, dialect, table, schema, config)
    if rates_table is not None and rates_out is not None:
        from ...engines import ratetable

        ddl_path = Path(rates_out).with_suffix(f".{dialect}.sql")
        try:
            ratetable.write(ratetable.table_rows(q), rates_out)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--rates-out") from None
        ddl_path.write_text(ratetable.ddl(rates_table, dialect), encoding="utf-8")
        header.append(f"rates: read from table {rates_table}: load {rates_out} into it (CREATE TABLE in {ddl_path}); "
                      "regenerate both together (the query's decimal scale is the table's)")
    sys.stdout.write(script(q.skeleton, dialect, header, q.inline_rows))


def _utc(t: float | None) -> Any:
    return None if t is None else datetime.fromtimestamp(t, timezone.utc)


def _header(info: Any, q: Any, dialect: str, table: str, schema: str, config: str | None) -> list[str]:
    from ...version import __version__

    return [f"costcalc {__version__} sql ({dialect}): prices {table} ({schema} columns) exactly",
            f"cost map: {info.source} (LiteLLM {info.litellm_version or '?'}, {info.snapshot_date or '?'}, "
            f"sha256 {info.sha256[:12]}, {info.models} models)",
            f"config: {config or '(none)'}; models covered: {q.keys} keys, {q.cards} rate cards, {q.bands} bands",
            f"money: exact decimals with {q.scale} places; unpriced records: status 'unpriced', cost NULL"]
