"""The DuckDB engine: aggregate reports over large JSONL inputs, priced in one vectorised, multi-core scan.

One query reads every line of every input with DuckDB's reader of newline-delimited JSON objects (the line's text,
and from it only the keys pricing needs, as raw JSON text) and sorts it into one of two lanes:

- the **fast lane**: a canonical record whose token counts are plain integers that keep LiteLLM's conventions,
  with at most an epoch or plain ISO 8601 timestamp, and whose text holds none of the keys the Python engine
  reads beyond those (per-request prices, durations, recorded costs, another log shape's keys) and nothing
  DuckDB's JSON reader accepts and JSON does not (NaN, Infinity, a trailing comma). Fast-lane records are not
  priced one by one: the query sums their integer units (LiteLLM's clamps applied per record) per prompt-size
  bucket and per raw text of the model, deployment id, service tier and group-key fields. The Python side then
  reads each distinct raw text as the Python engine would (a model name that is not a string sends its records to
  the Python engine), applies the resolved rate card's exact decimal rates once per group and band
  (pricing/exact.py), and computes group keys with the report's own key functions: both engines print the same
  report.
- LiteLLM spend-log rows and standard logging payloads, in a file whose first lines are mostly of that shape,
  are read by engines/duckdb_spendlogs.py into the same columns (the model priced, the token parts of the usage
  object, the billed tier, the start time, the recorded spend, metadata and tags parsed) and take the same fast
  lane; their cache hits and failures are counted as skipped.
- every other line is counted by a hash of its text (its trace). Numbering rows serialises DuckDB's scan, so the
  main query does not; a second, narrow scan numbers only the lines whose trace it was given (and, should two
  texts share a trace, the main query numbers them again, serially). The Python engine then reads those lines
  from the file itself, so every rejection names the same file, line and reason in both engines.

De-duplication by request id (on by default): a record may carry its id in the fast lane, unless the id is one
that engines.request_ids found on more than one line of the inputs (table ``repeated_ids``); those lines go to the
Python engine, which keeps the first record of each in read order and remembers only those ids. A record with an
id stays canonical only without the keys that make reading.shapes.adapt read it as another shape (``_SHAPE_KEYS``).

Each file's lines are counted beside the query: a file DuckDB splits differently is read by the Python engine, and
so is a file that leaves most of its lines (over ``_MAX_PYTHON_LINES``) to it: another log shape, streamed.
Files DuckDB cannot read like Python (stdin, UTF-16, a Claude Code transcript, whose messages de-duplicate across
lines) are read by the Python engine, and so are the records of rate cards whose price depends on more than the
prompt size (off-peak hours, Vertex's 128k rule). Nothing is dropped and nothing is priced twice.

Known differences, each in JSON that is ambiguous or that no writer produces: an object that repeats a key
(RFC 8259 leaves it open; DuckDB keeps the first value, the Python engine the last); NaN or Infinity spelled in
mixed case (``nAn``); a number beyond a double's range (``1e999``) under a key costcalc does not read. DuckDB
accepts each; the Python engine rejects the line.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..errors import raise_if_signalled, signals_held
from ..rates.resolve import REQUEST_PRICE_FIELDS
from ..reading.jsonl import MAX_JSON_DEPTH, max_line_bytes, parse_numbered, printable_path
from ..reading.parquet import PARQUET_MAGIC, parquet_columns, read_parquet
from ..reading.records import MAX_TOKENS, MAX_TS, MIN_TS, BadField, LineResult, UsageRecord, optional_str
from .contract import KeySpec, SumRow, Unsupported, place_raw
from .duckdb_files import (
    GZIP_MAGIC,
    classify,
    connect,
    count_lines,
    count_rows,
    epoch_sql,
    file_lines,
    pick_rows,
    request_id_sql,
    sql_ident,
    sql_text,
)
from .duckdb_spendlogs import key_orders, scanned_shape, spend_log_shape
from .duckdb_spendlogs import source_sql as spend_log_sql
from .ratecards import Key, RateCards, compile_rate_cards
from .sqlunits import UNIT_COLUMNS, bucket_bands, global_breaks, time_key, unit_ctes, units_for
from .streaming import NotPriced, PricingEngine

# Keys read on every line, as raw JSON text: the model, the token counts, deployment id, service tier, timestamp.
_FIELDS = ("model", "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
           "reasoning_tokens", "audio_input_tokens", "audio_output_tokens", "image_input_tokens", "model_id",
           "service_tier", "timestamp")
# Keys whose value (not null) takes a line out of the fast lane: fields the Python engine reads that the query
# does not, and, with prompt_tokens set, the keys that make reading.shapes.adapt read a line as another shape.
_SLOW_KEYS = ("duration_s", "response_time_ms", "startTime", "endTime", "cache_creation_1h_input_tokens",
              "cache_creation", "spend", "cost", "costUSD", "response_cost", "batch", "model_group", "request_id",
              *sorted(REQUEST_PRICE_FIELDS))
_YEAR_1000 = -30610224000.0  # before this, Python and DuckDB write years with different widths: Python keys them
_REQUEST_ID_KEYS = ("request_id", "id", "response")  # what reports.aggregate.request_id reads
# With a request_id, reading.shapes.adapt reads a line as canonical only after ruling out every other shape by
# these keys (the bedrock event names, and inputTokens for a ConverseStream metadata event, included): a line
# holding request_id and any of them leaves the fast lane.
_SHAPE_KEYS = ("call_type", "usage", "usageMetadata", "type", "meta", "inputTokens", "custom_id", "sessionId",
               "message", "error", "messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop",
               "messageStop")


def fast_lane_shape(obj: Any) -> bool:
    """Whether a JSON value has the shape the canonical fast lane takes (by its keys alone): a canonical record
    holding none of the keys that send a line to the Python engine (with a request id, none that make
    reading.shapes.adapt read it as another log shape)."""
    return (isinstance(obj, dict) and "prompt_tokens" in obj and "model" in obj
            and _SLOW_SET.isdisjoint(obj) and ("request_id" not in obj or _SHAPE_SET.isdisjoint(obj)))


_SLOW_SET = frozenset(_SLOW_KEYS) - {"request_id"}
_SHAPE_SET = frozenset(_SHAPE_KEYS)


def fast_lane_share(paths: list[str], budget: int = 1 << 16) -> float:
    """The share of the first lines of the inputs (``budget`` bytes in all) that DuckDB's canonical fast lane takes
    by their shape: a log of another shape goes through the Python engine line by line (provider responses,
    transcripts), or through a scan that costs about what the Python engine does (spend-log rows: engines/choose.py,
    benchmarks/run.py --sweep). A Parquet file counts as taken."""
    return _share(paths, fast_lane_shape, budget)


def spend_log_share(paths: list[str], budget: int = 1 << 16) -> float:
    """The share of the first lines of the inputs that are spend-log rows or standard logging payloads: a file
    mostly of them is scanned as such (engines/duckdb_spendlogs.py)."""
    return _share(paths, spend_log_shape, budget)


def spend_log_scan_share(paths: list[str], budget: int = 1 << 16) -> float:
    """The share of the first lines of the inputs that the spend-log scan prices (engines/duckdb_spendlogs.py
    ``scanned_shape``: rows with metadata as text, not payloads)."""
    return _share(paths, scanned_shape, budget)


def _share(paths: list[str], shaped: Any, budget: int) -> float:
    import gzip

    taken = seen = 0
    for path in paths[:8]:
        try:
            with open(path, "rb") as f:
                head = f.read(4)
                if head == PARQUET_MAGIC:
                    return 1.0
                f.seek(0)
                if head[:2] == GZIP_MAGIC:
                    with gzip.open(f) as g:
                        data = g.read(budget // 8)
                else:
                    data = f.read(budget // 8)
        except (OSError, EOFError):
            continue
        for text in data.split(b"\n")[:-1]:
            if text.strip():
                seen += 1
                with contextlib.suppress(orjson.JSONDecodeError):
                    taken += shaped(orjson.loads(text))
    return taken / seen if seen else 1.0


@dataclass
class DuckDBRun:
    """What one run produced, for the report builder: sums, unpriced counts, and the lines Python must price."""

    sums: list[SumRow] = field(default_factory=list)
    unpriced: list[tuple[NotPriced, int]] = field(default_factory=list)
    filtered: int = 0
    skipped: int = 0  # spend-log rows the proxy booked at $0 (cache hits, failures)
    # every input file in order: ("python", path) to be read whole by Python, or ("duckdb", path, line results
    # of the lines the Python engine prices, in line order)
    files: list[tuple[Any, ...]] = field(default_factory=list)
    cards: RateCards | None = None
    python_reasons: dict[str, str] = field(default_factory=dict)  # file -> why Python read it


# -- the query ----------------------------------------------------------------------------------------------

class _Columns:
    """The top-level keys declared to DuckDB's JSON reader, each read as raw JSON text (NULL when missing or
    null): column ``c_<n>``."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def col(self, name: str) -> str:
        if name not in self.names:
            self.names.append(name)
        return f"c_{self.names.index(name)}"

    def field(self, name: str) -> str:
        """The column of a pricing field of _FIELDS: a canonical line's top-level key of that name, or what another
        shape's scan reads for it (engines/duckdb_spendlogs.py)."""
        return self.col(_FIELD_MARK + name)

    def fields(self) -> dict[str, str]:
        """The pricing-field columns' names, each with its field."""
        return {n: n[len(_FIELD_MARK):] for n in self.names if n.startswith(_FIELD_MARK)}

    def keys(self) -> list[str]:
        """The top-level key each column reads on a canonical line."""
        return [n.removeprefix(_FIELD_MARK) for n in self.names]

    def paths(self) -> str:
        """The keys as a list of JSON paths, for json_extract."""
        if any('"' in n or "\\" in n for n in self.keys()):
            raise Unsupported("a group-by field with a quote or backslash in it")
        return "[" + ", ".join(sql_text('$."' + n + '"') for n in self.keys()) + "]"


