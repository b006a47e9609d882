"""The providers' own usage reports → one aggregated UsageRecord per bucket result (priced per bucket: a record
stands for ``requests`` requests and is priced at the context-length band of one of them).

- OpenAI's organization usage API (``GET /v1/organization/usage/completions``): a page ``{"object": "page",
  "data": [bucket, …]}``; each bucket has ``start_time`` (Unix seconds) and ``results`` of
  ``organization.usage.completions.result``: ``input_tokens`` INCLUDES ``input_cached_tokens`` (and, in the
  current schema, ``input_audio_tokens``), ``output_tokens``, ``output_audio_tokens``, ``num_model_requests``,
  and, as grouped, ``model``, ``project_id``, ``api_key_id``, ``user_id``, ``batch``, ``service_tier``. Under
  the older schema ``input_tokens`` and ``output_tokens`` counted text only: an audio count above its total
  cannot be part of it and is added to it. The band of a bucket is the mean request's prompt.
- Anthropic's usage report (``GET /v1/organizations/usage_report/messages``): ``{"data": [bucket, …]}``; each
  bucket has ``starting_at`` (RFC 3339) and ``results`` with ``uncached_input_tokens`` (EXCLUDES cache
  reads and writes), ``cache_read_input_tokens``, ``cache_creation.ephemeral_5m_input_tokens`` and
  ``ephemeral_1h_input_tokens``, ``output_tokens``, ``server_tool_use.web_search_requests``, and, as grouped,
  ``model``, ``workspace_id``, ``api_key_id``, ``service_tier``, ``context_window`` (``0-200k`` or
  ``200k-1M``: the band every request of the bucket was priced in), ``inference_geo`` and ``speed``. The report
  counts no requests: its records count 0 requests. Web searches are priced per request at the model's
  ``search_context_cost_per_query`` (medium), as LiteLLM prices Anthropic's ``server_tool_use``, and kept in ``raw``.

A page, one bucket, or one result with the bucket's time beside it may stand on a line; a result without
``model`` (a report not grouped by model) cannot be priced and is rejected.
"""

from __future__ import annotations

from typing import Any

import orjson

from .records import (
    BadField,
    LineResult,
    Rejected,
    Skipped,
    ToolUse,
    UsageExtras,
    UsageRecord,
    check_conventions,
    parse_time,
    token_count,
)

OPENAI_RESULT = "organization.usage.completions.result"
# Anthropic's context_window group: the prompt size that puts a request in the band (PRICING.md §3: above 200k)
_CONTEXT_WINDOW_BAND = {"0-200k": 0, "200k-1M": 200_001}
_ANTHROPIC_TIERS = {"standard": None, "batch": "batch", "priority": "priority", "flex": "flex"}


def is_openai_usage(obj: dict[str, Any]) -> bool:
    kind = obj.get("object")
    if kind == OPENAI_RESULT:
        return True
    if kind not in ("page", "bucket"):
        return False
    buckets = obj.get("data") if kind == "page" else [obj]
    return _first_result(buckets, "object") == OPENAI_RESULT


def is_anthropic_usage(obj: dict[str, Any]) -> bool:
    if "uncached_input_tokens" in obj:
        return True
    buckets = obj.get("data") if "data" in obj else [obj] if "starting_at" in obj else None
    return _first_result(buckets, "uncached_input_tokens") is not None


def _first_result(buckets: Any, key: str) -> Any:
    if not isinstance(buckets, list):
        return None
    for b in buckets:
        results = b.get("results") if isinstance(b, dict) else None
        if isinstance(results, list):
            for r in results:
                if isinstance(r, dict):
                    return r.get(key)
    return None


def _buckets(obj: dict[str, Any], page_key: str | None) -> list[Any]:
    if page_key is not None and page_key in obj:
        data = obj[page_key]
        if not isinstance(data, list):
            raise BadField(page_key, "must be a list of buckets")
        return data
    return [obj]


def _expand(obj: dict[str, Any], file: str, line: int, time_key: str, read: Any, what: str) -> list[LineResult]:
    """Every result of every bucket on the line, each a record or a rejection (naming bucket and result)."""
    out: list[LineResult] = []
    single = "results" not in obj and "data" not in obj
    buckets = [{"results": [obj], time_key: obj.get(time_key)}] if single else _buckets(obj, "data")
    for b, bucket in enumerate(buckets):
        if not isinstance(bucket, dict):
            raise BadField(f"data[{b}]", "must be a bucket object")
        results = bucket.get("results") or []
        if not isinstance(results, list):
            raise BadField(f"data[{b}].results", "must be a list")
        when = bucket.get(time_key)
        start = None if when is None else parse_time(when, f"data[{b}].{time_key}")
        for i, result in enumerate(results):
            where = f"data[{b}].results[{i}]"
            try:
                if not isinstance(result, dict):
                    raise BadField(where, "must be an object")
                out.append(read(result, start, bucket, file, line, where))
            except BadField as exc:
                out.append(Rejected(file, line, f"{what}: {exc}", orjson.dumps(result)))
    if not out:
        out.append(Skipped(file, line, f"{what} without results (no usage in its buckets)"))
    return out


def openai_usage(obj: dict[str, Any], file: str, line: int) -> list[LineResult]:
    return _expand(obj, file, line, "start_time", _openai_result, "OpenAI usage")


def anthropic_usage(obj: dict[str, Any], file: str, line: int) -> list[LineResult]:
    return _expand(obj, file, line, "starting_at", _anthropic_result, "Anthropic usage")


