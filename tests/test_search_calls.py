"""Search API calls (``search`` / ``asearch``) cost what LiteLLM 1.110.2 books: the search tool's configured
``input_cost_per_query``, else ``search_provider_cost_per_query`` on the provider's cost-map row (Tavily's
``search_depth`` row, Exa AI's ``max_results`` tier), one query per call; what the log lacks is marked."""

from __future__ import annotations

import json
import os

import pytest

from .runner import priced_records

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
litellm = pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
from litellm.search import search_provider_cost_per_query

CONFIG = """model_list: []
search_tools:
  - search_tool_name: own-tavily
    litellm_params: {search_provider: tavily, input_cost_per_query: 0.02}
  - search_tool_name: web
    litellm_params: {search_provider: exa_ai}
"""
# (model group = search tool, logged model, provider, request body stored or None)
CASES = [
    ("tav", "tavily/search", "tavily", {"query": "q", "search_depth": "advanced"}),
    ("tav", "search", "tavily", {"query": "q"}),
    ("web", "exa_ai/search", "exa_ai", {"query": "q", "max_results": 30}),
    ("web", "exa_ai/search", "exa_ai", {"query": "q"}),
    ("ser", "search", "serper", {"query": ["a", "b"]}),
]


def _row(i: int, group: str, model: str, provider: str, body: dict | None, call_type: str = "asearch") -> dict:
    return {"request_id": f"r{i}", "call_type": call_type, "model_group": group, "model": model,
            "custom_llm_provider": provider, "status": "success", "prompt_tokens": 0, "completion_tokens": 0,
            "spend": 0.0, "metadata": "{}", "proxy_server_request": json.dumps(body) if body else "{}"}


def _price(capsys, tmp_path, rows: list[dict], config: str = CONFIG) -> list[dict]:
    return priced_records(capsys, tmp_path, rows, config=config)

def test_search_calls_cost_what_litellm_books(capsys, tmp_path):
    unpriced_tools = ("model_list: []\nsearch_tools:\n  - search_tool_name: web\n"
                      "    litellm_params: {search_provider: exa_ai}\n")
    out = _price(capsys, tmp_path, [_row(i, *case) for i, case in enumerate(CASES)], unpriced_tools)
    for (_, model, provider, body), found in zip(CASES, out):
        name = model if "/" in model else f"{provider}/search"
        params = {k: v for k, v in body.items() if k != "query"}  # the search call keeps query out of them
        expected, _ = search_provider_cost_per_query(model=name, custom_llm_provider=provider, number_of_queries=1,
                                                     optional_params=params)
        assert found["status"] == "priced" and found["approximate"] == "", found
        assert found["cost"] == pytest.approx(expected, rel=1e-12), (model, body, found)
    # by hand on the cost map: Tavily advanced $0.016, basic $0.008; Exa AI 26-100 results $0.025, the default 10
    # results $0.005; Serper $0.001 (one query per call: the proxy does not count the query list)
    assert [r["cost"] for r in out] == pytest.approx([0.016, 0.008, 0.025, 0.005, 0.001], rel=1e-12)


def test_a_tools_configured_price_wins_and_what_the_log_lacks_is_marked(capsys, tmp_path):
    rows = [_row(0, "own-tavily", "tavily/search", "tavily", {"query": "q", "search_depth": "advanced"}, "search"),
            _row(1, "web", "exa_ai/search", "exa_ai", None),
            _row(2, "tav", "linkup/search", "linkup", None),
            _row(3, "other", "tavily/search", "tavily", {"query": "q"}),
            _row(4, "par", "parallel_ai/search", "parallel_ai", {"query": "q"})]
    out = _price(capsys, tmp_path, rows)
    assert out[0]["status"] == "priced" and out[0]["cost"] == pytest.approx(0.02, rel=1e-12)  # the tool's own price
    assert out[1]["cost"] == pytest.approx(0.005, rel=1e-12) and "max_results" in out[1]["approximate"]
    # Linkup's standard search, $0.00587 a query, when the log does not say which depth was asked for
    assert out[2]["cost"] == pytest.approx(0.00587, rel=1e-12) and "depth" in out[2]["approximate"]
    # a tavily call from a tool the config does not name, while a tavily tool sets its own price: which one
    # served it is unknown
    assert out[3]["status"] == "unpriced" and "input_cost_per_query" in out[3]["reason"]
    assert out[4]["status"] == "unpriced" and "Parallel AI" in out[4]["reason"]


def test_the_config_discount_and_margin_apply_to_search_calls(capsys, tmp_path):
    config = ("model_list: []\nlitellm_settings:\n  cost_discount_config: {serper: 0.1}\n"
              "  cost_margin_config: {serper: 0.5}\n")
    out = _price(capsys, tmp_path, [_row(0, "ser", "search", "serper", {"query": "q"})], config)
    # $0.001 - 10% = $0.0009, + 50% margin = $0.00135
    assert out[0]["cost"] == pytest.approx(0.001 * 0.9 * 1.5, rel=1e-12), out[0]