_FIELD_MARK = "\0"  # marks a pricing field among the columns (no JSON key holds a NUL the scan would read)


def _nested(root: str, rest: tuple[str, ...]) -> str:
    """The raw JSON value at ``rest`` inside the raw JSON object ``root`` (NULL when missing, null or no object)."""
    if any('"' in p or "\\" in p for p in rest):
        raise Unsupported("a group-by path with a quote or backslash in it")
    path = sql_text("$." + ".".join('"' + p + '"' for p in rest))
    return f"(CASE WHEN left({root}, 1) = '{{' THEN NULLIF(json_extract({root}, {path})::VARCHAR, 'null') END)"


class _Raw:
    """Raw group-key values the query returns (as JSON text), and where they go in the stand-in record's dict."""

    def __init__(self) -> None:
        self.exprs: list[str] = []
        self.places: list[tuple[str, ...]] = []  # e.g. ("user",) or ("metadata", "user")

    def add(self, place: tuple[str, ...], expr: str) -> None:
        if place not in self.places:
            self.places.append(place)
            self.exprs.append(expr)


def _raw_values(spec: KeySpec, cols: _Columns, raw: _Raw) -> None:
    if spec.kind == "record":
        for f in spec.fields:
            raw.add((f,), cols.col(f))
        for f in spec.fields:
            raw.add(("metadata", f), _nested(cols.col("metadata"), (f,)))
    elif spec.kind == "tags":
        raw.add(("tags",), cols.col("tags"))
        raw.add(("request_tags",), cols.col("request_tags"))
        raw.add(("metadata", "tags"), _nested(cols.col("metadata"), ("tags",)))
    elif spec.kind == "dotted":
        root = cols.col(spec.fields[0])
        raw.add(spec.fields, root if len(spec.fields) == 1 else _nested(root, spec.fields[1:]))


def _time_key(unit: str, tz: str) -> str:
    return time_key("duckdb", unit, tz, "to_timestamp(ts)", "ts")