def _model(result: dict[str, Any], where: str) -> str:
    model = result.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadField(f"{where}.model", "missing: a report not grouped by model cannot be priced (request it "
                                         "with group_by=model)")
    return model.strip()


def _ids(raw: dict[str, Any], result: dict[str, Any], names: dict[str, str]) -> None:
    for source, name in names.items():
        value = result.get(source)
        if value not in (None, ""):
            raw[name] = value


def _openai_result(result: dict[str, Any], start: float | None, bucket: dict[str, Any], file: str, line: int,
                   where: str) -> UsageRecord | Skipped:
    requests = token_count(result, "num_model_requests", f"{where}.num_model_requests")
    inp = token_count(result, "input_tokens", f"{where}.input_tokens")
    out = token_count(result, "output_tokens", f"{where}.output_tokens")
    cached = token_count(result, "input_cached_tokens", f"{where}.input_cached_tokens")
    audio_in = token_count(result, "input_audio_tokens", f"{where}.input_audio_tokens")
    audio_out = token_count(result, "output_audio_tokens", f"{where}.output_audio_tokens")
    if not (requests or inp or out):
        return Skipped(file, line, f"OpenAI usage {where}: an empty bucket")
    model = _model(result, where)
    prompt = inp if audio_in <= inp else inp + audio_in  # the older text-only input_tokens
    completion = out if audio_out <= out else out + audio_out
    raw: dict[str, Any] = {"source": "openai-usage", "requests": requests, "bucket_start": bucket.get("start_time"),
                           "bucket_end": bucket.get("end_time")}
    _ids(raw, result, {"project_id": "project", "api_key_id": "key", "user_id": "user", "service_tier": "tier"})
    tier = result.get("service_tier")
    batch = result.get("batch") is True
    r = UsageRecord(file=file, line=line, model=model, prompt_tokens=prompt, completion_tokens=completion,
                    cache_read_tokens=cached, audio_input_tokens=audio_in, audio_output_tokens=audio_out,
                    service_tier=None if batch or tier in (None, "", "default") else str(tier), timestamp=start,
                    batch=batch, shape="openai-usage", raw=raw, requests=requests,
                    band_prompt_tokens=prompt // requests if requests else prompt)
    check_conventions(r, {"cache": f"{where}.input_cached_tokens", "audio_in": f"{where}.input_audio_tokens",
                          "audio_out": f"{where}.output_audio_tokens"})
    return r


def _anthropic_result(result: dict[str, Any], start: float | None, bucket: dict[str, Any], file: str, line: int,
                      where: str) -> UsageRecord | Skipped:
    uncached = token_count(result, "uncached_input_tokens", f"{where}.uncached_input_tokens")
    read = token_count(result, "cache_read_input_tokens", f"{where}.cache_read_input_tokens")
    creation = result.get("cache_creation") or {}
    if not isinstance(creation, dict):
        raise BadField(f"{where}.cache_creation", "must be an object")
    five = token_count(creation, "ephemeral_5m_input_tokens", f"{where}.cache_creation.ephemeral_5m_input_tokens")
    hour = token_count(creation, "ephemeral_1h_input_tokens", f"{where}.cache_creation.ephemeral_1h_input_tokens")
    out = token_count(result, "output_tokens", f"{where}.output_tokens")
    tools = result.get("server_tool_use") or {}
    if not isinstance(tools, dict):
        raise BadField(f"{where}.server_tool_use", "must be an object")
    searches = token_count(tools, "web_search_requests", f"{where}.server_tool_use.web_search_requests")
    if not (uncached or read or five or hour or out or searches):
        return Skipped(file, line, f"Anthropic usage {where}: an empty bucket")
    model = _model(result, where)
    window = result.get("context_window")
    if window is not None and window not in _CONTEXT_WINDOW_BAND:
        raise BadField(f"{where}.context_window", f"unknown context window {window!r} (0-200k or 200k-1M)")
    tier = result.get("service_tier")
    if tier is not None and tier not in _ANTHROPIC_TIERS:
        raise BadField(f"{where}.service_tier", f"unknown service tier {tier!r}")
    raw: dict[str, Any] = {"source": "anthropic-usage", "bucket_start": bucket.get("starting_at"),
                           "bucket_end": bucket.get("ending_at"), "web_search_requests": searches}
    _ids(raw, result, {"workspace_id": "project", "api_key_id": "key", "account_id": "user",
                       "service_account_id": "service_account", "context_window": "context_window"})
    geo, speed = result.get("inference_geo"), result.get("speed")
    extras = UsageExtras(inference_geo=geo if isinstance(geo, str) and geo not in ("global", "not_available")
                         else None, speed=speed if isinstance(speed, str) and speed != "standard" else None,
                         # the bucket's web searches, priced per request as LiteLLM prices Anthropic's
                         # server_tool_use (pricing/tools.py)
                         tools=ToolUse(searched=True, server_tool_requests=searches) if searches else None)
    named = _ANTHROPIC_TIERS.get(tier) if isinstance(tier, str) else None
    r = UsageRecord(file=file, line=line, model=model, prompt_tokens=uncached + read + five + hour,
                    completion_tokens=out, cache_read_tokens=read, cache_write_tokens=five + hour,
                    cache_write_1h_tokens=hour, timestamp=start, batch=named == "batch",
                    service_tier=None if named in (None, "batch") else named, shape="anthropic-usage", raw=raw,
                    extras=extras or None, requests=0, band_prompt_tokens=_CONTEXT_WINDOW_BAND.get(window or "", 0))
    check_conventions(r)
    return r
