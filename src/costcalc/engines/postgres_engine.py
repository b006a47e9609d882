"""The PostgreSQL engine: price LiteLLM's spend logs inside its own database, so only aggregates cross the network.

One query over the export rows (``reading.postgres.export_sql``: the same rows, columns and names a JSONL export
holds) sorts every row into one of three lanes, exactly as ``reading.shapes.litellm_spend_log`` would read it:

- **skip**: proxy cache hits and failed requests (both booked at $0): counted, as Python skips
  them (no timestamp, so outside any --since/--until window too).
- **fast**: rows whose token parts SQL reads exactly: the prompt and completion columns, and from
  ``metadata.usage_object`` (else ``additional_usage_values``) cached, cache-write (and 1-hour cache-write),
  audio, image and reasoning tokens written as whole numbers, a string service tier, a plain ``spend``, and none
  of the rarer parts with rates of their own (image output, cached audio/image, citations, searches, built-in
  tool charges, ``inference_geo``, ``speed``) nor batch call types. The query sums their integer units
  (engines/sqlunits.py: LiteLLM's clamps per row) per (model_group, model, provider, model_id, tier, prompt-size bucket,
  --since/--until window, ``spend`` present, raw group-key values, time keys); Python reads each distinct model
  text as the spend-log shape reads it, applies the rate card's exact decimal rates once per group and band
  (engines/ratecards.py, pricing/exact.py) and keys groups with the report's own key functions.
- **slow**: every other row (odd metadata types, counts the Python reader would reject or that need its rules),
  and the fast rows of rate cards SQL does not price (off-peak hours, per-second prices, a band edge inside a
  bucket, a model text Python would reject): a second query streams just those rows, numbered in export order,
  and the Python engine prices them, so every rejection names the same row as a streamed run.

Both queries run in one READ ONLY, REPEATABLE READ transaction: they see one snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import orjson

from ..reading.jsonl import MAX_JSON_DEPTH
from ..reading.postgres import DatabaseSource, answer_within, export_sql, query_error, stream_rows
from ..reading.records import MAX_AMOUNT, MAX_DURATION_S, MAX_TOKENS, LineResult
from ..reading.shapes import _TEXT_COMPLETION_CALL_TYPES
from ..reading.shapes import _TOKEN_CALL_TYPES as TOKEN_ONLY_CALL_TYPES
from .contract import KeySpec, SumRow, place_raw
from .ratecards import Key, RateCards, compile_rate_cards
from .sqlunits import UNIT_COLUMNS, bucket_bands, global_breaks, time_key, unit_ctes, units_for
from .streaming import NotPriced, PricingEngine

# the spend-log shape's call types billed per token (reading/shapes.py); batches and the call types priced by
# other units take the slow lane (the Python engine prices them or says why not), and so do text completions,
# whose rate key may depend on the call type (Resolver.resolve_text_completion), and pass-through calls (a
# declared endpoint's cost_per_request)
_TOKEN_CALL_TYPES = tuple(sorted(TOKEN_ONLY_CALL_TYPES - _TEXT_COMPLETION_CALL_TYPES - {"pass_through_endpoint"}))
RawKey = tuple[str | None, str | None, str | None, str | None, str | None]  # group, model, provider, id, tier


def _q(text: str, conn: Any = None) -> str:
    """A string literal by psycopg's quoting: with ``conn``, libpq's own for that server's settings; without, a
    form (``E'...'`` when it holds a backslash) that reads the same whatever ``standard_conforming_strings`` is."""
    from psycopg import sql

    return sql.Literal(text).as_string(conn)


def _ident(name: str) -> str:
    from psycopg import sql

    return sql.Identifier(name).as_string(None)


def _path(parts: tuple[str, ...] | list[str], conn: Any = None) -> str:
    """A JSON path for ``#>``: an array of quoted keys (a key may hold quotes, commas, braces)."""
    return "ARRAY[" + ", ".join(_q(p, conn) for p in parts) + "]::text[]"


