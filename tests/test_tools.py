"""Built-in tool charges (web search, file search), video and realtime calls, each checked against LiteLLM 1.110.2's
own ``completion_cost`` on the response the logged record carries.

The records are built as LiteLLM's logging fills them (litellm_core_utils/litellm_logging.py,
``get_standard_logging_object_payload``): ``response`` the response's model_dump, ``metadata.usage_object`` its
usage, ``standard_built_in_tools_params`` from ``Logging.initialize_standard_built_in_tools_params`` (the request's
``web_search_options`` / web_search tool, and its ``file_search`` tool), ``cost_breakdown`` with the
``tool_usage_cost`` it booked; a spend-log row (proxy/spend_tracking/spend_tracking_utils.py
``get_logging_payload``) keeps the usage object and the breakdown in ``metadata`` and the response only with
``store_prompts_in_spend_logs`` ("{}" otherwise).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .engine_check import lines_left_to_python
from .runner import main, priced_records

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
litellm = pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
from litellm.types.llms.openai import ResponsesAPIResponse
from litellm.types.utils import ModelResponse, PromptTokensDetailsWrapper, ServerToolUse, Usage


def _price(capsys, tmp_path: Path, rows: list[dict], *args: str, config: str | None = None) -> list[dict]:
    return priced_records(capsys, tmp_path, rows, *args, config=config)


def _chat(usage: Usage, annotations: list[dict] | None = None, model: str = "m") -> ModelResponse:
    message = {"role": "assistant", "content": "answer"}
    if annotations is not None:
        message["annotations"] = annotations
    return ModelResponse(model=model, choices=[{"index": 0, "message": message, "finish_reason": "stop"}],
                         usage=usage)


def _payload(response, model: str, provider: str, tools: dict | None = None, call_type: str = "acompletion",
             booked: float | None = None) -> dict:
    dumped = response.model_dump()
    usage = dumped.get("usage") or {}
    if "input_tokens" in usage:  # a Responses API usage: the payload's usage object is LiteLLM's chat Usage
        usage = {"prompt_tokens": usage["input_tokens"], "completion_tokens": usage["output_tokens"],
                 "total_tokens": usage["input_tokens"] + usage["output_tokens"]}
    return {"id": "call-1", "call_type": call_type, "model": model, "model_group": None,
            "custom_llm_provider": provider, "status": "success", "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"], "metadata": {"usage_object": usage},
            "model_parameters": {}, "response": dumped,
            "standard_built_in_tools_params": tools or {"web_search_options": None, "file_search": None},
            "cost_breakdown": None if booked is None else {"tool_usage_cost": booked, "total_cost": 1.0}}


def _row(payload: dict, stored: bool, request_id: str = "row-1") -> dict:
    """The spend-log row the proxy writes for ``payload`` (responses and request bodies only when stored)."""
    metadata = {"usage_object": payload["metadata"]["usage_object"], "cost_breakdown": payload["cost_breakdown"]}
    return {"request_id": request_id, "call_type": payload["call_type"], "model": payload["model"],
            "custom_llm_provider": payload["custom_llm_provider"], "status": "success",
            "prompt_tokens": payload["prompt_tokens"], "completion_tokens": payload["completion_tokens"],
            "spend": 0.5, "metadata": json.dumps(metadata),
            "response": json.dumps(payload["response"]) if stored else "{}", "proxy_server_request": "{}"}


def _anthropic(searches: int) -> ModelResponse:
    return _chat(Usage(prompt_tokens=1000, completion_tokens=200, total_tokens=1200,
                       server_tool_use=ServerToolUse(web_search_requests=searches)))


def test_anthropic_web_searches_are_priced_per_request_from_the_usage(capsys, tmp_path):
    model, provider = "claude-sonnet-4-5-20250929", "anthropic"
    response = _anthropic(3)
    expected = litellm.completion_cost(completion_response=response, model=model, custom_llm_provider=provider)
    tokens_only = litellm.completion_cost(completion_response=_anthropic(0), model=model,
                                          custom_llm_provider=provider)
    # hand arithmetic on the map: 3 searches x $0.01 (search_context_size_medium) on top of the tokens
    assert expected == pytest.approx(tokens_only + 3 * 0.01, rel=1e-12)
    payload = _payload(response, model, provider)
    rows = _price(capsys, tmp_path, [payload, _row(payload, stored=False)])
    for mine in rows:  # the usage object holds the count: exact on both paths
        assert mine["status"] == "priced" and mine["approximate"] == ""
        assert mine["cost"] == pytest.approx(expected, rel=1e-12)


SEARCH_PRICES = {"search_context_size_low": 0.01, "search_context_size_medium": 0.02,
                 "search_context_size_high": 0.04}


@pytest.mark.parametrize("size", ["low", "high", None])
def test_an_openai_search_answer_is_one_query_at_the_requested_context_size(capsys, tmp_path, size):
    # the map's OpenAI search models price every context size alike: a deployment with prices of its own, as the
    # proxy registers it (under its id, model_info included), tells them apart
    model, provider = "openai/costcalc-searching-deployment", "openai"
    litellm.register_model({model: {"input_cost_per_token": 2e-6, "output_cost_per_token": 8e-6,
                                    "litellm_provider": "openai", "mode": "chat",
                                    "search_context_cost_per_query": SEARCH_PRICES}})
    config = tmp_path / "config.yaml"
    config.write_text(f"""
