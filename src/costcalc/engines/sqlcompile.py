"""One self-contained query that prices a usage table in place, exactly (``costcalc sql``).

The query is written once, in DuckDB's dialect (``engines.dialects`` carries it to the others with sqlglot). It
holds three tables as ``VALUES``, all compiled from the Python engine's own resolution (``ratecards``), never
re-derived here:

- ``keys``: which card prices a record, by (model, deployment id, service tier). Every model the query covers
  (``covered_keys``) with no id and no tier, and a row for an id or a tier only where its card differs.
- ``cards``: a card's status (``priced``, or ``unpriced`` with the engine's own reason), the formula variant
  (which token counts it reads, ``ratecards.VARIANTS``), whether a routing fee applies, and the deployment and
  provider reports key by.
- ``bands``: per card, the prompt-size bands ``lo <= prompt_tokens <= hi`` with their exact rates
  (``pricing.exact.Band``: decimal strings cast to an exact decimal type), discount and margin.

Per record the query computes only integer units, with LiteLLM's clamps (``sqlunits.unit_ctes``), finds its card
and band, then sums units per (group, band) and prices each sum once (aggregate, then price: exact, because a
band's money is linear in its units; ``pricing.exact``). Records the config and cost map cannot price come out as
``unpriced`` rows with a reason and a NULL cost, never $0; records that break their own token conventions as
``rejected`` rows.

Scale: money is DECIMAL(38, S) with S the most decimal places any covered band's exact result needs (rate
places + discount places + margin places), so every CAST back to scale S is exact. Factors are typed narrow
(DECIMAL(f + 6, f)) so that a product's scale S + f leaves room for large sums (ENGINES.md §4). A card whose
exact result would need more than ``MAX_SCALE`` places, or leave fewer than ``MIN_INTEGER_DIGITS`` integer
digits, is not put in the query: its records come out unpriced, with that reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache

from sqlglot import exp

from ..pricing.coverage import ZERO_BOOKED
from ..pricing.exact import Band
from ..pricing.formulas import service_tier_suffix
from ..pricing.mcp import MCP_CALLS
from ..pricing.passthrough import PASS_THROUGH_CALL
from ..pricing.vectorstores import SEARCH_API_MODELS, VECTOR_STORE_SEARCH_CALLS
from ..reading.names import NAME_FIELDS
from ..reading.records import MAX_TOKENS

# the call types reading.shapes.litellm_spend_log prices (one list for both engines)
from ..reading.shapes import _BATCH_CALL_TYPES, _TEXT_COMPLETION_CALL_TYPES, _TOKEN_CALL_TYPES
from .dialects import Exact, Row, key_lookup, placeholder, splice
from .ratecards import CompiledKey, Key, compile_rate_cards, text_completion_keys
from .sqlunits import unit_ctes
from .streaming import PricingEngine

SCHEMAS = ("canonical", "spendlogs")
GROUP_KEYS = ("model", "deployment", "provider", "user", "team", "key", "end_user", "hour", "day", "week", "month")
# The service tiers LiteLLM tells apart (formulas.service_tier_suffix); any other value prices as no tier.
TIERS = ("flex", "balanced", "priority", "fast", "ultrafast")
MAX_SCALE = 30
MIN_INTEGER_DIGITS = 14  # room for sums up to $10^14 after a product's scale grows by a factor's places
RATE_SLOTS = ("input", "audio_input", "image_input", "cache_read", "cache_write", "output", "audio_output",
              "reasoning", "routing_fee")
# The columns of ``price --format csv`` (reports.aggregate.TOKEN_PARTS and COST_PARTS), with the SQL that
# sums each token part: 1-hour writes are never priced here (their records come out unpriced), so priced rows
# carry every write in the 5-minute column
TOKEN_OUT = ("input_tokens", "uncached_input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
             "cache_write_1h_tokens", "output_tokens", "reasoning_tokens")
TOKEN_SQL = ("p", "text_t", "cr", "cw - cw1h", "cw1h", "c", "rea")
COST_OUT = ("uncached_input_cost", "cache_read_cost", "cache_write_5m_cost", "cache_write_1h_cost", "output_cost",
            "discount_cost", "margin_cost", "total_cost")
# LiteLLM's call types that carry tokens (reading.shapes reads the same list).
NOT_COVERED = "not in this query's rate table (regenerate the query with this model in --models)"
BATCH = "batch output lines (batch rates, no discount or margin) are priced only by costcalc price"
ONE_HOUR = "1-hour cache writes are priced only by costcalc price"
NOT_BY_TOKEN = ("a call type the proxy prices by other units than tokens (images, characters, seconds, queries); "
                "costcalc price prices images, speech, transcription, rerank, video, OCR, search and MCP calls")
TOOL_CHARGE = ("a built-in tool charge (web or file search) on top of the tokens, priced only by costcalc price "
               "(pricing/tools.py)")
PASS_THROUGH = ("a pass-through call without usage, booked at its endpoint's cost_per_request "
                "(general_settings.pass_through_endpoints): priced only by costcalc price")
PYTHON_ONLY = "its price depends on more than the prompt size (time of day, completion size): use costcalc price"


class SqlError(Exception):
    """An option the query cannot honour; the message says which and why."""


@dataclass
class SqlOptions:
    table: str
    schema: str = "canonical"
    group_by: list[str] = field(default_factory=lambda: ["model"])
    since: datetime | None = None
    until: datetime | None = None
    per_record: bool = False
    rates_table: str | None = None  # read the rate tables from this table (engines.ratetable), not inline VALUES


@dataclass
class CompiledQuery:
    skeleton: str  # DuckDB dialect, one placeholder row per rate table (dialects.placeholder)
    rows: dict[str, list[Row]]  # the rate tables' rows, by CTE name
    scale: int
    keys: int
    cards: int
    bands: int
    statuses: dict[str, int]

    rates_table: str | None = None

    @property
    def inline_rows(self) -> dict[str, list[Row]] | None:
        """The rows ``dialects.transpile`` splices into the skeleton; None when the query reads a rates table."""
        return None if self.rates_table is not None else self.rows

    @property
    def sql(self) -> str:
        """The whole query in DuckDB's dialect."""
        return self.skeleton if self.rates_table is not None else splice(self.skeleton, self.rows, "duckdb")


