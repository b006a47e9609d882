"""The DuckDB engine: aggregate reports over large JSONL inputs, priced in one vectorised, multi-core scan.

One query reads every line of every input with DuckDB's newline-delimited JSON reader (only the keys pricing
needs, as raw JSON text, with the line's number among the file's non-blank lines) and sorts it into one of two
lanes:

- the **fast lane**: a canonical record whose token counts are plain integers that keep LiteLLM's conventions,
  with at most an epoch or plain ISO 8601 timestamp, and none of the keys the Python engine reads beyond those
  (per-request prices, durations, recorded costs, another log shape's keys). Fast-lane records are not priced one
  by one: the query sums their integer units (LiteLLM's clamps applied per record) per prompt-size bucket and per
  raw text of the model, deployment id, service tier and group-key fields. The Python side then reads each
  distinct raw text as the Python engine would (a model name that is not a string sends its records to the
  Python engine), applies the resolved rate card's exact decimal rates once per group and band (pricing/exact.py),
  and computes group keys with the report's own key functions: both engines print the same report.
- every other line comes back as a row number; the Python engine reads that line from the file itself, so every
  rejection names the same file, line and reason in both engines.

What DuckDB reads is checked against a byte-level survey of each file taken at the same time (the number of
non-blank lines, the number of keys written): a file DuckDB splits differently is read by the Python engine,
and a file holding a key the query did not declare is queried again with every such key declared. Files DuckDB
cannot read like Python (stdin, UTF-16, a Claude Code transcript, whose messages de-duplicate across lines) are
read by the Python engine, and so are the records of rate cards whose price depends on more than the prompt size
(off-peak hours, Vertex's 128k rule). Nothing is dropped and nothing is priced twice.

One known difference: a JSON object that repeats a key is ambiguous (RFC 8259); DuckDB keeps the first value, the
Python engine the last.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from ..pricing.exact import Band
from ..rates.resolve import REQUEST_PRICE_FIELDS, PriceSheet
from ..reading.jsonl import parse_numbered, printable_path, text_encoding
from ..reading.parquet import PARQUET_MAGIC, parquet_columns, read_parquet
from ..reading.records import MAX_TOKENS, BadField, LineResult, optional_str
from .ratecards import Key, RateCards, compile_rate_cards
from .sqlunits import UNIT_COLUMNS, bucket_bands, global_breaks, unit_ctes, units_for
from .streaming import NotPriced, PricingEngine

# Keys read on every line, as raw JSON text: the model, the token counts, deployment id, service tier, timestamp.
_FIELDS = ("model", "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
           "reasoning_tokens", "audio_input_tokens", "audio_output_tokens", "image_input_tokens", "model_id",
           "service_tier", "timestamp")
# Keys canonical logs often carry that change no price: declared too, so that a line holding only these and
# _FIELDS is seen to hold no other key (see _Survey).
_COMMON_KEYS = ("user", "team", "key", "end_user", "tags", "request_tags", "metadata", "user_id", "team_id",
                "api_key", "id", "project", "session_id")
# Keys whose value (not null) takes a line out of the fast lane: fields the Python engine reads that the query
# does not, and, with prompt_tokens set, the keys that make reading.shapes.adapt read a line as another shape.
_SLOW_KEYS = ("duration_s", "response_time_ms", "startTime", "endTime", "cache_creation_1h_input_tokens",
              "cache_creation", "spend", "cost", "costUSD", "response_cost", "batch", "model_group", "request_id",
              *sorted(REQUEST_PRICE_FIELDS))
# ISO 8601 as both Python (3.10's fromisoformat too) and DuckDB read it alike; other forms take the slow lane.
_ISO = (r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
        r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{3}|\.\d{6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?")
_MIN_TS, _MAX_TS = -62134819200.0, 253401264000.0  # records.parse_time's range (years 1 to 9999)
_YEAR_1000 = -30610224000.0  # before this, Python and DuckDB write years with different widths: Python keys them
GZIP_MAGIC = b"\x1f\x8b"
_REQUEST_ID_KEYS = ("request_id", "id", "response")  # what reports.aggregate.request_id reads


class Unsupported(Exception):
    """This run cannot be priced by DuckDB as the Python engine would price it; the reason says why."""


@dataclass(frozen=True)
class KeySpec:
    """What the query must read for one group key (reports.aggregate.key_spec).

    kind: ``record`` (the raw values of ``fields``, at the top level and under ``metadata``), ``tags``, ``dotted``
    (the value at the path ``fields``), ``time`` (``unit`` hour/day/week/month in time zone ``tz``, keyed in SQL),
    or ``sheet`` / ``model`` / ``constant`` (nothing to read: the report keys them from the rate card and record).
    """

    kind: str
    fields: tuple[str, ...] = ()
    unit: str = ""
    tz: str = "UTC"


@dataclass
class SumRow:
    """Fast-lane records of one model, rate card, band and raw group-key values, summed."""

    model: str
    sheet: PriceSheet
    raw: dict[str, Any]  # the record fields group keys read (as reading.records' raw dict holds them)
    times: dict[str, str]  # time group keys, by unit
    band: Band
    count: int
    units: tuple[int, ...]  # per pricing.exact.SLOTS
    tokens: tuple[int, ...]  # per reports.aggregate.TOKEN_PARTS
    day: str | None = None  # the records' day (the HTML timeline), when asked for
    first: float | None = None  # the earliest and latest timestamp among them
    last: float | None = None
    recorded: Decimal | None = None  # the costs the logs recorded for these records (all of them), summed


@dataclass
class DuckDBRun:
    """What one run produced, for the report builder: sums, unpriced counts, and the lines Python must price."""

    sums: list[SumRow] = field(default_factory=list)
    unpriced: list[tuple[NotPriced, int]] = field(default_factory=list)
    filtered: int = 0
    # every input file in order: ("python", path) to be read whole by Python, or ("duckdb", path, line results
    # of the lines the Python engine prices, in line order)
    files: list[tuple[Any, ...]] = field(default_factory=list)
    cards: RateCards | None = None
    python_reasons: dict[str, str] = field(default_factory=dict)  # file -> why Python read it
    first_raw: dict[str, Any] | None = None  # the first record's object (the fields a report can group by)


# -- the query ----------------------------------------------------------------------------------------------

def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _q_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Columns:
    """The top-level keys declared to DuckDB's JSON reader, each read as raw JSON text (NULL when missing or
    null): column ``c_<n>``."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def col(self, name: str) -> str:
        if name not in self.names:
            self.names.append(name)
        return f"c_{self.names.index(name)}"

    def declaration(self) -> str:
        return "{" + ", ".join(f"{_q(n)}: 'JSON'" for n in self.names) + "}"

    def select(self) -> str:
        return ", ".join(f"{_q_ident(n)} AS c_{i}" for i, n in enumerate(self.names))