# What takes a line out of the fast lane by its text alone (each also inside a string, where it is harmless but
# counted all the same): a key that changes the price (every per-request price but a few has "cost" in its name;
# a key written with a \u escape could spell any of them), every other key of _SLOW_KEYS, and what DuckDB's JSON
# reader accepts and JSON does not: a trailing comma, NaN and Infinity (DuckDB takes them in any case; the checks
# look for the spellings writers use first, as the full pattern is slow to match).
_BACKSLASH_U = "\\u"
_TRAILING_COMMA = r",\s*[}\]]"
_NON_FINITE_SPELLINGS = ("nan", "NaN", "NAN", "inf", "Inf", "INF")
_NON_FINITE = r"[:\[,]\s*[-+]?(?i:nan|inf)"


def _line_guard(text: str, names: list[str]) -> str:
    """SQL true for a line ``text`` whose text takes it out of the fast lane (``names``: the keys it may not
    hold)."""
    keys = sorted({k for k in names if "cost" not in k})
    named = '"(' + "|".join(keys) + ')"'
    spelled = " OR ".join(f"contains({text}, {sql_text(w)})" for w in _NON_FINITE_SPELLINGS)
    # what reading.jsonl.structure_problem may reject: a repeated key (DuckDB reads the first value, Python
    # rejects the line) or nesting past MAX_JSON_DEPTH; a line whose '":' count is its number of distinct
    # top-level keys has neither repeats nor nested objects
    def count(part: str) -> str:
        return f"(length({text}) - length(replace({text}, {sql_text(part)}, ''))) // {len(part)}"

    structure = (f"{count(chr(34) + ':')} <> len(list_distinct(json_keys({text}))) OR contains({text}, ' :') "
                 f"OR contains({text}, {sql_text(chr(9) + ':')}) OR contains({text}, {sql_text(chr(13) + ':')}) "
                 f"OR {count('[')} + {count('{')} > {MAX_JSON_DEPTH}")
    return (f"({structure} OR contains({text}, 'cost') OR contains({text}, {sql_text(_BACKSLASH_U)}) "
            f"OR regexp_matches({text}, {sql_text(_TRAILING_COMMA)}) OR regexp_matches({text}, {sql_text(named)}) "
            f"OR (CASE WHEN {spelled} THEN regexp_matches({text}, {sql_text(_NON_FINITE)}) ELSE false END))")


def _source_sql(number: int, path: str, kind: str, cols: _Columns, slow: list[str], unread: list[str],
                numbered: bool, ids: tuple[int, int] | None = None, repeated: bool = False) -> str:
    """One input as rows of: the line's text (``line``, NULL when it is not JSON), whether its text keeps it in
    the fast lane (``clean``), and the raw JSON texts of the keys ``cols`` declares (``c_<n>``, NULL when missing
    or null). JSON lines come through DuckDB's reader of JSON objects; a Parquet file's columns are turned into the
    JSON they would be on a line (NULL for a column it lacks), and its rows are always numbered. ``numbered``: with
    each JSON line's number among the file's rows (this makes the scan serial). ``slow``: the keys a fast-lane
    record may not hold; ``unread``: the fields of _FIELDS the query does not read (no line of the sample held
    them), which a fast-lane line may not hold either. ``ids``: the columns of request_id and id, when a JSON line
    may hold a request id (it must then be canonical all the same, and when de-duplicating, its id not one of
    table ``repeated_ids``: engines.request_ids)."""
    if kind != "parquet":
        values = ", ".join(f"NULLIF(x[{i + 1}], 'null') AS c_{i}" for i in range(len(cols.names)))
        reader = (f"read_json_objects({sql_text(path)}, format = 'newline_delimited', ignore_errors = true, "
                  f"compression = {sql_text(kind)}, maximum_object_size = {max_line_bytes()})"
                  + (" WITH ORDINALITY" if numbered else ""))
        clean = f"json IS NOT NULL AND NOT {_line_guard('json', [*slow, *unread])}"
        if ids is not None:
            shaped = '"(' + "|".join(_SHAPE_KEYS) + ')"'
            clean += f" AND NOT (contains(json, '\"request_id\"') AND regexp_matches(json, {sql_text(shaped)}))"
            if repeated:
                rid = request_id_sql(f"x[{ids[0] + 1}]", f"x[{ids[1] + 1}]",
                                     "json_extract(json, '$.\"response\".\"id\"')")
                clean += f" AND NOT COALESCE({rid} IN (SELECT rid FROM repeated_ids), false)"
        return (f"SELECT {number} AS file_no, {'ordinality' if numbered else 'NULL::BIGINT'} AS row_no, "
                f"json AS line, NULL::UBIGINT AS line_hash, {clean} AS clean, NULL AS skip, "
                f"NULL::DECIMAL(38, 18) AS spend, "
                f"{values} FROM (SELECT *, json_extract(json, {cols.paths()}) AS x FROM {reader})")
    present = set(parquet_columns(path))
    if ids is not None:  # a Parquet row holding a request id is read by the Python engine
        slow = [*slow, "request_id", *(_REQUEST_ID_KEYS if repeated else ())]
    values = ", ".join(f"NULLIF(to_json({sql_ident(n)})::VARCHAR, 'null') AS c_{i}" if n in present
                       else f"NULL AS c_{i}" for i, n in enumerate(cols.keys()))
    clean = " AND ".join(f"{sql_ident(k)} IS NULL" for k in slow if k in present) or "true"
    return (f"SELECT {number} AS file_no, file_row_number + 1 AS row_no, NULL AS line, NULL::UBIGINT AS line_hash, "
            f"{clean} AS clean, "
            f"NULL AS skip, NULL::DECIMAL(38, 18) AS spend, {values} "
            f"FROM read_parquet({sql_text(path)}, file_row_number = true)")


