"""LiteLLM spend-log rows and standard logging payloads in the DuckDB engine's scan: each line read as
reading.shapes.litellm_spend_log reads it, as the PostgreSQL engine reads the same rows inside the database
(engines/postgres_engine.py ``lanes_sql``).

A file whose first lines are mostly of this shape is scanned with ``source_sql``, which turns each of its lines
into the row a canonical line makes for the main query (duckdb_engine.scan_sql): the model priced (``model_group``,
else ``custom_llm_provider/model``), the token parts from ``metadata.usage_object`` (else
``metadata.additional_usage_values``; ``metadata`` a JSON object or its text), the service tier LiteLLM billed
(``metadata.cost_breakdown`` or a payload's ``cost_breakdown`` before the usage object's own), ``startTime`` as
the timestamp, ``spend`` (else ``response_cost``) as the recorded cost, and ``metadata`` and ``request_tags``
parsed for the group keys. Proxy cache hits and failures are counted as skipped (the proxy books them at $0);
every line the query cannot vouch for is left to the Python engine, which reads it from the file: another shape,
a call type not billed per token (images, speech, batches) or a text completion, counts that are not plain
integers, a token part with rates of its own (1-hour cache writes, cached audio, citations, ...), metadata that is
not a JSON object, a repeated key, an object nested in the line itself (a payload's metadata), anything DuckDB's
JSON reader takes and JSON does not.

What a row costs: DuckDB's JSON functions parse their argument on every call, so the scan parses each line once
(``json_transform`` of every key it reads, ``metadata`` as a string rather than written out again as JSON) and
the metadata text once. The checks that keep the Python engine's reading are cheap for the common line: its keys
in an order the file's first lines hold (a parsed object's keys, so without repeats) and nothing in its text that
one regular expression flags (a nested object, a trailing comma, NaN or Infinity); any other line is checked
exactly. A regular expression over a line costs about what one substring search does, so the checks are few
expressions, not many searches.
"""

from __future__ import annotations

from typing import Any

from ..reading.jsonl import MAX_JSON_DEPTH, max_line_bytes
from ..reading.records import MAX_AMOUNT, MAX_DURATION_S, MAX_TOKENS
from ..reading.shapes import _TEXT_COMPLETION_CALL_TYPES, _TOKEN_CALL_TYPES
from .duckdb_files import epoch_sql, request_id_sql, sql_ident, sql_text

# the top-level keys every line is read for (besides the group keys)
_TOP = ("model_group", "model", "custom_llm_provider", "call_type", "cache_hit", "status", "prompt_tokens",
        "completion_tokens", "model_id", "startTime", "endTime", "spend", "response_cost", "metadata",
        "request_tags", "request_id", "id", "api_requests", "date", "duration_s", "response_time_ms",
        "cost_breakdown")
# in the usage object (d): the token counts reading.shapes.chat_details reads; the first eight are summed or
# checked, the rest must be 0 or absent (parts with rates of their own, which the query does not price)
_USAGE = {
    "dp": "prompt_tokens", "dc": "completion_tokens", "tr": "cache_read_input_tokens",
    "tw": "cache_creation_input_tokens", "cr": "prompt_tokens_details.cached_tokens",
    "cwt": "prompt_tokens_details.cache_write_tokens", "cct": "prompt_tokens_details.cache_creation_tokens",
    "ai": "prompt_tokens_details.audio_tokens", "ii": "prompt_tokens_details.image_tokens",
    "rea": "completion_tokens_details.reasoning_tokens", "ao": "completion_tokens_details.audio_tokens",
    "z1": "prompt_tokens_details.cached_tokens_details.audio_tokens",
    "z2": "prompt_tokens_details.cached_tokens_details.image_tokens",
    "z3": "prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens",
    "z4": "completion_tokens_details.image_tokens", "z5": "completion_tokens_details.video_tokens",
    "z6": "citation_tokens", "z7": "prompt_tokens_details.web_search_requests",
}
# objects inside the usage object: each must be an object or absent, and hold no repeated key
_USAGE_OBJECTS = ("prompt_tokens_details", "completion_tokens_details", "prompt_tokens_details.cached_tokens_details",
                  "prompt_tokens_details.cache_creation_token_details")
