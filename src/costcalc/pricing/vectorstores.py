"""Vector-store searches (``vector_store_search`` / ``avector_store_search``) as LiteLLM 1.110.2's
``vector_store_search_cost`` books them: the provider's vector-store config prices the call, and only Vertex AI's
Search API config prices anything (``input_cost_per_query`` of the ``vertex_ai/search_api`` cost-map row, once a
call); every other provider's (OpenAI, Azure, Bedrock, Vertex RAG, PG Vector, ...) returns $0, as does a call the
proxy logged without the API type (LiteLLM cannot price it).
"""

from __future__ import annotations

from typing import Any

from .calltypes import CallPrice

VECTOR_STORE_SEARCH_CALLS = frozenset({"vector_store_search", "avector_store_search"})
_SEARCH_API_ROW = "vertex_ai/search_api"
SEARCH_API_MODELS = ("search_api", _SEARCH_API_ROW)  # how the proxy logs Vertex AI Search API calls' model
ZERO_REASON = "the provider's vector-store search carries no price: the proxy books $0"


def vector_store_search_price(model: str | None, provider: str | None, cost_map: Any) -> CallPrice | str:
    """The price of one vector-store search, or why the proxy books it $0. The proxy logs the API type as the
    model (``search_api``, ``rag_api``) and the provider apart."""
    if provider != "vertex_ai" or model not in SEARCH_API_MODELS:
        return ZERO_REASON
    rate = cost_map.entry(_SEARCH_API_ROW).get("input_cost_per_query") if _SEARCH_API_ROW in cost_map else None
    return CallPrice(float(rate or 0.0), 1, False, f"input_cost_per_query of {_SEARCH_API_ROW}", None)