def _nested(root: str, rest: tuple[str, ...]) -> str:
    """The raw JSON value at ``rest`` inside the raw JSON object ``root`` (NULL when missing, null or no object)."""
    if any('"' in p or "\\" in p for p in rest):
        raise Unsupported("a group-by path with a quote or backslash in it")
    path = _q("$." + ".".join('"' + p + '"' for p in rest))
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
    fmt = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m", "week": "%Y-%m-%d"}[unit]
    local = f"timezone({_q(tz)}, to_timestamp(ts))"
    if unit == "week":
        local = f"date_trunc('week', {local})"
    key = f"strftime({local}, {_q(fmt)})" + (" || ' (week)'" if unit == "week" else "")
    return f"(CASE WHEN ts IS NULL THEN '(none)' ELSE {key} END)"


def _source_sql(number: int, path: str, kind: str, cols: _Columns) -> str:
    """One input as rows of raw JSON texts of the declared keys: a JSONL file through DuckDB's JSON reader, a
    Parquet file's columns turned into the JSON they would be on a line (NULL for a column it lacks)."""
    if kind != "parquet":
        return (f"SELECT {number} AS file_no, ordinality AS row_no, {cols.select()} FROM read_json({_q(path)}, "
                f"format = 'newline_delimited', columns = {cols.declaration()}, ignore_errors = true, "
                f"compression = {_q(kind)}) WITH ORDINALITY")
    present = set(parquet_columns(path))
    values = ", ".join(f"NULLIF(to_json({_q_ident(n)})::VARCHAR, 'null') AS c_{i}" if n in present
                       else f"NULL AS c_{i}" for i, n in enumerate(cols.names))
    return f"SELECT {number} AS file_no, ordinality AS row_no, {values} FROM read_parquet({_q(path)}) WITH ORDINALITY"