# -- which models --------------------------------------------------------------------------------------------

def covered_keys(engine: PricingEngine, models: Iterable[str] | None = None) -> list[Key]:
    """The (model, model_id, service_tier) keys the query prices: ``models`` when given, else every config
    model_name and alias, every cost-map name with a token price, and each cost-map name as a config wildcard
    receives it (``openai/*`` + ``gpt-4o``). Each name with no id, and with the id of every deployment its name
    routes to (a record naming another deployment's id comes out unpriced, as not covered); service tiers only
    where some price key is tier-suffixed."""
    config = engine.config
    deployments = list(config.deployments) if config is not None else []
    entries = engine.cost_map.entries
    names: list[str] = []
    if models is not None:
        names = list(dict.fromkeys(models))
    else:
        seen: dict[str, None] = {}
        for d in deployments:
            if not d.is_wildcard:
                seen.setdefault(d.model_name)
                seen.setdefault(d.model)
        for alias in (config.model_group_alias if config is not None else {}):
            seen.setdefault(alias)
        # cost-map names that carry a token price (the others price no token record: they come out unpriced)
        cost_names = [n for n, e in entries.items() if any(k in e for k in _TOKEN_PRICE_KEYS)]
        for name in cost_names:
            seen.setdefault(name)
        for d in deployments:
            if d.is_wildcard:
                regex = re.compile(re.escape(d.model_name).replace(r"\*", "(.*)"))
                prefix = d.model_name.split("*", 1)[0]
                provider = prefix.rstrip("/")
                for name in cost_names:
                    if regex.match(name):
                        seen.setdefault(name)
                    elif "/" not in name and entries[name].get("litellm_provider") == provider and \
                            regex.match(prefix + name):
                        seen.setdefault(prefix + name)
        names = list(seen)
    router = engine.resolver.routing
    keys: list[Key] = []
    for name in names:
        group = router.deployments_named(router.alias_target(name) or name) if deployments else []
        ids = sorted({i for d in group for i in (d.identity, d.model_id) if i}) if len(group) > 1 else []
        for i in (None, *ids):
            keys.append((name, i, None))
            # service tiers only where the resolved card has tier-suffixed rates (formulas.service_tier_suffix)
            sheet = getattr(engine.pricer(name, i), "sheet", None)
            if sheet is not None and _has_tier_keys(sheet.rates):
                keys += [(name, i, t) for t in TIERS]
    return keys


_TOKEN_PRICE_KEYS = ("input_cost_per_token", "output_cost_per_token", "tiered_pricing")


def _has_tier_keys(entry: object) -> bool:
    return isinstance(entry, dict) and any(
        k.endswith(s) for k in entry for s in ("_flex", "_priority", "_balanced", "_ultrafast"))


# -- literals ------------------------------------------------------------------------------------------------

def _s(text: str | None) -> str:
    """A string literal (DuckDB dialect, which dialects.transpile carries to the others), quoted by sqlglot."""
    return "NULL" if text is None else exp.Literal.string(text).sql(dialect="duckdb")


def table_sql(name: str) -> str:
    """``--table`` as a quoted, possibly qualified name: ``db.schema.table`` is split at its dots and each part
    quoted as an identifier (so a name holding quotes, a newline or ``;--`` stays one name)."""
    parts = name.split(".")
    if len(parts) > 3 or any(not p.strip() for p in parts):
        raise SqlError(f"--table {name!r}: give a table name, or schema.table, or catalog.schema.table "
                       "(no empty part)")
    if any("\x00" in p for p in parts):
        raise SqlError("--table: a name cannot hold a NUL character")
    names = [exp.to_identifier(p, quoted=True) for p in parts]
    table = exp.Table(this=names[-1], db=names[-2] if len(names) > 1 else None,
                      catalog=names[-3] if len(names) > 2 else None)
    return table.sql(dialect="duckdb")


