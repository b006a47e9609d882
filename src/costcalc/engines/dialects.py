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
- A JSON object's value under a key read from the row (``key_lookup``: DuckDB casts the object to a MAP and
  indexes it): PostgreSQL's ``->>``, Spark's ``from_json(..., 'map<string,string>')[key]``; BigQuery, Snowflake and
  Trino take only literal JSON paths, so there the lookup says "some value" ('1') for a non-empty object, which
  keeps the row (the query then counts it unpriced rather than guess).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

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


def key_lookup(obj: str, key: str) -> str:
    """DuckDB SQL for the text under key ``key`` (an expression) of the JSON object whose text is ``obj``; NULL
    when the key is absent or ``obj`` is not an object. Carried to the other dialects by ``_key_lookup``."""
    return f"TRY_CAST(TRY_CAST({obj} AS JSON) AS MAP(VARCHAR, VARCHAR))[{key}]"


def _looked_up(node: exp.Expression) -> tuple[exp.Expression, exp.Expression] | None:
    """(object, key) of a ``key_lookup`` expression."""
    if isinstance(node, exp.Bracket) and isinstance(node.this, exp.TryCast) and node.this.to.this == \
            exp.DataType.Type.MAP and isinstance(node.this.this, exp.TryCast) and len(node.expressions) == 1:
        return node.this.this.this, node.expressions[0]
    return None


def _key_lookup(dialect: str) -> Callable[[exp.Expression], exp.Expression]:
    def rewrite(node: exp.Expression) -> exp.Expression:
        found = _looked_up(node)
        if found is None:
            return node
        obj, key = found
        if dialect == "postgres":
            return exp.JSONExtractScalar(this=exp.Cast(this=obj.copy(), to=exp.DataType.build("JSON")),
                                         expression=key.copy())
        if dialect == "spark":
            return exp.Bracket(this=exp.Anonymous(this="FROM_JSON", expressions=[
                obj.copy(), exp.Literal.string("map<string,string>")]), expressions=[key.copy()])
        # no dynamic JSON key: a non-empty object answers '1', which keeps the row
        return exp.Case(ifs=[exp.If(this=exp.or_(exp.Is(this=obj.copy(), expression=exp.Null()),
                                                 exp.EQ(this=obj.copy(), expression=exp.Literal.string("{}"))),
                                    true=exp.Null())], default=exp.Literal.string("1"))
    return rewrite


_TRANSFORMS: dict[str, tuple[Callable[[exp.Expression], exp.Expression], ...]] = {
    "bigquery": (_key_lookup("bigquery"), _bignumeric, _bigquery_time),
    "postgres": (_key_lookup("postgres"), _json_text, _no_backslash),
    "spark": (_key_lookup("spark"),),
    "snowflake": (_key_lookup("snowflake"),),
    "trino": (_key_lookup("trino"),),
}
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class Exact:
    """An exact decimal value of a rows table: its digits (``-``, digits and one ``.`` only) cast to ``type``
    (a DuckDB decimal type such as ``DECIMAL(38, 12)``)."""

    text: str
    type: str

    def __post_init__(self) -> None:
        if not _DECIMAL_TEXT.fullmatch(self.text):
            raise ValueError(f"not a decimal number: {self.text!r}")


Value = str | int | Exact | None
Row = Sequence[Value]


def placeholder(name: str, template: Row) -> Row:
    """The one row a query skeleton holds in place of table ``name``'s rows, of ``template``'s types: each column a
    marker (19 digits naming table and column; text columns hold them as a string) that ``splice`` finds again
    after sqlglot has written the skeleton, however the dialect spells a row (BigQuery: a STRUCT with names)."""
    out: list[Value] = []
    for i, v in enumerate(template):
        digits = _marker(name, i)
        out.append(Exact(digits, v.type) if isinstance(v, Exact) else int(digits) if isinstance(v, int) else digits)
    return out


def _marker(name: str, column: int) -> str:
    return str(8_000_000_000_000_000_000 + zlib.crc32(name.encode()) * 1000 + column)