def _colons(expr: str) -> str:
    """Keys written in a JSON text, counted as ``":`` less ``":null`` (a null value counts as no key)."""
    return (f"((length({expr}) - length(replace({expr}, '\":', ''))) // 2 "
            f"- (length({expr}) - length(replace({expr}, '\":null', ''))) // 6)")


def scan_sql(sources: list[tuple[int, str, str]], specs: list[KeySpec], breaks: list[int],
             since: float | None, until: float | None, timeline_tz: str | None, *, slow_keys: bool = True,
             common_keys: tuple[str, ...] = _COMMON_KEYS, dedupe: bool = False,
             fields: tuple[str, ...] = _FIELDS,
             rows_of: list[tuple[str | None, str | None, str | None]] | None = None) -> str:
    """The one query: per (file, lane, raw model / id / tier, window, bucket, raw group keys, time keys) a count,
    unit sums and keys seen; the rows outside the fast lane one by one, by row number. ``slow_keys`` False: the
    keys of _SLOW_KEYS are not declared (the JSON reader is several times faster with fewer columns), and the
    caller proves from the keys seen that no line holds one. ``rows_of``: instead, the row number of every
    fast-lane row in the window whose raw (model, model_id, service_tier) is one of these."""
    cols = _Columns()
    # a field the files' first lines never hold is read as NULL (not declared: the reader is faster with fewer
    # columns); a later line holding it has one more key than the query saw, and the survey sends its file to the
    # full query (model and prompt_tokens are always read)
    fields = [cols.col(f) if f in fields or f in ("model", "prompt_tokens") else "NULL" for f in _FIELDS]
    for f in common_keys:
        cols.col(f)
    raw = _Raw()
    times: list[tuple[str, str]] = []
    for spec in specs:
        if spec.kind == "time":
            times.append((f"time_{spec.unit}", _time_key(spec.unit, spec.tz)))
        else:
            _raw_values(spec, cols, raw)
    if timeline_tz is not None:
        times.append(("day", _time_key("day", timeline_tz)))
    slow = [cols.col(k) for k in _SLOW_KEYS] if slow_keys else []
    if dedupe:
        slow += [cols.col(k) for k in _REQUEST_ID_KEYS]
    nested = {cols.col(k) for k in ("metadata", "tags", "request_tags")} | {
        cols.col(s.fields[0]) for s in specs if s.kind == "dotted"}
    # keys seen on a line: one per declared key with a value, and the keys nested in metadata, tags and the roots
    # of dotted group keys; a value of another declared key holding an object is not looked into, so such a line
    # counts fewer keys than the survey and its file is queried again with every key declared
    keys_seen = " + ".join(
        f"(CASE WHEN c_{i} IS NULL THEN 0 ELSE 1 + {_colons(f'c_{i}')} END)" if f"c_{i}" in nested
        else f"(c_{i} IS NOT NULL)::INT" for i in range(len(cols.names)))
    ts_raw = fields[11]
    ts_text = f"({ts_raw} ->> '$')"
    ts = (f"(CASE WHEN {ts_raw} IS NULL THEN NULL "
          f"WHEN left({ts_raw}, 1) = '\"' THEN (CASE WHEN regexp_full_match({ts_text}, {_q(_ISO)}) "
          f"THEN CAST(epoch_us(TRY_CAST({ts_text} AS TIMESTAMPTZ)) AS DOUBLE) / 1000000.0 END) "
          f"ELSE (CASE WHEN tsn > 1e11 THEN tsn / 1000.0 ELSE tsn END) END)")
    window = []
    if since is not None:
        window.append(f"ts >= {since!r}")
    if until is not None:
        window.append(f"ts < {until!r}")
    in_window = "(ts IS NOT NULL AND " + " AND ".join(window) + ")" if window else "true"
    unions = " UNION ALL ".join(_source_sql(n, path, kind, cols) for n, path, kind in sources)
    # a token count is 0 when missing or null, else it must be written as a plain integer
    tokens = ", ".join(f"TRY_CAST({c} AS VARCHAR) AS v{i}, TRY_CAST(TRY_CAST({c} AS VARCHAR) AS BIGINT) AS n{i}"
                       for i, c in enumerate(fields[1:9]))
    token_ok = " AND ".join(f"(v{i} IS NULL OR (n{i} BETWEEN 0 AND {MAX_TOKENS} AND n{i}::VARCHAR = v{i}))"
                            for i in range(8))
    t = [f"COALESCE(n{i}, 0)" for i in range(8)]
    if rows_of is not None:
        wanted = " OR ".join(
            "(" + " AND ".join(f"{c} IS NULL" if v is None else f"{c}::VARCHAR = {_q(v)}"
                               for c, v in zip((fields[0], fields[9], fields[10]), key)) + ")"
            for key in rows_of) or "false"
        tail = f"SELECT file_no, row_no FROM w WHERE fast AND in_window AND ({wanted})"
    else:
        group_select = "".join(f", CASE WHEN fast AND in_window THEN {e} END AS r{i}"
                               for i, e in enumerate(raw.exprs))
        group_select += "".join(f", CASE WHEN fast AND in_window THEN {e} END AS {name}" for name, e in times)
        sums = ", ".join(f"sum({c}) AS s_{c}" for c in UNIT_COLUMNS)
        tail = f"""SELECT file_no, fast, in_window,
  CASE WHEN fast THEN NULL ELSE row_no END AS row_no,
  CASE WHEN fast AND in_window THEN {fields[0]} END AS model,
  CASE WHEN fast AND in_window THEN {fields[9]} END AS model_id,
  CASE WHEN fast AND in_window THEN {fields[10]} END AS tier,
  CASE WHEN fast AND in_window THEN bucket END AS bucket{group_select},
  count(*) AS n, {sums}, sum(keys_seen) AS s_keys, min(ts) AS ts_min, max(ts) AS ts_max
FROM w
GROUP BY ALL"""
    return f"""
WITH src AS ({unions}),
y AS (
  SELECT *, {keys_seen} AS keys_seen, TRY_CAST(TRY_CAST({ts_raw} AS VARCHAR) AS DOUBLE) AS tsn, {tokens}
  FROM src
),
z AS (
  SELECT *, {ts} AS ts,
    -- canonical as reading.shapes.adapt decides it: prompt_tokens set (the JSON reader sees null as unset)
    {fields[0]} IS NOT NULL AND {fields[1]} IS NOT NULL
      AND {' AND '.join(f'{c} IS NULL' for c in slow) or 'true'}
      AND {token_ok}
      AND {t[2]} + {t[3]} <= {t[0]} AND {t[4]} <= {t[1]} AND {t[6]} <= {t[1]} AND {t[5]} <= {t[0]}
      AND {t[7]} <= {t[0]}
      AND (left({fields[9]}, 1) IS DISTINCT FROM '{{') AND (left({fields[10]}, 1) IS DISTINCT FROM '{{')
    AS shape_ok
  FROM y
),
u AS (
  SELECT *,
    shape_ok AND ({ts_raw} IS NULL OR ts BETWEEN {_MIN_TS!r} AND {_MAX_TS!r})
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


# -- the run ------------------------------------------------------------------------------------------------

@dataclass
class _Source:
    number: int
    path: str
    compression: str


def _classify(path: str) -> str | None:
    """How DuckDB reads the file ("none" or "gzip" compressed JSON lines, or "parquet"), or None when it cannot
    read it as Python does."""
    if path == "-":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] == GZIP_MAGIC:
        return "gzip"
    if head == PARQUET_MAGIC:
        return "parquet"
    if text_encoding(head) is not None:
        return None
    return "none"


_JSON_SPACE = b" \t\r\n"


def _lines(path: str, compression: str) -> Iterator[bytes]:
    import gzip

    with (gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")) as f:
        yield from f


@dataclass
class _Survey:
    """What one C-speed pass over a file's bytes says, to check the query against (a few counts, no parsing).

    ``lines``: the lines, as the Python engine numbers them (the reader's rows when no line is blank; else the
    rows are counted line by line). ``keys``: keys written in the file, counted as ``":`` less ``":null`` /
    ``": null``: equal to the keys the query saw only if no line holds a key the query did not declare.
    ``odd_colons``: a key written with white space before its colon, which that count misses.
    """

    lines: int = 0
    keys: int = 0
    odd_colons: int = 0


_PATTERNS = (b"\n", b'":', b'":null', b'": null', b'" :', b'"\t:')
_OVERLAP = max(len(p) for p in _PATTERNS) - 1


def survey(path: str, compression: str) -> _Survey:
    counts = dict.fromkeys(_PATTERNS, 0)
    decompress = zlib.decompressobj(31) if compression == "gzip" else None
    carry, last = b"", b""
    with open(path, "rb") as f:
        while True:
            raw = f.read(1 << 24)
            if decompress is not None:
                data = decompress.decompress(raw) if raw else decompress.flush()
            else:
                data = raw
            if data:
                last = data[-1:]
                window = carry + data
                for pat in _PATTERNS:  # a match inside the carried bytes was counted with the previous chunk
                    counts[pat] += window.count(pat) - carry.count(pat)
                carry = window[-_OVERLAP:]
            if not raw:
                break
    lines = counts[b"\n"] + (1 if last and last != b"\n" else 0)
    return _Survey(lines, counts[b'":'] - counts[b'":null'] - counts[b'": null'], counts[b'" :'] + counts[b'"\t:'])


def count_rows(path: str, compression: str) -> int:
    """The exact number of lines holding more than JSON white space (a row each for DuckDB's reader)."""
    return sum(1 for text in _lines(path, compression) if text.strip(_JSON_SPACE))


def _keys_in(text: bytes) -> int:
    return text.count(b'":') - text.count(b'":null') - text.count(b'": null')


def pick_rows(path: str, compression: str, wanted: list[int], aligned: bool = False
              ) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes) of the non-blank lines numbered ``wanted`` (sorted, 1-based) among the file's
    non-blank lines: the reader's row numbers turned into the line numbers the Python engine reports. ``aligned``:
    the file has no blank line, so rows are lines and whole chunks are skipped by counting newlines."""
    if not wanted:
        return
    if aligned:
        yield from _pick_lines(path, compression, wanted)
        return
    targets = iter(wanted)
    target = next(targets, None)
    row = 0
    for line, text in enumerate(_lines(path, compression), 1):
        if target is None:
            return
        if text.strip(_JSON_SPACE):
            row += 1
            if row == target:
                yield line, text
                target = next(targets, None)


def _pick_lines(path: str, compression: str, wanted: list[int]) -> Iterator[tuple[int, bytes]]:
    import gzip

    targets = iter(wanted)
    target = next(targets, None)
    first, partial = 1, b""  # the number of the line that starts the buffer, and the buffer
    with (gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")) as f:
        while target is not None:
            chunk = f.read(1 << 20)  # small blocks: only those holding a wanted line are split
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


def _query(con: Any, sql: str) -> tuple[list[tuple[Any, ...]], list[str]]:
    import duckdb

    try:
        rows = con.execute(sql).fetchall()
    except duckdb.Error as exc:
        raise Unsupported(f"DuckDB could not read the input ({str(exc).splitlines()[0][:200]})") from None
    return rows, [d[0] for d in con.description]


@dataclass
class _Checked:
    bad: set[int] = field(default_factory=set)  # files the Python engine reads whole
    rescan: set[int] = field(default_factory=set)  # files to query again with every slow key declared
    python_lines: dict[int, list[LineResult]] = field(default_factory=dict)
    aligned: dict[int, bool] = field(default_factory=dict)  # file -> its rows are its lines (no blank line)


def _check(sources: list[_Source], rows: list[tuple[Any, ...]], col: dict[str, int], surveys: dict[int, _Survey],
           run: DuckDBRun, proven: frozenset[int] = frozenset()) -> _Checked:
    """Hold the query's rows against each file's survey: the same rows (else the file goes to Python), the same
    keys (else it is queried again with every slow key declared, unless it already was: ``proven``); and read
    the lines the query left (by row number) with the Python engine's own reader."""
    out = _Checked()
    rows_seen: dict[int, int] = {}
    keys_seen: dict[int, int] = {}
    suspects: dict[int, list[int]] = {}
    unread: dict[int, set[int]] = {}  # rows the JSON reader could not read (no key seen): counted from their text
    for r in rows:
        f = r[col["file_no"]]
        rows_seen[f] = rows_seen.get(f, 0) + r[col["n"]]
        keys = int(r[col["s_keys"]] or 0)
        keys_seen[f] = keys_seen.get(f, 0) + keys
        if r[col["row_no"]] is not None:
            suspects.setdefault(f, []).append(r[col["row_no"]])
            if not keys:
                unread.setdefault(f, set()).add(r[col["row_no"]])
    for s in sources:
        shown = printable_path(s.path)
        if s.compression == "parquet":
            out.python_lines[s.number] = list(read_parquet(s.path, shown, sorted(suspects.get(s.number, []))))
            continue
        sv = surveys[s.number]
        seen = rows_seen.get(s.number, 0)
        aligned = seen == sv.lines
        if not aligned and seen != count_rows(s.path, s.compression):
            out.bad.add(s.number)
            run.python_reasons[shown] = "DuckDB splits its lines differently"
            continue
        out.aligned[s.number] = aligned
        wanted = sorted(suspects.get(s.number, []))
        picked = list(pick_rows(s.path, s.compression, wanted, aligned))
        results = list(parse_numbered(shown, picked))
        if any(getattr(x, "dedup_key", None) is not None for x in results):
            out.bad.add(s.number)
            run.python_reasons[shown] = "a Claude Code transcript (messages de-duplicated)"
            continue
        unread_rows = unread.get(s.number, set())
        keys = keys_seen.get(s.number, 0) + sum(_keys_in(text) for row, (_, text) in zip(wanted, picked)
                                                  if row in unread_rows)
        if s.number not in proven and (sv.odd_colons or keys != sv.keys):
            out.rescan.add(s.number)
        out.python_lines[s.number] = results
    return out


