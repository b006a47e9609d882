"""A pricing run over LiteLLM's PostgreSQL database: the in-database engine or the streamed Python engine, one
report either way (reading/postgres.py reads, engines/postgres_engine.py prices in SQL)."""

from __future__ import annotations

from typing import IO, Any

from ..reading.postgres import DatabaseSource, check_schema, connect, query_error, repeated_request_ids, stream_rows
from .aggregate import Report, tz_name
from .run import PriceRun


def execute_database(run: PriceRun, source: DatabaseSource, engine_name: str, out: IO[bytes] | None,
                     rejects_out: IO[bytes] | None) -> Report:
    """Price the database's spend logs with ``engine_name`` ("postgres" or "python")."""
    conn = connect(source)
    import psycopg

    try:
        return _execute(run, conn, source, engine_name, out, rejects_out)
    except psycopg.Error as exc:  # any query (the engines name theirs; this catches the rest)
        raise query_error(source, exc) from None
    finally:
        conn.close()


def _execute(run: PriceRun, conn: Any, source: DatabaseSource, engine_name: str, out: IO[bytes] | None,
             rejects_out: IO[bytes] | None) -> Report:
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
