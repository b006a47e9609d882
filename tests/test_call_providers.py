"""Image calls by each provider's calculator, token-priced speech and transcription, each against LiteLLM 1.110.2's
own cost function on the response the record logs, or hand arithmetic on the test's own prices.

The records are built as LiteLLM's logging fills them:
- standard logging payload (litellm_core_utils/litellm_logging.py, ``get_standard_logging_object_payload``):
  ``response`` is the response's ``model_dump()`` (a speech call's ``HttpxBinaryResponseContent.logging_summary()``:
  its usage only where the provider reported one), ``metadata.usage_object`` the usage as
  ``StandardLoggingPayloadSetup.get_usage_as_dict`` returns it, plus ``output_image_count`` (the images of an
  ``ImageResponse``), ``prompt_tokens``/``completion_tokens`` from that usage, ``model_parameters`` without an image
  call's size or quality, ``messages`` a speech call's input text (function_setup);
- spend-log row (proxy/spend_tracking/spend_tracking_utils.py): the same ``metadata.usage_object`` as JSON text,
  ``response``/``proxy_server_request`` "{}" unless ``store_prompts_in_spend_logs``.
The expected cost is ``litellm.completion_cost`` on that response with the deployment's model and provider, as the
proxy's ``response_cost_calculator`` calls it (tests/test_real_proxy.py runs the mocked ones through a real proxy).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from costcalc.pricing.calltypes import MEASURED_DURATION

from .runner import main, priced_records

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
litellm = pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
httpx = pytest.importorskip("httpx")
from litellm.litellm_core_utils.litellm_logging import StandardLoggingPayloadSetup
from litellm.types.llms.openai import HttpxBinaryResponseContent
from litellm.types.utils import ImageResponse, TranscriptionResponse, Usage

GPT_IMAGE_USAGE = {"input_tokens": 50, "output_tokens": 4160, "total_tokens": 4210,
                   "input_tokens_details": {"text_tokens": 30, "image_tokens": 20},
                   "output_tokens_details": {"image_tokens": 4000, "text_tokens": 160}}
UNITEMISED = {"input_tokens": 12, "output_tokens": 1056, "total_tokens": 1068,
              "input_tokens_details": {"text_tokens": 12, "image_tokens": 0}}
FLASH_USAGE = {"input_tokens": 20, "output_tokens": 1290, "total_tokens": 1310,
               "input_tokens_details": {"text_tokens": 20, "image_tokens": 0},
               "output_tokens_details": {"image_tokens": 1290, "text_tokens": 0}}

# (deployment model, images in the response, response usage, call type, request body stored in a row)
IMAGE_CASES = [
    ("openai/gpt-image-1", 2, GPT_IMAGE_USAGE, "aimage_generation", None),
    ("openai/gpt-image-1", 1, {k: v for k, v in GPT_IMAGE_USAGE.items() if k != "output_tokens_details"},
     "aimage_edit", None),
    ("azure/gpt-image-1-mini", 1, UNITEMISED, "image_generation", None),
    ("openai/gpt-image-1.5", 1, {"input_tokens": 300, "output_tokens": 2000, "total_tokens": 2300,
                                 "input_tokens_details": {"text_tokens": 44, "image_tokens": 256},
                                 "output_tokens_details": {"image_tokens": 1900, "text_tokens": 100}}, "aimage_edit",
     None),
    ("openai/gpt-image-1", 1, None, "aimage_generation", None),
    ("vertex_ai/gemini-2.5-flash-image", 2, None, "aimage_generation", None),
    ("vertex_ai/gemini-3-pro-image", 1, {**FLASH_USAGE, "output_tokens": 1400, "total_tokens": 1420,
                                         "output_tokens_details": {"image_tokens": 1120, "text_tokens": 0}},
     "aimage_generation", None),
    ("gemini/imagen-3.0-generate-001", 2, None, "aimage_generation", None),
    ("gemini/gemini-2.5-flash-image", 1, FLASH_USAGE, "aimage_generation", None),
    ("gemini/gemini-2.5-flash-image", 1, None, "aimage_edit", None),
    ("bedrock/amazon.titan-image-generator-v1", 2, None, "aimage_generation", None),
    ("bedrock/amazon.nova-canvas-v1:0", 1, None, "aimage_generation", None),
    ("bedrock/stability.stable-image-core-v1:0", 3, None, "aimage_generation", None),
    ("bedrock/stability.stable-diffusion-xl-v1", 1, None, "aimage_generation", {"size": "1024-x-1024", "steps": 70}),
    ("recraft/recraftv3", 2, None, "aimage_generation", None),
    ("aiml/flux-pro", 1, None, "aimage_generation", None),
    ("azure_ai/FLUX-1.1-pro", 2, None, "aimage_generation", None),
    ("azure_ai/gpt-image-2", 1, UNITEMISED, "aimage_generation", None),
    ("azure_ai/FLUX.2-flex", 1, None, "aimage_generation", {"size": "1024x1024"}),
    ("xai/grok-imagine-image", 2, None, "aimage_generation", None),
    ("xai/grok-imagine-image-pro", 1, None, "aimage_edit", {"quality": "high"}),
]

# the cases whose price depends on the request's size or steps (per pixel; Bedrock SDXL by steps): exact from a row
# with the stored request, approximate from a payload; a quality or size on a row priced per image alone (the
# xAI edit) changes nothing, and both are exact
PRICED_BY_THE_REQUEST = {"bedrock/stability.stable-diffusion-xl-v1", "azure_ai/FLUX.2-flex"}


def _config(tmp_path: Path, models: list[str], extra: str = "") -> Path:
    lines = ["model_list:"] + [f"  - model_name: m{i}\n    litellm_params: {{model: {m}}}" for i, m in
                               enumerate(models)]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def _logged(i: int, model: str, call_type: str, response, dump: dict, text: str | None = None,
            body: dict | None = None) -> tuple[dict, dict]:
    """The standard logging payload and the spend-log row (prompts stored when ``body`` is given) of one call."""
    provider, name = model.split("/", 1)
    usage = dict(StandardLoggingPayloadSetup.get_usage_as_dict(dump))
    if isinstance(response, ImageResponse) and response.data:
        usage["output_image_count"] = len(response.data)
    common = {"call_type": call_type, "model_group": f"m{i}", "model": name, "custom_llm_provider": provider,
              "status": "success", "prompt_tokens": usage.get("prompt_tokens") or 0,
              "completion_tokens": usage.get("completion_tokens") or 0}
    payload = {"id": f"p{i}", **common, "metadata": {"usage_object": usage}, "response": dump,
               "model_parameters": {}, "messages": text if text is not None else [{"role": "user", "content": "x"}]}
    row = {"request_id": f"r{i}", **common, "spend": 0.0, "metadata": json.dumps({"usage_object": usage}),
           "messages": json.dumps(text) if body is not None and text is not None else "{}",
           "proxy_server_request": json.dumps(body) if body is not None else "{}",
           "response": json.dumps(dump) if body is not None else "{}"}
    return payload, row



def _price(capsys, tmp_path: Path, config: Path, records: list[dict]) -> list[dict]:
    return priced_records(capsys, tmp_path, records, "--config", config)

def _litellm_cost(model: str, response, call_type: str, **kwargs) -> float:
    provider, name = model.split("/", 1)
    return litellm.completion_cost(completion_response=response, model=name, custom_llm_provider=provider,
                                   call_type=call_type, **kwargs)


def test_image_calls_cost_what_each_providers_calculator_books(capsys, tmp_path):
    records, expected = [], []
    for i, (model, n, usage, call_type, body) in enumerate(IMAGE_CASES):
        response = ImageResponse(created=1, data=[{"url": f"u{k}"} for k in range(n)],
                                 **({"usage": usage} if usage else {}))
        expected.append(_litellm_cost(model, response, call_type, optional_params=body or {}))
        records += _logged(i, model, call_type, response, response.model_dump(), body=body)
    priced = _price(capsys, tmp_path, _config(tmp_path, [c[0] for c in IMAGE_CASES]), records)
    for i, case in enumerate(IMAGE_CASES):
        payload, row = priced[2 * i], priced[2 * i + 1]
        assert payload["status"] == row["status"] == "priced", (case, payload, row)
        assert row["cost"] == pytest.approx(expected[i], rel=1e-12, abs=1e-15), (case, row)
        assert row["approximate"] == "", (case, row)
        if case[0] in PRICED_BY_THE_REQUEST:
            # a payload never carries the request's size or steps: LiteLLM's defaults stand in, said so
            assert payload["approximate"].startswith("the log does not carry the requested size"), (case, payload)
        else:
            assert payload["cost"] == pytest.approx(expected[i], rel=1e-12, abs=1e-15), (case, payload)
            assert payload["approximate"] == "", (case, payload)
    # the cases hold every route: tokens (gpt-image, Gemini, Vertex, Azure AI), per image, per pixel, by steps
    assert {c[0].split("/")[0] for c in IMAGE_CASES} == {"openai", "azure", "vertex_ai", "gemini", "bedrock",
                                                           "recraft", "aiml", "azure_ai", "xai"}
    # hand check of the first: 30 text × $5/M + 20 image × $10/M + (4000 image + 160 text) output × $40/M (gpt-image-1
    # has no output_cost_per_token: its text output is billed at the image rate) = 0.00015 + 0.0002 + 0.1664
    assert priced[0]["cost"] == pytest.approx(0.16675, rel=1e-12)


def test_image_token_prices_a_deployment_sets_lie_over_the_map_row(capsys, tmp_path):
    """resolve_image_model_info: the deployment's prices over the map row (not the Router's zeroed card)."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: img\n    litellm_params: {model: openai/gpt-image-1}\n"
        "    model_info: {output_cost_per_image_token: 0.00003}\n"
        "  - model_name: flux\n    litellm_params: {model: recraft/recraftv3}\n"
        "    model_info: {output_cost_per_image: 0.03}\n"
        "  - model_name: nova\n    litellm_params: {model: bedrock/amazon.nova-canvas-v1:0}\n"
        "    model_info: {output_cost_per_image: 0.5}\n")
    response = ImageResponse(created=1, data=[{"url": "a"}, {"url": "b"}], usage=GPT_IMAGE_USAGE)
    plain = ImageResponse(created=1, data=[{"url": "a"}, {"url": "b"}])
    records = []
    for i, (group, resp) in enumerate((("img", response), ("flux", plain), ("nova", plain))):
        payload, _ = _logged(i, "openai/x", "aimage_generation", resp, resp.model_dump())
        records.append({**payload, "model_group": group})
    img, flux, nova = _price(capsys, tmp_path, config, records)
    # gpt-image-1 row: input $5/M, image input $10/M; the deployment's output image tokens $30/M (text output too)
    assert img["cost"] == pytest.approx(30 * 5e-6 + 20 * 1e-5 + 4160 * 3e-5, rel=1e-12)
    assert flux["cost"] == pytest.approx(2 * 0.03, rel=1e-12)  # the deployment's per-image price × 2 images
    assert nova["cost"] == pytest.approx(2 * 0.06, rel=1e-12)  # Bedrock reads the map's $0.06 only


