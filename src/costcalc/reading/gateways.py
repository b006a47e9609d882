"""Other gateways' request logs, read for their own price of each call (``--reconcile`` checks it):

- Portkey's logs export (JSON lines; columns ``created_at``, ``ai_org``, ``ai_model``, ``req_units``,
  ``res_units``, ``cost`` IN CENTS with ``cost_currency``, ``cache_status``, ``response.body``, ...). The
  response body's ``usage`` (when exported) gives the counts in its provider's convention, cache details
  included; else ``req_units`` / ``res_units`` are the prompt and completion. Responses Portkey served from its
  own cache (``HIT``, ``SEMANTIC HIT``) cost nothing at the provider and are skipped.
- Helicone's request export (``@helicone/export`` JSON, JSON lines or CSV; ``HeliconeRequest`` fields
  ``request_id``, ``request_created_at``, ``request_model`` / ``response_model``, ``provider``, ``prompt_tokens``,
  ``prompt_cache_read_tokens``, ``prompt_cache_write_tokens``, ``completion_tokens``, ``cost`` in dollars,
  ``request_user_id``, ``request_properties``). ``prompt_tokens`` includes the cache counts unless they exceed
  it (then it is Anthropic's uncached input and the prompt is their sum).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .records import BadField, Skipped, UsageRecord, check_conventions, number, parse_time, token_count

_PORTKEY_CACHE_HITS = frozenset({"HIT", "SEMANTIC HIT"})


def is_portkey(obj: dict[str, Any]) -> bool:
    return "ai_model" in obj and ("req_units" in obj or "cost_currency" in obj)


def is_helicone(obj: dict[str, Any]) -> bool:
    return "request_created_at" in obj and ("request_model" in obj or "response_model" in obj)


def _body(obj: dict[str, Any], key: str) -> Any:
    """A nested export column, written flat (``"response.body"``) or nested (``response: {body}``)."""
    if key in obj:
        return obj[key]
    head, _, tail = key.partition(".")
    inner = obj.get(head)
    return inner.get(tail) if isinstance(inner, dict) else None


def portkey(obj: dict[str, Any], file: str, line: int, read_response: Any) -> UsageRecord | Skipped:
    """``read_response(body, file, line)``: the provider-response reader (``shapes.response``)."""
    status = obj.get("cache_status")
    if isinstance(status, str) and status.upper() in _PORTKEY_CACHE_HITS:
        return Skipped(file, line, f"served from Portkey's cache ({status}: no provider charge)")
    model = obj.get("ai_model")
    if not isinstance(model, str) or not model.strip():
        raise BadField("ai_model", "missing or not a string")
    body = _body(obj, "response.body")
    if isinstance(body, dict) and isinstance(body.get("usage"), dict) and body["usage"]:
        found = read_response({**body, "model": body.get("model") or model}, file, line)
        if isinstance(found, Skipped):
            return found
        r: UsageRecord = found
    else:
        prompt, completion = token_count(obj, "req_units"), token_count(obj, "res_units")
        if not (prompt or completion) and obj.get("is_success") in (0, False, "0"):
            return Skipped(file, line, "a failed request (no usage)")
        r = UsageRecord(file=file, line=line, model=model.strip(), prompt_tokens=prompt, completion_tokens=completion)
    currency = obj.get("cost_currency")
    if currency not in (None, "", "USD", "usd"):
        raise BadField("cost_currency", f"cost in {currency}: only USD costs can be compared")
    cost = obj.get("cost")
    # Portkey's cost is in cents: divided as the decimal it is written as (0.35 cents is $0.0035, not 0.00349…)
    r.recorded_cost = None if cost is None else float(Decimal(repr(number(cost, "cost"))) / 100)
    r.timestamp = None if obj.get("created_at") is None else parse_time(obj["created_at"], "created_at")
    r.shape, r.file, r.line = "portkey", file, line
    raw: dict[str, Any] = {"source": "portkey", "provider": obj.get("ai_org")}
    for key, name in (("trace_id", "trace_id"), ("id", "request_id"), ("virtual_key", "key"),
                      ("workspace_slug", "project"), ("metadata", "metadata")):
        if obj.get(key) not in (None, ""):
            raw[name] = obj[key]
    r.raw = raw
    return r


def helicone(obj: dict[str, Any], file: str, line: int) -> UsageRecord:
    model = obj.get("request_model") or obj.get("model_override") or obj.get("response_model")
    if not isinstance(model, str) or not model.strip():
        raise BadField("request_model", "missing or not a string")
    prompt = token_count(obj, "prompt_tokens")
    read = token_count(obj, "prompt_cache_read_tokens")
    write = token_count(obj, "prompt_cache_write_tokens")
    if read + write > prompt:
        prompt += read + write  # Anthropic's uncached input under prompt_tokens
    raw: dict[str, Any] = {"source": "helicone"}
    for key, name in (("request_id", "request_id"), ("request_user_id", "user"), ("provider", "provider"),
                      ("request_properties", "metadata"), ("response_model", "response_model")):
        if obj.get(key) not in (None, ""):
            raw[name] = obj[key]
    cost = obj.get("cost")
    if cost is None:
        cost = obj.get("costUSD")
    created = obj.get("request_created_at")
    r = UsageRecord(file=file, line=line, model=model.strip(), prompt_tokens=prompt,
                    completion_tokens=token_count(obj, "completion_tokens"), cache_read_tokens=read,
                    cache_write_tokens=write, timestamp=None if created is None else parse_time(created,
                                                                                                "request_created_at"),
                    recorded_cost=None if cost is None else number(cost, "cost"), shape="helicone", raw=raw)
    check_conventions(r, {"cache": "prompt_cache_read_tokens"})
    return r
