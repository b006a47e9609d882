"""``--format parquet``: the report's rows, or one row per input line with ``--per-record``, as Parquet with exact
DECIMAL amounts (reports/parquet.py); DuckDB writes the file. Standard output gets the file's bytes."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any


def _to(out: Any, write: Any) -> None:
    """Write with ``write(path)`` to the output file, or through a temporary file to standard output."""
    if out.path is not None and str(out.path) != "-":
        write(str(out.path))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out.parquet")
        write(path)
        with open(path, "rb") as fh:
            shutil.copyfileobj(fh, out.binary())


def write(result: Any, out: Any, style: Any) -> None:
    from ..reports.parquet import write_report_parquet

    _to(out, lambda path: write_report_parquet(result.report, path))


def records(engine: Any) -> Any:
    """Records are staged as the per-record CSV, cells as the data has them, then converted (``finish``)."""
    from ..reports.cells import staging_cells
    from .csv import records as csv_records

    write = csv_records(engine)

    def staged(outcomes: Any, out: Any, first: bool) -> None:
        with staging_cells():
            write(outcomes, out, first)

    return staged


def finish(staged: str, out: Any) -> None:
    from ..reports.parquet import RECORD_AMOUNTS, RECORD_COUNTS, csv_to_parquet

    _to(out, lambda path: csv_to_parquet(staged, path, RECORD_COUNTS, RECORD_AMOUNTS))