def _speech(usage: dict | None) -> HttpxBinaryResponseContent:
    response = HttpxBinaryResponseContent(httpx.Response(200, content=b"abc",
                                                         headers={"content-type": "audio/mpeg"}))
    if usage is not None:
        response.usage = Usage(**usage)
    return response


TEXT = "Hello there, how are you today?"
AUDIO_CASES = [  # (deployment model, call type, response, input text)
    ("openai/gpt-4o-mini-tts", "aspeech", lambda: _speech({
        "prompt_tokens": 12, "completion_tokens": 900, "total_tokens": 912,
        "completion_tokens_details": {"audio_tokens": 900}, "prompt_tokens_details": {"text_tokens": 12}}), TEXT),
    ("vertex_ai/gemini-2.5-flash-tts", "speech", lambda: _speech({
        "prompt_tokens": 40, "completion_tokens": 3000, "total_tokens": 3040,
        "completion_tokens_details": {"audio_tokens": 2900}}), TEXT),
    ("openai/tts-1", "aspeech", lambda: _speech(None), TEXT),
    ("vertex_ai/lyria-002", "aspeech", lambda: _speech(None), "a slow song"),  # per generation
    ("openai/gpt-4o-transcribe", "atranscription", lambda: TranscriptionResponse(text="hi", usage={
        "type": "tokens", "input_tokens": 120, "input_token_details": {"text_tokens": 20, "audio_tokens": 100},
        "output_tokens": 40, "total_tokens": 160}), None),
    ("openai/gpt-4o-mini-transcribe", "transcription", lambda: TranscriptionResponse(text="hi", usage={
        "type": "tokens", "input_tokens": 300, "input_token_details": {"text_tokens": 0, "audio_tokens": 300},
        "output_tokens": 25, "total_tokens": 325}), None),
    ("openai/whisper-1", "atranscription", lambda: TranscriptionResponse(text="hi", duration=12.5), None),
]
ADJUSTMENTS = "litellm_settings:\n  cost_discount_config: {openai: 0.1}\n" \
              "  cost_margin_config: {openai: {percentage: 0.05, fixed_amount: 0.0001}}\n"


