"""Call types LiteLLM 1.110.2 prices by the tokens of the usage it logs, other than chat: Google Interactions calls,
Responses API compactions, provider pass-through routes and RAG queries (approximate), and RAG ingests (the proxy
books $0). Each expected cost is ``litellm.completion_cost`` on the response the call returns, under its call type.

The logged records are built as LiteLLM's logging fills them: ``prompt_tokens`` / ``completion_tokens`` and
``metadata.usage_object`` are ``StandardLoggingPayloadSetup.get_usage_as_dict(response)``
(litellm_core_utils/litellm_logging.py, get_standard_logging_object_payload: ``usage_object=usage_dict``), the
spend-log row's ``metadata`` is that payload's metadata as JSON text (proxy/spend_tracking/spend_tracking_utils.py).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from .engine_check import lines_left_to_python
from .runner import priced_records

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
litellm = pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
from litellm.litellm_core_utils.litellm_logging import StandardLoggingPayloadSetup
from litellm.types.interactions.generated import InteractionsAPIResponse
from litellm.types.llms.openai import ResponsesAPIResponse


def _interaction() -> InteractionsAPIResponse:
    # the Interactions API usage block; LiteLLM's InteractionsUsageObjectTransformation turns it into a chat usage
    return InteractionsAPIResponse(id="i1", model="gemini-2.5-flash", status="completed",
                                   usage={"total_input_tokens": 1000, "total_output_tokens": 10,
                                          "total_cached_tokens": 400, "total_thought_tokens": 5})


def _compaction() -> ResponsesAPIResponse:
    return ResponsesAPIResponse(id="r1", created_at=1, output=[], model="gpt-4o", object="response",
                                status="completed", parallel_tool_calls=True, tool_choice="auto", tools=[],
                                usage={"input_tokens": 1000, "output_tokens": 10, "total_tokens": 1010,
                                       "input_tokens_details": {"cached_tokens": 400},
                                       "output_tokens_details": {"reasoning_tokens": 0}})


def _chat() -> Any:
    # what a provider's passthrough config (logging_non_streaming_response) and a RAG query's completion return
    return litellm.ModelResponse(model="gpt-4o", usage=litellm.Usage(prompt_tokens=1000, completion_tokens=10,
                                                                     prompt_tokens_details={"cached_tokens": 400}))


def _records(call_type: str, provider: str, model: str, response: Any) -> list[dict]:
    usage = StandardLoggingPayloadSetup.get_usage_as_dict(response.model_dump())
    common = {"call_type": call_type, "model": model, "custom_llm_provider": provider, "status": "success",
              "prompt_tokens": usage["prompt_tokens"], "completion_tokens": usage["completion_tokens"]}
    # a payload always has model_group (the alias a proxy client called; "" off the Router, as here)
    payload = {"id": "p1", **common, "model_group": "", "model_parameters": {}, "metadata": {"usage_object": usage}}
    row = {"request_id": "r1", **common, "spend": 0.0, "metadata": json.dumps({"usage_object": usage})}
    return [payload, row]


CASES = {
    # gemini-2.5-flash: $0.30/M input, $0.03/M cached, $2.50/M output: 600 × 0.3e-6 + 400 × 0.03e-6 + 15 × 2.5e-6
    "acreate_interaction": ("gemini", "gemini-2.5-flash", _interaction, 0.0002295),
    "create_interaction": ("gemini", "gemini-2.5-flash", _interaction, 0.0002295),
    # gpt-4o: $2.50/M input, $1.25/M cached, $10/M output: 600 × 2.5e-6 + 400 × 1.25e-6 + 10 × 1e-5
    "acompact_responses": ("openai", "gpt-4o", _compaction, 0.0021),
    "compact_responses": ("openai", "gpt-4o", _compaction, 0.0021),
    "allm_passthrough_route": ("openai", "gpt-4o", _chat, 0.0021),
    "llm_passthrough_route": ("openai", "gpt-4o", _chat, 0.0021),
}


@pytest.mark.parametrize("call_type", sorted(CASES))
def test_a_token_billed_call_type_is_priced_exactly_as_litellm_books_it(capsys, tmp_path, call_type):
    provider, model, respond, by_hand = CASES[call_type]
    response = respond()
    expected = litellm.completion_cost(completion_response=response, model=f"{provider}/{model}",
                                       custom_llm_provider=provider, call_type=call_type)
    assert expected == pytest.approx(by_hand, rel=1e-12)
    rows = _records(call_type, provider, model, response)
    for mine in priced_records(capsys, tmp_path, rows):
        assert mine["status"] == "priced" and mine["approximate"] == "", mine
        assert mine["cost"] == pytest.approx(expected, rel=1e-12)
    # a token row: DuckDB prices the spend-log row in SQL (the payload, whose metadata is an object, goes to Python)
    assert lines_left_to_python(capsys, tmp_path, rows) == [1]


@pytest.mark.parametrize("call_type", ["aquery", "query"])
def test_a_rag_query_is_priced_by_its_completion_tokens_and_marked_approximate(capsys, tmp_path, call_type):
    # litellm.rag.main: the query's booked cost is completion_cost on its completion (below) plus the sub-calls'
    # cost it folds in (additional_response_cost / the hidden response_cost: vector-store search and rerank),
    # which the row does not log
    response = _chat()
    expected = litellm.completion_cost(completion_response=response, model="openai/gpt-4o",
                                       custom_llm_provider="openai", call_type=call_type)
    assert expected == pytest.approx(0.0021, rel=1e-12)  # as the compaction above
    rows = _records(call_type, "openai", "gpt-4o", response)
    for mine in priced_records(capsys, tmp_path, rows):
        assert mine["status"] == "priced" and mine["cost"] == pytest.approx(expected, rel=1e-12)
        assert "vector-store search" in mine["approximate"] and "rerank" in mine["approximate"]
    assert lines_left_to_python(capsys, tmp_path, rows) == [1, 2]  # not a token row: DuckDB hands both over


@pytest.mark.parametrize(("request_body", "approximate"), [
    # /v1/rag/query bodies as a spend-log row keeps them with store_prompts_in_spend_logs
    ({"retrieval_config": {"vector_store_id": "vs_1", "custom_llm_provider": "openai"}}, ""),
    ({"retrieval_config": {"vector_store_id": "vs_1"}, "rerank": {"enabled": False}}, ""),  # openai by default
    ({"retrieval_config": {"vector_store_id": "vs_1"}, "rerank": {"enabled": True, "model": "cohere/rerank-v3.5"}},
     "the cost of the rerank the request enabled"),
    ({"retrieval_config": {"vector_store_id": "ds_1", "custom_llm_provider": "vertex_ai"}},
     "the cost of its Vertex AI vector-store search"),
])
def test_a_rag_query_whose_request_shows_no_priced_sub_call_is_exact(capsys, tmp_path, request_body, approximate):
    # no rerank and a store other than Vertex AI's: search_cost is 0 (vector_store_search_cost), rerank_cost 0, so
    # the proxy books the completion's cost alone
    _, row = _records("aquery", "openai", "gpt-4o", _chat())
    row["proxy_server_request"] = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "q"}],
                                              **request_body})
    (mine,) = priced_records(capsys, tmp_path, [row])
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(0.0021, rel=1e-12)  # as above
    assert (approximate in mine["approximate"]) and bool(mine["approximate"]) == bool(approximate), mine


@pytest.mark.parametrize("call_type", ["aingest", "ingest"])
def test_a_rag_ingest_is_skipped_at_the_zero_the_proxy_books(capsys, tmp_path, call_type):
    # an ingest returns a RAGIngestResponse (id, status, vector_store_id, file_id): no usage, no cost branch
    response = {"id": "ingest_1", "status": "completed", "vector_store_id": "vs_1", "file_id": "file_1"}
    assert litellm.completion_cost(completion_response=response, model="openai/gpt-4o",
                                   custom_llm_provider="openai", call_type=call_type) == 0.0
    rows = [{"request_id": "r1", "call_type": call_type, "model": "gpt-4o", "custom_llm_provider": "openai",
             "status": "success", "prompt_tokens": 0, "completion_tokens": 0, "spend": 0.0, "metadata": "{}"}]
    (mine,) = priced_records(capsys, tmp_path, rows)
    assert mine["status"] == "skipped" and "the proxy books $0" in mine["reason"]
    lines_left_to_python(capsys, tmp_path, rows)  # the same report from both engines
