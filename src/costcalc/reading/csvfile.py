"""CSV usage files (``*.csv``, plain or gzip): a table exported from a database or a dashboard (LiteLLM's daily
spend tables via ``\\copy … CSV HEADER``, a Langfuse observations export), one record per row, each row read as
the JSON object its header and cells spell and recognised like a JSON line (``shapes.adapt``).

Cells are typed the way the exporters write them: empty is null (PostgreSQL writes NULL so), a whole number is an
int, a decimal number a float, a cell that starts with ``{`` or ``[`` and parses as JSON is that JSON (jsonb
columns), anything else stays text. A row is numbered by the line it starts on (a quoted cell may span lines).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterator
from typing import Any

import orjson

from ..errors import UsageInputError
from .records import _BOM, LineResult, Rejected, read_object

_INT = re.compile(r"-?\d{1,18}")
_FLOAT = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")
_SUFFIXES = (".csv", ".csv.gz")


def is_csv(path: str) -> bool:
    """A CSV usage file, by its name (a CSV cannot be told from JSON lines by its first bytes alone)."""
    return path.lower().endswith(_SUFFIXES)


def cell(text: str) -> Any:
    """One cell as the value its exporter meant (see the module docstring)."""
    if text == "":
        return None
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text[:1] in ("{", "["):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
    return text


def read_csv(path: str, shown: str, read: Any) -> Iterator[LineResult]:
    """Every data row of a CSV file as ``read(obj, file, line, text)`` gives it (flattened when a row holds
    several records), or a rejection naming the row's line."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below, after the rows are read
    except OSError as exc:
        raise UsageInputError(f"{shown}: cannot open ({exc.strerror})") from None
    try:
        stream = gzip.GzipFile(fileobj=raw) if raw.peek(2)[:2] == b"\x1f\x8b" else raw
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="")  # type: ignore[arg-type]
        rows = csv.reader(text)
        try:
            header = next(rows, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UsageInputError(f"{shown}:1: not a readable CSV header ({exc})") from None
        if header is None:
            return
        if header and header[0].startswith(_BOM.decode()):
            header[0] = header[0][1:]
        names = [h.strip() for h in header]
        previous = rows.line_num
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except (csv.Error, UnicodeDecodeError) as exc:
                raise UsageInputError(f"{shown}:{previous + 1}: not readable as CSV ({exc})") from None
            line, previous = previous + 1, rows.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(names):
                yield Rejected(shown, line, f"{len(row)} cells where the header names {len(names)}",
                               ",".join(row).encode())
                continue
            obj = {name: cell(value) for name, value in zip(names, row)}
            yield from read_object(read, obj, shown, line, orjson.dumps(obj))
    except OSError as exc:
        raise UsageInputError(f"{shown}: read failed ({exc})") from None
    finally:
        raw.close()