@pytest.mark.parametrize("adjusted", [False, True], ids=["plain", "discount-and-margin"])
def test_speech_and_transcription_by_tokens_characters_and_seconds(capsys, tmp_path, monkeypatch, adjusted):
    if adjusted:
        monkeypatch.setattr(litellm, "cost_discount_config", {"openai": 0.1})
        monkeypatch.setattr(litellm, "cost_margin_config", {"openai": {"percentage": 0.05, "fixed_amount": 0.0001}})
    records, expected = [], []
    for i, (model, call_type, make, text) in enumerate(AUDIO_CASES):
        response = make()
        expected.append(_litellm_cost(model, response, call_type, prompt=text or ""))
        dump = dict(response.logging_summary()) if isinstance(response, HttpxBinaryResponseContent) \
            else response.model_dump()
        records.append(_logged(i, model, call_type, response, dump, text=text)[0])
    config = _config(tmp_path, [c[0] for c in AUDIO_CASES], ADJUSTMENTS if adjusted else "")
    priced = _price(capsys, tmp_path, config, records)
    for case, mine, cost in zip(AUDIO_CASES, priced, expected):
        assert mine["status"] == "priced" and mine["approximate"] == "", (case, mine)
        assert mine["cost"] == pytest.approx(cost, rel=1e-12), (case, mine)
    if not adjusted:
        # hand check: 12 text × $0.60/M + 900 audio × $12/M; 20 text + 100 audio × $2.50/M, 40 output × $10/M
        assert priced[0]["cost"] == pytest.approx(12 * 6e-7 + 900 * 1.2e-5, rel=1e-12)
        assert priced[4]["cost"] == pytest.approx(120 * 2.5e-6 + 40 * 1e-5, rel=1e-12)
        assert priced[3]["cost"] == pytest.approx(0.06, rel=1e-12)  # Lyria: $0.06 per generation