def _raw_key_match(fields: list[str], rows_of: list[tuple[str | None, str | None, str | None]]) -> str:
    """True for a row whose raw (model, model_id, service_tier) texts, the SQL ``fields``, are one of
    ``rows_of``."""
    return " OR ".join(
        "(" + " AND ".join(f"{c} IS NULL" if v is None else f"{c}::VARCHAR = {sql_text(v)}"
                           for c, v in zip(fields, key)) + ")" for key in rows_of) or "false"


def scan_sql(sources: list[tuple[int, str, str, str]], specs: list[KeySpec], breaks: list[int],
             since: float | None, until: float | None, timeline_tz: str | None, *, dedupe: bool = False,
             repeated: bool = False, fields: tuple[str, ...] = _FIELDS,
             rows_of: list[tuple[str | None, str | None, str | None]] | None = None) -> str:
    """The one query, parallel over every input: per (file, lane, raw model / id / tier, window, bucket, raw group
    keys, time keys) a count and unit sums; JSON lines outside the fast lane counted per trace (a hash of the
    line's text), which trace_sql turns into row numbers (a Parquet file's rows come with their numbers).
    ``rows_of``: instead, serially, the row number of every row outside the fast lane and of every row whose raw
    (model, model_id, service_tier) is one of these. ``fields``: the fields of _FIELDS to read (each json_extract
    path costs; a line holding another goes to the Python engine; model and prompt_tokens are always read).
    ``dedupe``: without ``repeated`` (table ``repeated_ids``, engines.request_ids), a line holding a request id
    leaves the fast lane; with it, only a line whose id is one of those."""
    cols = _Columns()
    read = [f for f in _FIELDS if f in fields or f in ("model", "prompt_tokens")]
    field_sql = [cols.field(f) if f in read else "NULL" for f in _FIELDS]  # each field's raw text, in _FIELDS order
    unread = [f for f in _FIELDS if f not in read]
    raw = _Raw()
    times: list[tuple[str, str]] = []
    for spec in specs:
        if spec.kind == "time":
            times.append((f"time_{spec.unit}", _time_key(spec.unit, spec.tz)))
        else:
            _raw_values(spec, cols, raw)
    if timeline_tz is not None:
        times.append(("day", _time_key("day", timeline_tz)))
    if dedupe and not repeated:
        slow, ids = [*_SLOW_KEYS, *_REQUEST_ID_KEYS], None
    else:
        slow = [k for k in _SLOW_KEYS if k != "request_id"]
        cols.col("request_id")
        cols.col("id")
        ids = (cols.names.index("request_id"), cols.names.index("id"))
    ts_raw = field_sql[11]
    ts = epoch_sql(ts_raw, "tsn")
    window = []
    if since is not None:
        window.append(f"ts >= {since!r}")
    if until is not None:
        window.append(f"ts < {until!r}")
    in_window = "(ts IS NOT NULL AND " + " AND ".join(window) + ")" if window else "true"
    # what the group keys read under a spend-log row's metadata
    metadata_keys = sorted({f for spec in specs if spec.kind == "record" for f in spec.fields}
                           | {"tags" for spec in specs if spec.kind == "tags"}
                           | {spec.fields[1] for spec in specs if spec.kind == "dotted" and len(spec.fields) > 1
                              and spec.fields[0] == "metadata"})
    unions = " UNION ALL ".join(
        spend_log_sql(n, path, kind, cols.names, cols.fields(), numbered=rows_of is not None, dedupe=dedupe,
                      repeated=repeated, metadata_keys=metadata_keys,
                      key_orders=key_orders(_head_lines(path, kind))) if shape == SPEND_LOG
        else _source_sql(n, path, kind, cols, slow, unread, rows_of is not None, ids, dedupe and repeated)
        for n, path, kind, shape in sources)
    # a token count is 0 when missing or null, else it must be written as a plain integer
    tokens = ", ".join(f"TRY_CAST({c} AS VARCHAR) AS v{i}, TRY_CAST(TRY_CAST({c} AS VARCHAR) AS BIGINT) AS n{i}"
                       for i, c in enumerate(field_sql[1:9]))
    token_ok = " AND ".join(f"(v{i} IS NULL OR (n{i} BETWEEN 0 AND {MAX_TOKENS} AND n{i}::VARCHAR = v{i}))"
                            for i in range(8))
    t = [f"COALESCE(n{i}, 0)" for i in range(8)]
    if rows_of is not None:
        tail = (f"SELECT file_no, row_no FROM w WHERE (fast IS NOT TRUE AND skip IS NULL) "
                f"OR ({_raw_key_match([field_sql[0], field_sql[9], field_sql[10]], rows_of)})")
    else:
        group_select = "".join(f", CASE WHEN fast AND in_window THEN {e} END AS r{i}"
                               for i, e in enumerate(raw.exprs))
        group_select += "".join(f", CASE WHEN fast AND in_window THEN {e} END AS {name}" for name, e in times)
        sums = ", ".join(f"sum({c}) AS s_{c}" for c in UNIT_COLUMNS)
        tail = f"""SELECT file_no, fast, in_window, skip,
  CASE WHEN fast OR skip IS NOT NULL THEN NULL ELSE row_no END AS row_no,
  CASE WHEN fast OR skip IS NOT NULL OR row_no IS NOT NULL THEN NULL ELSE COALESCE(line_hash, hash(line)) END
    AS trace,
  CASE WHEN fast THEN {field_sql[0]} END AS model,
  CASE WHEN fast THEN {field_sql[9]} END AS model_id,
  CASE WHEN fast THEN {field_sql[10]} END AS tier,
  CASE WHEN fast AND in_window THEN bucket END AS bucket{group_select},
  CASE WHEN fast AND in_window THEN spend IS NOT NULL END AS recorded,
  count(*) AS n, {sums}, sum(CASE WHEN fast AND in_window THEN spend END) AS s_spend,
  min(ts) AS ts_min, max(ts) AS ts_max
FROM w
GROUP BY ALL"""
    return f"""
WITH src AS ({unions}),
y AS (
  SELECT *, TRY_CAST(TRY_CAST({ts_raw} AS VARCHAR) AS DOUBLE) AS tsn, {tokens}
  FROM src
),
z AS (
  SELECT *, {ts} AS ts,
    -- canonical as reading.shapes.adapt decides it: prompt_tokens set (the JSON reader sees null as unset)
    {field_sql[0]} IS NOT NULL AND {field_sql[1]} IS NOT NULL
      AND clean
      AND {token_ok}
      AND {t[2]} + {t[3]} <= {t[0]} AND {t[4]} <= {t[1]} AND {t[6]} <= {t[1]} AND {t[5]} <= {t[0]}
      AND {t[7]} <= {t[0]}
      AND (left({field_sql[9]}, 1) IS DISTINCT FROM '{{') AND (left({field_sql[10]}, 1) IS DISTINCT FROM '{{')
    AS shape_ok
  FROM y
),
u AS (
  SELECT *,
    shape_ok AND ({ts_raw} IS NULL OR ts BETWEEN {MIN_TS!r} AND {MAX_TS!r})
      {"AND (ts IS NULL OR ts >= " + repr(_YEAR_1000) + ")" if times else ""} AS fast,
    {t[0]} AS p, {t[1]} AS c, {t[2]} AS cr, {t[3]} AS cw, {t[4]} AS rea, {t[5]} AS ai, {t[6]} AS ao, {t[7]} AS ii
  FROM z
),
v AS (
  SELECT *, {in_window} AS in_window FROM u
),
{unit_ctes("v", breaks)}
{tail}
"""