@lru_cache(maxsize=200_000)
def _string(text: str, dialect: str) -> str:
    """A string literal as ``dialect`` writes it: sqlglot's own quoting, through the query's per-dialect rewrites."""
    node: exp.Expression = exp.Literal.string(text)
    for fn in _TRANSFORMS.get(dialect, ()):
        node = node.transform(fn)
    return node.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE)


def _value(v: Value, dialect: str) -> str:
    """What takes a marker's place: a string literal, an integer, NULL, or an exact decimal's digits (which go
    inside the quoted literal the dialect's CAST holds)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):  # pragma: no cover - rows hold 0/1, never bools
        raise TypeError("rows hold 0 or 1, not booleans")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Exact):
        return v.text
    return _string(v, dialect)


def splice(text: str, rows: dict[str, list[Row]], dialect: str) -> str:
    """``text`` (a query skeleton written in ``dialect``) with each table's placeholder row replaced by its rows.

    The placeholder's row as written is a template: its markers are cut out, and each row fills them with its
    values. Its extent is the parenthesised tuple around the markers (with a function name before it, such as
    BigQuery's STRUCT); markers hold no parenthesis, so counting them finds its end."""
    for name, table_rows in rows.items():
        width = len(table_rows[0])
        kinds = ["exact" if isinstance(v, Exact) else "int" if isinstance(v, int) else "text"
                 for v in placeholder(name, table_rows[0])]
        spelled = [f"'{_marker(name, i)}'" if k == "text" else _marker(name, i) for i, k in enumerate(kinds)]
        at = [text.find(m) for m in spelled]
        if any(a < 0 or text.find(m, a + 1) >= 0 for a, m in zip(at, spelled)) or at != sorted(at):
            raise ValueError(f"rows table {name}: its placeholder is not in the {dialect} query once, in order")
        start = text.rindex("(", 0, at[0])
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        depth, end = 0, start
        for end in range(text.index("(", start), len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        pieces, prev = [], start
        for a, m in zip(at, spelled):
            pieces.append(text[prev:a])
            prev = a + len(m)
        pieces.append(text[prev:end + 1])
        out = []
        for row in table_rows:
            if len(row) != width:
                raise ValueError(f"rows table {name}: a row of {len(row)} values, not {width}")
            out.append("".join(p + _value(v, dialect) for p, v in zip(pieces, row)) + pieces[-1])
        text = text[:start] + ", ".join(out) + text[end + 1:]
    return text


def transpile(sql: str, dialect: str, rows: dict[str, list[Row]] | None = None) -> str:
    """``sql`` (DuckDB) written in ``dialect``; raises sqlglot's errors for anything it cannot carry.

    With ``rows``, ``sql`` is a skeleton holding one ``placeholder`` row per table: only the skeleton goes
    through sqlglot (parsing megabytes of VALUES takes a minute and a gigabyte), and the rows are written per
    dialect by ``render_row`` and spliced in."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: choose one of {', '.join(DIALECTS)}")
    if dialect == "duckdb":  # the source dialect: printed as compiled
        return sql if rows is None else splice(sql, rows, dialect)
    tree = sqlglot.parse_one(sql, read="duckdb")
    for fn in _TRANSFORMS.get(dialect, ()):
        tree = tree.transform(fn)
    text = tree.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE, pretty=False)
    return text if rows is None else splice(text, rows, dialect)


def statements(sql: str, dialect: str, rows: dict[str, list[Row]] | None = None) -> list[str]:
    """The session settings, then the query, each a statement to run in order."""
    return [*SESSION.get(dialect, []), transpile(sql, dialect, rows)]


def _comment(text: str) -> str:
    """Text for a ``--`` comment line: a line break (or any control character) from a name would end the comment
    and make the rest SQL, so they show as \\xNN."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def script(sql: str, dialect: str, header: list[str], rows: dict[str, list[Row]] | None = None) -> str:
    """What ``costcalc sql`` prints: a comment header, the session settings and the query, ``;``-terminated."""
    lines = [f"-- {_comment(h)}" for h in header]
    lines.append(f"-- run it: {HOW_TO_RUN[dialect]}")
    return "\n".join(lines) + "\n" + "".join(s + ";\n" for s in statements(sql, dialect, rows))