def test_what_the_proxy_measures_itself_is_priced_from_the_log_and_marked(capsys, tmp_path):
    """Speech to a per-token model without a reported usage: the proxy counts the input's tokens itself. A
    transcription without the response's duration: the proxy measures the uploaded file itself."""
    speech = _speech(None)
    stt = TranscriptionResponse(text="hi", usage={"type": "duration", "seconds": 13})
    records = [_logged(0, "openai/gpt-4o-mini-tts", "aspeech", speech, dict(speech.logging_summary()), TEXT)[0],
               _logged(1, "openai/whisper-1", "atranscription", stt, stt.model_dump())[0]]
    tts, whisper = _price(capsys, tmp_path, _config(tmp_path, ["openai/gpt-4o-mini-tts", "openai/whisper-1"]),
                          records)
    # 31 characters → 8 tokens estimated × $0.60/M (LiteLLM's tokenizer happens to count 8 here as well)
    assert tts["status"] == "priced" and tts["cost"] == pytest.approx(8 * 6e-7, rel=1e-12)
    assert tts["cost"] == pytest.approx(_litellm_cost("openai/gpt-4o-mini-tts", speech, "aspeech", prompt=TEXT))
    assert tts["approximate"].startswith("the proxy counts the input text's tokens with its tokenizer")
    # 13 s × whisper-1's output_cost_per_second $0.0001
    assert whisper["cost"] == pytest.approx(13 * 1e-4, rel=1e-12) and whisper["approximate"] == MEASURED_DURATION