def trace_sql(sources: list[tuple[int, str, str, str]], traces: bool,
              rows_of: list[tuple[str | None, str | None, str | None]]) -> str:
    """The row numbers of the JSON lines whose trace (a hash of the line's text) is in table ``wanted_traces``
    (when ``traces``) or whose
    raw (model, model_id, service_tier) is one of ``rows_of``, with their trace: a serial scan, but one that reads
    no more than it must, so a fraction of scan_sql's cost. Lines with the same trace are the same text but for a
    hash collision, which the caller finds by counting. The rows of ``rows_of`` in a spend-log file are found by
    scan_sql (its lines read the model otherwise)."""
    cols = _Columns()
    for f in ("model", "model_id", "service_tier"):
        cols.col(f)
    wanted = "trace IN (SELECT trace FROM wanted_traces)" if traces else "false"
    # (each line's text is dropped before the lines are matched against the traces: however DuckDB joins them,
    # it holds no more than a number and a hash per line)
    if rows_of:
        values = ", ".join(f"NULLIF(x[{i + 1}], 'null') AS c_{i}" for i in range(3))
        routed = _raw_key_match(["c_0", "c_1", "c_2"], rows_of)
        inner = (f"SELECT ordinality, hash(json) AS trace, {values} "
                 f"FROM (SELECT *, json_extract(json, {cols.paths()}) AS x FROM {{reader}})")
    else:
        routed, inner = "false", "SELECT ordinality, hash(json) AS trace FROM {reader}"
    return " UNION ALL ".join(
        f"SELECT {n} AS file_no, ordinality AS row_no, trace, "
        f"{routed if shape != SPEND_LOG else 'false'} AS routed FROM ("
        + inner.format(reader=f"read_json_objects({sql_text(path)}, format = 'newline_delimited', "
                              f"ignore_errors = true, compression = {sql_text(kind)}, "
                              f"maximum_object_size = {max_line_bytes()}) WITH ORDINALITY")
        + f") WHERE {wanted} OR {routed if shape != SPEND_LOG else 'false'}" for n, path, kind, shape in sources)


# -- the run ------------------------------------------------------------------------------------------------

SPEND_LOG = "spend-log"  # a file of LiteLLM spend-log rows or standard logging payloads (engines/duckdb_spendlogs.py)


@dataclass
class _Source:
    number: int
    path: str
    compression: str
    shape: str = "canonical"  # or SPEND_LOG


def _query(con: Any, sql: str) -> tuple[list[tuple[Any, ...]], list[str]]:
    with signals_held():  # a signal inside DuckDB's native import aborts it
        import duckdb

    try:
        rows = con.execute(sql).fetchall()
    except (duckdb.InterruptException, RuntimeError) as exc:
        # Ctrl-C or a signal met inside DuckDB (its own exception, or the handler's turned into "Query
        # interrupted"): the run stops, it is not retried with the Python engine
        if not isinstance(exc, duckdb.InterruptException) and "interrupted" not in str(exc).lower():
            raise
        from ..errors import Interrupted, received

        raise (Interrupted(received[-1]) if received else KeyboardInterrupt()) from None
    except duckdb.Error as exc:
        raise Unsupported(f"DuckDB could not read the input ({str(exc).splitlines()[0][:200]})") from None
    raise_if_signalled()  # a signal DuckDB checked for and did not stop on
    return rows, [d[0] for d in con.description]


def _misread(sources: list[_Source], rows: list[tuple[Any, ...]], col: dict[str, int],
             lines: dict[int, tuple[int, list[int] | None]], run: DuckDBRun) -> tuple[set[int], dict[int, bool]]:
    """Hold the query's rows against each file's lines. Returns the files the Python engine must read whole
    (DuckDB split their lines differently), and for the others whether their rows are their lines (no blank
    line)."""
    rows_seen: dict[int, int] = {}
    for r in rows:
        rows_seen[r[col["file_no"]]] = rows_seen.get(r[col["file_no"]], 0) + r[col["n"]]
    bad: set[int] = set()
    aligned: dict[int, bool] = {}
    for s in sources:
        seen = rows_seen.get(s.number, 0)
        if s.compression == "parquet" or seen == lines[s.number][0]:
            aligned[s.number] = True
        elif seen == count_rows(s.path, s.compression):
            aligned[s.number] = False
        else:
            bad.add(s.number)
            run.python_reasons[printable_path(s.path)] = "DuckDB splits its lines differently"
    return bad, aligned


