"""Amazon Bedrock model invocation logs (CloudWatch Logs or S3 delivery, one JSON object per line, ``schemaType``
``ModelInvocationLog``) → one UsageRecord per invocation.

``input.inputTokenCount`` EXCLUDES ``input.cacheReadInputTokenCount`` and ``input.cacheWriteInputTokenCount``
(as the Converse API's ``usage``), so the prompt is their sum; ``output.outputTokenCount`` is the output. The
model is ``modelId`` priced as ``bedrock/<id>``: a foundation-model id (``anthropic.claude-…-v1:0``), a
cross-region inference profile (``us.anthropic.…``), or the ARN of either, reduced to its id; an application
inference profile or a provisioned model ARN names no model and stays as given (unpriced unless a config
deployment names it). ``identity.arn`` (who called: the chargeback key), ``requestId``, ``region``,
``accountId``, ``operation`` and ``requestMetadata`` (the caller's cost-allocation tags) go to ``raw`` beside
the ids a report groups by (``identity``, ``request_id``, ``tags``); the request and response bodies are
dropped, so held records stay small.

An invocation that failed carries ``errorCode`` (the exception's name: ``ThrottlingException``,
``ValidationException``, ``ModelTimeoutException``, ...) and sometimes the input's token count; Bedrock bills
successful inference only, so such a record is skipped, naming the error.

CloudWatch Logs' own output (``aws logs filter-log-events`` / ``get-log-events``: ``{"events": [{"timestamp",
"message"}, …]}``, each message an invocation log as a JSON string) gives one record per event.
"""

from __future__ import annotations

from typing import Any

import orjson

from .records import BadField, LineResult, Rejected, Skipped, UsageRecord, check_conventions, parse_time, token_count

SHAPE = "bedrock-invocation-log"
_ARN_RESOURCES = ("foundation-model/", "inference-profile/")


def is_invocation_log(obj: dict[str, Any]) -> bool:
    return obj.get("schemaType") == "ModelInvocationLog" or (
        "modelId" in obj and isinstance(obj.get("input"), dict) and "inputTokenCount" in obj["input"])


def is_cloudwatch_events(obj: dict[str, Any]) -> bool:
    events = obj.get("events")
    if not isinstance(events, list) or not events or not isinstance(events[0], dict):
        return False
    message = events[0].get("message")
    return isinstance(message, str) and '"ModelInvocationLog"' in message


def cloudwatch_events(obj: dict[str, Any], file: str, line: int) -> list[LineResult]:
    """Every event of a CloudWatch Logs page: its message read as an invocation log, or rejected naming the event."""
    out: list[LineResult] = []
    for i, event in enumerate(obj["events"]):
        where = f"events[{i}]"
        message = event.get("message") if isinstance(event, dict) else None
        try:
            if not isinstance(message, str):
                raise BadField(f"{where}.message", "must be a string (an invocation log as JSON)")
            try:
                log = orjson.loads(message)
            except orjson.JSONDecodeError as exc:
                raise BadField(f"{where}.message", f"not valid JSON ({exc.args[0].split(':')[0]})") from None
            if not isinstance(log, dict) or not is_invocation_log(log):
                raise BadField(f"{where}.message", "not a Bedrock model invocation log")
            out.append(invocation_log(log, file, line))
        except BadField as exc:
            text = message.encode() if isinstance(message, str) else orjson.dumps(event)
            reason = str(exc) if str(exc).startswith(where) else f"{where}: {exc}"
            out.append(Rejected(file, line, reason, text))
    return out or [Skipped(file, line, "a CloudWatch Logs page without events")]


def model_name(model_id: str) -> str:
    """A ``modelId`` as the cost map names it: ``bedrock/`` and the id (an ARN reduced to its resource id)."""
    if model_id.startswith("arn:"):
        resource = model_id.split(":", 5)[-1]
        for kind in _ARN_RESOURCES:
            if resource.startswith(kind):
                model_id = resource[len(kind):]
                break
        else:
            return model_id  # an application inference profile or provisioned model: no model in the name
    return model_id if model_id.startswith("bedrock/") else f"bedrock/{model_id}"


def _section(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadField(key, "must be an object")
    return value


def invocation_log(obj: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    error = obj.get("errorCode")
    if error not in (None, ""):
        if not isinstance(error, str):
            raise BadField("errorCode", "must be a string")
        return Skipped(file, line, f"a failed Bedrock invocation (errorCode {error}): not billed")
    model_id = obj.get("modelId")
    if not isinstance(model_id, str) or not model_id.strip():
        raise BadField("modelId", "missing or not a string")
    inp, out = _section(obj, "input"), _section(obj, "output")
    tokens = token_count(inp, "inputTokenCount", "input.inputTokenCount")
    read = token_count(inp, "cacheReadInputTokenCount", "input.cacheReadInputTokenCount")
    write = token_count(inp, "cacheWriteInputTokenCount", "input.cacheWriteInputTokenCount")
    identity = _section(obj, "identity")
    metadata = obj.get("requestMetadata")
    raw: dict[str, Any] = {"source": "bedrock-invocation-log", "model_id": model_id}
    for key, name in (("requestId", "request_id"), ("region", "region"), ("accountId", "account"),
                      ("operation", "operation")):
        if obj.get(key) not in (None, ""):
            raw[name] = obj[key]
    if isinstance(identity.get("arn"), str):
        raw["identity"] = identity["arn"]
    if isinstance(metadata, dict):
        raw["metadata"] = metadata
        raw["tags"] = [f"{k}:{v}" for k, v in metadata.items()]
    when = obj.get("timestamp")
    r = UsageRecord(file=file, line=line, model=model_name(model_id.strip()), prompt_tokens=tokens + read + write,
                    completion_tokens=token_count(out, "outputTokenCount", "output.outputTokenCount"),
                    cache_read_tokens=read, cache_write_tokens=write,
                    timestamp=None if when is None else parse_time(when, "timestamp"), shape=SHAPE, raw=raw)
    check_conventions(r)
    return r
