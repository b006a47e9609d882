"""OpenTelemetry GenAI telemetry as OTLP/JSON (what a collector's file exporter writes: one
``ExportTraceServiceRequest`` ``{"resourceSpans": …}`` or ``ExportLogsServiceRequest`` ``{"resourceLogs": …}`` per
line) → one UsageRecord per span or log event that carries token usage; spans and events without usage (tool
calls, agent steps, prompts) are skipped, each counted.

Token attributes, in the order they are looked for (the first spelling present wins):

==========================  ==============================================  ====================================
emitter                     attributes                                      convention
==========================  ==============================================  ====================================
OTel GenAI semconv          ``gen_ai.usage.input_tokens`` / ``output_``,    input INCLUDES cache reads and writes
                            ``cache_read.input_tokens``,                    (the spec's SHOULD); output includes
                            ``cache_creation.input_tokens`` (or             reasoning
                            ``cache_write.``), ``reasoning.output_tokens``
OpenLLMetry                 ``gen_ai.usage.prompt_tokens`` /                as above
                            ``completion_tokens``, ``llm.usage.*``,
                            ``gen_ai.usage.cache_read_input_tokens``
OpenInference               ``llm.token_count.prompt`` / ``completion``,    prompt includes its ``prompt_details``
                            ``prompt_details.cache_read`` / ``cache_write``
                            ``completion_details.reasoning``
Claude Code                 event ``claude_code.api_request``:              Anthropic: ``input_tokens`` EXCLUDES
                            ``input_tokens``, ``cache_read_tokens``,        the cache tokens; ``cost_usd`` is
                            ``cache_creation_tokens``, ``output_tokens``    Claude Code's own price
==========================  ==============================================  ====================================

An emitter that writes the semconv names with Anthropic's counts (cache reads above the input count) cannot
mean the inclusive convention: such a span is read as Anthropic's (input + reads + writes). The model is
``gen_ai.request.model`` (what the client called, as a config names it), else ``gen_ai.response.model``,
``llm.model_name`` or Claude Code's ``model``. There is no agreed cost attribute: ``gen_ai.usage.cost``,
``gen_ai.cost.usd``, ``llm.cost.total`` and Claude Code's ``cost_usd`` are read as the emitter's own price.

``raw`` is a flat dict of the ids a report groups by (``service``, ``trace_id``, ``span_id``, ``user``,
``team``, ``key``, ``project``, ``session``, ``provider``, ``operation``, ``tags``) beside the span's
``attributes`` and ``resource`` attributes as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from .records import (
    BadField,
    LineResult,
    Rejected,
    Skipped,
    UsageRecord,
    check_conventions,
    number,
    parse_time,
    time_in_range,
    token_count,
)

SHAPE = "otel"
_NANOS = 1_000_000_000

# (attribute, its shown name) per canonical count; the first present wins
_INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.usage.prompt_tokens",
          "llm.token_count.prompt")
_OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.usage.completion_tokens",
           "llm.token_count.completion")
# Sentry's conventions name the parts under the total: gen_ai.usage.input_tokens.cached / .cache_write,
# gen_ai.usage.output_tokens.reasoning
_CACHE_READ = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
               "gen_ai.usage.input_tokens.cached", "llm.usage.cache_read_input_tokens",
               "llm.token_count.prompt_details.cache_read")
_CACHE_WRITE = ("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens",
                "gen_ai.usage.cache_creation_input_tokens", "gen_ai.usage.input_tokens.cache_write",
                "llm.usage.cache_creation_input_tokens", "llm.token_count.prompt_details.cache_write")
_REASONING = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
              "gen_ai.usage.output_tokens.reasoning", "llm.usage.reasoning_tokens",
              "llm.token_count.completion_details.reasoning")
_AUDIO_IN = ("gen_ai.usage.audio.input_tokens", "llm.token_count.prompt_details.audio")
_AUDIO_OUT = ("gen_ai.usage.audio.output_tokens", "llm.token_count.completion_details.audio")
_MODEL = ("gen_ai.request.model", "gen_ai.response.model", "llm.request.model", "llm.response.model",
          "llm.model_name", "model")
_COST = ("gen_ai.usage.cost", "gen_ai.cost.usd", "gen_ai.cost", "llm.cost.total", "cost_usd")
# ids a report groups by: canonical name -> attributes (span / event first, then resource)
_IDS = {
    "user": ("user.email", "user.id", "enduser.id", "gen_ai.user.id", "user.account_uuid",
             "metadata.user_api_key_user_id"),
    "team": ("team.id", "metadata.user_api_key_team_alias", "metadata.user_api_key_team_id"),
    "key": ("metadata.user_api_key_alias", "metadata.user_api_key_hash", "api_key.id"),
    "project": ("project.id", "gen_ai.project.id", "organization.id"),
    "session": ("session.id", "gen_ai.conversation.id"),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "operation": ("gen_ai.operation.name", "llm.request.type", "openinference.span.kind"),
}
CLAUDE_CODE_API_REQUEST = "claude_code.api_request"


def is_otlp(obj: dict[str, Any]) -> bool:
    return "resourceSpans" in obj or "resourceLogs" in obj or "resourceMetrics" in obj


def attributes(items: Any, where: str) -> dict[str, Any]:
    """An OTLP ``KeyValue`` list as a plain dict (``intValue`` is a string in OTLP/JSON: made an int). A
    ``kvlistValue`` is also spelled out under dotted keys (``gen_ai.usage`` holding ``input_tokens`` gives
    ``gen_ai.usage.input_tokens``), as emitters that nest their attributes mean it."""
    if items is None:
        return {}
    if not isinstance(items, list):
        raise BadField(where, "must be a list of {key, value}")
    out: dict[str, Any] = {}
    for kv in items:
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise BadField(where, "must be a list of {key, value}")
        out[kv["key"]] = _value(kv.get("value"), f"{where}.{kv['key']}")
    for key, value in list(out.items()):
        if isinstance(value, dict):
            for inner, v in _dotted(value, key):
                out.setdefault(inner, v)
    return out


def _dotted(value: dict[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for key, v in value.items():
        if isinstance(v, dict):
            yield from _dotted(v, f"{prefix}.{key}")
        else:
            yield f"{prefix}.{key}", v


def _value(v: Any, where: str) -> Any:
    if not isinstance(v, dict):
        return v  # a flattened exporter writes plain values
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        raw = v["intValue"]
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise BadField(where, f"intValue is not an integer: {raw!r}") from None
    if "doubleValue" in v:
        return v["doubleValue"]
    if "boolValue" in v:
        return v["boolValue"]
    if "arrayValue" in v:
        return [_value(x, where) for x in _values(v["arrayValue"], f"{where}.arrayValue")]
    if "kvlistValue" in v:
        return attributes(_values(v["kvlistValue"], f"{where}.kvlistValue"), where)
    return None


def _values(holder: Any, where: str) -> list[Any]:
    """The ``values`` list of an ``arrayValue`` / ``kvlistValue`` (absent or null: none)."""
    if holder is None:
        return []
    values = holder.get("values") if isinstance(holder, dict) else holder
    if values is None:
        return []
    if not isinstance(values, list):
        raise BadField(where, "must be an object with a list of values")
    return values


def _count(attrs: dict[str, Any], keys: tuple[str, ...]) -> tuple[int, str | None]:
    """The first of ``keys`` present, as a token count (emitters write counts as strings too)."""
    for key in keys:
        value = attrs.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            try:
                value = float(value) if "." in value or "e" in value.lower() else int(value)
            except ValueError:
                raise BadField(key, f"token count must be a whole number, got {value!r}") from None
        return token_count({key: value}, key), key
    return 0, None


def _first(attrs: dict[str, Any], resource: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for where in (attrs, resource):
        for key in keys:
            value = where.get(key)
            if value not in (None, ""):
                return value
    return None


def _nanos(value: Any, field: str) -> float | None:
    if value in (None, "", "0", 0):
        return None
    try:
        seconds = int(value) / _NANOS
    except (TypeError, ValueError, OverflowError):
        raise BadField(field, f"must be Unix nanoseconds, got {value!r}") from None
    return time_in_range(seconds, field, value)


def _cost(attrs: dict[str, Any]) -> float | None:
    for key in _COST:
        value = attrs.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise BadField(key, f"must be a number, got {value!r}") from None
        return number(value, key)
    return None


def usage_record(attrs: dict[str, Any], resource: dict[str, Any], file: str, line: int, *,
                 trace_id: Any = None, span_id: Any = None, start: float | None = None, end: float | None = None,
                 event: str | None = None) -> UsageRecord | Skipped:
    """One span's or event's attributes → a record, or a skip when it carries no token usage."""
    claude_code = event == CLAUDE_CODE_API_REQUEST or attrs.get("event.name") == "api_request"
    if claude_code:
        inp, inp_key = _count(attrs, ("input_tokens",))
        out, out_key = _count(attrs, ("output_tokens",))
        read, _ = _count(attrs, ("cache_read_tokens",))
        write, _ = _count(attrs, ("cache_creation_tokens",))
        reasoning = audio_in = audio_out = 0
        exclusive = True
    else:
        inp, inp_key = _count(attrs, _INPUT)
        out, out_key = _count(attrs, _OUTPUT)
        read, _ = _count(attrs, _CACHE_READ)
        write, _ = _count(attrs, _CACHE_WRITE)
        reasoning, _ = _count(attrs, _REASONING)
        audio_in, _ = _count(attrs, _AUDIO_IN)
        audio_out, _ = _count(attrs, _AUDIO_OUT)
        exclusive = read + write > inp  # Anthropic's counts under the semconv names (see the docstring)
    if inp_key is None and out_key is None:
        what = f"a {event} event" if event else "a span"
        called = None if event else _first(attrs, {}, _MODEL)
        if isinstance(called, str) and called.strip():  # a model call whose usage the emitter did not record
            return Skipped(file, line, f"{what} calling {called.strip()} without GenAI token usage: its cost is "
                                       "unknown (the emitter recorded no gen_ai.usage.* counts)")
        return Skipped(file, line, f"{what} without GenAI token usage")
    model = _first(attrs, {}, _MODEL)
    if not isinstance(model, str) or not model.strip():
        raise BadField("gen_ai.request.model", "missing or not a string (no gen_ai.request.model, "
                                               "gen_ai.response.model, llm.model_name or model)")
    raw: dict[str, Any] = {"source": "otel-log" if event else "otel-span"}
    if isinstance(resource.get("service.name"), str):
        raw["service"] = resource["service.name"]
    if trace_id:
        raw["trace_id"] = trace_id
    if span_id:
        raw["span_id"] = span_id
        if not event:  # an exporter that retries writes a span twice: the report de-duplicates by request id
            raw["request_id"] = f"{trace_id}:{span_id}"
    for name, keys in _IDS.items():
        value = _first(attrs, resource, keys)
        if value is not None:
            raw[name] = value
    if event:
        raw["event"] = event
    if isinstance(attrs.get("gen_ai.response.model"), str):
        raw["response_model"] = attrs["gen_ai.response.model"]
    raw["attributes"], raw["resource"] = attrs, resource
    prompt = inp + read + write if exclusive else inp
    duration = None
    if start is not None and end is not None and end >= start:
        duration = end - start
    elif claude_code and attrs.get("duration_ms") is not None:
        ms = attrs["duration_ms"]
        duration = number(float(ms) if isinstance(ms, str) else ms, "duration_ms") / 1000.0
    r = UsageRecord(file=file, line=line, model=model.strip(), prompt_tokens=prompt, completion_tokens=out,
                    cache_read_tokens=read, cache_write_tokens=write, reasoning_tokens=reasoning,
                    audio_input_tokens=audio_in, audio_output_tokens=audio_out, duration_s=duration,
                    timestamp=start if start is not None else _event_time(attrs), recorded_cost=_cost(attrs),
                    shape=SHAPE, raw=raw)
    check_conventions(r, {"cache": "gen_ai.usage.cache_read.input_tokens",
                          "reasoning": "gen_ai.usage.reasoning.output_tokens",
                          "audio_in": "gen_ai.usage.audio.input_tokens",
                          "audio_out": "gen_ai.usage.audio.output_tokens"})
    return r


def _event_time(attrs: dict[str, Any]) -> float | None:
    value = attrs.get("event.timestamp")
    return None if value is None else parse_time(value, "event.timestamp")


def _one(results: list[LineResult], item: Any, resource: dict[str, Any], file: str, line: int, read: Any,
         where: str) -> None:
    """Append what one span or log record gives, a rejection naming it (``where``: its place in the export) and the
    field when it breaks a rule."""
    try:
        if not isinstance(item, dict):
            raise BadField(where, "must be an object (a span or log record)")
        results.append(read(item, resource, file, line))
    except BadField as exc:
        try:
            text = orjson.dumps(item)
        except orjson.JSONEncodeError:
            text = b""
        reason = str(exc) if str(exc).startswith(where) else f"{where}: {exc}"
        results.append(Rejected(file, line, reason, text))


def _list(obj: dict[str, Any], key: str, where: str, legacy: str | None = None) -> list[Any]:
    value = obj.get(key)
    if value is None and legacy is not None:
        value = obj.get(legacy)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadField(where, "must be a list")
    return value


def otlp(obj: dict[str, Any], file: str, line: int) -> list[LineResult]:
    """Every span of a ``resourceSpans`` request and every log record of a ``resourceLogs`` request on the line,
    each a record, a skip or a rejection (a rejection covers its span only)."""
    results: list[LineResult] = []
    if "resourceSpans" not in obj and "resourceLogs" not in obj:
        return [Skipped(file, line, "an OTLP metrics export: counters summed over time, not one record per call "
                                    "(export the traces or the log events)")]
    spans = "resourceSpans" in obj
    kind, scope_key, items_key = ("resourceSpans", "scopeSpans", "spans") if spans else \
        ("resourceLogs", "scopeLogs", "logRecords")
    for r, rs in enumerate(_list(obj, kind, kind)):
        here = f"{kind}[{r}]"
        try:  # a bad resource or scope loses its own spans only: one rejection, the others read
            if not isinstance(rs, dict):
                raise BadField(here, "must be an object")
            resource_obj = rs.get("resource") or {}
            if not isinstance(resource_obj, dict):
                raise BadField(f"{here}.resource", "must be an object")
            resource = attributes(resource_obj.get("attributes"), f"{here}.resource.attributes")
            scopes = _list(rs, scope_key, f"{here}.{scope_key}", "instrumentationLibrarySpans" if spans else
                           "instrumentationLibraryLogs")
        except BadField as exc:
            results.append(Rejected(file, line, str(exc), orjson.dumps(rs)))
            continue
        for n, scope in enumerate(scopes):
            where = f"{here}.{scope_key}[{n}]"
            try:
                if not isinstance(scope, dict):
                    raise BadField(where, "must be an object")
                items = _list(scope, items_key, f"{where}.{items_key}")
            except BadField as exc:
                results.append(Rejected(file, line, str(exc), orjson.dumps(scope)))
                continue
            for i, item in enumerate(items):
                _one(results, item, resource, file, line, _span if spans else _log, f"{where}.{items_key}[{i}]")
    if not results:
        results.append(Skipped(file, line, "an OTLP export without spans or log records"))
    return results


def _span(span: dict[str, Any], resource: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    attrs = attributes(span.get("attributes"), "attributes")
    return usage_record(attrs, resource, file, line, trace_id=span.get("traceId"), span_id=span.get("spanId"),
                        start=_nanos(span.get("startTimeUnixNano"), "startTimeUnixNano"),
                        end=_nanos(span.get("endTimeUnixNano"), "endTimeUnixNano"))


def _log(record: dict[str, Any], resource: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    """A log record is an event: its name is ``eventName`` (OTLP 1.5+), else ``event.name``, else the body
    (Claude Code writes its event name as the body)."""
    attrs = attributes(record.get("attributes"), "attributes")
    body = _value(record.get("body"), "body")
    name = record.get("eventName") or attrs.get("event.name") or (body if isinstance(body, str) else None)
    if isinstance(body, str) and isinstance(name, str) and body.endswith(f".{name}"):
        name = body  # Claude Code: event.name "api_error", the body its full name "claude_code.api_error"
    if name == "api_request":
        name = CLAUDE_CODE_API_REQUEST
    time = _nanos(record.get("timeUnixNano"), "timeUnixNano") or _nanos(record.get("observedTimeUnixNano"),
                                                                          "observedTimeUnixNano")
    return usage_record(attrs, resource, file, line, trace_id=record.get("traceId"),
                        span_id=record.get("spanId"), start=time, event=name if isinstance(name, str) else "log")