model_list:
  - model_name: searching
    litellm_params: {{model: {model}, input_cost_per_token: 2.0e-6, output_cost_per_token: 8.0e-6}}
    model_info: {{search_context_cost_per_query: {json.dumps(SEARCH_PRICES)}}}
""")
    response = _chat(Usage(prompt_tokens=500, completion_tokens=100, total_tokens=600),
                     annotations=[{"type": "url_citation", "url_citation": {"url": "https://example.invalid",
                                   "title": "t", "start_index": 0, "end_index": 5}}])
    tools = {"web_search_options": None if size is None else {"search_context_size": size}, "file_search": None}
    expected = litellm.completion_cost(completion_response=response, model=model, custom_llm_provider=provider,
                                       standard_built_in_tools_params=tools)
    # 500 x $2/M + 100 x $8/M, and one query at the asked context size (medium without web_search_options)
    assert expected == pytest.approx(500 * 2e-6 + 100 * 8e-6 + SEARCH_PRICES[f"search_context_size_{size or 'medium'}"],
                                     rel=1e-12)
    payload = dict(_payload(response, model, provider, tools), model_group="searching")
    (mine,) = _price(capsys, tmp_path, [payload], "--config", str(config))
    assert mine["status"] == "priced" and mine["approximate"] == ""
    assert mine["cost"] == pytest.approx(expected, rel=1e-12)


def _responses(items: list[dict]) -> ResponsesAPIResponse:
    return ResponsesAPIResponse(id="resp_1", created_at=1, model="gpt-4.1", object="response", status="completed",
                                output=items, tools=[], parallel_tool_calls=True, tool_choice="auto",
                                usage={"input_tokens": 800, "output_tokens": 300, "total_tokens": 1100})


def test_a_responses_call_pays_each_web_search_call_it_lists(capsys, tmp_path):
    items = [{"type": "web_search_call", "id": f"ws_{k}", "status": "completed"} for k in range(2)]
    items.append({"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                  "content": [{"type": "output_text", "text": "hi", "annotations": []}]})
    response = _responses(items)
    tools = {"web_search_options": {"search_context_size": "high"}, "file_search": None}
    expected = litellm.completion_cost(completion_response=response, model="gpt-4.1", custom_llm_provider="openai",
                                       call_type="aresponses", standard_built_in_tools_params=tools)
    (mine,) = _price(capsys, tmp_path, [_payload(response, "gpt-4.1", "openai", tools, call_type="aresponses")])
    assert mine["status"] == "priced" and mine["approximate"] == ""
    assert mine["cost"] == pytest.approx(expected, rel=1e-12)


def test_a_file_search_the_request_declared_is_one_call_price(capsys, tmp_path):
    items = [{"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": ["q"]}]
    response = _responses(items)
    tools = {"web_search_options": None, "file_search": {"type": "file_search", "vector_store_ids": ["vs_1"]}}
    expected = litellm.completion_cost(completion_response=response, model="gpt-4.1", custom_llm_provider="openai",
                                       call_type="aresponses", standard_built_in_tools_params=tools)
    without = litellm.completion_cost(completion_response=response, model="gpt-4.1", custom_llm_provider="openai",
                                      call_type="aresponses")
    assert expected == pytest.approx(without + 2.5 / 1000, rel=1e-12)  # $2.50 per 1,000 calls, booked as one
    (mine,) = _price(capsys, tmp_path, [_payload(response, "gpt-4.1", "openai", tools, call_type="aresponses")])
    assert mine["cost"] == pytest.approx(expected, rel=1e-12) and mine["approximate"] == ""


@pytest.mark.parametrize(("model", "searches"), [("gemini-3.1-pro-preview", 3), ("gemini-2.5-flash", 3)])
def test_gemini_grounding_is_priced_per_query_or_per_prompt_as_the_map_says(capsys, tmp_path, model, searches):
    usage = Usage(prompt_tokens=400, completion_tokens=50, total_tokens=450,
                  prompt_tokens_details=PromptTokensDetailsWrapper(web_search_requests=searches))
    response = _chat(usage)
    expected = litellm.completion_cost(completion_response=response, model=model, custom_llm_provider="gemini")
    (mine,) = _price(capsys, tmp_path, [_payload(response, model, "gemini")])
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(expected, rel=1e-12)


def test_a_booked_tool_charge_the_row_does_not_explain_is_one_search_marked(capsys, tmp_path):
    response = _chat(Usage(prompt_tokens=500, completion_tokens=100, total_tokens=600),
                     annotations=[{"type": "url_citation", "url_citation": {"url": "u", "title": "t",
                                                                            "start_index": 0, "end_index": 1}}])
    expected = litellm.completion_cost(completion_response=response, model="gpt-4.1", custom_llm_provider="openai")
    payload = _payload(response, "gpt-4.1", "openai", booked=0.035)
    rows = [_row(payload, stored=True), _row(payload, stored=False, request_id="row-2")]
    (stored, bare) = _price(capsys, tmp_path, rows)
    assert stored["cost"] == pytest.approx(expected, rel=1e-12) and stored["approximate"] == ""
    assert bare["cost"] == pytest.approx(expected, rel=1e-12)  # LiteLLM's defaults: one query, medium context
    assert bare["approximate"].startswith("the proxy booked a built-in tool charge")


def test_a_video_is_priced_per_second_of_its_output(capsys, tmp_path):
    from litellm.types.videos.main import VideoObject

    video = VideoObject(id="video_1", object="video", status="completed", created_at=1, model="sora-2",
                        usage={"duration_seconds": 8.0})
    expected = litellm.completion_cost(completion_response=video, model="sora-2", custom_llm_provider="openai",
                                       call_type="acreate_video")
    assert expected == pytest.approx(8 * 0.1, rel=1e-12)  # output_cost_per_video_per_second $0.10 x 8 s
    row = {"id": "v-1", "call_type": "acreate_video", "model": "sora-2", "model_group": None,
           "custom_llm_provider": "openai", "status": "success", "prompt_tokens": 0, "completion_tokens": 0,
           "model_parameters": {},
           "response": video.model_dump()}
    (mine,) = _price(capsys, tmp_path, [row])
    assert mine["status"] == "priced" and mine["approximate"] == ""
    assert mine["cost"] == pytest.approx(expected, rel=1e-12)


def _video_payload(i: str, call_type: str, model: str, provider: str, video, group: str | None = None) -> dict:
    """A video call's standard logging payload: the response is the VideoObject's dump (its usage with it)."""
    return {"id": i, "call_type": call_type, "model": model, "model_group": group, "custom_llm_provider": provider,
            "status": "success", "prompt_tokens": 0, "completion_tokens": 0, "model_parameters": {},
            "response": video.model_dump()}


def _video_row(payload: dict) -> dict:
    """The spend-log row of ``payload`` with stored prompts (the response kept as JSON text)."""
    return {"request_id": payload["id"], "call_type": payload["call_type"], "model": payload["model"],
            "model_group": payload["model_group"], "custom_llm_provider": payload["custom_llm_provider"],
            "status": "success", "prompt_tokens": 0, "completion_tokens": 0, "spend": 0.0, "metadata": "{}",
            "response": json.dumps(payload["response"])}


def test_a_video_with_billable_input_images_or_a_reported_cost_is_priced_as_litellm_books_it(capsys, tmp_path,
                                                                                           registering_router):
    """completion_cost's video branch: seconds × the per-second price × videos, plus billable_input_image_count ×
    input_cost_per_image (_video_input_image_cost; MiniMax's transformation counts the images past its free
    allowance); a provider's reported cost (provider_reported_cost_usd: RunwayML, Eden AI) when the deployment sets
    no prices of its own."""
    from litellm.types.videos.main import VideoObject

    def video(model: str, usage: dict) -> VideoObject:
        return VideoObject(id="video_1", object="video", status="completed", created_at=1, model=model, usage=usage)

    # MiniMax-H3: $0.08 a second at 768p, $0.04 per billable input image; 6 s, 3 images past the free 5
    minimax = video("MiniMax-H3", {"duration_seconds": 6.0, "video_resolution": "768p", "input_image_count": 8,
                                   "billable_input_image_count": 3})
    # xAI: $0.07 a second at 720p, $0.002 per input image, two videos of 5 s and 2 input images
    grok = video("grok-imagine-video", {"duration_seconds": 5.0, "video_resolution": "720p", "video_count": 2,
                                        "billable_input_image_count": 2})
    runway = video("gen4_turbo", {"duration_seconds": 5.0, "provider_reported_cost_usd": 0.25})
    cases = [("v1", "minimax", "MiniMax-H3", minimax), ("v2", "xai", "grok-imagine-video", grok),
             ("v3", "runwayml", "gen4_turbo", runway)]
    expected = [litellm.completion_cost(completion_response=v, model=m, custom_llm_provider=p,
                                        call_type="acreate_video") for _, p, m, v in cases]
    assert expected == pytest.approx([6 * 0.08 + 3 * 0.04, 5 * 0.07 * 2 + 2 * 0.002, 0.25], rel=1e-12)
    payloads = [_video_payload(i, "acreate_video", m, p, v) for i, p, m, v in cases]
    for rows in (payloads, [_video_row(p) for p in payloads]):
        mine = _price(capsys, tmp_path, rows, "--engine", "python")
        assert [r["status"] for r in mine] == ["priced"] * 3 and all(r["approximate"] == "" for r in mine)
        assert [r["cost"] for r in mine] == pytest.approx(expected, rel=1e-12)
        # DuckDB prints aggregate reports only: the same report, every video row handed to the Python engine
        assert lines_left_to_python(capsys, tmp_path, rows) == [1, 2, 3]
    # a deployment with prices of its own: completion_cost prices the video from the entry the Router registered
    # under its id alone (_deployment_model_info), so the reported cost no longer applies: the MiniMax deployment
    # that sets only input_cost_per_image books 0 s (no per-second price in its entry) + 3 × $0.10 = $0.30; the
    # RunwayML deployment 5 s × its own $0.20 = $1.00 instead of the reported $0.25 (LiteLLM's own result below)
    config = ("model_list:\n"
              "  - model_name: h3\n    litellm_params: {model: minimax/MiniMax-H3}\n"
              "    model_info: {input_cost_per_image: 0.10}\n"
              "  - model_name: runway\n    litellm_params: {model: runwayml/gen4_turbo}\n"
              "    model_info: {output_cost_per_video_per_second: 0.20}\n")
    own = [_video_payload("d1", "acreate_video", "MiniMax-H3", "minimax", minimax, group="h3"),
           _video_payload("d2", "acreate_video", "gen4_turbo", "runwayml", runway, group="runway")]
    router = litellm.Router(model_list=[
        {"model_name": "h3", "litellm_params": {"model": "minimax/MiniMax-H3"},
         "model_info": {"id": "h3-id", "input_cost_per_image": 0.10}},
        {"model_name": "runway", "litellm_params": {"model": "runwayml/gen4_turbo"},
         "model_info": {"id": "runway-id", "output_cost_per_video_per_second": 0.20}}])
    assert router is not None  # its construction registered both deployments' prices under their ids
    booked = [litellm.completion_cost(completion_response=v, model=m, custom_llm_provider=p, call_type="acreate_video",
                                      custom_pricing=True, router_model_id=i)
              for i, p, m, v in (("h3-id", "minimax", "MiniMax-H3", minimax),
                                 ("runway-id", "runwayml", "gen4_turbo", runway))]
    assert booked == pytest.approx([3 * 0.10, 5 * 0.20], rel=1e-12)
    mine = _price(capsys, tmp_path, own, config=config)
    assert [r["cost"] for r in mine] == pytest.approx(booked, rel=1e-12)
    # the spend-log row without the response: the seconds and images are unknown, priced at 0 s and marked
    bare = {**_video_row(payloads[0]), "response": "{}"}
    (mine,) = _price(capsys, tmp_path, [bare])
    assert mine["cost"] == 0 and "usage.duration_seconds" in mine["approximate"]


@pytest.mark.parametrize("call_type", ["avideo_extension", "video_extension", "avideo_generation",
                                       "video_generation"])
def test_video_extension_and_generation_are_priced_by_their_usage_tokens_as_litellm_does(capsys, tmp_path,
                                                                                       call_type):
    """completion_cost's video branch takes create_video, video_edit and video_remix only: a call logged as a video
    extension (or generation) goes through cost_per_token, which prices the usage's tokens and ignores its
    duration_seconds, so a video's usage (no tokens) books $0 and tokens, where a usage has them, their rates."""
    from litellm.types.videos.main import VideoObject

    def video(usage: dict) -> VideoObject:
        return VideoObject(id="video_1", object="video", status="completed", created_at=1, model="sora-2",
                           usage=usage)

    seconds_only = video({"duration_seconds": 8.0})
    with_tokens = video({"duration_seconds": 8.0, "prompt_tokens": 1000, "completion_tokens": 10})
    free = litellm.completion_cost(completion_response=seconds_only, model="sora-2", custom_llm_provider="openai",
                                   call_type=call_type)
    assert free == 0.0  # not 8 s x $0.10 output_cost_per_video_per_second, as create_video books it
    tokens = litellm.completion_cost(completion_response=with_tokens, model="gpt-4o", custom_llm_provider="openai",
                                     call_type=call_type)
    assert tokens == pytest.approx(1000 * 2.5e-6 + 10 * 1e-5, rel=1e-12)  # gpt-4o: $2.50 / $10 per million
    custom = litellm.completion_cost(completion_response=with_tokens, model="gpt-4o", custom_llm_provider="openai",
                                     call_type=call_type, custom_cost_per_token={"input_cost_per_token": 1e-6,
                                                                                 "output_cost_per_token": 2e-6})
    assert custom == pytest.approx(1000 * 1e-6 + 10 * 2e-6, rel=1e-12)  # the deployment's prices win over the map

    def payload(i: str, model: str, response: VideoObject, group: str | None = None) -> dict:
        usage = response.usage
        return {"id": i, "call_type": call_type, "model": model, "model_group": group, "custom_llm_provider": "openai",
                "status": "success", "prompt_tokens": usage.get("prompt_tokens", 0),
                "completion_tokens": usage.get("completion_tokens", 0), "model_parameters": {},
                "response": response.model_dump()}

    config = tmp_path / "config.yaml"
    config.write_text("model_list:\n  - model_name: cheap\n"
                      "    litellm_params: {model: openai/gpt-4o, api_key: sk-fake}\n"
                      "    model_info: {input_cost_per_token: 1.0e-6, output_cost_per_token: 2.0e-6}\n")
    mine = {r["request_id"]: r for r in _price(capsys, tmp_path, [payload("v1", "sora-2", seconds_only),
                                                                   payload("v2", "gpt-4o", with_tokens)])}
    (mine["v3"],) = _price(capsys, tmp_path, [payload("v3", "gpt-4o", with_tokens, group="cheap")], "-c", str(config))
    assert [mine[i]["status"] for i in ("v1", "v2", "v3")] == ["priced"] * 3
    assert all(mine[i]["approximate"] == "" for i in ("v1", "v2", "v3"))
    assert mine["v1"]["cost"] == free and mine["v2"]["cost"] == pytest.approx(tokens, rel=1e-12)
    assert mine["v3"]["cost"] == pytest.approx(custom, rel=1e-12)


