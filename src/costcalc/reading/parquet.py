"""Parquet usage files with the canonical columns (SPEC §1.3): each row read as the canonical JSON record it
holds, so it is priced, rejected or skipped exactly as the same record on a JSONL line would be.

A row's "line" is its 1-based row number in the file. A column that is missing or null is an unset field; a
TIMESTAMP column is read as its instant (a timestamp without a zone as UTC), a DECIMAL as its number, a LIST
and a STRUCT as a JSON array and object. DuckDB (a run-time dependency) reads the file in batches, so memory
stays flat however many rows it holds.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson

from ..errors import UsageInputError, signals_held
from .records import BadField, LineResult, Rejected, canonical

PARQUET_MAGIC = b"PAR1"
_BATCH = 10_000


def is_parquet(path: str) -> bool:
    """A Parquet file by its magic bytes (at the start; the footer holds them too)."""
    if path == "-":
        return False
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe is read once, by the JSONL reader: never peek
            return False
        with open(path, "rb") as f:
            return f.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def _plain(value: Any) -> Any:
    """A value as JSON would have carried it."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def parquet_columns(path: str) -> list[str]:
    with signals_held():  # a signal inside DuckDB's native import aborts it
        import duckdb

    con = duckdb.connect()
    try:
        return [d[0] for d in con.execute("SELECT * FROM read_parquet(?) LIMIT 0", [path]).description]
    finally:
        con.close()


def read_parquet(path: str, shown: str, rows: list[int] | None = None) -> Iterator[LineResult]:
    """Every row of ``path`` (named ``shown`` in reports) as a record or a rejection, in row order; ``rows``:
    only the rows with these 1-based numbers (another engine hands those to this one)."""
    with signals_held():  # a signal inside DuckDB's native import aborts it
        import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        if rows is None:
            cursor = con.execute("SELECT *, ordinality FROM read_parquet(?) WITH ORDINALITY", [path])
        else:
            cursor = con.execute("SELECT *, ordinality FROM read_parquet(?) WITH ORDINALITY "
                                 "WHERE ordinality IN (SELECT unnest(?))", [path, rows])
        names = [d[0] for d in cursor.description][:-1]
        while True:
            batch = cursor.fetchmany(_BATCH)
            if not batch:
                return
            for values in batch:
                row_no = values[-1]
                obj = {n: _plain(v) for n, v in zip(names, values) if v is not None}
                try:
                    yield canonical(obj, shown, row_no)
                except BadField as exc:
                    model = obj.get("model") if isinstance(obj.get("model"), str) else None
                    yield Rejected(shown, row_no, str(exc), orjson.dumps(obj, default=str), model)
    except duckdb.Error as exc:
        raise UsageInputError(f"{shown}: cannot read as Parquet ({str(exc).splitlines()[0][:160]})") from None
    finally:
        con.close()
