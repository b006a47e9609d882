"""The one source query (DuckDB dialect, ``sqlcompile``) carried to each warehouse's dialect by sqlglot.

No copy of the query is kept per dialect: sqlglot parses the DuckDB text once and writes it in the target
dialect (unsupported constructs raise instead of being dropped). What differs is only what the exact decimal
type is called and which session settings make the engine exact (ENGINES.md §4–§5):

- BigQuery: NUMERIC keeps 9 decimals, too few; every DECIMAL becomes BIGNUMERIC (38 decimals), and rates stay
  string literals cast to it (a bare ``0.0000025`` would be FLOAT64).
- BigQuery time keys: FORMAT_DATETIME over a DATETIME, weeks from Monday (``WEEK(MONDAY)``) as in DuckDB.
- PostgreSQL: the JSON path functions take ``json``; ``metadata`` (``jsonb`` in LiteLLM_SpendLogs) is cast.
- PostgreSQL: a string holding a backslash is spelled with CHR(92), the same whatever standard_conforming_strings.
- Spark: ``spark.sql.decimalOperations.allowPrecisionLoss`` is true by default and silently rounds products of
  wide decimals to 6 places; the query is preceded by the SET that turns it off.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake", "trino")
SESSION = {"spark": ["SET spark.sql.decimalOperations.allowPrecisionLoss=false"]}
HOW_TO_RUN = {
    "duckdb": "duckdb my.db < query.sql",
    "postgres": "psql \"$DATABASE_URL\" -f query.sql",
    "spark": "spark-sql -f query.sql   (the SET line must run in the same session)",
    "bigquery": "bq query --use_legacy_sql=false < query.sql",
    "snowflake": "snowsql -f query.sql",
    "trino": "trino --file query.sql",
}


def _bignumeric(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.DECIMAL:
        return exp.DataType.build("BIGNUMERIC", dialect="bigquery")
    return node


def _bigquery_time(node: exp.Expression) -> exp.Expression:
    """Time keys on BigQuery: a DATETIME formatted with FORMAT_DATETIME (FORMAT_DATE takes only a DATE), and
    weeks starting on Monday as DuckDB's (BigQuery's WEEK starts on Sunday)."""
    if isinstance(node, exp.TimeToStr):
        inner = node.this
        if isinstance(inner, exp.TimestampTrunc) and inner.unit is not None and inner.unit.name.upper() == "WEEK":
            inner = exp.Anonymous(this="DATETIME_TRUNC", expressions=[
                exp.Cast(this=inner.this.this.copy() if isinstance(inner.this, exp.Cast) else inner.this.copy(),
                         to=exp.DataType.build("DATETIME", dialect="bigquery")),
                exp.Anonymous(this="WEEK", expressions=[exp.var("MONDAY")])])
        else:
            inner = exp.Cast(this=inner.this.copy() if isinstance(inner, exp.Cast) else inner.copy(),
                             to=exp.DataType.build("DATETIME", dialect="bigquery"))
        return exp.Anonymous(this="FORMAT_DATETIME", expressions=[node.args["format"].copy(), inner])
    return node


def _json_text(node: exp.Expression) -> exp.Expression:
    """PostgreSQL's JSON path functions take ``json``: LiteLLM_SpendLogs.metadata is ``jsonb``, so cast it."""
    if isinstance(node, exp.JSONExtractScalar) and not isinstance(node.this, exp.Cast):
        node.set("this", exp.Cast(this=node.this.copy(), to=exp.DataType.build("JSON")))
    return node


def _no_backslash(node: exp.Expression) -> exp.Expression:
    """PostgreSQL reads a backslash in '...' as an escape when standard_conforming_strings is off (a server,
    database or session setting, read when the whole script is parsed): a string holding one is written as its
    pieces joined with CHR(92), which reads the same under either setting."""
    if isinstance(node, exp.Literal) and node.is_string and "\\" in node.this:
        pieces = node.this.split("\\")
        out: exp.Expression = exp.Literal.string(pieces[0])
        for piece in pieces[1:]:
            out = exp.DPipe(this=out, expression=exp.Anonymous(this="CHR", expressions=[exp.Literal.number(92)]))
            if piece:
                out = exp.DPipe(this=out, expression=exp.Literal.string(piece))
        return exp.Paren(this=out)
    return node


def transpile(sql: str, dialect: str) -> str:
    """``sql`` (DuckDB) written in ``dialect``; raises sqlglot's errors for anything it cannot carry."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: choose one of {', '.join(DIALECTS)}")
    if dialect == "duckdb":  # the source dialect: printed as compiled (parsing megabytes of VALUES takes seconds)
        return sql
    tree = sqlglot.parse_one(sql, read="duckdb")
    if dialect == "bigquery":
        tree = tree.transform(_bignumeric).transform(_bigquery_time)
    if dialect == "postgres":
        tree = tree.transform(_json_text).transform(_no_backslash)
    return tree.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE, pretty=False)


def statements(sql: str, dialect: str) -> list[str]:
    """The session settings, then the query, each a statement to run in order."""
    return [*SESSION.get(dialect, []), transpile(sql, dialect)]


def _comment(text: str) -> str:
    """Text for a ``--`` comment line: a line break (or any control character) from a name would end the comment
    and make the rest SQL, so they show as \\xNN."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def script(sql: str, dialect: str, header: list[str]) -> str:
    """What ``costcalc sql`` prints: a comment header, the session settings and the query, ``;``-terminated."""
    lines = [f"-- {_comment(h)}" for h in header]
    lines.append(f"-- run it: {HOW_TO_RUN[dialect]}")
    return "\n".join(lines) + "\n" + "".join(s + ";\n" for s in statements(sql, dialect))
