"""What costcalc does with each call type of LiteLLM 1.110.2's ``CallTypes`` enum (``call_type`` in a spend-log
row or a standard logging payload): priced by tokens, priced by other units, or, when the proxy books $0,
skipped with that reason; every other call type is counted unpriced with the reason in ``UNPRICED``.
``tests/test_call_type_coverage.py`` walks the enum so that no call type is left out.
"""

from __future__ import annotations

from .a2a import A2A_CALLS
from .calltypes import PRICED_CALLS
from .decisions import DECISIONS_CALLS
from .mcp import MCP_CALLS
from .rag import RAG_QUERY_CALLS as RAG_QUERY_CALLS  # a class of its own (below)
from .search import SEARCH_CALLS
from .tools import VIDEO_CALLS
from .vectorstores import VECTOR_STORE_SEARCH_CALLS


def _both(*names: str) -> frozenset[str]:
    """Each call type and its async twin (``a`` + name)."""
    return frozenset(n for name in names for n in (name, f"a{name}"))


# Priced by the tokens of the logged usage (reading/shapes.py TOKEN_CALL_TYPES reads them as token calls); a
# thread run's response carries the run's usage, which completion_cost prices by token like a chat, and so does a
# video generation or extension logged under that name (outside its video branch; a video usage has no tokens: $0),
# an extraction (its ExtractionUsage's input and output tokens), a Google Interactions call (its usage in chat form),
# a Responses API compaction and a provider pass-through route (the provider's response, transformed to a chat one)
TOKEN_CALLS = _both("completion", "text_completion", "embedding", "responses", "anthropic_messages",
                    "generate_content", "generate_content_stream", "moderation", "retrieve_batch", "run_thread",
                    "run_thread_stream", "video_generation", "video_extension", "extraction",
                    "create_interaction", "compact_responses", "llm_passthrough_route",
                    ) | {"pass_through_endpoint"}
# Priced by other units (pricing/calltypes.py, pricing/tools.py, pricing/search.py, pricing/mcp.py,
# pricing/vectorstores.py: $0 for every provider but Vertex AI's Search API, skipped with that reason), and Decisions
# calls (pricing/decisions.py: per query, or by tokens at their own rates with the cached tokens the log leaves out),
# A2A agent calls (pricing/a2a.py: the config agent's cost_per_query or per-token prices)
UNIT_CALLS = (PRICED_CALLS | VIDEO_CALLS | SEARCH_CALLS | VECTOR_STORE_SEARCH_CALLS | MCP_CALLS | DECISIONS_CALLS
              | A2A_CALLS)
# Priced by the tokens of the combined usage, approximate: the proxy adds input-audio transcription, translation
# and live-session seconds from the session's events (handle_realtime_stream_cost_calculation), which no log keeps
REALTIME_CALLS = frozenset({"_arealtime", "_aresponses_websocket"})
REALTIME = ("realtime session priced by its logged token usage; the proxy also prices input-audio transcription, "
            "translation and live-session seconds from the session's events, which the log does not keep")
# (RAG queries, pricing/rag.py: by the completion's logged tokens, approximate unless the logged request shows no
# sub-call the proxy prices.)
# Calls that manage resources: completion_cost has no branch for them and their responses carry no usage, so the
# proxy books $0 (skipped, counted, with this reason); a RAG ingest's response (RAGIngestResponse) carries no usage
# either, and the embeddings it computes (S3 Vectors) are calls of their own, logged as embedding rows
ZERO_BOOKED = _both(
    "create_batch", "cancel_batch", "get_assistants", "create_assistants", "delete_assistant", "create_thread",
    "get_thread", "get_messages", "file_retrieve", "file_delete", "file_list", "create_file", "file_content",
    "create_fine_tuning_job", "cancel_fine_tuning_job", "list_fine_tuning_jobs", "retrieve_fine_tuning_job",
    "video_retrieve", "video_content", "video_list", "video_retrieve_job", "video_delete", "video_create_character",
    "video_get_character", "vector_store_file_create", "vector_store_file_list", "vector_store_file_retrieve",
    "vector_store_file_content", "vector_store_file_update", "vector_store_file_delete", "vector_store_create",
    "create_container", "list_containers", "retrieve_container", "delete_container", "list_container_files",
    "upload_container_file", "create_sandbox", "delete_sandbox", "get_responses", "delete_responses",
    "cancel_responses", "ingest",
) | {"a_add_message", "add_message", "alist_input_items", "list_mcp_tools", "acreate_skill",
     "acreate_realtime_client_secret", "acreate_realtime_transcription_session",
     "acreate_realtime_translation_client_secret"}
# Calls for which LiteLLM builds no standard logging payload, so its response_cost stays None and the proxy's cost
# callback (proxy/hooks/proxy_track_cost_callback.py) raises "Cost tracking failed" and writes no spend-log row:
# nothing is booked. A WebRTC SDP exchange returns the provider's httpx.Response (the media session then runs between
# the client and the provider, outside the proxy); a sandbox call returns a CodeExecutionResult. Neither is a result
# type Logging._is_recognized_call_type_for_logging accepts (checked by running LiteLLM: tests/test_not_booked.py).
_NOT_LOGGED = {
    **dict.fromkeys({"arealtime_calls", "arealtime_translation_calls"},
                    "a realtime WebRTC SDP exchange: LiteLLM logs no payload and no cost for its httpx.Response (the "
                    "session's audio runs between the client and the provider, outside the proxy), so the proxy "
                    "books $0 and writes no spend-log row"),
    **dict.fromkeys(_both("run_code", "code_interpreter_tool"),
                    "a sandbox code execution (E2B, OpenSandbox): LiteLLM logs no payload and no cost for its "
                    "CodeExecutionResult, and code_interpreter_cost_per_session is read only from "
                    "standard_built_in_tools_params.code_interpreter_sessions, which the proxy never sets, so the "
                    "proxy books $0 and writes no spend-log row"),
}
ZERO_BOOKED = ZERO_BOOKED | frozenset(_NOT_LOGGED)
ZERO_BOOKED_REASON = "call type {call_type!r} manages resources and carries no usage: the proxy books $0"


def zero_booked_reason(call_type: str) -> str:
    """Why a call of ``call_type`` (one of ``ZERO_BOOKED``) is skipped."""
    why = _NOT_LOGGED.get(call_type)
    return f"call type {call_type!r}: {why}" if why else ZERO_BOOKED_REASON.format(call_type=call_type)


_NOT_YET = "which costcalc does not reproduce yet"
# every call type of LiteLLM 1.110.2's enum is classed above; a call type it does not have is unpriced
UNPRICED: dict[str, str] = {}


def unpriced_reason(call_type: str) -> str:
    """Why a call of ``call_type`` is counted unpriced."""
    why = UNPRICED.get(call_type, f"not a call type LiteLLM 1.110.2 prices, {_NOT_YET}")
    return f"call type {call_type!r}: {why}"