def _brackets(x: str) -> str:
    """The '{' and '[' in a jsonb value's text: at most MAX_JSON_DEPTH - 2 of them, and the row (an object
    holding the value) is within the depth every engine reads; rows with more go to Python, which decides."""
    return f"COALESCE(length({x}::text) - length(translate({x}::text, '{{[', '')), 0)"


def _absent(x: str) -> str:
    return f"(COALESCE(jsonb_typeof({x}), 'null') = 'null')"


def _object(x: str) -> str:
    return f"(COALESCE(jsonb_typeof({x}), 'null') IN ('object', 'null'))"


def _no_text(x: str) -> str:
    return f"(CASE WHEN jsonb_typeof({x}) = 'string' THEN ({x} #>> '{{}}') = '' ELSE {_absent(x)} END)"


# Token counts the spend-log shape reads from the usage object (d), its prompt (pd) and completion (cd) details:
# the ones SQL sums, and the ones that must be absent or 0 for SQL to price the row (rates of their own).
_COUNTS = {"cr": "pd->'cached_tokens'", "cwt": "pd->'cache_write_tokens'", "cct": "pd->'cache_creation_tokens'",
           "ai": "pd->'audio_tokens'", "ii": "pd->'image_tokens'", "rea": "cd->'reasoning_tokens'",
           "ao": "cd->'audio_tokens'", "tr": "d->'cache_read_input_tokens'", "tw": "d->'cache_creation_input_tokens'",
           "dp": "d->'prompt_tokens'", "dc": "d->'completion_tokens'",
           "h": "pd->'cache_creation_token_details'->'ephemeral_1h_input_tokens'"}
_ZEROS = {"z1": "pd->'cached_tokens_details'->'audio_tokens'", "z2": "pd->'cached_tokens_details'->'image_tokens'",
          "z4": "cd->'image_tokens'", "z7": "cd->'video_tokens'",
          "z5": "d->'citation_tokens'", "z6": "pd->'web_search_requests'",
          # built-in tool charges (pricing/tools.py): searches the usage reports, a tool charge the proxy booked
          "z8": "d->'server_tool_use'->'web_search_requests'",
          "z9": "d->'server_side_tool_usage_details'->'web_search_calls'",
          "z11": "pd->'google_maps_grounding_requests'",
          "z10": "(CASE WHEN jsonb_typeof(e.metadata) = 'object' "
                 "THEN e.metadata->'cost_breakdown'->'tool_usage_cost' END)"}