# Both depend on a value only (equal decimals normalise alike): a map's few thousand distinct rates, asked for a
# hundred thousand times, are worked out once each.
@lru_cache(maxsize=1 << 16)
def _places(d: Decimal) -> int:
    exponent = d.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@lru_cache(maxsize=1 << 16)
def _dec(d: Decimal, typ: str) -> Exact:
    return Exact(format(d.normalize(), "f") if d else "0", typ)


def _needed_scale(band: Band) -> tuple[int, int]:
    """(decimal places of this band's exact money, decimal places of its factors)."""
    rate = max(_places(r) for r in band.rates)
    d, pct, fixed = _places(band.discount), _places(band.margin_pct), _places(band.margin_fixed)
    return max(rate + d + pct, fixed), max(d, pct, fixed)


# -- the query -----------------------------------------------------------------------------------------------

@dataclass
class _Tables:
    # model, model_id ('' none), tier ('' none), card, routed (the name reaches deployments: an id none of
    # them has prices as no id, routing.pick_deployment), call ('text_completion': the card a text completion of
    # this key is priced with, where it is another one: ratecards.text_completion_keys; else '')
    keys: list[tuple[str, str, str, int, int, str]]
    cards: list[tuple[int, str, str | None, str, int, str, str]]  # card, status, reason, variant, fee, dep, prov
    bands: list[tuple[int, int, int, Band]]  # card, lo, hi, band
    scale: int
    factor_places: int
    ids: list[str]
    text_models: list[str] = field(default_factory=list)  # the models with 'text_completion' keys


TEXT_COMPLETION = "text_completion"


def _tables(engine: PricingEngine, keys: list[Key]) -> _Tables:
    text_keys = text_completion_keys(engine, keys)
    routes = [("", compile_rate_cards(engine, keys))]
    if text_keys:
        routes.append((TEXT_COMPLETION, compile_rate_cards(engine, text_keys, text_completion=True)))
    cards: list[tuple[int, str, str | None, str, int, str, str]] = []
    card_of: dict[tuple, int] = {}
    bands: list[tuple[int, int, int, Band]] = []
    scale, fplaces = 2, 0
    key_rows: list[tuple[str, str, str, int, str]] = []
    for call, rc in routes:
        needed: dict[int, tuple[int, int]] = {n: _needed_scale(b) for n, b in enumerate(rc.bands)}
        base: dict[tuple[str, str], int] = {}  # (model, id) -> card of its no-tier key
        for ck in rc.keys:
            model, model_id, tier = ck.key
            card = _card_row(ck, needed)
            sig = (card, tuple((lo, hi, rc.bands[b]) for lo, hi, b in ck.bands) if card[0] == "priced" else ())
            number = card_of.get(sig)
            if number is None:
                number = card_of[sig] = len(cards)
                cards.append((number, *card))
                if card[0] == "priced":
                    for lo, hi, b in ck.bands:
                        bands.append((number, lo, hi, rc.bands[b]))
                        s, f = needed[b]
                        scale, fplaces = max(scale, s), max(fplaces, f)
            if tier is None:
                if model_id is None or base.get((model, "")) != number:
                    base[(model, model_id or "")] = number
                    key_rows.append((model, model_id or "", "", number, call))
            elif base.get((model, model_id or "")) != number:
                key_rows.append((model, model_id or "", tier, number, call))
    # a record's id is keyed when it names any deployment (records.model_id; else it prices as no id)
    deployments = engine.config.deployments if engine.config is not None else []
    ids = sorted({i for d in deployments for i in (d.identity, d.model_id) if i})
    router = engine.resolver.routing
    routed = {m for m, _, _, _, _ in key_rows
              if deployments and router.deployments_named(router.alias_target(m) or m)}
    rows = [(m, i, t, c, int(m in routed), call) for m, i, t, c, call in key_rows]
    return _Tables(rows, cards, bands, scale, fplaces, ids, sorted({k[0] for k in text_keys}))


def _card_row(ck: CompiledKey, needed: dict[int, tuple[int, int]]) -> tuple[str, str | None, str, int, str, str]:
    sheet = ck.sheet
    dep = sheet.deployment.label if sheet is not None and sheet.deployment else "(no deployment)"
    prov = (sheet.provider if sheet is not None else None) or "(unknown)"
    if ck.status == "unpriced":
        return ("unpriced", ck.not_priced.reason if ck.not_priced else "unpriced", "generic", 0, dep, prov)
    if ck.status == "python":
        return ("unpriced", PYTHON_ONLY, "generic", 0, dep, prov)
    worst = max((needed[b] for _, _, b in ck.bands), default=(0, 0))
    if worst[0] > MAX_SCALE or 38 - worst[0] - worst[1] < MIN_INTEGER_DIGITS:
        return ("unpriced", f"its exact cost needs {worst[0]} decimal places, more than the query's exact decimal "
                f"type keeps: use costcalc price", "generic", 0, dep, prov)
    return ("priced", None, ck.variant, int(ck.routing_fee), dep, prov)


