"""``costcalc sql --rates-table``: the query's rate tables as one data table a warehouse loads (CSV or Parquet).

One row per rate key (``kind`` 'key'), rate card ('card') and prompt-size band ('band'), in the columns the query
reads (``COLUMNS``); rates, discount and margin are exact decimal strings, cast by the query to its exact decimal
type (the scale is the query's: regenerate both together). ``ddl`` is the CREATE TABLE per dialect, written by
sqlglot from one definition.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import sqlglot
from sqlglot import exp

from ..errors import signals_held
from .dialects import Exact
from .sqlcompile import RATE_SLOTS, CompiledQuery

COLUMNS: tuple[tuple[str, str], ...] = (
    ("kind", "VARCHAR"), ("card", "BIGINT"), ("model", "VARCHAR"), ("model_id", "VARCHAR"), ("tier", "VARCHAR"),
    ("routed", "BIGINT"), ("route", "VARCHAR"), ("status", "VARCHAR"), ("reason", "VARCHAR"),
    ("variant", "VARCHAR"), ("fee", "BIGINT"),
    ("deployment", "VARCHAR"), ("provider", "VARCHAR"), ("lo", "BIGINT"), ("hi", "BIGINT"), ("band", "BIGINT"),
    *((f"rate_{s}", "VARCHAR") for s in RATE_SLOTS), ("discount", "VARCHAR"), ("margin_pct", "VARCHAR"),
    ("margin_fixed", "VARCHAR"))
_INDEX = {name: i for i, (name, _) in enumerate(COLUMNS)}
_KEY = ("model", "model_id", "tier", "card", "routed", "route")
_CARD = ("card", "status", "reason", "variant", "fee", "deployment", "provider")
_BAND = ("card", "lo", "hi", "band", *(f"rate_{s}" for s in RATE_SLOTS), "discount", "margin_pct", "margin_fixed")
FORMATS = (".csv", ".parquet")


def table_rows(q: CompiledQuery) -> list[list[str | int | None]]:
    """The rows of the rates table for ``q`` (its rate tables as compiled, decimals as their exact digits)."""
    out = []
    for kind, names in (("key", _KEY), ("card", _CARD), ("band", _BAND)):
        for row in q.rows[f"rate_{kind}s"]:
            line: list[str | int | None] = [None] * len(COLUMNS)
            line[0] = kind
            for name, value in zip(names, row):
                line[_INDEX[name]] = value.text if isinstance(value, Exact) else value
            out.append(line)
    return out


def ddl(name: str, dialect: str) -> str:
    """CREATE TABLE for the rates table ``name`` (quoted, possibly qualified) in ``dialect``."""
    from .sqlcompile import table_sql

    table = sqlglot.parse_one(table_sql(name), read="duckdb", into=exp.Table)
    schema = exp.Schema(this=table, expressions=[
        exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(t)) for c, t in COLUMNS])
    create = exp.Create(this=schema, kind="TABLE")
    return create.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE) + ";\n"


def write(rows: list[list[str | int | None]], path: str) -> None:
    """The rates table to ``path``: CSV (a header line, RFC 4180 quoting) or Parquet (written by DuckDB, typed as
    ``COLUMNS``), by extension; written to a temporary file beside it and renamed, so a reader never sees half."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"--rates-out {path}: name a .csv or .parquet file")
    fd, tmp = tempfile.mkstemp(prefix=".rates-", suffix=".csv", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow([c for c, _ in COLUMNS])
            w.writerows(rows)
        if suffix == ".parquet":
            _parquet(tmp, tmp + ".parquet")
            os.replace(tmp + ".parquet", target)
        else:
            os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp + ".parquet"):
            if os.path.exists(leftover):
                os.unlink(leftover)


def _parquet(csv_path: str, out: str) -> None:
    with signals_held():  # a signal inside DuckDB's native import aborts it
        import duckdb

    con = duckdb.connect()
    try:
        columns = {c: t for c, t in COLUMNS}
        con.execute("CREATE TABLE rates AS SELECT * FROM read_csv(?, header = true, columns = ?, quote = '\"', "
                    "escape = '\"', delim = ',', strict_mode = false)", [csv_path, columns])
        con.execute(f"COPY rates TO {exp.Literal.string(out).sql(dialect='duckdb')} (FORMAT parquet)")
    finally:
        con.close()