def lanes_sql(columns: frozenset[str], *, numbered: bool = False, repeated: set[str] | None = None) -> str:
    """CTEs ``e`` (the export rows; with ``n``, their number in export order, when ``numbered``) to ``k`` (each
    row's ``skip`` reason, ``fast_ok`` flag, the eight token columns sqlunits reads, and ``tier``). A row whose
    request id is one of ``repeated`` is not fast_ok: the Python engine keeps the first of them. Each step
    computes its columns once (OFFSET 0 keeps the planner from inlining one step into the next, where the nested
    expressions would grow a thousandfold)."""
    export = export_sql(columns)
    if numbered:
        export = export.replace("SELECT ", 'SELECT row_number() OVER (ORDER BY s."startTime", s.request_id) AS n, ',
                                1)
    tokens = ", ".join(_q(c) for c in _TOKEN_CALL_TYPES)
    fields = {**_COUNTS, **_ZEROS}
    typed = ",\n    ".join(f"jsonb_typeof({x}) AS t_{f}, CASE WHEN jsonb_typeof({x}) = 'number' THEN ({x})::numeric "
                           f"END AS v_{f}" for f, x in fields.items())
    whole = "v_{f} >= 0 AND v_{f} <= " + str(MAX_TOKENS) + " AND v_{f} = trunc(v_{f})"
    read = ",\n    ".join(
        f"(COALESCE(t_{f}, 'null') = 'null' OR ({whole.format(f=f)})) AS ok_{f}, "
        f"CASE WHEN {whole.format(f=f)} THEN v_{f}::bigint ELSE 0 END AS n_{f}" for f in _COUNTS)
    read += ",\n    " + ",\n    ".join(f"(COALESCE(t_{f}, 'null') = 'null' OR v_{f} = 0) AS ok_{f}" for f in _ZEROS)
    objects = " AND ".join(_object(x) for x in (
        "e.metadata", "d", "pd", "cd", "pd->'cached_tokens_details'", "pd->'cache_creation_token_details'"))
    p, c = "COALESCE(prompt_tokens, 0)", "COALESCE(completion_tokens, 0)"
    cw = "(CASE WHEN n_cwt <> 0 THEN n_cwt ELSE n_cct END)"
    once = (f"AND COALESCE(request_id NOT IN ({', '.join(_q(r) for r in sorted(repeated))}), true)" if repeated
            else "")
    fast = f"""shape_ok {once} AND {" AND ".join(f"ok_{f}" for f in fields)}
      AND (n_tr = 0 OR n_tr = n_cr) AND (n_tw = 0 OR n_tw = {cw})
      AND (COALESCE(t_dp, 'null') = 'null' OR n_dp = {p}) AND (COALESCE(t_dc, 'null') = 'null' OR n_dc = {c})
      AND n_cr + {cw} <= {p} AND n_h <= {cw} AND n_rea <= {c} AND n_ao <= {c} AND n_ai <= {p} AND n_ii <= {p}"""
    shape_ok = f"""(CASE WHEN COALESCE(e.model_group, '') <> '' THEN e.model_group ~ '[^[:space:]]'
           ELSE COALESCE(e.model, '') ~ '[^[:space:]]' END)
      AND (COALESCE(e.call_type, '') = '' OR e.call_type IN ({tokens}))
      AND {objects}
      AND COALESCE(jsonb_typeof(e.request_tags), 'null') IN ('array', 'null')
      AND {_brackets("e.metadata")} + {_brackets("e.request_tags")} <= {MAX_JSON_DEPTH - 2}
      AND {_absent("d->'prompt_cache_hit_tokens'")}
      AND {_no_text("d->'inference_geo'")} AND {_no_text("d->'speed'")}
      AND COALESCE(jsonb_typeof(tsrc), 'null') IN ('string', 'null')
      AND (e.spend IS NULL OR (e.spend >= 0 AND e.spend <= {MAX_AMOUNT!r}))
      AND (e."startTime" IS NULL OR e."startTime" >= '1000-01-01')
      AND (e."startTime" IS NULL OR e."endTime" IS NULL OR (e."endTime" >= e."startTime"
           AND e."endTime" - e."startTime" <= interval '{int(MAX_DURATION_S)} seconds'))"""
    return f"""e AS ({export}),
d0 AS (
  SELECT e.*, CASE WHEN jsonb_typeof(e.metadata) = 'object' THEN
    CASE WHEN {_absent("e.metadata->'usage_object'")} THEN e.metadata->'additional_usage_values'
         ELSE e.metadata->'usage_object' END END AS d
  FROM e OFFSET 0
),
d1 AS (
  SELECT d0.*, d->'prompt_tokens_details' AS pd, d->'completion_tokens_details' AS cd,
    CASE WHEN jsonb_typeof(metadata->'cost_breakdown') = 'object'
              AND COALESCE(jsonb_typeof(metadata->'cost_breakdown'->'total_cost'), 'null') <> 'null'
         THEN metadata->'cost_breakdown'->'service_tier' ELSE d->'service_tier' END AS tsrc
  FROM d0 OFFSET 0
),
d2 AS (
  SELECT e.*, {shape_ok} AS shape_ok,
    CASE WHEN jsonb_typeof(tsrc) = 'string' THEN NULLIF(tsrc #>> '{{}}', '') END AS tier,
    {typed}
  FROM d1 e OFFSET 0
),
d3 AS (
  SELECT d2.*,
    {read}
  FROM d2 OFFSET 0
),
k AS (
  SELECT d3.*,
    CASE WHEN lower(cache_hit) = 'true' THEN 'cache'
         WHEN status = 'failure' THEN 'failure' END AS skip,
    {fast} AS fast_ok,
    {p} AS p, {c} AS c, n_cr AS cr, {cw} AS cw, n_rea AS rea, n_ai AS ai, n_ao AS ao, n_ii AS ii, n_h AS h
  FROM d3 OFFSET 0
)"""


