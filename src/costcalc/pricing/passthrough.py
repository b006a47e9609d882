"""Pass-through endpoints a config declares (``general_settings.pass_through_endpoints``): the proxy books the
endpoint's ``cost_per_request`` (0 unless set) as the call's cost when the upstream reports no usage
(proxy/pass_through_endpoints/success_handler.py ``_set_cost_per_request``), before and instead of any discount
or margin. A logged call names its endpoint by ``api_base`` (the target it was forwarded to) and, in a standard
logging payload, by ``metadata.user_api_key_request_route`` (the proxy path).
"""

from __future__ import annotations

from typing import Any

from ..rates.config import PassThroughEndpoint
from .calltypes import CallPrice

PASS_THROUGH_CALL = "pass_through_endpoint"
AMBIGUOUS = ("pass-through endpoints with different cost_per_request forward to this target and the log does not "
             "name the route; priced at the first")


def _serves(endpoint: PassThroughEndpoint, api_base: str) -> bool:
    target = endpoint.target.rstrip("/")
    return api_base.rstrip("/") == target or (endpoint.include_subpath and api_base.startswith(target + "/"))


def pass_through_price(endpoints: tuple[PassThroughEndpoint, ...], raw: dict[str, Any]) -> CallPrice | None:
    """The price of a logged pass-through call without usage: its endpoint's ``cost_per_request``; None when no
    declared endpoint forwards to its ``api_base`` (a provider route, priced by the response's tokens)."""
    api_base = raw.get("api_base")
    if not endpoints or not isinstance(api_base, str) or not api_base:
        return None
    found = [e for e in endpoints if _serves(e, api_base)]
    metadata = raw.get("metadata")
    route = metadata.get("user_api_key_request_route") if isinstance(metadata, dict) else None
    if isinstance(route, str) and any(e.path == route for e in found):
        found = [e for e in found if e.path == route]
    if not found:
        return None
    approximate = AMBIGUOUS if len({e.cost_per_request for e in found}) > 1 else None
    endpoint = found[0]
    return CallPrice(endpoint.cost_per_request, 1, False, f"cost_per_request of pass-through endpoint {endpoint.path}",
                     approximate)