_USAGE_OTHER = ("prompt_cache_hit_tokens", "inference_geo", "speed", "service_tier",
                # built-in tool use (reading/tools.py): any of these, even 0, makes the Python engine read the row's
                # tools, so a row holding one takes the slow lane
                "server_tool_use", "server_side_tool_usage_details",
                "prompt_tokens_details.google_maps_grounding_requests")
# a recorded cost is summed exactly as a DECIMAL with this many places: a cost whose shortest repr has more takes
# the slow lane
_SPEND_PLACES = 18
# what a spend-log line's text may not hold for DuckDB to read it as the Python engine does: a trailing comma (also
# inside the metadata text, where white space may be written as an escape), a \u escape of a surrogate or a
# control character below 0x20 (orjson and DuckDB treat them differently), NaN or Infinity (in any case, as DuckDB
# reads them)
_TRAILING_COMMA = r",(\s|\\[nrt])*[}\]]"
_ODD_ESCAPE = r"\\u([dD][89a-fA-F]|00[01])"
_NON_FINITE = r"[:\[,](\s|\\[nrt])*[-+]?(?i:nan|inf)"
# a nested object's opening brace, in the forms it takes in a line: after a colon, comma, bracket or white space,
# before a key's quote or white space (inside a string, a brace before a quote ends the string, so one of , : ] }
# follows it instead)
_NESTED = r"[:,\[ \t\r]\{\"|\{[ \t\r]|[\t\r]\{"
# one pass over a line for all three (a regular expression costs about what one substring search does; a line it
# matches is checked part by part)
_SUSPECT = "|".join((_TRAILING_COMMA, _NON_FINITE, _NESTED))
# each step of the query computes its columns once: a subquery with a limit is not merged into the next step,
# where the columns would be computed again in every condition that reads them
_KEEP = " LIMIT 9223372036854775807"
# the white space Python's str.strip removes (a model name with it at either end takes the slow lane)
_SPACE = r"[\s\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"


def spend_log_shape(obj: Any) -> bool:
    """Whether reading.shapes.adapt reads a JSON value as a spend-log row or standard logging payload (by its keys)."""
    return (isinstance(obj, dict) and not ("api_requests" in obj and "date" in obj)
            and ("model_group" in obj or ("request_id" in obj and "call_type" in obj)))


def scanned_shape(obj: Any) -> bool:
    """Whether a JSON value is a spend-log row of the form the scan prices (no object among its values: metadata and
    tags as JSON text, as a database export writes them); standard logging payloads, whose metadata is an object,
    are left to the Python engine line by line."""
    return spend_log_shape(obj) and not any(isinstance(v, dict) for v in obj.values())


def key_orders(lines: Any, most: int = 16) -> tuple[list[list[str]], list[list[str]]]:
    """The orders of keys the JSON objects among ``lines`` (a file's first lines, as bytes) hold at their top level
    and in their metadata (an object, or its text), up to ``most`` of each: each a dict's keys, so free of repeats
    (source_sql's quick check of a line's keys)."""
    import orjson

    orders: tuple[list[list[str]], list[list[str]]] = ([], [])
    for text in lines:
        try:
            obj = orjson.loads(text)
            metadata = obj.get("metadata") if isinstance(obj, dict) else None
            if isinstance(metadata, str) and metadata[:1] == "{":
                metadata = orjson.loads(metadata)
        except orjson.JSONDecodeError:
            continue
        for seen, value in zip(orders, (obj, metadata)):
            if isinstance(value, dict) and list(value) not in seen and len(seen) < most:
                seen.append(list(value))
    return orders


def _one_of(keys: str, orders: list[list[str]]) -> str:
    """SQL: the list ``keys`` is one of ``orders``."""
    return " OR ".join(f"{keys} = [{', '.join(sql_text(k) for k in order)}]" for order in orders) or "false"


def _path(dotted: str) -> str:
    return "$." + ".".join('"' + p + '"' for p in dotted.split("."))


def _paths(keys: list[str]) -> str:
    if any('"' in k or "\\" in k for k in keys):
        from .contract import Unsupported

        raise Unsupported("a group-by field with a quote or backslash in it")
    return "[" + ", ".join(sql_text(_path(k)) for k in keys) + "]"


def _given(x: str) -> str:
    """The raw JSON text ``x`` is there and not null."""
    return f"COALESCE({x}, 'null') <> 'null'"


def _absent(x: str) -> str:
    return f"COALESCE({x}, 'null') = 'null'"