def _time_key(unit: str, tz: str) -> str:
    return time_key("postgres", unit, tz, "timezone('UTC', \"startTime\")", '"startTime"')


def _raw_values(spec: KeySpec, columns: set[str], conn: Any = None) -> list[tuple[tuple[str, ...], str]]:
    """(place in the record's dict, SQL for the raw JSON text there) for one group key."""
    def top(name: str) -> str:
        return f"to_jsonb({_ident(name)})::text" if name in columns else "NULL::text"

    def meta(*path: str) -> str:
        return f"(metadata #> {_path(path, conn)})::text"

    out: list[tuple[tuple[str, ...], str]] = []
    if spec.kind == "record":
        out += [((f,), top(f)) for f in spec.fields]
        out += [(("metadata", f), meta(f)) for f in spec.fields]
    elif spec.kind == "tags":
        out += [(("request_tags",), top("request_tags")), (("metadata", "tags"), meta("tags"))]
    elif spec.kind == "dotted":
        root, rest = spec.fields[0], spec.fields[1:]
        if not rest or root not in columns:
            out.append((spec.fields, top(root)))
        else:
            out.append((spec.fields, f"(to_jsonb({_ident(root)}) #> {_path(rest, conn)})::text"))
    return out


def export_columns(columns: frozenset[str]) -> set[str]:
    from ..reading.postgres import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

    return {c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c != "api_key"} | {"team", "key", "org"}


def aggregate_sql(columns: frozenset[str], specs: list[KeySpec], breaks: list[int], since: float | None,
                  until: float | None, timeline_tz: str | None, repeated: set[str] | None = None,
                  conn: Any = None) -> tuple[str, list[tuple[str, ...]], list[str]]:
    """The pricing query, the places of its raw group-key columns (r0, r1, ...) and its time-key columns
    (``conn``: the connection whose server settings literals are quoted for)."""
    cols = export_columns(columns)
    raws: list[tuple[tuple[str, ...], str]] = []
    times: list[tuple[str, str]] = []
    for spec in specs:
        if spec.kind == "time":
            times.append((f"time_{spec.unit}", _time_key(spec.unit, spec.tz)))
        else:
            for place, expr in _raw_values(spec, cols, conn):
                if place not in [p for p, _ in raws]:
                    raws.append((place, expr))
    if timeline_tz is not None:
        times.append(("day", _time_key("day", timeline_tz)))
    in_window = _window(since, until)
    keep = "fast AND in_window"
    group_select = "".join(f",\n  CASE WHEN {keep} THEN {e} END AS r{i}" for i, (_, e) in enumerate(raws))
    group_select += "".join(f",\n  CASE WHEN {keep} THEN {e} END AS {name}" for name, e in times)
    sums = ", ".join(f"sum({c}) AS s_{c}" for c in (*UNIT_COLUMNS, "h"))
    sql = f"""WITH {lanes_sql(columns, repeated=repeated)},
v AS (
  SELECT k.*, skip IS NULL AND fast_ok AS fast, {in_window} AS in_window FROM k
),
{unit_ctes("v", breaks)}
SELECT CASE WHEN skip IS NOT NULL THEN 'skip' WHEN fast THEN 'fast' ELSE 'slow' END AS lane, skip,
  CASE WHEN fast THEN in_window END AS in_window,
  CASE WHEN {keep} THEN model_group END AS model_group,
  CASE WHEN {keep} THEN model END AS model,
  CASE WHEN {keep} THEN custom_llm_provider END AS provider,
  CASE WHEN {keep} THEN model_id END AS model_id,
  CASE WHEN {keep} THEN tier END AS tier,
  CASE WHEN {keep} THEN bucket END AS bucket,
  CASE WHEN {keep} THEN spend IS NOT NULL END AS recorded,
  CASE WHEN skip IS NULL AND NOT fast THEN request_id END AS slow_id{group_select},
  count(*) AS n, {sums},
  (sum(CASE WHEN {keep} THEN spend::text::numeric END))::text AS s_spend,
  (min(CASE WHEN {keep} THEN extract(epoch FROM "startTime") END))::text AS ts_min,
  (max(CASE WHEN {keep} THEN extract(epoch FROM "startTime") END))::text AS ts_max
FROM w
GROUP BY {", ".join(str(i) for i in range(1, 12 + len(raws) + len(times)))}"""
    return sql, [p for p, _ in raws], [name for name, _ in times]