def _read_raw(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


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


def _place(raw: dict[str, Any], place: tuple[str, ...], value: Any) -> None:
    """Put a raw group-key value where the record's own dict would hold it (``("metadata", "team")``...)."""
    if value is None:
        return
    for part in place[:-1]:
        raw = raw.setdefault(part, {})
    raw[place[-1]] = value


def run_aggregate(engine: PricingEngine, paths: list[str], specs: list[KeySpec], *, since: float | None = None,
                  until: float | None = None, timeline_tz: str | None = None, threads: int | None = None,
                  memory_limit: str = "1GB", dedupe: bool = False) -> DuckDBRun:
    """Price ``paths`` for an aggregate report; see the module docstring. Raises ``Unsupported``."""
    import importlib.util

    if importlib.util.find_spec("duckdb") is None:  # pragma: no cover - a run-time dependency
        raise Unsupported("the duckdb package is not installed")
    run = DuckDBRun()
    sources: list[_Source] = []
    for path in paths:
        compression = _classify(path)
        if compression is None:
            run.files.append(("python", path))
            run.python_reasons[printable_path(path)] = "not a plain or gzip-compressed UTF-8 file"
            continue
        if os.path.getsize(path) == 0:
            run.files.append(("duckdb", path, []))
            continue
        source = _Source(len(sources), path, compression)
        sources.append(source)
        run.files.append(("duckdb", path, source))
    if not sources:
        return run
    breaks = global_breaks(engine)
    # the keys the files' first lines hold decide what the JSON reader is asked for (fewer columns: faster);
    # a later line with another key is caught by the survey, and its file read again with every key declared
    samples = [_sample_keys(s.path, s.compression) if s.compression != "parquet"
               else (set(parquet_columns(s.path)), None) for s in sources]
    sampled = set().union(*(keys for keys, _ in samples))
    run.first_raw = next((first for _, first in samples if first), None)
    query = {"specs": specs, "breaks": breaks, "since": since, "until": until, "timeline_tz": timeline_tz,
             "common_keys": tuple(k for k in _COMMON_KEYS if k in sampled),
             "fields": tuple(f for f in _FIELDS if f in sampled),
             # with de-duplication on, a record with a request id is priced by the Python engine, which counts
             # each id once across all inputs (--no-dedupe leaves such records to DuckDB)
             "dedupe": dedupe}
    slow_first = not sampled.isdisjoint(_SLOW_KEYS)
    # a byte-level survey of each file runs beside the query (DuckDB releases the GIL while it works)
    surveys: dict[int, _Survey] = {}

    def survey_all() -> None:
        for s in sources:
            if s.compression != "parquet":  # a Parquet file's rows and columns are what DuckDB reads
                surveys[s.number] = survey(s.path, s.compression)

    surveyor = threading.Thread(target=survey_all, daemon=True)
    surveyor.start()
    with tempfile.TemporaryDirectory(prefix="costcalc-duckdb-") as spill:
        con = _connect(memory_limit, spill, threads)
        try:
            rows, names = _query(con, scan_sql(_listed(sources), slow_keys=slow_first, **query))  # type: ignore[arg-type]
            surveyor.join()
            col = {name: i for i, name in enumerate(names)}
            # with every slow key declared, no line can hide one: nothing to prove by counting keys
            checked = _check(sources, rows, col, surveys, run,
                             proven=frozenset(s.number for s in sources) if slow_first else frozenset())
            if checked.rescan:
                # a file holding a key the fast query did not declare: read again, every slow key declared
                again = [s for s in sources if s.number in checked.rescan]
                full = {**query, "fields": _FIELDS, "common_keys": _COMMON_KEYS}
                more, _ = _query(con, scan_sql(_listed(again), **full))  # type: ignore[arg-type]
                rows = [r for r in rows if r[col["file_no"]] not in checked.rescan] + more
                checked = _check(sources, rows, col, surveys, run, proven=frozenset(checked.rescan))
            python_lines = checked.python_lines
            good = [r for r in rows if r[col["file_no"]] not in checked.bad and r[col["fast"]]]
            routed = _fold(engine, run, good, col, specs, breaks)
            if routed:
                _route_to_python(con, sources, checked, routed, query)
        finally:
            surveyor.join()
            con.close()
    for i, entry in enumerate(run.files):
        if entry[0] == "duckdb" and isinstance(entry[2], _Source):
            s = entry[2]
            run.files[i] = ("python", s.path) if s.number in checked.bad else ("duckdb", s.path,
                                                                                 python_lines.get(s.number, []))
    return run


def _sample_keys(path: str, compression: str, lines: int = 200) -> tuple[set[str], dict[str, Any] | None]:
    """The top-level keys of a file's first lines, and its first object."""
    keys: set[str] = set()
    first = None
    for n, text in enumerate(_lines(path, compression)):
        if n >= lines:
            break
        with contextlib.suppress(orjson.JSONDecodeError):
            obj = orjson.loads(text)
            if isinstance(obj, dict):
                keys.update(obj)
                first = first or obj
    return keys, first


def _listed(sources: list[_Source]) -> list[tuple[int, str, str]]:
    return [(s.number, s.path, s.compression) for s in sources]


def _fold(engine: PricingEngine, run: DuckDBRun, rows: list[tuple[Any, ...]], col: dict[str, int],
          specs: list[KeySpec], breaks: list[int]) -> list[tuple[str | None, str | None, str | None]]:
    """Turn the fast-lane sums into SumRows and unpriced counts; return the raw (model, id, tier) whose records
    the Python engine must price instead (a value it would reject, or a card SQL does not price)."""
    readings: dict[tuple[Any, ...], Key | None] = {}
    for r in rows:
        if not r[col["in_window"]]:
            continue
        raw_key = (r[col["model"]], r[col["model_id"]], r[col["tier"]])
        if raw_key not in readings:
            model, model_id, tier = _read_model(raw_key[0]), _read_id(raw_key[1]), _read_id(raw_key[2])
            readings[raw_key] = None if model is None or model_id is _INVALID or tier is _INVALID \
                else (model, model_id, tier)
    keys = sorted({k for k in readings.values() if k is not None}, key=lambda k: (k[0], k[1] or "", k[2] or ""))
    cards = run.cards = compile_rate_cards(engine, keys)
    by_key = {k.key: k for k in cards.keys}
    bands_of: dict[Key, list[int] | None] = {
        k.key: bucket_bands(k, breaks) for k in cards.keys if k.status == "bands"}
    routed = {raw_key for raw_key, key in readings.items() if key is None or by_key[key].status == "python"
              or (by_key[key].status == "bands" and bands_of[key] is None)}
    raw_cols = sorted((c for c in col if c.startswith("r") and c[1:].isdigit()), key=lambda c: int(c[1:]))
    places = _places(specs)
    unpriced: dict[Key, int] = {}
    for r in rows:
        n = r[col["n"]]
        if not r[col["in_window"]]:
            run.filtered += n
            continue
        raw_key = (r[col["model"]], r[col["model_id"]], r[col["tier"]])
        if raw_key in routed:
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
            _place(raw, place, _read_raw(r[col[c]]))
        times = {name[5:]: r[col[name]] for name in col if name.startswith("time_")}
        # TOKEN_PARTS: input, uncached input, cache read, 5-minute and 1-hour writes (none in the fast lane),
        # output, reasoning
        tokens = (s["p"], s["text_t"], s["cr"], s["cw"], 0, s["c"], s["rea"])
        run.sums.append(SumRow(key[0], ck.sheet, raw, times, band, n,  # type: ignore[index]
                               units_for(ck.variant, ck.routing_fee, s), tokens,
                               r[col["day"]] if "day" in col else None, r[col["ts_min"]], r[col["ts_max"]]))
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


def _connect(memory_limit: str, spill: str | None, threads: int | None) -> Any:
    """A private in-memory database: bounded memory, spilling to ``spill``; naive ISO times read as UTC."""
    import duckdb

    config: dict[str, Any] = {"memory_limit": memory_limit, "preserve_insertion_order": True}
    if spill is not None:
        config["temp_directory"] = spill
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    con.execute("SET TimeZone = 'UTC'")
    return con


def _route_to_python(con: Any, sources: list[_Source], checked: _Checked,
                     routed: list[tuple[str | None, str | None, str | None]], query: dict[str, Any]) -> None:
    """Fast-lane records the Python engine must price: their row numbers by a second, narrow query, then read
    and priced like any other line the query left."""
    wanted = [s for s in sources if s.number not in checked.bad]
    if not wanted:
        return
    python_lines = checked.python_lines
    rows, _ = _query(con, scan_sql(_listed(wanted), rows_of=routed,
                                   **{**query, "fields": _FIELDS, "common_keys": _COMMON_KEYS}))
    extra: dict[int, list[int]] = {}
    for file_no, row_no in rows:
        extra.setdefault(file_no, []).append(row_no)
    for s in wanted:
        if s.number in extra:
            shown = printable_path(s.path)
            results = list(read_parquet(s.path, shown, sorted(extra[s.number]))) if s.compression == "parquet" \
                else list(parse_numbered(shown, pick_rows(s.path, s.compression, sorted(extra[s.number]),
                                                          checked.aligned.get(s.number, False))))
            python_lines[s.number] = sorted(python_lines.get(s.number, []) + results, key=lambda x: x.line)