def _count(x: str) -> str:
    return f"COALESCE(TRY_CAST(TRY_CAST({x} AS VARCHAR) AS BIGINT), 0)"


def _object_ok(x: str) -> str:
    """Absent, null, or an object holding no key twice (DuckDB reads a repeated key's first value, Python its
    last)."""
    return (f"({_absent(x)} OR (left({x}, 1) = '{{' "
            f"AND len(json_keys({x})) = list_unique(json_keys({x}))))")


def _places(text: str) -> str:
    """The decimal places of a double's shortest text (``0.0125``, ``1e-07``, ``1.5e+20``)."""
    mantissa, exponent = f"split_part({text}, 'e', 1)", f"TRY_CAST(split_part({text}, 'e', 2) AS INTEGER)"
    return (f"(CASE WHEN NOT contains({text}, 'e') THEN length(split_part({text} || '.', '.', 2)) "
            f"ELSE greatest(length(split_part({mantissa} || '.', '.', 2)) - {exponent}, 0) END)")


def source_sql(number: int, path: str, kind: str, names: list[str], fields: dict[str, str], *, numbered: bool,
               dedupe: bool, repeated: bool, metadata_keys: list[str],
               key_orders: tuple[list[list[str]], list[list[str]]] = ([], [])) -> str:
    """One spend-log file as rows of the main query's sources (duckdb_engine._source_sql's columns): ``names`` are
    the columns ``c_<n>`` in order, each a raw top-level key or, when it is a key of ``fields`` (internal name →
    field of duckdb_engine._FIELDS), that pricing field as this shape reads it; ``metadata`` is an object holding
    only ``metadata_keys`` (what the group keys read there), parsed from the text where the row holds text.
    ``dedupe``: a line with a request id leaves the fast lane, unless ``repeated`` (table ``repeated_ids``): then
    only one whose id is one of those.

    Each step selects only what the next needs, behind a limit (_KEEP) so that DuckDB computes each column once,
    not again in every condition that reads it."""
    raw = [n for n in names if n not in fields and n not in ("metadata", "request_tags")]
    top = list(_TOP) + [n for n in raw if n not in _TOP]
    t = {k: f"t{i}" for i, k in enumerate(top)}
    meta_keys = ["usage_object", "additional_usage_values", "cost_breakdown", *metadata_keys]
    usage = list(_USAGE.values()) + list(_USAGE_OBJECTS) + list(_USAGE_OTHER)
    u = {k: f"u{i}" for i, k in enumerate(usage)}
    n = {code: u[path_] for code, path_ in _USAGE.items()}
    reader = (f"read_json_objects({sql_text(path)}, format = 'newline_delimited', ignore_errors = true, "
              f"compression = {sql_text(kind)}, maximum_object_size = {max_line_bytes()})"
              + (" WITH ORDINALITY" if numbered else ""))
    row_no = "ordinality" if numbered else "NULL::BIGINT"

    def count(part: str) -> str:
        return f"((strlen(json) - strlen(replace(json, {sql_text(part)}, ''))) // {len(part)})"

    spaced = " OR ".join(f"contains(json, {sql_text(w + ':')})" for w in (" ", "\t", "\r", "\n"))
    # no repeated key and no object below the top level of the line, within the depth every engine reads (the
    # top level and arrays), and nothing DuckDB reads otherwise than JSON. A line with no sign of a nested object,
    # a trailing comma or a non-finite number whose top-level keys come in an order the file's first lines hold
    # (each a Python dict's keys, so distinct) passes with that; any other line is checked exactly: a key's
    # closing quote and colon, less those escaped inside a string such as the metadata text, once per distinct
    # top-level key, no key ending in a backslash, no space before a colon, and neither of the others
    keys = f"({count(chr(34) + ':')} - {count(chr(92) + chr(34) + ':')})"
    exact = (f"{keys} = list_unique(k) AND NOT contains(json, {sql_text(chr(92) * 2 + chr(34))}) "
             f"AND NOT ({spaced}) AND NOT regexp_matches(json, {sql_text(_TRAILING_COMMA)}) "
             f"AND NOT regexp_matches(json, {sql_text(_NON_FINITE)})")
    known = _one_of("k", key_orders[0])
    line_ok = (f"json IS NOT NULL "
               f"AND (CASE WHEN NOT regexp_matches(json, {sql_text(_SUSPECT)}) AND ({known}) THEN true "
               f"ELSE {exact} END) "
               f"AND {count('[')} < {MAX_JSON_DEPTH} "
               f"AND NOT (contains(json, '\\u') AND regexp_matches(json, {sql_text(_ODD_ESCAPE)}))")
    # the top-level values as JSON text (NULL when missing or null), but metadata as a string (the text a row
    # holds, or an object's JSON): written out again as JSON, its kilobyte of text would cost more than the rest
    # of the line. One json_transform parses the line once for all of them.
    read = [k for k in top if k != "metadata"]
    if any('"' in k or "\\" in k for k in read):
        from .contract import Unsupported

        raise Unsupported("a group-by field with a quote or backslash in it")
    structure = "{" + ", ".join(f'"{k}": "JSON"' for k in read) + ', "metadata": "VARCHAR"}'

    def x(key: str) -> str:
        return f"x.{sql_ident(key)}"

    def has(key: str) -> str:
        return f"list_contains(k, {sql_text(key)})"

    shaped = (f"NOT ({has('api_requests')} AND {has('date')}) "
              f"AND ({has('model_group')} OR ({has('request_id')} AND {has('call_type')}))")
    tags = x("request_tags")
    tags_text = f"({tags} ->> '$')"
    # (json_transform writes a JSON value without white space, as json_extract does: its first character is its
    # type; metadata as an object and as text read alike)
    parsed_meta = "CASE WHEN left(m, 1) = '{' THEN m END"
    parsed_tags = (f"CASE left({tags}, 1) WHEN '[' THEN {tags} WHEN '\"' THEN (CASE WHEN left({tags_text}, 1) = '[' "
                   f"THEN TRY_CAST({tags_text} AS JSON) END) END")
    rid = request_id_sql(x("request_id"), x("id"),
                         "json_extract(json, '$.\"response\".\"id\"')")
    once = "true"
    if dedupe:
        once = (f"NOT COALESCE({rid} IN (SELECT rid FROM repeated_ids), false)" if repeated else f"{rid} IS NULL")
    step1 = (f"SELECT {row_no} AS row_no, json AS line, COALESCE({line_ok}, false) AS line_ok, "
             f"COALESCE({shaped}, false) AS shaped, {once} AS once, "
             f"m IS NULL AS no_meta, {_absent(tags)} AS no_tags, {parsed_tags} AS tags, "
             + ", ".join(f"{x(k)} AS {t[k]}" for k in read if k != "request_tags")
             + f", {parsed_meta} AS md FROM (SELECT *, x.metadata AS m FROM (SELECT *, "
             f"json_transform(json, {sql_text(structure)}) AS x, json_keys(json) AS k FROM {reader}{_KEEP}){_KEEP})")

    call_is_text = f"({_absent(t['call_type'])} OR left({t['call_type']}, 1) = '\"')"
    cache_hit = (f"({t['cache_hit']} = 'true' OR (left({t['cache_hit']}, 1) = '\"' "
                 f"AND lower({t['cache_hit']} ->> '$') = 'true'))")
    failure = f"(left({t['status']}, 1) = '\"' AND ({t['status']} ->> '$') = 'failure')"
    skip = (f"CASE WHEN line_ok AND shaped AND {call_is_text} THEN (CASE WHEN {cache_hit} THEN 'cache' "
            f"WHEN {failure} THEN 'failure' END) END")
    group, model, provider = t["model_group"], t["model"], t["custom_llm_provider"]
    group_text, model_text, provider_text = (f"({x} ->> '$')" for x in (group, model, provider))
    # the model priced: model_group when it is a string that is not empty, else custom_llm_provider/model
    by_group = f"(left({group}, 1) = '\"' AND {group_text} <> '')"
    by_model = (f"({_absent(group)} OR {group} = '\"\"') AND left({model}, 1) = '\"' "
                f"AND {model_text} <> '' "
                f"AND NOT regexp_matches({model_text}, {sql_text('^' + _SPACE + '|' + _SPACE + '$')}) "
                f"AND ({_absent(provider)} OR left({provider}, 1) = '\"')")
    priced_model = (f"CASE WHEN {by_group} THEN {group} WHEN {by_model} THEN to_json(CASE WHEN "
                    f"COALESCE({provider_text}, '') <> '' AND NOT starts_with({model_text}, {provider_text} || '/') "
                    f"THEN {provider_text} || '/' || {model_text} ELSE {model_text} END)::VARCHAR END")
    kept = ", ".join(v for k, v in t.items() if k not in ("metadata", "request_tags"))
    if any('"' in k or "\\" in k for k in meta_keys):
        from .contract import Unsupported

        raise Unsupported("a group-by field with a quote or backslash in it")
    # the metadata's values read, as JSON text (NULL when missing or null), in one parse of its text
    meta_structure = "{" + ", ".join(f'"{k}": "JSON"' for k in dict.fromkeys(meta_keys)) + "}"

    def y(key: str) -> str:
        return f"y.{sql_ident(key)}"

    group_meta = ("json_object(" + ", ".join(f"{sql_text(k)}, {y(k)}" for k in metadata_keys)
                  + ")" if metadata_keys else "NULL::JSON")
    # a group key's value under metadata: an object there holds no repeated key either
    values_ok = "".join(f" AND (left({y(k)}, 1) IS DISTINCT FROM '{{' OR {_object_ok(y(k))})" for k in metadata_keys)
    # no key repeated in the metadata (its keys in an order the first lines' metadata holds, or checked)
    meta_once = f"({_one_of('mk', key_orders[1])} OR len(mk) = list_unique(mk))"
    step2 = (f"SELECT row_no, line, line_ok, shaped, once, no_tags, tags, {kept}, {skip} AS skip, "
             f"{priced_model} AS model_priced, COALESCE({meta_once}{values_ok}, false) AS md_ok, "
             f"no_meta, {y('usage_object')} AS usage_object, {y('additional_usage_values')} AS additional, "
             f"{y('cost_breakdown')} AS breakdown, CASE WHEN mk IS NOT NULL THEN {group_meta} END AS meta "
             f"FROM (SELECT *, try(json_transform(md, {sql_text(meta_structure)})) AS y, try(json_keys(md)) AS mk "
             f"FROM ({step1}{_KEEP}){_KEEP})")

    d = f"CASE WHEN {_given('usage_object')} THEN usage_object ELSE additional END"
    step3 = (f"SELECT * EXCLUDE (usage_object, additional, d, z), {_object_ok('d')} AS d_ok, "
             + ", ".join(f"z[{i + 1}] AS {u[k]}" for i, k in enumerate(usage))
             + f" FROM (SELECT *, json_extract(d, {_paths(usage)}) AS z FROM (SELECT *, {d} AS d "
             f"FROM ({step2}){_KEEP}){_KEEP})")

    # the service tier LiteLLM billed: a cost breakdown's (metadata's, then a payload's own) when it booked a
    # total, else the usage object's
    booked = "left({b}, 1) = '{{' AND {ok} AND " + _given("json_extract({b}, '$.total_cost')")
    own = t["cost_breakdown"]
    tier_src = (f"CASE WHEN {booked.format(b='breakdown', ok=_object_ok('breakdown'))} "
                f"THEN json_extract(breakdown, '$.service_tier') "
                f"WHEN {booked.format(b=own, ok=_object_ok(own))} THEN json_extract({own}, '$.service_tier') "
                f"ELSE {u['service_tier']} END")
    spend_src, spend_double = "sp", "spd"
    spend_ok = (f"({_absent(spend_src)} OR (left({spend_src}, 1) BETWEEN '0' AND '9' "
                f"AND {spend_double} BETWEEN 0 AND {MAX_AMOUNT!r} "
                f"AND {_places(f'CAST({spend_double} AS VARCHAR)')} <= {_SPEND_PLACES}))")
    spend = (f"CASE WHEN {_given(spend_src)} THEN TRY_CAST(CAST({spend_double} AS VARCHAR) "
             f"AS DECIMAL(38, {_SPEND_PLACES})) END")
    start, end = "st", "et"
    timed = (f"({_absent(t['startTime'])} OR {_absent(t['endTime'])} OR ({end} IS NOT NULL "
             f"AND ({end} - {start} >= 1e-5 OR {t['endTime']} = {t['startTime']}) "
             f"AND {end} - {start} <= {MAX_DURATION_S - 1!r}))")
    cw = "(CASE WHEN k_cwt <> 0 THEN k_cwt ELSE k_cct END)"
    # (text completions may be priced with another card: Resolver.resolve_text_completion; the Python engine
    # prices them)
    # (and pass-through calls, which a declared endpoint may price per request: pricing/passthrough.py)
    token_calls = ", ".join(sql_text(c) for c in sorted(_TOKEN_CALL_TYPES - _TEXT_COMPLETION_CALL_TYPES
                                                        - {"pass_through_endpoint"}))
    fast = f"""line_ok AND shaped AND skip IS NULL AND once
      AND (no_meta OR md_ok) AND (no_tags OR tags IS NOT NULL) AND d_ok
      AND ({_absent(t['call_type'])} OR {t['call_type']} = '""' OR (left({t['call_type']}, 1) = '\"'
           AND ({t['call_type']} ->> '$') IN ({token_calls})))
      AND model_priced IS NOT NULL
      AND {_absent(t['duration_s'])} AND {_absent(t['response_time_ms'])} AND {timed}
      AND {spend_ok}
      AND {" AND ".join(f"({_absent(n[c])} OR (CAST(k_{c} AS VARCHAR) = CAST({n[c]} AS VARCHAR) "
                        f"AND k_{c} BETWEEN 0 AND {MAX_TOKENS}))" for c in _USAGE)}
      AND {" AND ".join(f"k_{c} = 0" for c in _USAGE if c.startswith("z"))}
      AND {" AND ".join(_object_ok(u[o]) for o in _USAGE_OBJECTS)}
      AND {_absent(u['prompt_cache_hit_tokens'])} AND {_absent(n['z7'])}
      AND {" AND ".join(_absent(u[k]) for k in _USAGE_OTHER[4:])}
      AND {_absent("json_extract(breakdown, '$.tool_usage_cost')")}
      AND {_absent(f"json_extract({own}, '$.tool_usage_cost')")}
      AND ({_absent(u['inference_geo'])} OR {u['inference_geo']} = '""')
      AND ({_absent(u['speed'])} OR {u['speed']} = '""')
      AND ({_absent(n['dp'])} OR k_dp = {_count(t['prompt_tokens'])})
      AND ({_absent(n['dc'])} OR k_dc = {_count(t['completion_tokens'])})
      AND (k_tr = 0 OR k_tr = k_cr)
      AND (k_tw = 0 OR k_tw = {cw})
      AND ({_absent('tier_src')} OR left(tier_src, 1) = '\"')
      AND (left(breakdown, 1) IS DISTINCT FROM '{{' OR {_object_ok('breakdown')})
      AND (left({own}, 1) IS DISTINCT FROM '{{' OR {_object_ok(own)})"""
    # (the values several conditions read, once each)
    step4 = (f"SELECT *, {tier_src} AS tier_src, {epoch_sql(t['startTime'])} AS st, {epoch_sql(t['endTime'])} AS et, "
             f"(CASE WHEN {_given(t['spend'])} THEN {t['spend']} ELSE {t['response_cost']} END) AS sp, "
             + ", ".join(f"{_count(n[c])} AS k_{c}" for c in _USAGE) + f" FROM ({step3}{_KEEP})")
    columns = []
    for i, name in enumerate(names):
        if name in fields:
            expr = {"model": "model_priced", "prompt_tokens": t["prompt_tokens"],
                    "completion_tokens": t["completion_tokens"], "cache_read_input_tokens": n["cr"],
                    "cache_creation_input_tokens": f"CAST({cw} AS VARCHAR)",
                    "reasoning_tokens": n["rea"], "audio_input_tokens": n["ai"], "audio_output_tokens": n["ao"],
                    "image_input_tokens": n["ii"], "model_id": t["model_id"], "service_tier": "tier_src",
                    "timestamp": t["startTime"]}[fields[name]]
        elif name == "metadata":
            expr = "meta"
        elif name == "request_tags":
            expr = "tags"
        else:
            expr = t[name]
        columns.append(f"NULLIF(({expr})::VARCHAR, 'null') AS c_{i}")
    return f"""SELECT {number} AS file_no, row_no, line, NULL::UBIGINT AS line_hash, clean, skip,
  CASE WHEN clean THEN {spend} END AS spend, {", ".join(columns)}
FROM (SELECT *, COALESCE({fast}, false) AS clean
  FROM (SELECT *, TRY_CAST(TRY_CAST(sp AS VARCHAR) AS DOUBLE) AS spd FROM ({step4}{_KEEP}){_KEEP}){_KEEP})"""