# Above this many distinct traces, the rows the query left are numbered by a second full scan instead.
_MAX_TRACES = 100_000
# A file at least this large whose first lines are mostly of another shape is streamed by the Python engine
# without a scan (smaller ones are scanned: their lines of the fast lane's shape are summed).
_OTHER_SHAPE_MIN_BYTES = 16 << 20
# A file leaving more lines than this to the Python engine, and more than half of them, is read by the Python
# engine whole (streamed): another log shape, whose lines DuckDB's scan would only count and hand over.
_MAX_PYTHON_LINES = 50_000


def _python_rows(con: Any, sources: list[_Source], rows: list[tuple[Any, ...]], col: dict[str, int],
                 routed: list[tuple[str | None, str | None, str | None]], query: dict[str, Any]
                 ) -> dict[int, list[int]]:
    """The row numbers, per file, of the rows the Python engine prices: those outside the fast lane and those
    whose raw (model, model_id, service_tier) is ``routed``. Parquet rows come numbered; JSON lines are found by
    trace in a narrow serial scan (trace_sql), and where two texts share a trace, by the full query, serially."""
    parquet = {s.number for s in sources if s.compression == "parquet"}
    numbers: dict[int, list[int]] = {}
    left: dict[int, dict[int, int]] = {}  # JSON file -> trace -> lines outside the fast lane
    routed_in: set[int] = set()
    routed_set = set(routed)
    for r in rows:
        f = r[col["file_no"]]
        if r[col["fast"]]:
            if (r[col["model"]], r[col["model_id"]], r[col["tier"]]) in routed_set:
                routed_in.add(f)
        elif r[col["skip"]] is not None:
            continue  # counted as skipped
        elif f in parquet:
            numbers.setdefault(f, []).append(r[col["row_no"]])
        else:
            traces = left.setdefault(f, {})
            traces[r[col["trace"]]] = traces.get(r[col["trace"]], 0) + r[col["n"]]
    full = [s for s in sources if (s.number in parquet or s.shape == SPEND_LOG) and s.number in routed_in]
    wanted = [s for s in sources if s.number not in parquet and s not in full
              and (s.number in left or s.number in routed_in)]
    every = sorted({t for traces in left.values() for t in traces})
    if len(every) > _MAX_TRACES:
        full += wanted
    elif wanted:
        con.execute("CREATE OR REPLACE TEMP TABLE wanted_traces AS SELECT unnest($1::UBIGINT[]) AS trace", [every])
        found, _ = _query(con, trace_sql(_listed(wanted), bool(every), routed))
        counted: dict[int, dict[int, int]] = {}
        for file_no, row_no, trace, is_routed in found:
            traces = left.get(file_no, {})
            if trace in traces:
                per = counted.setdefault(file_no, {})
                per[trace] = per.get(trace, 0) + 1
            elif not is_routed:
                continue  # a fast-lane line with the text of another file's line outside it
            numbers.setdefault(file_no, []).append(row_no)
        # more lines with a trace than lines outside the fast lane with it: a hash collision
        full += [s for s in wanted if counted.get(s.number, {}) != left.get(s.number, {})]
    if full:
        for s in full:
            numbers.pop(s.number, None)
        again, _ = _query(con, scan_sql(_listed(full), rows_of=routed, **query))
        for file_no, row_no in again:
            numbers.setdefault(file_no, []).append(row_no)
    return {f: sorted(set(n)) for f, n in numbers.items()}


def _read_raw(text: str | None) -> Any:
    """A raw JSON text the query returned, as orjson reads it; ``_NOT_JSON`` for what DuckDB reads and JSON does
    not (a NaN in a spelling the line checks let through)."""
    try:
        return None if text is None else orjson.loads(text)
    except orjson.JSONDecodeError:
        return _NOT_JSON


_NOT_JSON = object()


def _read_model(text: str | None) -> str | None:
    """A raw model value as records.canonical reads it: a string, stripped; None when it would be rejected."""
    value = _read_raw(text)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


_INVALID = object()


def _read_id(text: str | None) -> Any:
    """A raw model_id or service_tier as records.optional_str reads it; _INVALID when it would be rejected."""
    value = _read_raw(text)
    try:
        return optional_str({"v": value}, "v")
    except BadField:
        return _INVALID