def _utc(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def routed_pick(routed: list[RawKey], since: float | None, until: float | None, conn: Any = None) -> str:
    """The rows the Python engine prices: every slow row, and the fast rows of ``routed`` keys (values from the
    database, quoted by psycopg for ``conn``'s server)."""
    keyed = []
    for key in routed:
        parts = [f"{c} IS NULL" if v is None else f"{c} = {_q(v, conn)}"
                 for c, v in zip(("model_group", "model", "custom_llm_provider", "model_id", "tier"), key)]
        keyed.append("(" + " AND ".join(parts) + ")")
    fast_routed = " OR ".join(keyed) or "false"
    # routed rows outside the window were counted as filtered by the pricing query
    window = _window(since, until)
    return f"skip IS NULL AND (NOT fast_ok OR (({fast_routed}) AND {window}))"


def _window(since: float | None, until: float | None) -> str:
    window = []
    if since is not None:
        window.append(f"\"startTime\" >= {_q(_utc(since))}::timestamp")
    if until is not None:
        window.append(f"\"startTime\" < {_q(_utc(until))}::timestamp")
    return "(\"startTime\" IS NOT NULL AND " + " AND ".join(window) + ")" if window else "true"


def _read_model(group: str | None, model: str | None, provider: str | None) -> str | None:
    """The model the spend-log shape prices for these column values; None when it would reject the row."""
    name = group or None
    if name is None:
        if model is None or not model.strip():
            return None
        backend = model.strip()
        name = f"{provider}/{backend}" if provider and not backend.startswith(f"{provider}/") else backend
    return name.strip() or None


@dataclass
class PostgresRun:
    """What one in-database run produced, for the report builder."""

    sums: list[SumRow] = field(default_factory=list)
    unpriced: list[tuple[NotPriced, int]] = field(default_factory=list)
    skipped: int = 0
    filtered: int = 0
    slow_rows: int = 0
    python_lines: Iterator[LineResult] | None = None  # the rows Python prices (streamed; consume before closing)
    cards: RateCards | None = None


def run_aggregate(engine: PricingEngine, conn: Any, source: DatabaseSource, columns: frozenset[str],
                  specs: list[KeySpec], *, since: float | None = None, until: float | None = None,
                  timeline_tz: str | None = None, repeated: set[str] | None = None) -> PostgresRun:
    """Price the spend logs for an aggregate report inside the database; see the module docstring.
    ``repeated``: the request ids more than one row carries (reading.postgres.repeated_request_ids), whose rows
    the Python engine prices (it keeps the first of each, in export order)."""
    import psycopg

    breaks = global_breaks(engine)
    sql, places, time_names = aggregate_sql(columns, specs, breaks, since, until, timeline_tz, repeated, conn)
    try:
        with answer_within(conn, source), conn.cursor() as cur:
            cur.execute("SET LOCAL work_mem = '64MB'")  # room to hash the groups rather than sort every row
            cur.execute(sql)
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
    except psycopg.Error as exc:
        raise query_error(source, exc) from None
    col = {name: i for i, name in enumerate(names)}
    run = PostgresRun()
    slow_ids: list[str] = []
    readings: dict[RawKey, Key | None] = {}
    fast = []
    for r in rows:
        lane, n = r[col["lane"]], r[col["n"]]
        if lane == "skip":
            run.skipped += n
        elif lane == "slow":
            run.slow_rows += n
            slow_ids.append(r[col["slow_id"]])
        elif not r[col["in_window"]]:
            run.filtered += n
        else:
            fast.append(r)
            raw_key = (r[col["model_group"]], r[col["model"]], r[col["provider"]], r[col["model_id"]],
                       r[col["tier"]])
            if raw_key not in readings:
                model = _read_model(*raw_key[:3])
                readings[raw_key] = None if model is None else (model, raw_key[3] or None, raw_key[4])
    keys = sorted({k for k in readings.values() if k is not None}, key=lambda k: (k[0], k[1] or "", k[2] or ""))
    cards = run.cards = compile_rate_cards(engine, keys)
    by_key = {k.key: k for k in cards.keys}
    bands_of = {k.key: bucket_bands(k, breaks) for k in cards.keys if k.status == "bands"}

    def to_python(key: Key | None) -> bool:
        if key is None:
            return True
        ck = by_key[key]
        # a card priced per second prices rows with a duration: Python reads the row's start and end times
        return ck.status == "python" or (ck.status == "unpriced" and ck.sheet is not None) or (
            ck.status == "bands" and bands_of[key] is None)

    routed = sorted((raw for raw, key in readings.items() if to_python(key)),
                    key=lambda k: tuple(x or "" for x in k))
    unpriced: dict[Key, int] = {}
    for r in fast:
        raw_key = (r[col["model_group"]], r[col["model"]], r[col["provider"]], r[col["model_id"]], r[col["tier"]])
        key = readings[raw_key]
        if key is None or to_python(key):
            continue
        ck = by_key[key]
        n = r[col["n"]]
        if ck.status == "unpriced":
            unpriced[key] = unpriced.get(key, 0) + n
            continue
        band = cards.bands[bands_of[key][r[col["bucket"]]]]  # type: ignore[index]
        s = {c: int(r[col[f"s_{c}"]] or 0) for c in UNIT_COLUMNS}
        raw: dict[str, Any] = {}
        for i, place in enumerate(places):
            text = r[col[f"r{i}"]]
            place_raw(raw, place, None if text is None else orjson.loads(text))
        times = {name[5:]: r[col[name]] for name in time_names if name.startswith("time_")}
        units = list(units_for(ck.variant, ck.routing_fee, s))
        if ck.variant != "text_only":  # 1-hour writes at their own rate (text-only formulas bill them as 5-minute)
            h = int(r[col["s_h"]] or 0)
            units[4], units[5] = units[4] - h, h
        h = int(r[col["s_h"]] or 0)
        # reports.aggregate.TOKEN_PARTS: input, uncached input, cache read, 5-minute and 1-hour writes, output,
        # reasoning
        tokens = (s["p"], s["text_t"], s["cr"], s["cw"] - h, h, s["c"], s["rea"])
        row = SumRow(key[0], ck.sheet, raw, times, band, n, tuple(units), tokens,
                     r[col["day"]] if "day" in col else None,
                     *(None if r[col[c]] is None else float(Decimal(r[col[c]])) for c in ("ts_min", "ts_max")))
        if r[col["recorded"]]:
            row.recorded = Decimal(r[col["s_spend"]])
        run.sums.append(row)
    for key, n in unpriced.items():
        run.unpriced.append((by_key[key].not_priced, n))  # type: ignore[arg-type]
    if routed or repeated:  # the lanes again, to find the fast rows of these keys (and the slow rows with them;
        # rows that share a request id are found by their number, not by the id)
        run.python_lines = stream_rows(conn, source, columns, pick=routed_pick(routed, since, until, conn),
                                       lanes=lanes_sql(columns, numbered=True, repeated=repeated))
    elif slow_ids:
        run.python_lines = stream_rows(conn, source, columns, ids=slow_ids)
    return run
