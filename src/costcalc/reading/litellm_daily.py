"""Rows of LiteLLM's daily spend tables (``LiteLLM_DailyUserSpend``, ``…TeamSpend``, ``…TagSpend``, and the
organisation, end-user and agent tables of the same layout; the schema is ``litellm/proxy/schema.prisma``),
exported to JSON lines or CSV → one aggregated UsageRecord per row, priced per row.

A row sums one day (``date``, ``YYYY-MM-DD`` UTC) of one entity's calls to one model through one key:
``prompt_tokens`` INCLUDES ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` (LiteLLM's own
convention, summed from its spend logs); ``api_requests`` requests (``successful_requests`` of them with
usage) are priced as one record at the band of the mean successful request; ``spend`` is what the proxy
booked (``--reconcile`` compares it).

What the counts mean (``proxy/db/db_spend_update_writer.py``: each spend-log row adds ``api_requests=1`` only for a
request a caller made, ``successful_requests``/``failed_requests`` by its status, and its tokens and spend in any
case): a failed request's row keeps its prompt tokens at $0 spend, so a row of failed requests only
(``successful_requests`` 0, ``failed_requests`` = ``api_requests``) is skipped at the $0 the proxy booked. A row
with ``api_requests`` 0 and tokens sums calls the proxy made itself and billed to the key (internal sub-calls:
the auto-router's classifier, shadow evaluation; billed retry attempts): priced at its tokens, counted as 0
requests, and marked approximate, as their number and success are not kept.

The model priced is ``model_group`` (the alias the clients called, as a
config names it), else ``custom_llm_provider/model``. These tables keep no reasoning or audio counts, no
1-hour cache split and no service tier: a row is priced at the standard rates of its counts.
"""

from __future__ import annotations

from typing import Any

from .records import BadField, Skipped, UsageRecord, check_conventions, number, optional_str, parse_time, token_count

SHAPE = "litellm-daily-spend"
# the entity column of each table, and the group key a report knows it by
ENTITY_COLUMNS = {"user_id": "user", "team_id": "team", "tag": "tag", "organization_id": "org",
                  "end_user_id": "customer", "agent_id": "agent"}


INTERNAL_CALLS = ("a daily row of calls the proxy made itself and billed to the key (internal sub-calls, billed retry "
                  "attempts: api_requests 0), whose number and success LiteLLM does not keep: priced as one call of "
                  "all its tokens")


def is_daily_row(obj: dict[str, Any]) -> bool:
    return "api_requests" in obj and "date" in obj


def daily_row(obj: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    requests = token_count(obj, "api_requests")
    successful = token_count(obj, "successful_requests") if obj.get("successful_requests") is not None \
        else requests
    prompt = token_count(obj, "prompt_tokens")
    completion = token_count(obj, "completion_tokens")
    if not (prompt or completion) and not obj.get("spend"):
        return Skipped(file, line, "a daily spend row without tokens or spend (failed requests only)")
    failed = token_count(obj, "failed_requests") if obj.get("failed_requests") is not None else 0
    if requests and not successful and failed == requests and not obj.get("spend"):
        return Skipped(file, line, "a daily spend row of failed requests only: the proxy books $0 for a failure "
                       "(the row keeps their prompt tokens)")
    group, backend = optional_str(obj, "model_group"), optional_str(obj, "model")
    provider = optional_str(obj, "custom_llm_provider")
    if group is not None:
        model = group
    elif backend is not None:
        model = f"{provider}/{backend}" if provider and not backend.startswith(f"{provider}/") else backend
    else:
        raise BadField("model", "neither model_group nor model is set")
    date = obj.get("date")
    if not isinstance(date, str):
        raise BadField("date", "must be a YYYY-MM-DD string")
    raw: dict[str, Any] = {"source": "litellm-daily-spend", "date": date, "requests": requests}
    for column, name in ENTITY_COLUMNS.items():
        value = obj.get(column)
        if value not in (None, ""):
            raw[name] = value
            if name == "tag":
                raw["tags"] = [value]
    for column, name in (("api_key", "key"), ("model", "backend_model"), ("custom_llm_provider", "provider"),
                         ("endpoint", "endpoint")):
        if obj.get(column) not in (None, ""):
            raw[name] = obj[column]
    spend = obj.get("spend")
    r = UsageRecord(file=file, line=line, model=model, prompt_tokens=prompt, completion_tokens=completion,
                    cache_read_tokens=token_count(obj, "cache_read_input_tokens"),
                    cache_write_tokens=token_count(obj, "cache_creation_input_tokens"),
                    timestamp=parse_time(date[:10], "date"),
                    recorded_cost=None if spend is None else number(spend, "spend"), shape=SHAPE, raw=raw,
                    requests=requests, band_prompt_tokens=prompt // successful if successful else prompt,
                    approximate=None if requests else INTERNAL_CALLS)
    check_conventions(r)
    return r