def run_aggregate(engine: PricingEngine, paths: list[str], specs: list[KeySpec], *, since: float | None = None,
                  until: float | None = None, timeline_tz: str | None = None, threads: int | None = None,
                  memory_limit: str = "1GB", dedupe: bool = False, repeated: set[str] | None = None) -> DuckDBRun:
    """Price ``paths`` for an aggregate report; see the module docstring. Raises ``Unsupported``. ``dedupe``:
    a record with a request id is left to the Python engine (which keeps the first of each id), or with
    ``repeated`` (engines.request_ids: the ids met on more than one line of ``paths``) only one with such an id."""
    import importlib.util

    if importlib.util.find_spec("duckdb") is None:  # pragma: no cover - a run-time dependency
        raise Unsupported("the duckdb package is not installed")
    run = DuckDBRun()
    sources: list[_Source] = []
    for path in paths:
        compression = classify(path)
        if compression is None:
            run.files.append(("python", path))
            run.python_reasons[printable_path(path)] = ("not JSON lines DuckDB reads (stdin, CSV, one JSON document, "
                                                       "UTF-16/32, another compression)")
            continue
        size = os.path.getsize(path)
        if size == 0:
            run.files.append(("duckdb", path, []))
            continue
        if size >= _OTHER_SHAPE_MIN_BYTES and fast_lane_share([path]) < 0.5 and spend_log_share([path]) < 0.5:
            run.files.append(("python", path))
            run.python_reasons[printable_path(path)] = "its first lines are not of the fast lane's shape"
            continue
        shape = SPEND_LOG if compression != "parquet" and spend_log_share([path]) >= 0.5 else "canonical"
        source = _Source(len(sources), path, compression, shape)
        sources.append(source)
        run.files.append(("duckdb", path, source))
    if not sources:
        return run
    breaks = global_breaks(engine)
    # the fields the files' first lines hold are the ones the query reads (each costs); a later line holding
    # another leaves the fast lane by its text
    sampled = set().union(*(parquet_columns(s.path) if s.compression == "parquet" else _sample_keys(s)
                            for s in sources))
    if any(s.shape == SPEND_LOG for s in sources):
        sampled.update(_FIELDS)  # a spend-log line's pricing fields are not its top-level keys
    query = {"specs": specs, "breaks": breaks, "since": since, "until": until, "timeline_tz": timeline_tz,
             "fields": tuple(f for f in _FIELDS if f in sampled),
             # with de-duplication on, a record whose request id is met twice is priced by the Python engine,
             # which keeps the first of each (every record with an id when the repeated ones are not known)
             "dedupe": dedupe}
    # each file's lines are counted beside the query (DuckDB releases the GIL while it works)
    lines: dict[int, tuple[int, list[int] | None]] = {}

    def count_all() -> None:
        for s in sources:
            if s.compression != "parquet":  # a Parquet file's rows are what DuckDB reads
                lines[s.number] = count_lines(s.path, s.compression)

    counter = threading.Thread(target=count_all, daemon=True)
    with signals_held():  # the thread keeps the signals blocked, so that they reach the main thread only
        counter.start()
    with tempfile.TemporaryDirectory(prefix="costcalc-duckdb-") as spill:
        con = connect(memory_limit, spill, threads)
        try:
            if dedupe and repeated is not None:
                # the lines with these ids go to the Python engine, which keeps the first of each
                con.execute("CREATE TEMP TABLE repeated_ids AS SELECT unnest($1::VARCHAR[]) AS rid", [sorted(repeated)])
                query["repeated"] = True
            # every value the query returns is a sum, a count, a minimum or a maximum of integers and exact
            # decimals, the same in any order of the rows; with the order kept, each step after one of the
            # query's LIMITs (duckdb_spendlogs._KEEP) runs on one thread
            con.execute("SET preserve_insertion_order = false")
            rows, names = _query(con, scan_sql(_listed(sources), **query))
            con.execute("SET preserve_insertion_order = true")
            counter.join()
            col = {name: i for i, name in enumerate(names)}
            bad, aligned = _misread(sources, rows, col, lines, run)
            left_over: dict[int, int] = {}
            for r in rows:
                if not r[col["fast"]] and r[col["skip"]] is None:
                    left_over[r[col["file_no"]]] = left_over.get(r[col["file_no"]], 0) + r[col["n"]]
            for s in sources:
                n = left_over.get(s.number, 0)
                if s.number not in bad and n > _MAX_PYTHON_LINES and 2 * n > lines.get(s.number, (n, None))[0]:
                    bad.add(s.number)
                    run.python_reasons[printable_path(s.path)] = "most of its lines are not of the fast lane's shape"
            rows = [r for r in rows if r[col["file_no"]] not in bad]
            skipped = {r[col["file_no"]]: 0 for r in rows}
            for r in rows:
                if r[col["skip"]] is not None:
                    skipped[r[col["file_no"]]] += r[col["n"]]
            # the lines outside the fast lane first: a Claude Code transcript among them sends its file to Python
            # (its messages de-duplicate across lines) before any of its fast-lane lines is summed
            kept = [s for s in sources if s.number not in bad]
            left = _python_rows(con, kept, rows, col, [], query)
            results = {s.number: _read_rows(s, left[s.number], aligned[s.number], lines.get(s.number))
                       for s in kept if s.number in left}
            for s in kept:
                if s.number in results and results[s.number].supersede:
                    bad.add(s.number)
                    run.python_reasons[printable_path(s.path)] = "a Claude Code transcript (messages de-duplicated)"
            fast = [r for r in rows if r[col["file_no"]] not in bad and r[col["fast"]]]
            routed = _fold(engine, run, fast, col, specs, breaks, {s.number for s in sources if s.shape == SPEND_LOG})
            if routed:
                # the rows of cards SQL does not price (a row outside the fast lane may be among them: read once)
                kept = [s for s in sources if s.number not in bad]
                more = _python_rows(con, kept, fast, col, routed, query)
                for s in kept:
                    extra = sorted(set(more.get(s.number, [])) - set(left.get(s.number, [])))
                    if extra:
                        results[s.number] = _read_rows(s, sorted({*left.get(s.number, []), *extra}),
                                                       aligned[s.number], lines.get(s.number))
        finally:
            counter.join()
            con.close()
    run.skipped = sum(n for f, n in skipped.items() if f not in bad)
    for i, entry in enumerate(run.files):
        if entry[0] == "duckdb" and isinstance(entry[2], _Source):
            s = entry[2]
            run.files[i] = ("python", s.path) if s.number in bad else ("duckdb", s.path, results.get(s.number) or [])
    return run


def _head_lines(path: str, compression: str, lines: int = 200) -> list[bytes]:
    """The text of a file's first lines (up to ``lines`` of them)."""
    return [text for _, text in itertools.islice(file_lines(path, compression), lines) if isinstance(text, bytes)]


def _sample_keys(source: _Source, lines: int = 200) -> set[str]:
    """The top-level keys of the JSON objects among a file's first lines."""
    keys: set[str] = set()
    for n, (_, text) in enumerate(file_lines(source.path, source.compression)):
        if n >= lines:
            break
        if not isinstance(text, bytes):
            continue
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            keys.update(obj)
    return keys


