"""RAG queries (``query``, ``aquery``: ``litellm/rag/main.py``) as LiteLLM 1.110.2 books them: the completion's cost
(``completion_cost`` on its logged usage, as a chat call's) plus the sub-calls' cost the query folds in: the
vector-store search (``vector_store_search_cost``: only Vertex AI's Search API prices one) and the rerank, when the
request enables one (its ``response_cost``). The log keeps neither sub-call's units; the request body (a spend-log
row with stored prompts) says whether either ran.
"""

from __future__ import annotations

from typing import Any

RAG_QUERY_CALLS = frozenset({"query", "aquery"})
NOT_LOGGED = ("RAG query priced by its completion's logged tokens; the proxy adds the cost of the vector-store search "
              "(Vertex AI Search API only) and of the rerank it ran, which the log does not keep")
RERANKED = ("RAG query priced by its completion's logged tokens; the proxy adds the cost of the rerank the request "
            "enabled, which the log does not keep")
VERTEX_SEARCH = ("RAG query priced by its completion's logged tokens; the proxy adds the cost of its Vertex AI "
                 "vector-store search, which the log does not keep")


def rag_query_approximate(request: dict[str, Any]) -> str | None:
    """Why a RAG query priced by its completion's tokens is approximate, or None when the logged request shows no
    sub-call the proxy prices (no rerank, a store other than Vertex AI's)."""
    if not request:
        return NOT_LOGGED
    rerank = request.get("rerank")
    if isinstance(rerank, dict) and rerank.get("enabled"):
        return RERANKED
    retrieval = request.get("retrieval_config")
    provider = retrieval.get("custom_llm_provider", "openai") if isinstance(retrieval, dict) else "openai"
    if not isinstance(provider, str) or provider.startswith("vertex_ai"):
        return VERTEX_SEARCH
    return None