SEEDREAM_USAGE = {"input_tokens": 20, "output_tokens": 4096, "total_tokens": 4116,
                  "input_tokens_details": {"text_tokens": 20, "image_tokens": 0}}
# (deployment id, model, its own prices in model_info, images, response usage): CometAPI, RunwayML, Tencent TokenHub
# and DashScope, each priced by its own calculator (route_image_generation_cost_calculator's
# _model_priced_image_cost_calculator)
OWN_CALCULATOR_CASES = [
    ("comet", "cometapi/flux-pro", {"output_cost_per_image": 0.04}, 2, None),  # the map has no CometAPI image row
    ("runway", "runwayml/gen4_image", {}, 2, None),  # $0.05 per image
    ("runway-own", "runwayml/gen4_image_turbo", {"output_cost_per_image": 0.03}, 1, None),
    ("seedream", "tencent/seedream-image-v5.0-flash", {}, 1, SEEDREAM_USAGE),  # by tokens: $1.60/M image tokens
    ("seedream-flat", "tencent/seedream-image-v5.0-flash", {}, 2, None),  # no usage: $0.018 per image
    # the deployment's output_cost_per_token stands in for the image token rate it does not set
    ("seedream-tok", "tencent/seedream-image-v5.0-pro", {"output_cost_per_token": 2e-6}, 1, SEEDREAM_USAGE),
    # a per-image-only deployment price: per image, whatever the usage
    ("seedream-img", "tencent/seedream-image-v5.0-pro", {"output_cost_per_image": 0.05}, 1, SEEDREAM_USAGE),
    ("qwen", "dashscope/qwen-image-2.0", {}, 2, None),  # $0.035 per image
    # an input-image price without an output price: default_image_cost_calculator, the deployment's per-image price
    ("qwen-in", "dashscope/qwen-image-2.0", {"input_cost_per_image": 0.02}, 3, None),
]


def test_cometapi_runwayml_tencent_and_dashscope_images_cost_what_their_calculators_book(capsys, tmp_path,
                                                                                         registering_router):
    router = litellm.Router(model_list=[{"model_name": i, "litellm_params": {"model": m},
                                         "model_info": {"id": i, **own}} for i, m, own, _, _ in OWN_CALCULATOR_CASES])
    assert router is not None  # its construction registered each deployment's prices under its id
    config = tmp_path / "config.yaml"
    config.write_text("model_list:\n" + "".join(
        f"  - model_name: {i}\n    litellm_params: {{model: {m}}}\n    model_info: {json.dumps({'id': i, **own})}\n"
        for i, m, own, _, _ in OWN_CALCULATOR_CASES))
    records, expected = [], []
    for k, (i, model, own, n, usage) in enumerate(OWN_CALCULATOR_CASES):
        response = ImageResponse(created=1, data=[{"url": f"u{j}"} for j in range(n)],
                                 **({"usage": usage} if usage else {}))
        expected.append(_litellm_cost(model, response, "aimage_generation", custom_pricing=bool(own),
                                      router_model_id=i))
        payload, row = _logged(k, model, "aimage_generation", response, response.model_dump(), body={"prompt": "p"})
        records += [{**payload, "model_group": i}, {**row, "model_group": i}]
    priced = _price(capsys, tmp_path, config, records)
    for k, case in enumerate(OWN_CALCULATOR_CASES):
        for mine in priced[2 * k:2 * k + 2]:
            assert mine["status"] == "priced" and mine["approximate"] == "", (case, mine)
            assert mine["cost"] == pytest.approx(expected[k], rel=1e-12, abs=1e-15), (case, mine)
    # hand checks on the map's and the deployments' prices
    assert expected == pytest.approx([2 * 0.04, 2 * 0.05, 0.03, 4096 * 1.6e-6, 2 * 0.018, 4096 * 2e-6, 0.05,
                                      2 * 0.035, 3 * 0.02], rel=1e-12)
    for engine in ("duckdb",):  # the DuckDB engine hands image rows to the Python engine: the same records
        again = priced_records(capsys, tmp_path, records, "--config", config, "--engine", engine)
        assert [r["cost"] for r in again] == [r["cost"] for r in priced]