def test_duckdb_prices_video_extension_rows_as_the_python_engine_does(capsys, tmp_path):
    # spend-log rows as the proxy writes them: a video usage (seconds, no tokens) and one with tokens
    rows = [{"request_id": f"v{i}", "call_type": call_type, "model": model, "custom_llm_provider": "openai",
             "status": "success", "prompt_tokens": tokens[0], "completion_tokens": tokens[1], "spend": 0.0,
             "metadata": json.dumps({"usage_object": {"duration_seconds": 8.0}})}
            for i, (call_type, model, tokens) in enumerate([("avideo_extension", "sora-2", (0, 0)),
                                                             ("video_generation", "gpt-4o", (1000, 10))])]
    python = _price(capsys, tmp_path, rows, "--engine", "python")
    # DuckDB prints aggregate reports only: the same report, both rows priced in its SQL
    assert lines_left_to_python(capsys, tmp_path, rows) == []
    # sora-2 has no token rates: $0; gpt-4o: 1000 x $2.50/M + 10 x $10/M
    assert [r["cost"] for r in python] == [0, pytest.approx(0.0026, rel=1e-12)]
    assert all(r["status"] == "priced" and r["approximate"] == "" for r in python)


def test_realtime_rows_are_priced_by_their_tokens_and_marked(capsys, tmp_path):
    usage = {"prompt_tokens": 1000, "completion_tokens": 400, "total_tokens": 1400,
             "prompt_tokens_details": {"audio_tokens": 600, "cached_tokens": 0},
             "completion_tokens_details": {"audio_tokens": 300}}
    row = {"request_id": "rt-1", "call_type": "_arealtime", "model": "gpt-realtime",
           "custom_llm_provider": "openai", "status": "success", "prompt_tokens": 1000, "completion_tokens": 400,
           "spend": 0.1, "metadata": json.dumps({"usage_object": usage})}
    # LiteLLM's realtime cost on a session of one response.done event and no transcription or live events: the
    # part of the proxy's cost a row carries (cost_calculator.handle_realtime_stream_cost_calculation)
    from litellm.cost_calculator import handle_realtime_stream_cost_calculation

    expected = handle_realtime_stream_cost_calculation(
        results=[{"type": "response.done", "response": {"usage": {}}}], combined_usage_object=Usage(**usage),
        custom_llm_provider="openai", litellm_model_name="gpt-realtime")
    (mine,) = _price(capsys, tmp_path, [row])
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(expected, rel=1e-12)
    assert mine["approximate"].startswith("realtime session priced by its logged token usage")


