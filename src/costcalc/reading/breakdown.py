"""The proxy's logged cost breakdown: ``cost_breakdown`` in a standard logging payload, ``metadata.cost_breakdown``
in a spend-log row (LiteLLM 1.110.2: ``Logging.set_cost_breakdown``, copied into the spend-log metadata by
``proxy/spend_tracking/spend_tracking_utils.py``). A breakdown is present when it carries ``total_cost``; its
``cache_read_cost`` and ``cache_creation_cost`` are written only when above 0 (absent: $0)."""

from __future__ import annotations

from typing import Any


def _breakdown(raw: dict[str, Any]) -> dict[str, Any] | None:
    metadata = raw.get("metadata")
    for holder in (metadata, raw):
        found = holder.get("cost_breakdown") if isinstance(holder, dict) else None
        if isinstance(found, dict) and found.get("total_cost") is not None:
            return found
    return None


def _cost(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0.0


def logged_cache_costs(raw: dict[str, Any] | None) -> tuple[float, float] | None:
    """``(cache_read_cost, cache_creation_cost)`` the proxy logged for a call, or None when the log has no
    breakdown."""
    found = _breakdown(raw) if raw is not None else None
    if found is None:
        return None
    return _cost(found.get("cache_read_cost")), _cost(found.get("cache_creation_cost"))
