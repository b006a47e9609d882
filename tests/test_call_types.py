"""Calls the proxy prices by images, characters and seconds, each checked against LiteLLM 1.110.2's own cost
function called with the values the logged record carries.

The records are built as LiteLLM's logging fills them:
- standard logging payload (litellm_core_utils/litellm_logging.py, get_standard_logging_object_payload):
  ``response=final_response_obj`` (an image call's ImageResponse: ``data``, ``size``, ``quality``; a transcription's
  ``duration``), ``model_parameters=ModelParamHelper.get_standard_logging_model_parameters(optional_params)``
  (``size``, ``quality``, ``n``), ``messages=kwargs.get("messages")``, which for a speech call function_setup
  (litellm/utils.py, ``messages = kwargs.get("input", "speech")``) holds the input text;
- spend-log row (proxy/spend_tracking/spend_tracking_utils.py): ``response`` and ``proxy_server_request`` are
  "{}" unless ``store_prompts_in_spend_logs``; ``spend`` the booked cost.
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
from litellm.types.utils import ImageResponse


def _price(capsys, tmp_path: Path, rows: list[dict], *args: str) -> list[dict]:
    return priced_records(capsys, tmp_path, rows, *args)

def _image_payload(i: int, provider: str, n: int, requested_n: int | None = None) -> dict:
    # model_parameters keeps only what ModelParamHelper.relevant_logging_args lets through: n, never size/quality
    return {"id": f"img-{i}", "call_type": "aimage_generation", "model_group": "dall-e-3", "model": "dall-e-3",
            "custom_llm_provider": provider, "status": "success", "prompt_tokens": 0, "completion_tokens": 0,
            "model_parameters": {} if requested_n is None else {"n": requested_n},
            "response": {"created": 1, "data": [{"url": f"https://example.invalid/{i}/{k}.png"} for k in range(n)],
                         "size": None, "quality": None}}


def _image_row(i: int, provider: str, size: str | None, quality: str | None, n: int) -> dict:
    # a spend-log row with store_prompts_in_spend_logs: the request body and the response, as JSON text
    body = {"model": "dall-e-3", "prompt": "p", **{k: v for k, v in (("size", size), ("quality", quality)) if v}}
    return {"request_id": f"row-{i}", "call_type": "aimage_generation", "model_group": "dall-e-3",
            "model": "dall-e-3", "custom_llm_provider": provider, "status": "success", "prompt_tokens": 0,
            "completion_tokens": 0, "spend": 0.1, "metadata": "{}", "proxy_server_request": json.dumps(body),
            "response": json.dumps({"created": 1, "data": [{"url": f"u{k}"} for k in range(n)]})}


def _litellm_image_cost(provider: str, size: str | None, quality: str | None, n: int) -> float:
    # the proxy's path: response_cost_calculator -> completion_cost(call_type, optional_params); no size/quality/n
    # arguments, so the image router reads them from the response and the request's optional_params
    params = {k: v for k, v in (("size", size), ("quality", quality)) if v is not None}
    response = ImageResponse(created=1, data=[{"url": f"https://example.invalid/{k}.png"} for k in range(n)])
    return litellm.completion_cost(completion_response=response, model="dall-e-3", custom_llm_provider=provider,
                                   call_type="aimage_generation", optional_params=params)


@pytest.mark.parametrize(("size", "quality", "n"), [("1024x1792", "hd", 2), ("1792x1024", "standard", 1),
                                                    (None, None, 3), ("1024x1024", None, 1)])
def test_an_image_row_with_its_request_costs_what_litellm_computes(capsys, tmp_path, size, quality, n):
    expected = _litellm_image_cost("azure", size, quality, n)
    assert expected > 0
    (mine,) = _price(capsys, tmp_path, [_image_row(1, "azure", size or "1024x1024", quality or "standard", n)])
    assert mine["status"] == "priced" and mine["approximate"] == ""
    assert mine["cost"] == pytest.approx(expected, rel=1e-12)


def test_an_image_payload_is_priced_at_litellm_defaults_for_what_it_does_not_log(capsys, tmp_path):
    # the payload has the response's images (2, though the request asked for 3) but neither size nor quality
    (mine,) = _price(capsys, tmp_path, [_image_payload(1, "azure", 2, requested_n=3)])
    expected = _litellm_image_cost("azure", None, None, 2)
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(expected, rel=1e-12)
    assert mine["approximate"] == ("the log does not carry the requested size or the requested quality; priced as "
                                   "2 image(s) of 1024x1024, quality standard (LiteLLM's defaults)")


def test_a_spend_log_image_row_without_stored_prompts_is_priced_at_litellm_defaults_and_marked(capsys, tmp_path):
    row = {"request_id": "r1", "call_type": "aimage_generation", "model_group": "dall-e-3", "model": "dall-e-3",
           "custom_llm_provider": "azure", "status": "success", "prompt_tokens": 0, "completion_tokens": 0,
           "spend": 0.08, "response": "{}", "proxy_server_request": "{}", "metadata": "{}"}
    (mine,) = _price(capsys, tmp_path, [row])
    expected = litellm.cost_calculator.default_image_cost_calculator(
        model="dall-e-3", custom_llm_provider="azure", quality="standard", n=1, size="1024-x-1024")
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(expected, rel=1e-12)
    assert mine["approximate"].startswith("the log does not carry the response's images (response.data) or the "
                                          "requested size or the requested quality")


def test_a_deployment_per_image_price_overrides_the_map_and_needs_no_size(capsys, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("model_list:\n  - model_name: images\n    litellm_params: {model: openai/dall-e-3, "
                      "api_key: sk-fake}\n    model_info: {id: img-1, input_cost_per_image: 0.05}\n")
    row = _image_payload(2, "openai", 3)
    row.update(model_group="images", model_id="img-1")
    (mine,) = _price(capsys, tmp_path, [row], "--config", str(config))
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(0.15)  # 3 images × $0.05
    assert mine["approximate"] == ""  # a per-image price does not depend on size or quality


def test_an_image_call_nothing_prices_is_unpriced_with_the_reason(capsys, tmp_path):
    # openai/dall-e-3 has no row in the 1.110.2 map (only azure/ rows): LiteLLM raises, the proxy books nothing
    with pytest.raises(Exception, match="Model not found in cost map"):
        litellm.cost_calculator.default_image_cost_calculator(model="dall-e-3", custom_llm_provider="openai",
                                                              quality="standard", n=1, size="1024-x-1024")
    (mine,) = _price(capsys, tmp_path, [_image_payload(3, "openai", 1)])
    assert mine["status"] == "unpriced" and "no per-image or per-pixel price for dall-e-3" in mine["reason"]


def test_speech_is_priced_per_character_of_its_input(capsys, tmp_path):
    text = "Hello there,\n world of speech  "
    payload = {"id": "s1", "call_type": "aspeech", "model_group": "tts-1", "model": "tts-1",
               "custom_llm_provider": "openai", "status": "success", "prompt_tokens": 0, "completion_tokens": 0,
               "model_parameters": {}, "messages": text}
    prompt_cost, completion_cost = litellm.cost_per_token(
        model="tts-1", custom_llm_provider="openai", call_type="speech",
        prompt_characters=litellm.utils.count_characters(text))
    (mine,) = _price(capsys, tmp_path, [payload])
    assert mine["status"] == "priced" and mine["approximate"] == ""
    assert mine["cost"] == pytest.approx(prompt_cost + completion_cost, rel=1e-12) and mine["cost"] > 0


def test_speech_without_its_input_text_is_unpriced_naming_the_field(capsys, tmp_path):
    row = {"request_id": "s2", "call_type": "aspeech", "model_group": "tts-1", "model": "tts-1",
           "custom_llm_provider": "openai", "prompt_tokens": 0, "completion_tokens": 0, "spend": 0.001,
           "messages": "{}", "proxy_server_request": "{}"}
    (mine,) = _price(capsys, tmp_path, [row])
    assert mine["status"] == "unpriced" and "proxy_server_request.input" in mine["reason"]


def test_transcription_is_priced_per_second_of_logged_audio(capsys, tmp_path):
    payload = {"id": "t1", "call_type": "atranscription", "model_group": "whisper-1", "model": "whisper-1",
               "custom_llm_provider": "openai", "status": "success", "prompt_tokens": 0, "completion_tokens": 0,
               "model_parameters": {}, "response": {"text": "hello", "duration": 12.5},
               "startTime": 1.0, "endTime": 4.0}
    prompt_cost, completion_cost = litellm.cost_per_token(
        model="whisper-1", custom_llm_provider="openai", call_type="transcription",
        audio_transcription_file_duration=12.5)
    (mine,) = _price(capsys, tmp_path, [payload])
    assert mine["status"] == "priced" and mine["approximate"] == ""  # the audio's duration, not the call's
    assert mine["cost"] == pytest.approx(prompt_cost + completion_cost, rel=1e-12) and mine["cost"] > 0


def test_duckdb_reports_these_calls_as_the_python_engine_does(capsys, tmp_path):
    rows = [_image_row(i, "azure", "1024x1792", "hd", 1 + i % 3) for i in range(3)]
    rows += [_image_payload(i, "azure", 1 + i % 3) for i in range(3)]
    rows.append({"id": "s1", "call_type": "aspeech", "model_group": "tts-1", "model": "tts-1",
                 "custom_llm_provider": "openai", "prompt_tokens": 0, "completion_tokens": 0,
                 "model_parameters": {}, "messages": "some words to say"})
    src = tmp_path / "calls.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    outputs = []
    for engine in ("python", "duckdb"):
        assert main(["price", str(src), "--format", "csv", "--engine", engine]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and "dall-e-3" in outputs[0] and "tts-1" in outputs[0]


def test_lookup_shows_per_image_and_per_character_prices_in_their_units(capsys):
    assert main(["lookup", "azure/hd/1024-x-1792/dall-e-3", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (res,) = doc["resolutions"]
    pixel = next(f for f in res["fields"] if f["field"] == "input_cost_per_pixel")
    assert (pixel["value"], pixel["unit"]) == (7.19343e-08, "$/pixel")  # the map row's own price
    assert main(["lookup", "tts-1", "--format", "json"]) == 0
    (res,) = json.loads(capsys.readouterr().out)["resolutions"]
    assert {"field": "input_cost_per_character", "value": 1.5e-05, "unit": "$/character", "per_million": None,
            "source": "cost_map:tts-1"} in res["fields"]


def _rerank_payload(i: int, billed: dict | None) -> dict:
    response = {} if billed is None else {"id": f"rr-{i}", "results": [{"index": 0, "relevance_score": 0.9}],
                                          "meta": {"billed_units": billed}}
    return {"id": f"rr-{i}", "call_type": "arerank", "model_group": "cohere/rerank-english-v3.0",
            "model": "rerank-english-v3.0", "custom_llm_provider": "cohere", "status": "success",
            "prompt_tokens": 0, "completion_tokens": 0, "model_parameters": {}, "response": response}


@pytest.mark.parametrize("billed", [{"search_units": 3}, {"search_units": 1, "total_tokens": 900}, {}])
def test_rerank_is_priced_per_search_unit_as_litellm_does(capsys, tmp_path, billed):
    from litellm.types.rerank import RerankResponse

    response = RerankResponse(id="rr", results=[{"index": 0, "relevance_score": 0.9}], meta={"billed_units": billed})
    expected = litellm.completion_cost(completion_response=response, model="rerank-english-v3.0",
                                       custom_llm_provider="cohere", call_type="arerank")
    (mine,) = _price(capsys, tmp_path, [_rerank_payload(1, billed)])
    assert mine["status"] == "priced" and mine["approximate"] == ""
    assert mine["cost"] == pytest.approx(expected, rel=1e-12, abs=0)  # $0 where search_units is missing


def test_a_rerank_row_without_its_response_is_priced_as_one_search_unit_and_marked(capsys, tmp_path):
    row = {**_rerank_payload(2, None), "response": "{}"}
    del row["model_parameters"]
    (mine,) = _price(capsys, tmp_path, [row])
    assert mine["status"] == "priced" and mine["cost"] == pytest.approx(0.002)  # the map's input_cost_per_query
    assert "meta.billed_units.search_units" in mine["approximate"]


@pytest.fixture(scope="module")
def server():
    from .pg_server import start_server

    yield from start_server()


def test_the_database_reads_stored_bodies_of_these_calls_and_both_engines_agree(server, capsys):
    """Rows as the proxy's spend-log writer stores them with store_prompts_in_spend_logs (spend_tracking_utils:
    ``response`` and ``proxy_server_request`` JSON, ``messages`` the call's messages)."""
    from datetime import datetime

    from psycopg.types.json import Jsonb

    with server.connect(db="postgres") as conn:
        conn.execute("DROP DATABASE IF EXISTS calls")
        conn.execute("CREATE DATABASE calls TEMPLATE litellm")
    rows = [("i1", "aimage_generation", "dall-e-3", "azure",
             {"created": 1, "data": [{"url": "u1"}, {"url": "u2"}], "size": "1024x1792", "quality": "hd"},
             {"model": "dall-e-3", "prompt": "p", "size": "1024x1792", "quality": "hd", "n": 2}, {}),
            ("i2", "aimage_generation", "dall-e-3", "azure", {}, {}, {}),
            ("r1", "arerank", "rerank-english-v3.0", "cohere", {"meta": {"billed_units": {"search_units": 2}}},
             {}, {}),
            ("s1", "aspeech", "tts-1", "openai", {}, {"model": "tts-1", "input": "say this now"}, {})]
    with server.connect(db="calls") as conn:
        conn.execute('TRUNCATE "LiteLLM_SpendLogs"')
        for i, (rid, call, model, provider, response, request, messages) in enumerate(rows):
            start = datetime(2026, 3, 1, 12, i)
            conn.execute(
                'INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, prompt_tokens, '
                'completion_tokens, "startTime", "endTime", model, model_group, custom_llm_provider, metadata, '
                "cache_hit, status, response, proxy_server_request, messages) VALUES (%s, %s, 'k', 0, 0, 0, "
                "%s, %s, %s, %s, %s, '{}', 'False', 'success', %s, %s, %s)",
                (rid, call, start, start, model, model, provider, Jsonb(response), Jsonb(request),
                 Jsonb(messages)))
    outputs = []
    for engine in ("python", "postgres"):
        assert main(["price", server.url(db="calls"), "--format", "jsonl", "--engine", engine]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    mine = {r["request_id"]: r for r in map(json.loads, outputs[0].splitlines())}
    hd = litellm.cost_calculator.default_image_cost_calculator(
        model="dall-e-3", custom_llm_provider="azure", quality="hd", n=2, size="1024-x-1792")
    assert mine["i1"]["cost"] == pytest.approx(hd, rel=1e-12) and mine["i1"]["approximate"] == ""
    assert mine["i2"]["approximate"].startswith("the log does not carry")
    assert mine["r1"]["cost"] == pytest.approx(2 * 0.002) and mine["r1"]["approximate"] == ""
    speech, _ = litellm.cost_per_token(model="tts-1", custom_llm_provider="openai", call_type="speech",
                                       prompt_characters=len("saythisnow"))
    assert mine["s1"]["cost"] == pytest.approx(speech, rel=1e-12)


@pytest.mark.parametrize(("model", "usage"), [("omni-moderation-latest", None), ("mistral/mistral-moderation-2603",
                                                                                 (120, 0))])
def test_moderation_is_priced_by_its_usage_as_litellm_does(capsys, tmp_path, model, usage):
    from litellm.types.llms.openai import OpenAIModerationResponse

    response = OpenAIModerationResponse(id="m", model=model, results=[])
    if usage is not None:
        response.usage = litellm.Usage(prompt_tokens=usage[0], completion_tokens=usage[1])
    expected = litellm.completion_cost(completion_response=response, model=model, call_type="amoderation")
    prompt, completion = usage or (0, 0)
    payload = {"id": "m1", "call_type": "amoderation", "model_group": model, "model": model, "status": "success",
               "prompt_tokens": prompt, "completion_tokens": completion, "model_parameters": {}}
    (mine,) = _price(capsys, tmp_path, [payload])
    assert mine["status"] == "priced" and mine["cost"] == expected == 0.0


@pytest.mark.parametrize("counts", [{}, {"state_tokens": 50, "image_tokens": 300, "schema_tokens": 20, "passes": 2}])
def test_extraction_is_priced_by_its_usage_tokens_as_litellm_does(capsys, tmp_path, counts):
    from litellm.litellm_core_utils.litellm_logging import StandardLoggingPayloadSetup
    from litellm.types.extraction import ExtractionResponse, ExtractionUsage

    response = ExtractionResponse(model="gpt-4o", answers={}, truncated=False,
                                  usage=ExtractionUsage(input_tokens=1000, output_tokens=10, **counts))
    expected = litellm.completion_cost(completion_response=response, model="gpt-4o", custom_llm_provider="openai",
                                       call_type="aextraction")
    assert expected == pytest.approx(1000 * 2.5e-6 + 10 * 1e-5, rel=1e-12)  # gpt-4o: $2.50 / $10 per million
    # the usage object the proxy logs for it (state, image and schema counts kept, unpriced)
    logged = StandardLoggingPayloadSetup.get_usage_from_response_obj(response.model_dump()).model_dump()
    row = {"request_id": "x1", "call_type": "aextraction", "model": "gpt-4o", "custom_llm_provider": "openai",
           "status": "success", "prompt_tokens": logged["prompt_tokens"],
           "completion_tokens": logged["completion_tokens"], "spend": expected,
           "metadata": json.dumps({"usage_object": logged})}
    (mine,) = _price(capsys, tmp_path, [row], "--engine", "python")
    # DuckDB prints aggregate reports only: the same report as the Python engine, the row priced in its SQL
    assert lines_left_to_python(capsys, tmp_path, [row]) == []
    assert mine["status"] == "priced" and mine["approximate"] == ""
    assert mine["cost"] == pytest.approx(expected, rel=1e-12)


def test_diff_shows_a_deployment_image_price_and_its_change(capsys, tmp_path):
    def config(price: float) -> str:
        path = tmp_path / f"c{price}.yaml"
        path.write_text("model_list:\n  - model_name: images\n    litellm_params: {model: openai/dall-e-3, "
                        f"api_key: sk-fake}}\n    model_info: {{input_cost_per_image: {price}}}\n")
        return str(path)

    assert main(["diff", "-c", config(0.04)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "input_cost_per_image" in line)
    assert "overridden" in row and "$0.04" in row  # priced by the image calculator, not ignored
    assert main(["diff", "-c", config(0.04), "--against", config(0.05)]) == 0
    out = capsys.readouterr().out
    assert "images (#1): changed" in out
    assert any("$0.05/image" in line and "$0.04/image" in line and "-20.0%" in line for line in out.splitlines())