def _values(name: str, columns: tuple[str, ...], rows: list[Row]) -> str:
    """The CTE ``name`` over a placeholder row of ``rows``' types (the rows are spliced in per dialect)."""
    cols = ", ".join(columns)
    row = "(" + ", ".join(_placeholder_literal(v) for v in placeholder(name, rows[0])) + ")"
    return f"{name} AS (SELECT {cols} FROM (VALUES {row}) AS v({cols}))"


def _from_rates_table(name: str, money: str, factor: str) -> list[str]:
    """The three rate CTEs read from the rates table ``name`` (engines.ratetable's columns): ids as written, an
    empty id or tier (which a CSV loader may read as NULL) as '', decimal strings cast to the query's types."""
    t = table_sql(name)

    def pick(kind: str, cols: list[str]) -> str:
        return f"SELECT {', '.join(cols)} FROM {t} WHERE {_ident('kind')} = {_s(kind)}"

    def col(c: str) -> str:
        return _ident(c)

    return [
        "rate_keys AS (" + pick("key", [f"{col('model')} AS k_model", f"COALESCE({col('model_id')}, '') AS k_mid",
                                        f"COALESCE({col('tier')}, '') AS k_tier", f"{col('card')} AS k_card",
                                        f"{col('routed')} AS k_routed",
                                        f"COALESCE({col('route')}, '') AS k_route"]) + ")",
        "rate_cards AS (" + pick("card", [f"{col('card')} AS c_card", f"{col('status')} AS c_status",
                                          f"{col('reason')} AS c_reason", f"{col('variant')} AS c_variant",
                                          f"{col('fee')} AS c_fee", f"{col('deployment')} AS c_deployment",
                                          f"{col('provider')} AS c_provider"]) + ")",
        "rate_bands AS (" + pick("band", [f"{col('card')} AS b_card", f"{col('lo')} AS b_lo", f"{col('hi')} AS b_hi",
                                          f"{col('band')} AS b_band",
                                          *(f"CAST({col('rate_' + s)} AS {money}) AS r_{s}" for s in RATE_SLOTS),
                                          *(f"CAST({col(c)} AS {factor}) AS b_{c}"
                                            for c in ("discount", "margin_pct", "margin_fixed"))]) + ")",
    ]


def _placeholder_literal(v: object) -> str:  # the skeleton is DuckDB text
    if isinstance(v, Exact):
        return f"CAST('{v.text}' AS {v.type})"
    return _s(v) if isinstance(v, str) or v is None else str(v)


def _time_filter(column: str, opts: SqlOptions) -> list[str]:
    out = []
    for op, when in ((">=", opts.since), ("<", opts.until)):
        if when is not None:
            text = when.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
            out.append(f"{column} IS NOT NULL AND {column} {op} CAST({_s(text)} AS TIMESTAMP)")
    return out


def _mask(expr: str) -> str:
    """reports.aggregate.mask_key: a plaintext ``sk-`` key shows its last four characters only."""
    return (f"CASE WHEN {expr} LIKE 'sk-%' AND LENGTH({expr}) > 12 "
            f"THEN 'sk-...' || SUBSTRING({expr}, LENGTH({expr}) - 3, 4) ELSE {expr} END")


def _time_key(column: str, unit: str) -> str:
    ts = f"CAST({column} AS TIMESTAMP)"
    fmt = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m", "week": "%Y-%m-%d"}[unit]
    if unit == "week":
        return (f"CASE WHEN {ts} IS NULL THEN '(none)' ELSE STRFTIME(DATE_TRUNC('week', {ts}), '{fmt}') || ' (week)' "
                "END")
    return f"CASE WHEN {ts} IS NULL THEN '(none)' ELSE STRFTIME({ts}, '{fmt}') END"


def _first(*exprs: str) -> str:
    """The first non-empty text of ``exprs``, else '(none)' (reports.aggregate._raw_str)."""
    return "COALESCE(" + ", ".join(f"NULLIF({e}, '')" for e in exprs) + ", '(none)')"



# The LiteLLM_SpendLogs columns a name people know may be read from (ENGINES.md §2).
_SPEND_LOG_COLUMNS = frozenset({"user", "team_id", "api_key", "end_user", "organization_id", "session_id"})


