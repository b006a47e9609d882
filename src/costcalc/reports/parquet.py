"""``--format parquet``: the report's groups, or one row per input record (``--per-record``), as a Parquet file for
analysts (DuckDB, Spark, pandas read it).

DuckDB writes it, from the same rows the CSV writers produce (``render.write_csv`` / ``write_csv_records``), so
the Parquet file holds exactly what the CSV holds. Amounts are exact ``DECIMAL(38, S)`` columns: S is the most
decimal places any value of the column has (every amount is a finite decimal, ``pricing/exact.py``), so each
value is stored exactly; only a value that needs more than 38 digits in all would be rounded (half to even) to
the places that fit, which no cost reaches. Counts are ``BIGINT``, names ``VARCHAR`` (empty: NULL).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import signals_held
from .aggregate import COST_PARTS, TOKEN_PARTS, Report
from .cells import staging_cells

MAX_PRECISION = 38  # DuckDB's and Parquet's widest decimal that readers (Spark, pandas) map exactly

REPORT_COUNTS = ("requests", *(f"{p}_tokens" for p in TOKEN_PARTS), "level")
REPORT_AMOUNTS = (*(f"{p}_cost" for p in COST_PARTS), "share", "previous_total_cost")
RECORD_COUNTS = ("line", "requests", *(f"{p}_tokens" for p in TOKEN_PARTS))
RECORD_AMOUNTS = (*(f"{p}_cost" for p in COST_PARTS), "recorded_cost")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def csv_to_parquet(csv_path: str, out_path: str, counts: Iterable[str], amounts: Iterable[str]) -> None:
    """Convert a CSV the writers made into Parquet: ``counts`` columns as BIGINT, ``amounts`` as exact DECIMALs
    with the scale their values need, the rest as VARCHAR. Written to a temporary file beside ``out_path`` and
    moved into place, so a reader never sees half a file."""
    with signals_held():  # a signal inside DuckDB's native import aborts it
        import duckdb

    con = duckdb.connect()
    try:
        source = f"read_csv({_literal(csv_path)}, all_varchar = true, header = true, quote = '\"', escape = '\"')"
        header = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        counts, amounts = set(counts), [c for c in amounts if c in header]
        scales = {}
        if amounts:
            # the places and the whole digits each amount column needs: the widest value sets the type
            probes = ", ".join(
                f"max(length(split_part(ltrim({_quote(c)}, '-'), '.', 2))), "
                f"max(length(split_part(ltrim({_quote(c)}, '-'), '.', 1)))" for c in amounts)
            needed = con.execute(f"SELECT {probes} FROM {source}").fetchone() or ()
            for i, c in enumerate(amounts):
                places, whole = needed[2 * i] or 0, needed[2 * i + 1] or 1
                scales[c] = max(0, min(places, MAX_PRECISION - whole))
        columns = []
        for c in header:
            q = _quote(c)
            if c in scales:
                columns.append(f"CAST(nullif({q}, '') AS DECIMAL({MAX_PRECISION}, {scales[c]})) AS {q}")
            elif c in counts:
                columns.append(f"CAST(nullif({q}, '') AS BIGINT) AS {q}")
            else:
                columns.append(f"nullif({q}, '') AS {q}")
        target = Path(out_path)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".parquet", dir=target.parent or ".")
        os.close(fd)
        try:
            con.execute(f"COPY (SELECT {', '.join(columns)} FROM {source}) TO {_literal(tmp)} (FORMAT parquet)")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    finally:
        con.close()


def write_report_parquet(report: Report, out_path: str) -> None:
    """The report's rows (groups, subtotals, the TOTAL row) as Parquet, the columns of ``--format csv``."""
    from .render import write_csv

    with tempfile.TemporaryDirectory() as tmp:
        staged = os.path.join(tmp, "report.csv")
        with open(staged, "w", encoding="utf-8", newline="") as fh, staging_cells():
            write_csv(report, fh)
        csv_to_parquet(staged, out_path, REPORT_COUNTS, REPORT_AMOUNTS)


def write_records_parquet(outcomes: Iterable[Any], out_path: str) -> None:
    """One row per input line as Parquet, the columns of ``--format csv --per-record``."""
    from .render import write_csv_records

    with tempfile.TemporaryDirectory() as tmp:
        staged = os.path.join(tmp, "records.csv")
        with open(staged, "w", encoding="utf-8", newline="") as fh:
            write_csv_records(outcomes, fh)
        csv_to_parquet(staged, out_path, RECORD_COUNTS, RECORD_AMOUNTS)