def test_image_calls_their_calculators_cannot_price_stay_unpriced_or_say_what_the_log_lacks(capsys, tmp_path):
    response = ImageResponse(created=1, data=[{"url": "a"}])
    # no cost-map row and no deployment price (CometAPI), no output_cost_per_image (DashScope's qwen-image-3.0-pro):
    # LiteLLM raises and the proxy books $0
    for model, error in (("cometapi/flux-pro", "isn't mapped"), ("dashscope/qwen-image-3.0-pro",
                                                                  "No output_cost_per_image")):
        provider, name = model.split("/", 1)
        with pytest.raises(Exception, match=error):
            litellm.completion_cost(completion_response=response, model=name, custom_llm_provider=provider,
                                    call_type="aimage_generation")
    models = ["cometapi/flux-pro", "dashscope/qwen-image-3.0-pro", "dashscope/qwen-image-2.0"]
    config = _config(tmp_path, models, "") .read_text() + \
        "    model_info: {input_cost_per_image: 0.01, output_cost_per_image: 0.03}\n"
    (tmp_path / "config.yaml").write_text(config)
    records = [_logged(i, m, "aimage_generation", response, response.model_dump())[0] for i, m in enumerate(models)]
    comet, qwen3, qwen2 = _price(capsys, tmp_path, tmp_path / "config.yaml", records)
    assert comet["status"] == qwen3["status"] == "unpriced"
    assert "the proxy books $0" in comet["reason"] and "no output_cost_per_image" in qwen3["reason"]
    # a DashScope deployment with an input-image price: its input images are counted only in the response's hidden
    # parameters, which no log keeps; the output image is priced (1 × $0.03) and the record says what is missing
    assert qwen2["status"] == "priced" and qwen2["cost"] == pytest.approx(0.03, rel=1e-12)
    assert "billable_input_image_count" in qwen2["approximate"]


def _sized(url: str, width: int | None = None, height: int | None = None) -> dict:
    fields = {"width": width, "height": height} if width else None
    return {"url": url, "provider_specific_fields": fields}


FAL_CASES = [  # (model, images, request body stored in the row, the price depends on the request)
    # per started megapixel of each image the response sizes (1536x1024: 2 MP), else per image
    ("fal_ai/fal-ai/flux/dev", [_sized("a", 1536, 1024), _sized("b")], None, False),
    # the quality/size rows nearest each image's pixel count: the requested quality picks the rows (high by
    # default), which a payload does not carry
    ("fal_ai/openai/gpt-image-2", [_sized("a", 1920, 1080), _sized("b", 1000, 1000)], None, True),
    ("fal_ai/openai/gpt-image-2", [_sized("a")], {"quality": "low", "image_size": "portrait_16_9"}, True),
    # by the requested resolution
    ("fal_ai/fal-ai/nano-banana-pro", [_sized("a"), _sized("b")], {"resolution": "4K"}, True),
]


def test_fal_images_by_resolution_size_quality_and_megapixel(capsys, tmp_path):
    records, expected = [], []
    for i, (model, images, body, _) in enumerate(FAL_CASES):
        response = ImageResponse(created=1, data=images)
        expected.append(_litellm_cost(model, response, "aimage_generation", optional_params=body or {}))
        records += _logged(i, model, "aimage_generation", response, response.model_dump(), body=body or {"p": 1})
    priced = _price(capsys, tmp_path, _config(tmp_path, [c[0] for c in FAL_CASES]), records)
    for i, case in enumerate(FAL_CASES):
        payload, row = priced[2 * i], priced[2 * i + 1]
        assert row["cost"] == pytest.approx(expected[i], rel=1e-12) and row["approximate"] == "", (case, row)
        if case[3]:
            assert payload["approximate"].startswith("the log does not carry the requested"), (case, payload)
        else:
            assert payload["cost"] == pytest.approx(expected[i], rel=1e-12), (case, payload)
            assert payload["approximate"] == "", (case, payload)
    # hand checks: flux/dev 2 MP × $0.025/MP + $0.025; nano-banana-pro 2 × $0.30 at 4K
    assert priced[1]["cost"] == pytest.approx(2.384185791015625e-08 * 1_048_576 * 2 + 0.025)
    assert priced[7]["cost"] == pytest.approx(2 * 0.3)