def _source(opts: SqlOptions, ids: list[str], text_models: list[str]) -> tuple[str, dict[str, str]]:
    """The ``src`` CTE (one row per record: id, model, id and tier as keyed, eight token counts, timestamp) and
    the SQL of each group key over it."""
    id_list = ", ".join(_s(i) for i in ids) or "NULL"
    tier_case = " ".join(f"WHEN {_s(t)} THEN {_s(service_tier_suffix(t))}" for t in TIERS)
    if opts.schema == "canonical":
        t = table_sql(opts.table)
        cols = {"rid": "id", "model": "TRIM(model)", "model_id": "model_id", "tier": "service_tier",
                "p": "prompt_tokens", "c": "completion_tokens", "cr": "cache_read_input_tokens",
                "cw": "cache_creation_input_tokens", "rea": "reasoning_tokens", "ai": "audio_input_tokens",
                "ao": "audio_output_tokens", "ii": "image_input_tokens", "ts": '"timestamp"', "cw1h": "0",
                "batch": "0"}
        where = _time_filter('"timestamp"', opts)
        groups = {"user": _first('"user"'), "team": _first("team"), "key": _mask(_first('"key"')),
                  "end_user": _first("end_user")}
    else:
        t = table_sql(opts.table)
        # metadata.usage_object, else metadata.additional_usage_values (reading.shapes.litellm_spend_log)
        def usage(path: str) -> str:
            return (f"COALESCE(CAST(metadata ->> '$.usage_object.{path}' AS BIGINT), "
                    f"CAST(metadata ->> '$.additional_usage_values.{path}' AS BIGINT))")

        def meta(name: str) -> str:
            return f"(metadata ->> '$.{name}')"

        calls = ", ".join(_s(c) for c in sorted(_TOKEN_CALL_TYPES | _BATCH_CALL_TYPES))
        batch = ", ".join(_s(c) for c in sorted(_BATCH_CALL_TYPES))
        # reading.shapes.chat_details: the prompt_tokens_details counts, else Anthropic's top-level ones
        cr = f"COALESCE({usage('prompt_tokens_details.cached_tokens')}, {usage('cache_read_input_tokens')})"
        cw = (f"COALESCE(NULLIF({usage('prompt_tokens_details.cache_write_tokens')}, 0), "
              f"{usage('prompt_tokens_details.cache_creation_tokens')}, {usage('cache_creation_input_tokens')})")
        model = ("CASE WHEN model_group IS NOT NULL AND model_group <> '' THEN model_group "
                 "WHEN custom_llm_provider IS NOT NULL AND custom_llm_provider <> '' "
                 "AND NOT STARTS_WITH(model, custom_llm_provider || '/') THEN custom_llm_provider || '/' || model "
                 "ELSE model END")
        cols = {"rid": "request_id", "model": f"TRIM({model})", "model_id": "model_id",
                # the tier the proxy billed (reading.shapes.billed_tier): its cost breakdown's, null meaning
                # the base rates; the usage object's only in rows without that key
                "tier": ("CASE WHEN (metadata ->> '$.cost_breakdown.total_cost') IS NOT NULL "
                         "THEN JSON_EXTRACT_STRING(metadata, '$.cost_breakdown.service_tier') "
                         "ELSE COALESCE(JSON_EXTRACT_STRING(metadata, '$.usage_object.service_tier'), "
                         "JSON_EXTRACT_STRING(metadata, '$.additional_usage_values.service_tier')) END"),
                "p": "prompt_tokens", "c": "completion_tokens", "cr": cr, "cw": cw,
                "rea": usage("completion_tokens_details.reasoning_tokens"),
                "ai": usage("prompt_tokens_details.audio_tokens"),
                "ao": usage("completion_tokens_details.audio_tokens"),
                "ii": usage("prompt_tokens_details.image_tokens"), "ts": '"startTime"',
                "cw1h": usage("prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens"),
                # 1: a batch line (batch rates); 2: a call type priced by other units than tokens (unpriced);
                # 3: a call with a built-in tool charge (searches in its usage, or a tool charge booked: unpriced);
                # 4: a pass-through call without usage (its endpoint's cost_per_request: unpriced)
                "batch": (f"CASE WHEN call_type IN ({batch}) THEN 1 "
                          f"WHEN call_type = {_s(PASS_THROUGH_CALL)} AND COALESCE(prompt_tokens, 0) = 0 "
                          "AND COALESCE(completion_tokens, 0) = 0 THEN 4 "
                          "WHEN call_type IS NOT NULL AND call_type <> '' "
                          f"AND call_type NOT IN ({calls}) THEN 2 "
                          f"WHEN COALESCE({usage('server_tool_use.web_search_requests')}, 0) > 0 "
                          f"OR COALESCE({usage('prompt_tokens_details.web_search_requests')}, 0) > 0 "
                          f"OR COALESCE({usage('server_side_tool_usage_details.web_search_calls')}, 0) > 0 "
                          "OR COALESCE(CAST(metadata ->> '$.cost_breakdown.tool_usage_cost' AS DOUBLE), 0) > 0 "
                          "THEN 3 ELSE 0 END")}
        # the call types the proxy books at $0 are skipped, as failures and cache hits are (engines/streaming.py),
        # and so are the calls whose row says the proxy booked them $0: a vector-store search but Vertex AI's Search
        # API (pricing/vectorstores.py), an MCP tool call whose logged server cost info sets no price for the tool:
        # its per-tool price, else the server's default, is not positive (pricing/mcp.py; the per-tool price is
        # looked up by the tool's name, dialects.key_lookup)
        zero = ", ".join(_s(c) for c in sorted(ZERO_BOOKED))
        searches = ", ".join(_s(c) for c in sorted(VECTOR_STORE_SEARCH_CALLS))
        priced_api = ", ".join(_s(m) for m in SEARCH_API_MODELS)
        mcp = ", ".join(_s(c) for c in sorted(MCP_CALLS))
        cost_info = "mcp_tool_call_metadata.mcp_server_cost_info"
        tool_price = key_lookup(meta(cost_info + ".tool_name_to_cost_per_query"), meta("mcp_tool_call_metadata.name"))
        where = ["(cache_hit IS NULL OR LOWER(cache_hit) <> 'true')",
                 "(status IS NULL OR status <> 'failure')",
                 f"(call_type IS NULL OR call_type NOT IN ({zero}))",
                 f"(call_type IS NULL OR call_type NOT IN ({searches}) OR (custom_llm_provider = 'vertex_ai' "
                 f"AND COALESCE(NULLIF(model, ''), {cols['model']}) IN ({priced_api})))",
                 f"(call_type IS NULL OR call_type NOT IN ({mcp}) "
                 f"OR {meta('mcp_tool_call_metadata')} IS NULL "
                 f"OR COALESCE(TRY_CAST({tool_price} AS DOUBLE), "
                 f"TRY_CAST({meta(cost_info + '.default_cost_per_query')} AS DOUBLE), 0) > 0)",
                 *_time_filter('"startTime"', opts)]
        # reports.aggregate.NAME_FIELDS, in its order: each field as a column of the table, then in metadata
        def named(what: str) -> str:
            exprs = []
            for name in NAME_FIELDS[what]:
                if name in _SPEND_LOG_COLUMNS:
                    exprs.append(f'"{name}"')
                exprs.append(meta(name))
            return _first(*exprs)

        groups = {"user": named("user"), "team": named("team"), "key": _mask(named("key")),
                  "end_user": named("customer")}
    # the rate key's route: a text completion of a model whose text completions the proxy prices with another
    # card (_Tables.text_models; the canonical schema has no call type)
    texts = ", ".join(_s(m) for m in text_models)
    route = (f"CASE WHEN call_type IN ({', '.join(_s(c) for c in sorted(_TEXT_COMPLETION_CALL_TYPES))}) "
             f"AND {cols['model']} IN ({texts}) THEN {_s(TEXT_COMPLETION)} ELSE '' END"
             if texts and opts.schema != "canonical" else "''")
    select = [f"{cols['rid']} AS rid", f"{cols['model']} AS model", f"{route} AS route",
              f"CASE WHEN {cols['model_id']} IN ({id_list}) THEN {cols['model_id']} ELSE '' END AS mid",
              f"COALESCE(CASE LOWER({cols['tier']}) {tier_case} END, '') AS tier"]
    for c in ("p", "c", "cr", "cw", "rea", "ai", "ao", "ii", "cw1h"):
        select.append(f"COALESCE({cols[c]}, 0) AS {c}")
    select.append(f"{cols['ts']} AS ts")
    select.append(f"{cols['batch']} AS is_batch")
    gsql = {}
    for i, name in enumerate(opts.group_by):
        if name in groups:
            select.append(f"{groups[name]} AS g{i}")
        elif name in ("hour", "day", "week", "month"):
            select.append(f"{_time_key(cols['ts'], name)} AS g{i}")
        else:
            continue
        gsql[name] = f"g{i}"
    src = f"src AS (SELECT {', '.join(select)} FROM {t}" + (f" WHERE {' AND '.join(where)}" if where else "") + ")"
    return src, gsql


