"""Vector-store searches cost what LiteLLM 1.110.2's ``vector_store_search_cost`` books: Vertex AI's Search API
``input_cost_per_query`` once a call (discount and margin applied), every other provider $0 (skipped, counted,
with that reason)."""

from __future__ import annotations

import os

import pytest

from .runner import priced_records

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
litellm = pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
from litellm.types.vector_stores import VectorStoreSearchResponse

# (logged model: the API type, provider)
CASES = [("search_api", "vertex_ai"), ("rag_api", "vertex_ai"), ("x", "openai"), ("x", "bedrock"),
         ("x", "azure"), ("x", "pg_vector")]


def _price(capsys, tmp_path, rows: list[dict], config: str = "model_list: []\n") -> list[dict]:
    return priced_records(capsys, tmp_path, rows, config=config)

def _row(i: int, model: str, provider: str) -> dict:
    return {"request_id": f"r{i}", "call_type": "avector_store_search" if i % 2 else "vector_store_search",
            "model": model, "custom_llm_provider": provider, "status": "success", "prompt_tokens": 0,
            "completion_tokens": 0, "spend": 0.0, "metadata": "{}"}


def test_vector_store_searches_cost_what_litellm_books(capsys, tmp_path):
    out = _price(capsys, tmp_path, [_row(i, *case) for i, case in enumerate(CASES)])
    response = VectorStoreSearchResponse(object="vector_store.search_results.page", search_query="q", data=[])
    for i, ((model, provider), found) in enumerate(zip(CASES, out)):
        expected = litellm.completion_cost(completion_response=response, model=model, custom_llm_provider=provider,
                                           call_type=_row(i, model, provider)["call_type"])
        if expected:
            assert found["status"] == "priced" and found["cost"] == pytest.approx(expected, rel=1e-12), found
        else:
            assert found["status"] == "skipped" and "the proxy books $0" in found["reason"], found
    # by hand: the vertex_ai/search_api row's $0.0015 a query; the rest books nothing
    assert out[0]["cost"] == pytest.approx(0.0015, rel=1e-12)
    assert [r["status"] for r in out[1:]] == ["skipped"] * 5


def test_the_config_margin_applies_to_a_vertex_search(capsys, tmp_path):
    out = _price(capsys, tmp_path, [_row(0, "search_api", "vertex_ai")],
                 "model_list: []\nlitellm_settings:\n  cost_margin_config: {vertex_ai: 0.2}\n")
    assert out[0]["cost"] == pytest.approx(0.0015 * 1.2, rel=1e-12), out[0]  # $0.0015 + 20%
