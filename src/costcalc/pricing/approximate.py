"""Which priced records costcalc cannot reproduce to the cent from the logs, and why (the ``approximate`` column).

Every other priced record is exact: the units it was priced on are the ones the proxy logged and the rates the
ones the proxy resolved, so its cost equals the proxy's booked ``response_cost`` (to float precision)."""

from __future__ import annotations

from typing import Any

# LiteLLM multiplies input_cost_per_second by a duration it times itself (from its HTTP receive time for an
# unstreamed call, at cost time for a stream) and logs nowhere; a log's endTime - startTime differs from it.
PER_SECOND = ("the proxy times the call itself and does not log that duration; priced from endTime − startTime")


def approximate_reason(record: Any, sheet: Any) -> str | None:
    """Why ``record``, priced with ``sheet``, may differ from what the proxy booked; None when it is exact.
    A reader's own reason (``record.approximate``: a unit the log lacks) comes first."""
    if record.approximate is not None:
        return record.approximate
    # a call priced per second of its logged audio (transcription: call_type set) is exact
    if sheet is not None and sheet.per_second and record.call_type is None:
        raw = record.raw or {}
        if raw.get("duration_s") is None and raw.get("response_time_ms") is None:
            return PER_SECOND
    return None