def compile_query(engine: PricingEngine, keys: list[Key], opts: SqlOptions) -> CompiledQuery:
    for g in opts.group_by:
        if g not in GROUP_KEYS:
            raise SqlError(f"--group-by {g}: costcalc sql groups by {', '.join(GROUP_KEYS)} (tags, shapes and "
                           f"dotted paths need costcalc price)")
    if opts.schema not in SCHEMAS:
        raise SqlError(f"--schema {opts.schema}: choose one of {', '.join(SCHEMAS)}")
    tb = _tables(engine, keys)
    S, F = tb.scale, tb.factor_places
    money = f"DECIMAL(38, {S})"
    factor = f"DECIMAL({F + 6}, {F})"
    key_rows: list[Row] = [tuple(k) for k in tb.keys]
    card_rows: list[Row] = [tuple(c) for c in tb.cards]
    band_rows: list[Row] = []
    for n, (card, lo, hi, band) in enumerate(tb.bands):
        rates = dict(zip(("input", "audio_input", "image_input", "cache_read", "cache_write", "cache_write_1h",
                          "output", "audio_output", "reasoning", "routing_fee"), band.rates))
        band_rows.append((card, lo, hi, n, *(_dec(rates[s], money) for s in RATE_SLOTS), _dec(band.discount, factor),
                          _dec(band.margin_pct, factor), _dec(band.margin_fixed, factor)))
    if not key_rows:  # a query covering no model still needs typed columns: rows nothing joins to
        key_rows.append(("", "", "", -1, 0, ""))
        card_rows.append((-1, "unpriced", NOT_COVERED, "generic", 0, "", ""))
    if not band_rows:  # a query with no priced card still needs typed columns
        band_rows.append((-1, 0, -1, -1, *(_dec(Decimal(0), money) for _ in RATE_SLOTS),
                          *(_dec(Decimal(0), factor) for _ in range(3))))
    src, gsql = _source(opts, tb.ids, tb.text_models)
    rows = {"rate_keys": key_rows, "rate_cards": card_rows, "rate_bands": band_rows}
    rate_ctes = [
        _values("rate_keys", ("k_model", "k_mid", "k_tier", "k_card", "k_routed", "k_route"), key_rows),
        _values("rate_cards", ("c_card", "c_status", "c_reason", "c_variant", "c_fee", "c_deployment", "c_provider"),
                card_rows),
        _values("rate_bands", ("b_card", "b_lo", "b_hi", "b_band", *(f"r_{s}" for s in RATE_SLOTS), "b_discount",
                               "b_margin_pct", "b_margin_fixed"), band_rows),
    ] if opts.rates_table is None else _from_rates_table(opts.rates_table, money, factor)
    ctes = [
        *rate_ctes,
        src,
        unit_ctes("src", [0]),
    ]
    gcols = [gsql[g] for g in opts.group_by if g in gsql]
    keyed = {**gsql, "model": "model", "deployment": "c_deployment", "provider": "c_provider"}
    bad = (f"p < 0 OR c < 0 OR cr < 0 OR cw < 0 OR rea < 0 OR ai < 0 OR ao < 0 OR ii < 0 OR p > {MAX_TOKENS} "
           f"OR c > {MAX_TOKENS} OR cr + cw > p OR rea > c OR ao > c OR ai > p OR ii > p")
    ctes.append(f"""rec AS (
  SELECT rid, model, p, c, cr, cw, rea, ai, ao, ii, cw1h, is_batch, {''.join(g + ', ' for g in gcols)}
    COALESCE(k1.k_card, k0.k_card, kt.k_card, kb.k_card) AS card,
    text_g, ai_g, ii_g, out_g, text_t, out_t
  FROM w
  LEFT JOIN rate_keys AS k1 ON k1.k_model = w.model AND k1.k_mid = w.mid AND k1.k_tier = w.tier AND w.tier <> ''
    AND k1.k_route = w.route
  LEFT JOIN rate_keys AS k0 ON k0.k_model = w.model AND k0.k_mid = w.mid AND k0.k_tier = '' AND k0.k_route = w.route
  LEFT JOIN rate_keys AS kt ON kt.k_model = w.model AND kt.k_mid = '' AND kt.k_tier = w.tier AND w.tier <> ''
    AND w.mid <> '' AND kt.k_routed = 1 AND kt.k_route = w.route
  LEFT JOIN rate_keys AS kb ON kb.k_model = w.model AND kb.k_mid = '' AND kb.k_tier = '' AND w.mid <> ''
    AND kb.k_routed = 1 AND kb.k_route = w.route
)""")
    ctes.append(f"""priced AS (
  SELECT rec.*, c_deployment, c_provider, b_band,
    CASE WHEN model IS NULL OR model = '' THEN 'rejected' WHEN {bad} THEN 'rejected'
         WHEN card IS NULL OR cw1h > 0 OR is_batch <> 0 THEN 'unpriced' WHEN c_status <> 'priced' THEN 'unpriced'
         WHEN b_band IS NULL THEN 'unpriced' ELSE 'priced' END AS status,
    CASE WHEN model IS NULL OR model = '' THEN 'no model'
         WHEN {bad} THEN 'token counts out of range or breaking their own convention'
         WHEN is_batch = 2 THEN {_s(NOT_BY_TOKEN)} WHEN is_batch = 4 THEN {_s(PASS_THROUGH)}
         WHEN card IS NULL THEN {_s(NOT_COVERED)} WHEN cw1h > 0 THEN {_s(ONE_HOUR)}
         WHEN is_batch = 1 THEN {_s(BATCH)} WHEN is_batch = 3 THEN {_s(TOOL_CHARGE)}
         WHEN c_status <> 'priced' THEN c_reason
         WHEN b_band IS NULL THEN 'no rate band for this prompt size' END AS reason,
    CASE c_variant WHEN 'text_only' THEN text_t ELSE text_g END AS u_input,
    CASE c_variant WHEN 'text_only' THEN 0 ELSE ai_g END AS u_audio_input,
    CASE c_variant WHEN 'text_only' THEN 0 ELSE ii_g END AS u_image_input,
    cr AS u_cache_read, cw AS u_cache_write,
    CASE c_variant WHEN 'xai' THEN c WHEN 'text_only' THEN out_t ELSE out_g END AS u_output,
    CASE c_variant WHEN 'generic' THEN ao ELSE 0 END AS u_audio_output,
    CASE c_variant WHEN 'xai' THEN 0 ELSE rea END AS u_reasoning,
    CASE WHEN c_fee = 1 THEN p ELSE 0 END AS u_routing_fee
  FROM rec
  LEFT JOIN rate_cards ON c_card = card
  LEFT JOIN rate_bands ON b_card = card AND p BETWEEN b_lo AND b_hi
)""")

    def cast(expr: str) -> str:
        return f"CAST({expr} AS {money})"

    def priced_money(n: str, unit: str) -> list[str]:
        """Money columns for ``n`` records with unit sums ``unit(slot)``, joined to their band."""
        parts = {s: cast(f"CAST({unit(s)} AS DECIMAL(38, 0)) * r_{s}") for s in RATE_SLOTS}
        base = cast(" + ".join(parts.values()))
        discount = cast(f"{base} * b_discount")
        after = cast(f"{base} - {discount}")
        margin = cast(f"{cast(f'{after} * b_margin_pct')} + {cast(f'CAST({n} AS DECIMAL(38, 0)) * b_margin_fixed')}")
        return [cast(" + ".join(parts[s] for s in ("input", "audio_input", "image_input", "routing_fee"))),
                parts["cache_read"], parts["cache_write"], cast("0"),
                cast(f"{parts['output']} + {parts['audio_output']} + {parts['reasoning']}"),
                cast(f"0 - {discount}"), margin, cast(f"{after} + {margin}")]

    def when_priced(expr: str) -> str:
        return f"CASE WHEN status = 'priced' THEN {expr} END"

    if opts.per_record:
        costs = priced_money("1", lambda s: f"u_{s}")
        cols = ["rid AS id", "model", "status", *(f"{t} AS {o}" for t, o in zip(TOKEN_SQL, TOKEN_OUT)),
                *(f"{when_priced(e)} AS {o}" for e, o in zip(costs, COST_OUT)), "reason"]
        body = (f"SELECT {', '.join(cols)}\nFROM priced AS pr LEFT JOIN rate_bands AS rb ON rb.b_band = pr.b_band\n"
                f"ORDER BY id")
        sql = "WITH " + ",\n".join(ctes) + "\n" + body
        return CompiledQuery(sql, rows, S, len(tb.keys), len(tb.cards), len(tb.bands), _count_status(tb),
                             opts.rates_table)
    group_exprs = [keyed[g] for g in opts.group_by]
    gsel = [f"{e} AS {_ident(g)}" for e, g in zip(group_exprs, opts.group_by)]
    gnames = [_ident(g) for g in opts.group_by]
    sums = (*(f"u_{s}" for s in RATE_SLOTS),)
    ctes.append(f"""cells AS (
  SELECT {''.join(s + ', ' for s in gsel)}status, reason, b_band, COUNT(*) AS n,
    {', '.join(f'SUM({e}) AS s_t{i}' for i, e in enumerate(TOKEN_SQL))},
    {', '.join(f'SUM({s}) AS s_{s}' for s in sums)}
  FROM priced
  GROUP BY {', '.join([*group_exprs, 'status', 'reason', 'b_band'])}
)""")
    costs = priced_money("n", lambda s: f"s_u_{s}")
    ctes.append(f"""cell_money AS (
  SELECT {''.join(g + ', ' for g in gnames)}status, reason, n, {''.join(f's_t{i}, ' for i in range(len(TOKEN_SQL)))}
    {', '.join(f'{when_priced(e)} AS {o}' for e, o in zip(costs, COST_OUT))}
  FROM cells AS ce LEFT JOIN rate_bands AS rb ON rb.b_band = ce.b_band
)""")
    ctes.append(f"""grouped AS (
  SELECT {''.join(g + ', ' for g in gnames)}status, reason, SUM(n) AS requests,
    {', '.join(f'SUM(s_t{i}) AS {o}' for i, o in enumerate(TOKEN_OUT))},
    {', '.join(f'{cast(f"SUM({o})")} AS {o}' for o in COST_OUT)}
  FROM cell_money
  GROUP BY {', '.join([*gnames, 'status', 'reason'])}
)""")
    share = ("CASE WHEN status = 'priced' AND SUM(CASE WHEN status = 'priced' THEN total_cost END) OVER () <> 0 "
             "THEN CAST(total_cost AS DOUBLE) / CAST(SUM(CASE WHEN status = 'priced' THEN total_cost END) OVER () "
             "AS DOUBLE) END")
    out = [*gnames, "requests", *TOKEN_OUT, *COST_OUT]
    total_keys = ["'TOTAL'", *(["''"] * (len(gnames) - 1))]
    body = f"""SELECT {', '.join(out)}, share, status, reason FROM (
  SELECT {', '.join(out)}, {share} AS share, status, reason,
    CASE status WHEN 'priced' THEN 0 ELSE 2 END AS row_order
  FROM grouped
  UNION ALL
  SELECT {', '.join(f'{k} AS {g}' for k, g in zip(total_keys, gnames))}, SUM(requests) AS requests,
    {', '.join(f'SUM({o}) AS {o}' for o in TOKEN_OUT)}, {', '.join(f'{cast(f"SUM({o})")} AS {o}' for o in COST_OUT)},
    CAST(1 AS DOUBLE) AS share, 'total' AS status, CAST(NULL AS VARCHAR) AS reason, 1 AS row_order
  FROM grouped WHERE status = 'priced'
) AS report
ORDER BY row_order, total_cost DESC, {', '.join(gnames)}, reason"""
    sql = "WITH " + ",\n".join(ctes) + "\n" + body
    return CompiledQuery(sql, rows, S, len(tb.keys), len(tb.cards), len(tb.bands), _count_status(tb), opts.rates_table)


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def _count_status(tb: _Tables) -> dict[str, int]:
    out: dict[str, int] = {}
    for card in tb.cards:
        out[card[1]] = out.get(card[1], 0) + 1
    return out