class _PythonRows:
    """The rows of a file the Python engine prices, read by its own reader, in line order, when iterated (once).
    A JSON file's lines are picked from the file at once and kept in an unnamed temporary file, not in memory (a
    large log leaves tens of thousands of lines to Python: repeated request ids); ``supersede`` says whether one of
    them is a message a Claude Code transcript writes several times (its file is then read by Python whole)."""

    def __init__(self, source: _Source, numbers: list[int], aligned: bool,
                 counted: tuple[int, list[int] | None] | None) -> None:
        self.shown = printable_path(source.path)
        self.count = len(numbers)
        self.parquet: list[LineResult] | None = None
        self.supersede = False
        if source.compression == "parquet":
            self.parquet = list(read_parquet(source.path, self.shown, numbers))
            self.supersede = any(x.dedup_key is not None for x in self.parquet if isinstance(x, UsageRecord))
            return
        self.held = tempfile.TemporaryFile()  # noqa: SIM115 - open until the rows are read, then closed
        self.lines: list[tuple[int, Any]] = []  # (line number, its length in held, or a LineTooLong)
        blocks = counted[1] if counted is not None else None
        for line, text in pick_rows(source.path, source.compression, numbers, aligned, blocks):
            if isinstance(text, bytes):
                self.held.write(text)
                # (a transcript's message is under "message", a key that may be spelled with escapes)
                if not self.supersede and (b"message" in text or b"\\u" in text):
                    self.supersede = any(isinstance(x, UsageRecord) and x.dedup_key is not None
                                         for x in parse_numbered(self.shown, [(line, text)]))
                text = len(text)
            self.lines.append((line, text))

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[LineResult]:
        if self.parquet is not None:
            yield from self.parquet
            return
        self.held.seek(0)
        read = self.held.read
        try:
            yield from parse_numbered(self.shown, ((line, read(size) if isinstance(size, int) else size)
                                                   for line, size in self.lines))
        finally:
            self.held.close()


def _read_rows(source: _Source, numbers: list[int], aligned: bool,
               counted: tuple[int, list[int] | None] | None = None) -> _PythonRows:
    """The rows numbered ``numbers`` of a file, for the Python engine (``counted``: the file's count_lines)."""
    return _PythonRows(source, numbers, aligned, counted)


def _listed(sources: list[_Source]) -> list[tuple[int, str, str, str]]:
    return [(s.number, s.path, s.compression, s.shape) for s in sources]


def _fold(engine: PricingEngine, run: DuckDBRun, rows: list[tuple[Any, ...]], col: dict[str, int],
          specs: list[KeySpec], breaks: list[int], spend_logs: set[int]
          ) -> list[tuple[str | None, str | None, str | None]]:
    """Turn the fast-lane sums into SumRows (``spend_logs``: the files of spend-log rows), unpriced and filtered
    counts; return the raw (model, id, tier) whose
    records the Python engine must read instead, in or out of the window (a value it would reject, or a card SQL
    does not price)."""
    readings: dict[tuple[Any, ...], Key | None] = {}
    in_window: set[Key] = set()
    for r in rows:
        raw_key = (r[col["model"]], r[col["model_id"]], r[col["tier"]])
        if raw_key not in readings:
            model, model_id, tier = _read_model(raw_key[0]), _read_id(raw_key[1]), _read_id(raw_key[2])
            readings[raw_key] = None if model is None or model_id is _INVALID or tier is _INVALID \
                else (model, model_id, tier)
        if r[col["in_window"]] and readings[raw_key] is not None:
            in_window.add(readings[raw_key])  # type: ignore[arg-type]
    keys = sorted(in_window, key=lambda k: (k[0], k[1] or "", k[2] or ""))
    cards = run.cards = compile_rate_cards(engine, keys)
    by_key = {k.key: k for k in cards.keys}
    bands_of: dict[Key, list[int] | None] = {
        k.key: bucket_bands(k, breaks) for k in cards.keys if k.status == "bands"}
    routed = {raw_key for raw_key, key in readings.items() if key is None or (key in by_key and (
        by_key[key].status == "python" or (by_key[key].status == "bands" and bands_of[key] is None)))}
    raw_cols = sorted((c for c in col if c.startswith("r") and c[1:].isdigit()), key=lambda c: int(c[1:]))
    places = _places(specs)
    unpriced: dict[Key, int] = {}
    for r in rows:
        n = r[col["n"]]
        raw_key = (r[col["model"]], r[col["model_id"]], r[col["tier"]])
        if raw_key in routed:
            continue
        if not r[col["in_window"]]:
            run.filtered += n
            continue
        key = readings[raw_key]
        ck = by_key[key]  # type: ignore[index]
        if ck.status == "unpriced":
            unpriced[key] = unpriced.get(key, 0) + n  # type: ignore[index]
            continue
        band = cards.bands[bands_of[key][r[col["bucket"]]]]  # type: ignore[index]
        s = {c: int(r[col[f"s_{c}"]] or 0) for c in UNIT_COLUMNS}
        raw: dict[str, Any] = {}
        for place, c in zip(places, raw_cols):
            value = _read_raw(r[col[c]])
            if value is _NOT_JSON:
                raise Unsupported(f"a group-by value DuckDB reads and JSON does not ({str(r[col[c]])[:40]})")
            place_raw(raw, place, value)
        times = {name[5:]: r[col[name]] for name in col if name.startswith("time_")}
        # TOKEN_PARTS: input, uncached input, cache read, 5-minute and 1-hour writes (none in the fast lane),
        # output, reasoning
        tokens = (s["p"], s["text_t"], s["cr"], s["cw"], 0, s["c"], s["rea"])
        row = SumRow(key[0], ck.sheet, raw, times, band, n,  # type: ignore[index]
                     units_for(ck.variant, ck.routing_fee, s), tokens,
                     r[col["day"]] if "day" in col else None, r[col["ts_min"]], r[col["ts_max"]])
        if r[col["recorded"]]:
            row.recorded = r[col["s_spend"]]  # a Decimal: the exact sum of the recorded costs
        if r[col["file_no"]] in spend_logs:
            row.shape = "litellm-spend-log"
        run.sums.append(row)
    for key, n in unpriced.items():
        run.unpriced.append((by_key[key].not_priced, n))  # type: ignore[arg-type]
    return sorted(routed, key=lambda k: tuple(x or "" for x in k))


def _places(specs: list[KeySpec]) -> list[tuple[str, ...]]:
    """The places of the raw values scan_sql returns, in its order (r0, r1, ...)."""
    cols, raw = _Columns(), _Raw()
    for spec in specs:
        if spec.kind != "time":
            _raw_values(spec, cols, raw)
    return raw.places
