"""What the DuckDB engines share: how a file is read by DuckDB as the Python engine reads it (its kind, its lines
counted and picked by number), a private bounded connection, SQL quoting, and the request id of a line in SQL.

engines/duckdb_engine.py prices with it, engines/request_ids.py finds the repeated request ids with it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import Any

from ..errors import signals_held
from ..reading.csvfile import is_csv
from ..reading.jsonl import is_document, numbered_lines, printable_path, text_encoding
from ..reading.parquet import PARQUET_MAGIC

GZIP_MAGIC = b"\x1f\x8b"
# ISO 8601 as both Python (3.10's fromisoformat too) and DuckDB read it alike; other forms take the slow lane.
_ISO = (r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
        r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{3}|\.\d{6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?")


def sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def epoch_sql(raw: str, number: str | None = None) -> str:
    """SQL: the epoch seconds records.parse_time reads from the raw JSON text ``raw`` (NULL when missing), for the
    forms both read alike (an ISO 8601 string of _ISO's form, a number: milliseconds, microseconds or nanoseconds
    when implausibly large); NULL for any other (the line takes the slow lane). ``number``: a column already
    holding the raw text as a double."""
    text = f"({raw} ->> '$')"
    as_number = number or f"TRY_CAST(TRY_CAST({raw} AS VARCHAR) AS DOUBLE)"
    return (f"(CASE WHEN {raw} IS NULL THEN NULL "
            f"WHEN left({raw}, 1) = '\"' THEN (CASE WHEN regexp_full_match({text}, {sql_text(_ISO)}) "
            f"THEN CAST(epoch_us(TRY_CAST({text} AS TIMESTAMPTZ)) AS DOUBLE) / 1000000.0 END) "
            f"ELSE (CASE WHEN {as_number} > 1e17 THEN {as_number} / 1e9 WHEN {as_number} > 1e14 "
            f"THEN {as_number} / 1e6 WHEN {as_number} > 1e11 THEN {as_number} / 1000.0 ELSE {as_number} END) "
            "END)")  # ms, µs, ns: records.parse_time's rule


def request_id_sql(request_id: str, id_: str, response_id: str) -> str:
    """SQL: the request id of a line, as reports.aggregate.request_id reads it (NULL when none), from the raw JSON
    texts of its ``request_id``, ``id`` and ``response.id`` (NULL when missing): the first that is neither null
    nor ``""``, when it is a string or an integer (as Python writes it: ``True`` for true)."""
    def given(x: str) -> str:
        return f"COALESCE({x}, 'null') NOT IN ('null', '\"\"')"

    chosen = (f"CAST(CASE WHEN {given(request_id)} THEN {request_id} WHEN {given(id_)} THEN {id_} "
              f"ELSE {response_id} END AS JSON)")
    return (f"(CASE json_type({chosen}) WHEN 'VARCHAR' THEN NULLIF({chosen} ->> '$', '') "
            f"WHEN 'BIGINT' THEN {chosen} ->> '$' WHEN 'UBIGINT' THEN {chosen} ->> '$' "
            f"WHEN 'BOOLEAN' THEN (CASE WHEN {chosen} ->> '$' = 'true' THEN 'True' ELSE 'False' END) END)")


def classify(path: str) -> str | None:
    """How DuckDB reads the file ("none" or "gzip" compressed JSON lines, or "parquet"), or None when it cannot
    read it as Python does."""
    if path == "-" or is_csv(path):
        return None  # a CSV file: its header names the fields
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    with open(path, "rb") as f:
        head = f.read(4)
        if is_document(head + f.read(252)):
            return None  # one JSON value over several lines (an array, a usage API page): read whole
    if head[:2] == GZIP_MAGIC:
        return "gzip"
    if head == PARQUET_MAGIC:
        return "parquet"
    if text_encoding(head) is not None:
        return None
    return "none"


def file_lines(path: str, compression: str) -> Iterator[tuple[int, Any]]:
    """(line number, text or reading.jsonl.LineTooLong) of each line holding more than JSON white space, read in
    bounded chunks (a gzip bomb's one line is never held)."""
    import gzip

    with (gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")) as f:
        yield from numbered_lines(f, printable_path(path))


_BLOCK = 1 << 20  # the blocks a plain file's lines are counted in, and picked from


def count_lines(path: str, compression: str) -> tuple[int, list[int] | None]:
    """The lines of a file as the Python engine numbers them (its reader's rows, when no line is blank), and for
    a plain file the newlines in each of its blocks (_BLOCK bytes), which let pick_rows seek to a line."""
    import gzip

    lines, last, blocks = 0, b"", [] if compression == "none" else None
    with (gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")) as f:
        while True:
            data = f.read(_BLOCK)  # decompressed a block at a time: a gzip bomb is never held whole
            if not data:
                break
            n = data.count(b"\n")
            lines += n
            last = data[-1:]
            if blocks is not None:
                blocks.append(n)
    return lines + (1 if last and last != b"\n" else 0), blocks


def count_rows(path: str, compression: str) -> int:
    """The exact number of lines holding more than JSON white space (a row each for DuckDB's reader)."""
    return sum(1 for _ in file_lines(path, compression))


def pick_rows(path: str, compression: str, wanted: list[int], aligned: bool = False,
              blocks: list[int] | None = None) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes) of the non-blank lines numbered ``wanted`` (sorted, 1-based) among the file's
    non-blank lines: the reader's row numbers turned into the line numbers the Python engine reports. ``aligned``:
    the file has no blank line, so rows are lines and whole chunks are skipped by counting newlines (or, with
    ``blocks`` from count_lines, by seeking past them)."""
    if not wanted:
        return
    if aligned:
        yield from _pick_lines(path, compression, wanted, blocks)
        return
    targets = iter(wanted)
    target = next(targets, None)
    for row, (line, text) in enumerate(file_lines(path, compression), 1):
        if target is None:
            return
        if row == target:
            yield line, text
            target = next(targets, None)


def _pick_lines(path: str, compression: str, wanted: list[int], blocks: list[int] | None = None
                ) -> Iterator[tuple[int, bytes]]:
    import bisect
    import gzip
    import itertools

    newlines = list(itertools.accumulate(blocks, initial=0)) if blocks is not None else None
    targets = iter(wanted)
    target = next(targets, None)
    first, partial = 1, b""  # the number of the line that starts the buffer, and the buffer
    block = 0  # the block the next read starts
    with (gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")) as f:
        while target is not None:
            if newlines is not None:
                # the block holding the newline that ends the line before the target: seek there when it is
                # further on (the line the block starts in is cut, and is not wanted)
                at = bisect.bisect_left(newlines, target - 1) - 1
                if at > block:
                    f.seek(at * _BLOCK)
                    block, first, partial = at, newlines[at] + 1, b""
            chunk = f.read(_BLOCK)  # small blocks: only those holding a wanted line are split
            block += 1
            buffer = partial + chunk
            if not chunk:
                if buffer and target == first:
                    yield first, buffer
                return
            complete = buffer.count(b"\n")
            if target >= first + complete:  # not among this chunk's complete lines
                cut = buffer.rfind(b"\n") + 1
                first, partial = first + complete, buffer[cut:]
                continue
            lines = buffer.split(b"\n")
            for i, text in enumerate(lines[:-1]):
                while target is not None and target == first + i:
                    yield target, text + b"\n"
                    target = next(targets, None)
            first, partial = first + complete, lines[-1]


def connect(memory_limit: str, spill: str | None, threads: int | None) -> Any:
    """A private in-memory database: bounded memory, spilling to ``spill``; naive ISO times read as UTC."""
    with signals_held():  # a signal inside DuckDB's native import aborts it
        import duckdb

    config: dict[str, Any] = {"memory_limit": memory_limit, "preserve_insertion_order": True}
    if spill is not None:
        config["temp_directory"] = spill
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    con.execute("SET TimeZone = 'UTC'")
    # no progress bar: DuckDB draws one on stderr for a long query, over costcalc's own output and progress
    con.execute("SET enable_progress_bar = false")
    return con