def test_xai_images_by_quality_and_resolution(capsys, tmp_path):
    """llms/xai/image_generation/cost_calculator.py on prices the test sets: a deployment's 1K and 2K per-image
    prices, picked by the requested resolution of a low-quality (or, for a generation, auto-quality) call; xAI's
    own reported cost where the response carries it and the deployment sets no image price."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: grok\n    litellm_params: {model: xai/grok-imagine-image}\n"
        "    model_info: {output_cost_per_image_1K: 0.01, output_cost_per_image_2K: 0.03}\n"
        "  - model_name: grok-plain\n    litellm_params: {model: xai/grok-imagine-image}\n")
    response = ImageResponse(created=1, data=[{"url": "a"}, {"url": "b"}])
    rows = []
    for i, body in enumerate(({"resolution": "2k"}, {"resolution": "1k", "quality": "low"},
                              {"resolution": "2k", "quality": "high"})):
        row = _logged(i, "xai/grok-imagine-image", "aimage_generation", response, response.model_dump(),
                      body={"prompt": "p", **body})[1]
        rows.append({**row, "model_group": "grok"})
    payload = _logged(3, "xai/grok-imagine-image", "aimage_generation", response, response.model_dump())[0]
    reported = json.loads(json.dumps(payload))
    reported["id"] = "p4"
    reported["response"]["usage"]["cost_in_usd_ticks"] = 350_000_000
    rows += [{**payload, "model_group": "grok"}, {**reported, "model_group": "grok-plain"}]
    two_k, one_k, high, unlogged, by_xai = _price(capsys, tmp_path, config, rows)
    assert two_k["cost"] == pytest.approx(2 * 0.03) and two_k["approximate"] == ""  # 2 images × the 2K price
    assert one_k["cost"] == pytest.approx(2 * 0.01) and one_k["approximate"] == ""
    # high quality: not xAI's low-quality price; default_image_cost_calculator prices the map's $0.02 per image
    assert high["cost"] == pytest.approx(2 * 0.02)
    assert unlogged["cost"] == pytest.approx(2 * 0.01)  # auto quality, 1k: LiteLLM's defaults, said so
    assert unlogged["approximate"].startswith("the log does not carry the requested quality and resolution")
    assert by_xai["cost"] == pytest.approx(0.035) and by_xai["approximate"] == "", by_xai  # 350,000,000 × 1e-10 $


def test_lookup_shows_every_price_the_image_and_speech_calculators_read(capsys):
    for model, field, shown in (("fal_ai/fal-ai/nano-banana-pro", "output_cost_per_image_4K", "0.3 $/image"),
                                ("fal_ai/fal-ai/flux/dev", "output_cost_per_pixel", "$/pixel"),
                                ("vertex_ai/lyria-002", "output_cost_per_image", "0.06 $/image"),
                                ("gpt-image-1", "output_cost_per_image_token", "$40.00"),
                                ("gpt-4o-mini-tts", "output_cost_per_audio_token", "$12.00"),
                                ("runwayml/gen4_image", "output_cost_per_image", "0.05 $/image"),
                                ("tencent/seedream-image-v5.0-flash", "output_cost_per_image_token", "$1.60"),
                                ("dashscope/qwen-image-2.0", "output_cost_per_image", "0.035 $/image"),
                                ("minimax/MiniMax-H3", "input_cost_per_image", "0.04 $/image"),
                                ("minimax/MiniMax-H3", "output_cost_per_second_768p", "0.08 $/s"),
                                ("mistral/mistral-ocr-latest", "ocr_cost_per_page", "0.004 $/page"),
                                ("mistral/mistral-ocr-latest", "annotation_cost_per_page", "0.005 $/page")):
        assert main(["lookup", model]) == 0
        out, _ = capsys.readouterr()
        line = next((row for row in out.splitlines() if row.startswith(field + " ")), "")
        assert shown in line, (model, out)
