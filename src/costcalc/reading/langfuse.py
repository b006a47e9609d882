"""Langfuse observations (the public API's ``GET /api/public/observations`` items, or a UI export as JSON, JSON
lines or CSV) → one UsageRecord per generation; spans and events (no usage) are skipped.

``usageDetails`` is a map of usage types to counts. Langfuse stores it additive: the types sum to ``total``,
so ``input`` EXCLUDES the cached, cache-write and audio input types (``input_cached_tokens``,
``cache_read_input_tokens``, ``cache_creation_input_tokens``, ``input_audio_tokens``, …) and ``output``
EXCLUDES ``output_reasoning_tokens`` and ``output_audio_tokens``. Every type that starts with ``output`` (or
``completion``) is output, every other type input; the prompt is the sum of the input types. Types named
``*cache_read*`` / ``*cached*`` are cache reads, ``*cache_creation*`` / ``*cache_write*`` cache writes,
``*reasoning*`` reasoning, ``*audio*`` audio. When ``total`` equals ``input + output`` while other types are
set, the details were ingested inclusive (``input`` already holds its cached part) and ``input`` / ``output``
are the totals. ``costDetails.total`` (else ``calculatedTotalCost``, ``totalCost``) is Langfuse's own price of
the generation, kept for ``--reconcile``.
"""

from __future__ import annotations

from typing import Any

from .records import BadField, Skipped, UsageRecord, check_conventions, number, parse_time, token_count

SHAPE = "langfuse"


def is_observation(obj: dict[str, Any]) -> bool:
    return "usageDetails" in obj or "costDetails" in obj or (
        obj.get("type") in ("GENERATION", "SPAN", "EVENT") and "traceId" in obj)


def _recorded(obj: dict[str, Any]) -> float | None:
    details = obj.get("costDetails")
    if isinstance(details, dict) and details.get("total") is not None:
        return number(details["total"], "costDetails.total")
    for key in ("calculatedTotalCost", "totalCost"):
        if obj.get(key) is not None:
            return number(obj[key], key)
    return None


def observation(obj: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    kind = obj.get("type")
    if kind is not None and kind != "GENERATION":
        return Skipped(file, line, f"a Langfuse {str(kind).lower()} observation (no usage)")
    usage = obj.get("usageDetails")
    if usage is None or usage == {}:
        return Skipped(file, line, "a Langfuse generation without usageDetails")
    if not isinstance(usage, dict):
        raise BadField("usageDetails", "must be an object")
    model = obj.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadField("model", "missing or not a string")
    counts = {k: token_count(usage, k, f"usageDetails.{k}") for k in usage if k != "total"}
    prompt = completion = read = write = reasoning = audio_in = audio_out = 0
    for key, n in counts.items():
        name = key.lower()
        if name.startswith(("output", "completion")):
            completion += n
            reasoning += n if "reasoning" in name else 0
            audio_out += n if "audio" in name else 0
            continue
        prompt += n
        if "cache_read" in name or "cached" in name:
            read += n
        elif "cache_creation" in name or "cache_write" in name:
            write += n
        elif "audio" in name:
            audio_in += n
    total = token_count(usage, "total", "usageDetails.total") if usage.get("total") is not None else None
    inp, out = counts.get("input", 0), counts.get("output", 0)
    if total is not None and total == inp + out and (prompt, completion) != (inp, out):
        prompt, completion = inp, out  # ingested inclusive: input / output already hold their parts
    raw: dict[str, Any] = {"source": "langfuse", "span_id": obj.get("id"), "trace_id": obj.get("traceId")}
    if obj.get("id"):
        raw["request_id"] = obj["id"]
    for key, name in (("userId", "user"), ("sessionId", "session"), ("tags", "tags"), ("projectId", "project"),
                      ("environment", "environment"), ("name", "name"), ("metadata", "metadata")):
        if obj.get(key) not in (None, ""):
            raw[name] = obj[key]
    start, end = obj.get("startTime"), obj.get("endTime")
    t0 = None if start is None else parse_time(start, "startTime")
    t1 = None if end is None else parse_time(end, "endTime")
    r = UsageRecord(file=file, line=line, model=model.strip(), prompt_tokens=prompt, completion_tokens=completion,
                    cache_read_tokens=read, cache_write_tokens=write, reasoning_tokens=reasoning,
                    audio_input_tokens=audio_in, audio_output_tokens=audio_out,
                    duration_s=t1 - t0 if t0 is not None and t1 is not None and t1 >= t0 else None,
                    timestamp=t0, recorded_cost=_recorded(obj), shape=SHAPE, raw=raw)
    check_conventions(r, {"cache": "usageDetails", "reasoning": "usageDetails", "audio_in": "usageDetails",
                          "audio_out": "usageDetails"})
    return r
