"""CloudWatch Logs exported to S3 (``aws logs create-export-task``): each line is the event's ISO-8601 timestamp,
one space, then the message as it was logged (``2025-04-10T08:12:30.000Z {"schemaType": ...}``). A Bedrock model
invocation log, or any JSON log shipped to CloudWatch, is the message; the timestamp is CloudWatch's ingestion
time, not the record's, so it is dropped."""

from __future__ import annotations

import re

_EXPORT_PREFIX = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})? (?=\{)")


def exported_message(text: bytes) -> bytes | None:
    """The JSON message of a CloudWatch export line, or None when ``text`` is not one."""
    found = _EXPORT_PREFIX.match(text)
    return text[found.end():] if found is not None else None
