"""Which request ids occur more than once in the inputs: found by DuckDB, so that de-duplication holds no per-id
state for the ids that occur once (nearly all of them).

De-duplication keeps the first record of each request id in read order (reports.aggregate). An id that occurs on
one line only can never make a duplicate, so a run needs to remember only the ids that occur on two lines or
more. One parallel scan reads every line's request id as reports.aggregate.request_id reads it from the record
(duckdb_engine.request_id_sql) and keeps those met more than once, counting them by hash first so that only the
repeated ones are held as text. The caller then de-duplicates only records whose id is in that set, in read order,
exactly as before: an id outside it is met once in all the inputs.

The set is only trusted when DuckDB read every line as the Python engine does: a file it splits into another
number of lines, a JSON array file (read whole by Python), a line it cannot parse in a file holding a byte-order
mark (Python reads a BOM at the start of any line), or a file DuckDB does not read (stdin, bz2, UTF-16) gives
``None``: every id is remembered, as before.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import threading

from ..errors import signals_held
from ..reading.jsonl import max_line_bytes
from ..reading.parquet import parquet_columns
from .duckdb_files import classify, connect, count_lines, count_rows, request_id_sql, sql_ident, sql_text

_BOM = b"\xef\xbb\xbf"
_ID_PATHS = "['$.\"request_id\"', '$.\"id\"', '$.\"response\".\"id\"']"


def _source_sql(number: int, path: str, kind: str) -> str:
    if kind == "parquet":
        have = set(parquet_columns(path))

        def raw(name: str) -> str:
            return f"to_json({sql_ident(name)})::VARCHAR" if name in have else "NULL::VARCHAR"

        response = (f"json_extract({raw('response')}, '$.\"id\"')::VARCHAR" if "response" in have
                    else "NULL::VARCHAR")
        return (f"SELECT {number} AS file_no, true AS parsed, {request_id_sql(raw('request_id'), raw('id'), response)}"
                f" AS rid FROM read_parquet({sql_text(path)})")
    reader = (f"read_json_objects({sql_text(path)}, format = 'newline_delimited', ignore_errors = true, "
              f"compression = {sql_text(kind)}, maximum_object_size = {max_line_bytes()})")
    return (f"SELECT {number} AS file_no, json IS NOT NULL AS parsed, "
            f"{request_id_sql('x[1]', 'x[2]', 'x[3]')} AS rid "
            f"FROM (SELECT json, json_extract(json, {_ID_PATHS}) AS x FROM {reader})")


def repeated_sql(sources: list[tuple[int, str, str]]) -> str:
    """Per file, its rows and rows DuckDB could not parse; and every request id met more than once (``file_no``
    NULL). Ids are counted by hash first, so only the repeated ones are held as text."""
    unions = " UNION ALL ".join(_source_sql(n, path, kind) for n, path, kind in sources)
    return f"""
WITH src AS ({unions}),
twice AS (SELECT hash(rid) AS h FROM src WHERE rid IS NOT NULL GROUP BY 1 HAVING count(*) > 1)
SELECT file_no, NULL AS rid, count(*) AS n, count(*) FILTER (WHERE NOT parsed) AS unparsed FROM src GROUP BY 1
UNION ALL
SELECT DISTINCT NULL, rid, NULL, NULL FROM src WHERE hash(rid) IN (SELECT h FROM twice)
"""


def _starts_an_array(path: str, kind: str) -> bool:
    if kind == "parquet":
        return False
    with gzip.open(path, "rb") if kind == "gzip" else open(path, "rb") as f:
        head = f.read(256)
    return head.lstrip(_BOM + b" \t\r\n")[:1] == b"["


def _holds_bom(path: str, kind: str) -> bool:
    with gzip.open(path, "rb") if kind == "gzip" else open(path, "rb") as f:
        tail = b""
        while chunk := f.read(1 << 20):
            if _BOM in tail + chunk[:2] or _BOM in chunk:
                return True
            tail = chunk[-2:]
    return False


def first_lines_carry_ids(paths: list[str], budget: int = 1 << 16) -> bool:
    """Whether the first lines of the inputs (``budget`` bytes of each of the first eight) name a request id key:
    without one, the scan would find nothing to hold back, and remembering every id costs nothing. Never wrong,
    only a guess about memory: ids met further on are remembered as before."""
    for path in paths[:8]:
        kind = classify(path)
        if kind is None or kind == "parquet":
            return True
        with gzip.open(path, "rb") if kind == "gzip" else open(path, "rb") as f:
            head = f.read(budget)
        if any(key in head for key in (b'"request_id"', b'"id"', b'"response"')):
            return True
    return False


def repeated_request_ids(paths: list[str], *, memory_limit: str = "256MB",
                         threads: int | None = None) -> set[str] | None:
    """The request ids met on more than one line of ``paths`` (see the module docstring); None when DuckDB
    cannot vouch for every line, or runs out of memory. DuckDB runs within ``memory_limit``, spilling the count
    of ids to a temporary directory beyond it (2,000,000 spend-log rows: peak RSS 294 MB at 256 MB, 432 MB at
    1 GB; below about 200 MB its JSON reader's buffers do not fit)."""
    import importlib.util

    if importlib.util.find_spec("duckdb") is None:  # pragma: no cover - a run-time dependency
        return None
    sources: list[tuple[int, str, str]] = []
    for path in paths:
        kind = classify(path)
        if kind is None or (kind != "parquet" and _starts_an_array(path, kind)):
            return None
        if os.path.getsize(path):
            sources.append((len(sources), path, kind))
    if not sources:
        return set()
    lines: dict[int, int] = {}

    def count_all() -> None:
        for n, path, kind in sources:
            if kind != "parquet":
                lines[n] = count_lines(path, kind)[0]

    counter = threading.Thread(target=count_all, daemon=True)  # DuckDB releases the GIL while it works
    with signals_held():  # the thread keeps the signals blocked, so that they reach the main thread only
        counter.start()
    with signals_held():  # a signal inside DuckDB's native import aborts it
        import duckdb

    try:
        with tempfile.TemporaryDirectory(prefix="costcalc-duckdb-") as spill:
            con = connect(memory_limit, spill, threads)
            try:
                rows = con.execute(repeated_sql(sources)).fetchall()
            finally:
                con.close()
    except duckdb.Error:
        return None
    finally:
        counter.join()
    repeated: set[str] = set()
    for file_no, rid, n, unparsed in rows:
        if file_no is None:
            repeated.add(rid)
            continue
        _, path, kind = sources[file_no]
        if kind == "parquet":
            continue
        if n != lines[file_no] and n != count_rows(path, kind):
            return None  # DuckDB splits this file's lines otherwise
        if unparsed and _holds_bom(path, kind):
            return None
    return repeated
