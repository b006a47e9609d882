"""The rule that picks the engine of a run, in one place.

``--engine auto`` (the default) prices aggregate reports over 4 MiB of files or more with DuckDB when their first
lines are mostly canonical records, from 64 MiB when they are mostly LiteLLM spend-log rows with their metadata
as JSON text (a database export), a database's aggregate reports inside PostgreSQL, and everything else with the
Python engine (the reference). An engine asked for by name that cannot take the run falls back to the Python engine
with the reason, which the caller says.

The rule follows what benchmarks/run.py --sweep measures (whole processes, per shape and size): on canonical
records DuckDB wins from about 4 MiB on (its start-up, counting lines and compiling rate cards are then won back),
and from 32 MiB when they carry request ids to de-duplicate (DUCKDB_IDS_MIN_BYTES). On spend-log rows its scan
(engines/duckdb_spendlogs.py) uses less CPU than the Python engine and spreads it over every core, so it wins once
its fixed cost is won back: SPEND_LOGS_MIN_BYTES.
Standard logging payloads (metadata an object) are left by that scan to the Python engine line by line, and
provider responses and transcripts are read line by line by the Python engine in either engine: auto keeps the
Python engine for them, which is never the slower there.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from ..errors import FieldError

ENGINES = ("auto", "python", "duckdb", "postgres")

# Inputs at least this large go to the DuckDB engine under auto (aggregate reports): below it, DuckDB's fixed cost
# (start-up, counting each file's lines, compiling the rate cards) is not won back (benchmarks/run.py).
DUCKDB_MIN_BYTES = 4 << 20
# With de-duplication on and request ids in the first lines, DuckDB first scans the inputs for repeated ids (one
# more pass) and the Python engine reads the lines with those ids: DuckDB wins from a larger size (measured: 60,000
# canonical records with ids, 11.7 MB, 3.8 s with the Python engine against 4.9 s; 200,000, 39 MB, 2.4 s of CPU
# against 2.9 s).
DUCKDB_IDS_MIN_BYTES = 32 << 20
# LiteLLM spend-log rows (metadata as text, every row with a request id) go to DuckDB's spend-log scan from this
# size. Measured on the idle 2-core machine, whole processes, --engine duckdb against --engine python -j 1, twice
# each (README, Performance): 25,000 rows, 36 MB, 1.22-1.26 s against 1.12-1.15 s; 60,000 rows, 86 MB, 1.93 s
# against 2.23-2.25 s; 100,000 rows, 144 MB, 2.64-2.71 s against 3.41-3.44 s; 500,000 rows, 720 MB, 9.04 s against
# 14.54 s. Below it the scan's fixed cost (DuckDB's start, a first pass for repeated ids) is not won back.
SPEND_LOGS_MIN_BYTES = 64 << 20


@dataclass(frozen=True)
class Choice:
    engine: str  # "python", "duckdb" or "postgres"
    why_not: str | None  # why the engine asked for by name was not used (None: it was, or auto chose)


def check_engine(requested: str, *, database: bool) -> None:
    """Refuse an engine that cannot read the input at all (a usage error, before anything is read)."""
    if requested not in ENGINES:
        raise FieldError("engine", f": {requested!r} is not one of {', '.join(ENGINES)}")
    if requested == "postgres" and not database:
        raise FieldError("engine", ": postgres prices a database: give postgresql://… or db:")
    if requested == "duckdb" and database:
        raise FieldError("engine", ": duckdb reads files; a database is priced by postgres or python")


def choose_engine(requested: str, paths: list[str], *, database: bool, aggregate: bool,
                  filters: bool = False, dedupe: bool = False) -> Choice:
    """The engine that prices a run over ``paths`` (or a database), an aggregate report or per-record output,
    with ``--where`` filters or not, de-duplicating by request id or not."""
    if requested == "python":
        return Choice("python", None)
    if not aggregate:
        return Choice("python", "it prints aggregate reports only (not per-record formats or --explain)")
    if not database and any(p == "-" for p in paths):
        return Choice("python", "it does not read standard input")
    if not (database or requested == "duckdb" or input_bytes(paths) >= DUCKDB_MIN_BYTES):
        return Choice("python", None)
    from .duckdb_engine import fast_lane_share, spend_log_scan_share  # here: the CLI imports this module to start

    if not (database or requested == "duckdb") and fast_lane_share(paths) < 0.5:
        if input_bytes(paths) < SPEND_LOGS_MIN_BYTES or spend_log_scan_share(paths) < 0.5:
            return Choice("python", None)
    elif not (database or requested == "duckdb") and dedupe and input_bytes(paths) < DUCKDB_IDS_MIN_BYTES:
        from .request_ids import first_lines_carry_ids

        if first_lines_carry_ids(paths):
            return Choice("python", None)
    if filters:
        return Choice("python", "it does not apply --where filters")
    return Choice("postgres" if database else "duckdb", None)


def input_bytes(paths: list[str]) -> int:
    size = 0
    for p in paths:
        with contextlib.suppress(OSError):
            size += os.path.getsize(p)
    return size