def test_resource_calls_the_proxy_books_at_zero_are_skipped_with_the_reason(capsys, tmp_path):
    row = {"request_id": "f-1", "call_type": "afile_list", "model": "gpt-4o", "custom_llm_provider": "openai",
           "status": "success", "prompt_tokens": 0, "completion_tokens": 0, "spend": 0.0, "metadata": "{}"}
    src = tmp_path / "calls.jsonl"
    src.write_text(json.dumps(row) + "\n")
    assert main(["price", str(src)]) == 0
    out, _ = capsys.readouterr()
    assert "1 records read: 0 priced, 0 unpriced, 0 rejected, 1 skipped" in out.replace("\n", " ")


@pytest.fixture(scope="module")
def server():
    from .pg_server import start_server

    yield from start_server()


def test_the_database_prices_tool_charges_video_and_realtime_as_the_python_engine_does(server, capsys):
    """Rows as the proxy's spend-log writer stores them (metadata: usage_object and cost_breakdown; the response
    only for the stored row): both engines give the same records, the tool charges included."""
    from datetime import datetime

    from psycopg.types.json import Jsonb

    with server.connect(db="postgres") as conn:
        conn.execute("DROP DATABASE IF EXISTS tools")
        conn.execute("CREATE DATABASE tools TEMPLATE litellm")
    cited = _chat(Usage(prompt_tokens=500, completion_tokens=100, total_tokens=600),
                  annotations=[{"type": "url_citation", "url_citation": {"url": "u", "title": "t", "start_index": 0,
                                                                         "end_index": 1}}]).model_dump()
    anthropic = _anthropic(2).model_dump()
    plain = {"prompt_tokens": 500, "completion_tokens": 100, "total_tokens": 600}
    rows = [  # request id, call type, model, provider, usage object, tool cost booked, stored response
        ("a1", "acompletion", "claude-sonnet-4-5-20250929", "anthropic", anthropic["usage"], 0.02, {}),
        ("o1", "acompletion", "gpt-4.1", "openai", cited["usage"], 0.035, cited),
        ("o2", "acompletion", "gpt-4.1", "openai", cited["usage"], 0.035, {}),
        ("p1", "acompletion", "gpt-4.1", "openai", plain, None, {}),
        ("v1", "acreate_video", "sora-2", "openai", None, None, {"usage": {"duration_seconds": 4}}),
        ("f1", "afile_list", "gpt-4.1", "openai", None, None, {}),
        ("r1", "_arealtime", "gpt-realtime", "openai", plain, None, {}),
    ]
    with server.connect(db="tools") as conn:
        conn.execute('TRUNCATE "LiteLLM_SpendLogs"')
        for i, (rid, call, model, provider, usage, booked, response) in enumerate(rows):
            start = datetime(2026, 3, 1, 12, i)
            metadata = {"usage_object": usage,
                        "cost_breakdown": None if booked is None else {"tool_usage_cost": booked, "total_cost": 1}}
            tokens = usage or {}
            conn.execute(
                'INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, prompt_tokens, '
                'completion_tokens, "startTime", "endTime", model, model_group, custom_llm_provider, metadata, '
                "cache_hit, status, response, proxy_server_request, messages) VALUES (%s, %s, 'k', 0, %s, %s, "
                "%s, %s, %s, %s, %s, %s, 'False', 'success', %s, '{}', '{}')",
                (rid, call, tokens.get("prompt_tokens", 0), tokens.get("completion_tokens", 0), start, start, model,
                 model, provider, Jsonb(metadata), Jsonb(response)))
    outputs = []
    for engine in ("python", "postgres"):
        assert main(["price", server.url(db="tools"), "--format", "jsonl", "--engine", engine]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    records = [json.loads(line) for line in outputs[0].splitlines()]
    assert [r["reason"] for r in records if r["status"] == "skipped"] == [
        "call type 'afile_list' manages resources and carries no usage: the proxy books $0"]
    mine = {r["request_id"]: r for r in records if r["status"] != "skipped"}
    assert set(mine) == {"a1", "o1", "o2", "p1", "v1", "r1"}
    claude = litellm.completion_cost(completion_response=_anthropic(2), model="claude-sonnet-4-5-20250929",
                                     custom_llm_provider="anthropic")
    assert mine["a1"]["cost"] == pytest.approx(claude, rel=1e-12) and mine["a1"]["approximate"] == ""
    searched = litellm.completion_cost(completion_response=ModelResponse(**cited), model="gpt-4.1",
                                       custom_llm_provider="openai")
    assert mine["o1"]["cost"] == pytest.approx(searched, rel=1e-12) and mine["o1"]["approximate"] == ""
    assert mine["o2"]["cost"] == pytest.approx(searched, rel=1e-12) and mine["o2"]["approximate"] != ""
    assert mine["p1"]["cost"] == pytest.approx(500 * 2e-06 + 100 * 8e-06, rel=1e-12)  # gpt-4.1's token rates
    assert mine["v1"]["cost"] == pytest.approx(4 * 0.1, rel=1e-12)  # $0.10 per second of sora-2 video
    assert mine["r1"]["approximate"].startswith("realtime session")
    assert mine["r1"]["cost"] == pytest.approx(500 * 4e-06 + 100 * 1.6e-05, rel=1e-12)  # gpt-realtime's rates


def test_the_anthropic_usage_report_prices_web_searches_as_litellm_prices_server_tool_use(tmp_path, capsys):
    from litellm.llms.anthropic.cost_calculation import get_cost_for_anthropic_web_search

    report = {"data": [{"starting_at": "2026-03-01T00:00:00Z", "ending_at": "2026-03-02T00:00:00Z", "results": [
        {"model": "claude-sonnet-4-5-20250929", "uncached_input_tokens": 0, "cache_read_input_tokens": 0,
         "cache_creation": {}, "output_tokens": 0, "server_tool_use": {"web_search_requests": 7}}]}]}
    src = tmp_path / "report.json"
    src.write_text(json.dumps(report))
    assert main(["price", str(src), "--format", "jsonl"]) == 0
    (mine,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    info = litellm.get_model_info("claude-sonnet-4-5-20250929", custom_llm_provider="anthropic")
    expected = get_cost_for_anthropic_web_search(model_info=info, usage=Usage(
        server_tool_use=ServerToolUse(web_search_requests=7)))
    assert expected == pytest.approx(7 * 0.01, rel=1e-12)
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(expected, rel=1e-12)


def test_lookup_and_diff_show_web_search_prices_per_query(capsys, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("""
model_list:
  - model_name: claude-searching
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, input_cost_per_token: 3.0e-6,
                     output_cost_per_token: 1.5e-5}
    model_info: {search_context_cost_per_query: {search_context_size_medium: 0.02}}
""")
    assert main(["lookup", "claude-searching", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "search_context_cost_per_query" in out and "medium $0.02 per query" in out
    row = {"model": "claude-searching", "model_group": "claude-searching", "request_id": "x",
           "call_type": "acompletion", "prompt_tokens": 100, "completion_tokens": 10,
           "metadata": {"usage_object": {"prompt_tokens": 100, "completion_tokens": 10,
                                         "server_tool_use": {"web_search_requests": 2}}}}
    usage = tmp_path / "usage.jsonl"
    usage.write_text(json.dumps(row) + "\n")
    assert main(["diff", str(usage), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    # the deployment's search price against the map's ($0.01), and what it does to the spend: 2 searches x $0.01
    assert "medium $0.02 per query" in out and "medium $0.01 per query" in out and "+$0.020" in out


def test_a_gemini_response_body_pays_its_distinct_grounding_queries(capsys, tmp_path):
    # a generateContent body as Google returns it; LiteLLM's transformation counts the distinct webSearchQueries
    # of the candidates' groundingMetadata (calculate_grounding_requests) into prompt_tokens_details
    from litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini import VertexGeminiConfig

    body = {"modelVersion": "gemini-3.1-pro-preview",
            "candidates": [{"content": {"parts": [{"text": "a"}], "role": "model"}, "finishReason": "STOP",
                            "groundingMetadata": {"webSearchQueries": ["q1", "q2", "q1"],
                                                  "groundingChunks": [{"web": {"uri": "u", "title": "t"}}]}}],
            "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 40, "totalTokenCount": 340}}
    searches = VertexGeminiConfig.calculate_web_search_requests([body["candidates"][0]["groundingMetadata"]])
    assert searches == 2
    usage = Usage(prompt_tokens=300, completion_tokens=40, total_tokens=340,
                  prompt_tokens_details=PromptTokensDetailsWrapper(web_search_requests=searches))
    expected = litellm.completion_cost(completion_response=_chat(usage), model="gemini-3.1-pro-preview",
                                       custom_llm_provider="gemini")
    # 300 x $2/M + 40 x $12/M, and 2 queries x $0.014 (gemini-3.1 bills per query)
    assert expected == pytest.approx(300 * 2e-6 + 40 * 1.2e-5 + 2 * 0.014, rel=1e-12)
    (mine,) = _price(capsys, tmp_path, [{**body, "model": "gemini/gemini-3.1-pro-preview"}])
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(expected, rel=1e-12)


def test_maps_grounding_is_marked_approximate_naming_the_charge_left_out(capsys, tmp_path):
    usage = Usage(prompt_tokens=300, completion_tokens=40, total_tokens=340,
                  prompt_tokens_details=PromptTokensDetailsWrapper(google_maps_grounding_requests=1))
    (mine,) = _price(capsys, tmp_path, [_payload(_chat(usage), "gemini-2.5-flash", "gemini")])
    plain = litellm.completion_cost(completion_response=_chat(Usage(prompt_tokens=300, completion_tokens=40,
                                                                    total_tokens=340)),
                                    model="gemini-2.5-flash", custom_llm_provider="gemini")
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(plain, rel=1e-12)
    assert mine["approximate"].startswith("Google Maps grounding")


def test_a_pass_through_endpoint_books_its_cost_per_request(capsys, tmp_path):
    # rows as a real proxy wrote them (tests/test_real_proxy.py captures the same): a declared endpoint's calls
    # carry no usage and api_base is the target; the success handler books cost_per_request (0 when unset)
    config = tmp_path / "config.yaml"
    config.write_text("""
model_list: []
general_settings:
  pass_through_endpoints:
    - {path: /tool, target: "https://tools.example.invalid/run", cost_per_request: 0.25}
    - {path: /free, target: "https://tools.example.invalid/free"}
    - {path: /sub, target: "https://sub.example.invalid/v1", include_subpath: true, cost_per_request: 0.5}
""")
    rows = [{"request_id": f"p{i}", "call_type": "pass_through_endpoint", "model": "unknown", "model_group": "",
             "status": "success", "prompt_tokens": 0, "completion_tokens": 0, "spend": spend, "api_base": base,
             "metadata": json.dumps({"usage_object": {}})}
            for i, (base, spend) in enumerate([("https://tools.example.invalid/run", 0.25),
                                               ("https://tools.example.invalid/free", 0.0),
                                               ("https://sub.example.invalid/v1/deeper/path", 0.5),
                                               ("https://elsewhere.example.invalid/x", 0.0)])]
    out = _price(capsys, tmp_path, rows, "--config", str(config))
    assert [(r["status"], r.get("cost")) for r in out] == [("priced", 0.25), ("priced", 0), ("priced", 0.5),
                                                           ("unpriced", None)]
    assert "not a config model_name" in out[3]["reason"]  # to no declared endpoint: priced by its tokens


def test_a_responses_image_generation_tool_is_marked_approximate(capsys, tmp_path):
    items = [{"type": "image_generation_call", "id": "ig_1", "status": "completed", "result": "aGk="}]
    response = _responses(items)
    dumped = dict(response.model_dump(), tools=[{"type": "image_generation", "model": "gpt-image-1"}])
    payload = dict(_payload(response, "gpt-4.1", "openai", call_type="aresponses"), response=dumped)
    (mine,) = _price(capsys, tmp_path, [payload])
    tokens = litellm.completion_cost(completion_response=_chat(Usage(prompt_tokens=800, completion_tokens=300,
                                                                     total_tokens=1100)),
                                     model="gpt-4.1", custom_llm_provider="openai")
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(tokens, rel=1e-12)
    assert mine["approximate"].startswith("the Responses API image_generation tool")


def test_xai_web_search_calls_are_priced_per_call(capsys, tmp_path):
    usage = Usage(prompt_tokens=100, completion_tokens=20, total_tokens=120,
                  server_side_tool_usage_details={"web_search_calls": 3})
    expected = litellm.completion_cost(completion_response=_chat(usage), model="xai/grok-4.3")
    tokens = litellm.completion_cost(completion_response=_chat(Usage(prompt_tokens=100, completion_tokens=20,
                                                                     total_tokens=120)), model="xai/grok-4.3")
    assert expected == pytest.approx(tokens + 3 * 5.0 / 1000, rel=1e-12)  # xAI's default $5 per 1,000 calls
    capsys.readouterr()  # what LiteLLM printed while resolving the provider
    (mine,) = _price(capsys, tmp_path, [_payload(_chat(usage), "grok-4.3", "xai")])
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(expected, rel=1e-12)
