"""A pricing run over LiteLLM's PostgreSQL database: the in-database engine or the streamed Python engine, one
report either way (reading/postgres.py reads, engines/postgres_engine.py prices in SQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from ..reading.postgres import (
    DatabaseSource,
    check_schema,
    connect,
    query_error,
    repeated_request_ids,
    stream_daily_rows,
    stream_rows,
)
from ..reading.records import LineResult
from .aggregate import Report, tz_name
from .run import PriceRun


def execute_database(run: PriceRun, source: DatabaseSource, engine_name: str, out: IO[bytes] | None,
                     rejects_out: IO[bytes] | None) -> Report:
    """Price the database's spend logs with ``engine_name`` ("postgres" or "python"); a daily spend table
    (``source.table``) with the Python engine."""
    conn = connect(source)
    import psycopg

    try:
        return _execute(run, conn, source, engine_name, out, rejects_out)
    except psycopg.Error as exc:  # any query (the engines name theirs; this catches the rest)
        raise query_error(source, exc) from None
    finally:
        conn.close()


def database_lines(source: DatabaseSource) -> Iterator[LineResult]:
    """The database's rows as the line parser reads them, in export order, in a read-only transaction of their own
    (the sections that price the records one by one read them again)."""
    conn = connect(source)
    import psycopg

    try:
        if source.table is not None:
            yield from stream_daily_rows(conn, source)
        else:
            yield from stream_rows(conn, source, check_schema(conn, source))
    except psycopg.Error as exc:
        raise query_error(source, exc) from None
    finally:
        conn.close()


def _execute(run: PriceRun, conn: Any, source: DatabaseSource, engine_name: str, out: IO[bytes] | None,
             rejects_out: IO[bytes] | None) -> Report:
    if source.table is not None:
        return run.execute_lines(stream_daily_rows(conn, source), out, rejects_out)
    columns = check_schema(conn, source)
    if run.make_builder().dedupe:  # de-duplication remembers only the ids that more than one row carries
        run.repeated = repeated_request_ids(conn, source)
    if engine_name == "python":
        return run.execute_lines(stream_rows(conn, source, columns), out, rejects_out)
    from ..engines.postgres_engine import run_aggregate

    builder = run.make_builder()
    builder.repeated = run.repeated
    done = run_aggregate(run.engine, conn, source, columns, builder.key_specs(), since=builder.since,
                         until=builder.until, timeline_tz=tz_name(builder.tz) if builder.timeline else None,
                         repeated=run.repeated)
    for row in done.sums:
        builder.add_sums(row)
    for outcome, count in done.unpriced:
        builder.add_unpriced(outcome, count)
    builder.add_skipped(done.skipped)
    builder.add_filtered(done.filtered)
    return run.execute_sums(builder, done.python_lines or (), rejects_out)
