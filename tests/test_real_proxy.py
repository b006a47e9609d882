"""costcalc against a real LiteLLM 1.110.2 proxy: every request's cost as the proxy booked it.

A ``litellm --config`` process (its own virtualenv, built once under ``.test-artifacts/proxy-venv``) serves a
seeded mix of mocked requests (no provider is called: ``mock_response``, /work/shared/PROXY.md): chat, streaming,
text completions, embeddings, cache reads and writes, reasoning, prompts past 200k tokens, service tiers requested
and served, a per-second deployment, a deployment with its own prices, image calls, web searches (Anthropic,
Gemini grounding, an OpenAI search model), pass-through endpoints with a cost per request, OCR calls (forwarded to
a local Mistral OCR stand-in) under deployments with OCR and token prices of their own, CometAPI, Tencent and
DashScope image calls (local stand-ins of their APIs), Decisions calls (System One and OpenAI format, answered by a
local upstream with cached and cache-write tokens), provider failures and
proxy cache hits, from five virtual keys with teams and users. The proxy writes what it always writes: its
standard logging payload (captured by a CustomLogger) and its spend-log rows (its own ProxyDBLogger, whose
database insert is captured; tests/proxy/costcalc_capture.py). costcalc then prices the payload file, the
spend-log file and those rows in a PostgreSQL database with LiteLLM's schema, and every request must agree with
what the proxy booked (``response_cost`` / ``spend``): priced ones to float precision, failures and cache hits
skipped as the $0 the proxy books, and approximate ones (per-second prices, images without their size, OpenAI
searches without their response) marked with their reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from costcalc.pricing.approximate import PER_SECOND
from costcalc.reading.tools import UNSEEN_TOOL

from .runner import main

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".test-artifacts" / "proxy-venv"
# litellm[proxy]==1.110.2 pins packages this index lacks (litellm-proxy, newer extras): its proxy code ships in the
# litellm wheel, so the extra's own dependency list is installed beside it (PROXY.md)
PACKAGES = ("litellm==1.110.2", "litellm-proxy-extras==0.4.110", "litellm-enterprise==0.1.83", "uvicorn", "uvloop",
            "gunicorn", "fastapi", "starlette", "backoff", "rq", "orjson", "apscheduler", "fastapi-sso", "pyjwt",
            "python-multipart", "cryptography", "pynacl", "websockets", "azure-identity", "azure-storage-blob", "mcp",
            "httpx2", "restrictedpython", "rich", "inquirerpy", "tomlkit", "polars", "soundfile", "expression",
            "semver", "backports-zstd", "hiredis")
INSTALL = (f"python3 -m venv {VENV.relative_to(ROOT)} && {VENV.relative_to(ROOT)}/bin/pip install "
           + " ".join(f"'{p}'" for p in PACKAGES))
CAPTURE = Path(__file__).parent / "proxy" / "costcalc_capture.py"
KEYS = ("sk-agents", "sk-research", "sk-support", "sk-voice", "sk-solo")  # costcalc_capture.KEYS
PER_SECOND_RATE = 0.0002

CONFIG = f"""\
model_list:
  - model_name: gpt-4o
    litellm_params: {{model: openai/gpt-4o, api_key: sk-fake}}
  - model_name: o3
    litellm_params: {{model: openai/o3, api_key: sk-fake}}
  - model_name: claude-sonnet
    litellm_params: {{model: anthropic/claude-sonnet-4-5-20250929, api_key: sk-fake}}
  - model_name: gemini-pro
    litellm_params: {{model: gemini/gemini-2.5-pro, api_key: sk-fake}}
  - model_name: embedder
    litellm_params: {{model: openai/text-embedding-3-small, api_key: sk-fake}}
  - model_name: instruct
    litellm_params: {{model: text-completion-openai/gpt-3.5-turbo-instruct, api_key: sk-fake}}
  - model_name: instruct-openai
    litellm_params: {{model: openai/gpt-3.5-turbo-instruct, api_key: sk-fake}}
  - model_name: negotiated
    litellm_params: {{model: openai/gpt-4o-mini, api_key: sk-fake, input_cost_per_token: 0.0000011,
                      output_cost_per_token: 0.0000033}}
  - model_name: images
    litellm_params: {{model: openai/dall-e-3, api_key: sk-fake}}
  - model_name: images-azure
    litellm_params: {{model: azure/dall-e-3, api_key: sk-fake, api_base: "https://example.invalid",
                      api_version: "2024-02-01"}}
  - model_name: images-priced
    litellm_params: {{model: openai/dall-e-3, api_key: sk-fake}}
    model_info: {{input_cost_per_image: 0.05}}
  - model_name: gpt-image
    litellm_params: {{model: openai/gpt-image-1, api_key: sk-fake}}
  - model_name: gpt-image-priced
    litellm_params: {{model: openai/gpt-image-1-mini, api_key: sk-fake}}
    model_info: {{output_cost_per_image: 0.011}}
  - model_name: nova-canvas
    litellm_params: {{model: bedrock/amazon.nova-canvas-v1:0, aws_region_name: us-east-1}}
  - model_name: titan-image
    litellm_params: {{model: bedrock/amazon.titan-image-generator-v1, aws_region_name: us-east-1}}
  - model_name: recraft
    litellm_params: {{model: recraft/recraftv3, api_key: sk-fake}}
  - model_name: imagen
    litellm_params: {{model: gemini/imagen-3.0-generate-001, api_key: sk-fake}}
  - model_name: flash-image
    litellm_params: {{model: gemini/gemini-2.5-flash-image, api_key: sk-fake}}
  - model_name: hosted
    litellm_params: {{model: openai/my-hosted-model, api_key: sk-fake, input_cost_per_second: {PER_SECOND_RATE}}}
  - model_name: searcher
    litellm_params: {{model: openai/gpt-4o-search-preview, api_key: sk-fake}}
  - model_name: claude-searching
    litellm_params: {{model: anthropic/claude-sonnet-4-5-20250929, api_key: sk-fake, input_cost_per_token: 0.000002,
                      output_cost_per_token: 0.00001}}
    model_info: {{search_context_cost_per_query: {{search_context_size_medium: 0.02}}}}
  - model_name: comet-image
    litellm_params: {{model: cometapi/flux-pro, api_key: sk-fake, api_base: "PASS_THROUGH_TARGET"}}
    model_info: {{output_cost_per_image: 0.04}}
  - model_name: seedream
    litellm_params: {{model: tencent/seedream-image-v5.0-flash, api_key: sk-fake, api_base: "PASS_THROUGH_TARGET"}}
  - model_name: qwen-image
    litellm_params: {{model: dashscope/qwen-image-2.0, api_key: sk-fake, api_base: "PASS_THROUGH_TARGET/dashscope"}}
  - model_name: ocr
    litellm_params: {{model: mistral/mistral-ocr-latest, api_key: sk-fake, api_base: "PASS_THROUGH_TARGET"}}
  - model_name: ocr-own
    litellm_params: {{model: mistral/mistral-ocr-latest, api_key: sk-fake, api_base: "PASS_THROUGH_TARGET",
                      ocr_cost_per_page: 0.01}}
  - model_name: ocr-tokens
    litellm_params: {{model: mistral/mistral-ocr-latest, api_key: sk-fake, api_base: "PASS_THROUGH_TARGET",
                      input_cost_per_token: 0.000001}}
    model_info: {{annotation_cost_per_page: 0.02}}
  - model_name: decider
    litellm_params: {{model: openai/gpt-4o, api_key: sk-fake, api_base: "PASS_THROUGH_TARGET/v1"}}
  - model_name: decider-luna
    litellm_params: {{model: openai/gpt-6-luna, api_key: sk-fake, api_base: "PASS_THROUGH_TARGET/v1"}}
litellm_settings:
  callbacks: [costcalc_capture.payload_logger, costcalc_capture.spend_writer]
  cache: true
  cache_params: {{type: local}}
router_settings:
  num_retries: 0
general_settings:
  custom_auth: costcalc_capture.user_api_key_auth
  pass_through_endpoints:
    - {{path: /tool, target: "PASS_THROUGH_TARGET/run", cost_per_request: 0.25}}
    - {{path: /free, target: "PASS_THROUGH_TARGET/free"}}
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("COSTCALC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}: {INSTALL}")
    pytest.skip(f"{reason}: {INSTALL}")


def proxy_python() -> Path:
    """The proxy virtualenv's interpreter, built on first use (about 2 minutes) and reused after. Built beside
    its final place and renamed into it, so an interrupted build is never taken for a finished one; the proxy
    runs as ``python -m`` (a moved virtualenv's console scripts keep the old path)."""
    spec = "\n".join(PACKAGES)
    marker = VENV / "costcalc-packages.txt"
    if marker.exists() and marker.read_text() == spec:
        return VENV / "bin" / "python"
    building = VENV.with_name(f"proxy-venv.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, capture_output=True, timeout=300)
        done = subprocess.run([str(building / "bin" / "python"), "-m", "pip", "install", "-q", *PACKAGES],
                              capture_output=True, text=True, timeout=1200)
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(building, ignore_errors=True)
        _unavailable(f"could not build the proxy's virtualenv ({exc})")
    if done.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        _unavailable(f"could not install the proxy ({done.stderr.strip().splitlines()[-1:]})")
    (building / marker.name).write_text(spec)
    shutil.rmtree(VENV, ignore_errors=True)
    building.rename(VENV)
    return VENV / "bin" / "python"


def _post(port: int, path: str, key: str, body: dict) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _chat_mock(rng: random.Random, i: int, model: str, prompt: int, completion: int, **usage_extra) -> dict:
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
             **usage_extra}
    return {"id": f"chatcmpl-costcalc-{i}", "object": "chat.completion", "created": 1_790_000_000 + i,
            "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": f"answer {i}"}}],
            "usage": usage}


SEARCH_MODELS = ("claude-sonnet", "gemini-pro", "searcher", "claude-searching")
# OCR deployments (Mistral OCR forwarded to the test's upstream): the map's prices, a page price of its own over the
# map's annotation price, and token prices that make LiteLLM price by the deployment's own entry alone
OCR_DEPLOYMENTS = ("ocr", "ocr-own", "ocr-tokens")
OCR_USAGE = {"pages_processed": 3, "pages_processed_annotation": 2, "doc_size_bytes": 1000}
# image deployments served by the test's upstream (no mock: each provider's own transformation reads its answer):
# CometAPI (OpenAI's format), Tencent TokenHub (its token usage), DashScope (its native format)
UPSTREAM_IMAGE_DEPLOYMENTS = ("comet-image", "seedream", "qwen-image")
SEEDREAM_TOKENS = 4096
IMAGE_PROVIDER_DEPLOYMENTS = ("gpt-image", "gpt-image-priced", "nova-canvas", "titan-image", "recraft", "imagen",
                              "flash-image", *UPSTREAM_IMAGE_DEPLOYMENTS)


def requests_mix(n: int, seed: int = 21) -> list[tuple[str, str, dict]]:
    """``n`` seeded (path, key, body) requests: every call type the proxy can mock, in every variant that
    changes the price."""
    rng = random.Random(seed)
    out: list[tuple[str, str, dict]] = []
    searched = 0
    kinds = ["text", "usage", "anthropic-cache", "long", "tier", "stream", "completion", "embedding",
             "per-second", "failure", "cache-hit", "negotiated", "image", "image-provider", "web-search",
             "pass-through", "ocr"]
    for i in range(n):
        kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(kinds)
        key = rng.choice(KEYS)
        messages = [{"role": "user", "content": f"request {i}: {rng.random()}"}]
        body: dict = {"messages": messages}
        path = "/v1/chat/completions"
        if kind == "text":
            body.update(model=rng.choice(["gpt-4o", "claude-sonnet", "gemini-pro"]),
                        mock_response=f"a mocked answer of some length {i} " * rng.randint(1, 20))
        elif kind == "usage":
            model = rng.choice(["gpt-4o", "o3"])
            prompt, completion = rng.randint(10, 50_000), rng.randint(1, 8_000)
            extra = {"prompt_tokens_details": {"cached_tokens": rng.choice([0, prompt // 2])}}
            if model == "o3":
                extra["completion_tokens_details"] = {"reasoning_tokens": rng.randint(0, completion)}
            body.update(model=model, mock_response=_chat_mock(rng, i, model, prompt, completion, **extra))
        elif kind == "anthropic-cache":
            read, write = rng.randint(0, 20_000), rng.randint(0, 20_000)
            prompt = rng.randint(1, 5_000) + read + write
            body.update(model="claude-sonnet", mock_response=_chat_mock(
                rng, i, "claude-sonnet-4-5-20250929", prompt, rng.randint(1, 3_000),
                cache_read_input_tokens=read, cache_creation_input_tokens=write,
                prompt_tokens_details={"cached_tokens": read}))
        elif kind == "long":
            model = rng.choice(["claude-sonnet", "gemini-pro"])
            body.update(model=model, mock_response=_chat_mock(rng, i, model, rng.randint(150_000, 400_000),
                                                              rng.randint(1, 4_000)))
        elif kind == "tier":
            model = rng.choice(["gpt-4o", "o3", "gemini-pro"])
            mock = _chat_mock(rng, i, model, rng.randint(100, 30_000), rng.randint(1, 4_000))
            served = rng.choice([None, "priority", "flex", "default"])
            if served:
                mock["service_tier"] = served
            requested = rng.choice([None, "priority", "flex", "auto", "default"])
            if requested:
                body["service_tier"] = requested
            body.update(model=model, mock_response=mock)
        elif kind == "stream":
            model = rng.choice(["gpt-4o", "o3", "claude-sonnet"])
            body.update(model=model, stream=True, stream_options={"include_usage": True},
                        mock_response=_chat_mock(rng, i, model, rng.randint(10, 20_000), rng.randint(1, 2_000)))
        elif kind == "completion":
            # instruct-openai: an openai deployment of a completion model, whose text completions the proxy prices
            # under text-completion-openai and whose chat calls it books at $0
            path = "/v1/completions"
            body = {"model": rng.choice(["instruct", "instruct-openai"]), "prompt": f"complete {i}",
                    "mock_response": f"completed {i} " * 5}
            if body["model"] == "instruct-openai" and rng.random() < 0.3:
                path = "/v1/chat/completions"
                body = {"model": "instruct-openai", "messages": messages, "mock_response": f"answered {i}"}
        elif kind == "embedding":
            path = "/v1/embeddings"
            body = {"model": "embedder", "input": [f"embed {i}"], "mock_response": [0.1, 0.2]}
        elif kind == "per-second":
            body.update(model="hosted", mock_response=f"timed answer {i}")
        elif kind == "failure":
            body.update(model=rng.choice(["gpt-4o", "claude-sonnet"]), mock_response="litellm.InternalServerError")
        elif kind == "cache-hit":
            earlier = [r for r in out if r[0] == "/v1/chat/completions" and not r[2].get("stream")
                       and r[2].get("mock_response") != "litellm.InternalServerError"]
            if earlier:
                out.append(rng.choice(earlier))
                continue
            body.update(model="gpt-4o", mock_response="first of its kind")
        elif kind == "image":
            # a mocked image call is priced by the proxy's image calculator (mock_image_generation returns one
            # image whatever n asks): azure/dall-e-3 per pixel by size and quality from the map, the custom
            # deployment per image; openai/dall-e-3 has no map row and books $0 (costcalc: unpriced, saying why)
            path = "/v1/images/generations"
            body = {"model": rng.choice(["images", "images-azure", "images-priced"]), "prompt": f"picture {i}",
                    "size": rng.choice(["1024x1024", "1024x1792", "1792x1024"]),
                    "mock_response": f"https://example.invalid/{i}.png"}
            if rng.random() < 0.6:
                body["quality"] = rng.choice(["standard", "hd"])
            if rng.random() < 0.3:
                body["n"] = 2
        elif kind == "image-provider":
            # each provider's own image calculator (pricing/images.py) on the one image the mock returns: gpt-image
            # models are priced by the response's usage, all zero here, so $0 even where the deployment sets an
            # output_cost_per_image; Bedrock, Recraft and Gemini per image from the map
            path = "/v1/images/generations"
            earlier = sum(1 for r in out if r[2].get("model") in IMAGE_PROVIDER_DEPLOYMENTS)
            body = {"model": IMAGE_PROVIDER_DEPLOYMENTS[earlier % len(IMAGE_PROVIDER_DEPLOYMENTS)],
                    "prompt": f"picture {i}", "mock_response": f"https://example.invalid/{i}.png"}
            if body["model"] in UPSTREAM_IMAGE_DEPLOYMENTS:
                del body["mock_response"]
        elif kind == "ocr":
            # an OCR call through the proxy's /v1/ocr to the test's upstream (3 pages, 2 annotated), priced by
            # ocr_cost with each deployment's own prices laid over the map's (pricing/calltypes.py ocr_rates)
            path = "/v1/ocr"
            earlier = sum(1 for r in out if r[0] == "/v1/ocr")
            body = {"model": OCR_DEPLOYMENTS[earlier % len(OCR_DEPLOYMENTS)],
                    "document": {"type": "document_url", "document_url": f"https://example.invalid/{i}.pdf"}}
        elif kind == "pass-through":
            # a declared pass-through endpoint: the proxy forwards to the test's target and books the endpoint's
            # cost_per_request (0 when unset)
            path = rng.choice(["/tool", "/free"])
            body = {"query": f"run {i}"}
        elif kind == "negotiated":
            body.update(model="negotiated", mock_response=f"negotiated {i} " * rng.randint(1, 9))
        elif kind == "web-search":
            # the built-in web search charge (pricing/tools.py): Anthropic's server_tool_use and Gemini's grounding
            # counts in the usage; an OpenAI search model's url_citation annotations, at the request's context size
            # (claude-searching: a custom-priced deployment with its own search price, which the proxy registers)
            model = SEARCH_MODELS[searched % len(SEARCH_MODELS)]  # each in turn
            searched += 1
            prompt, completion = rng.randint(100, 20_000), rng.randint(1, 2_000)
            searches = rng.randint(1, 5)
            if model in ("claude-sonnet", "claude-searching"):
                mock = _chat_mock(rng, i, "claude-sonnet-4-5-20250929", prompt, completion,
                                  server_tool_use={"web_search_requests": searches})
            elif model == "gemini-pro":
                mock = _chat_mock(rng, i, "gemini-2.5-pro", prompt, completion,
                                  prompt_tokens_details={"web_search_requests": searches})
            else:
                mock = _chat_mock(rng, i, "gpt-4o-search-preview", prompt, completion)
                mock["choices"][0]["message"]["annotations"] = [
                    {"type": "url_citation", "url_citation": {"url": f"https://example.invalid/{i}", "title": "t",
                                                              "start_index": 0, "end_index": 3}}]
                body["web_search_options"] = {"search_context_size": rng.choice(["low", "medium", "high"])}
            body.update(model=model, mock_response=mock)
        out.append((path, key, body))
    # Decisions calls (after the seeded mix, which they leave as it was): System One requests, whose logged usage
    # leaves the cached tokens out (costcalc recovers them from the cost breakdown), and OpenAI-format ones, which
    # log them; decider-luna's map row has _decisions prices
    for i, (model, cached, written) in enumerate([("decider", 400, 100), ("decider", 0, 0), ("decider-luna", 400, 100),
                                                  ("decider", 250, 0)]):
        counts = f"cached={cached} written={written}"
        if i % 2 == 0:
            out.append(("/v1/systemone", KEYS[i % len(KEYS)], {
                "model": model, "state": counts, "questions": {"q": {"type": "noul", "instructions": "is it?"}}}))
        else:
            out.append(("/v1/decisions", KEYS[i % len(KEYS)], {
                "model": model, "input": counts,
                "questions": [{"type": "predicate", "name": "q", "instructions": "is it?"}]}))
    return out


N_REQUESTS = 260


def _pass_through_target():
    """The upstream of the config's pass-through endpoints (every POST: a JSON body and no usage), of its OCR
    deployments (/v1/ocr: Mistral's OCR response for a 3-page document, 2 pages annotated), of its image deployments
    of CometAPI, Tencent and DashScope, and of its Decisions deployments (/v1/decisions, as OpenAI's Decisions API
    answers, with the usage the request's input names: ``cached=N written=M`` of 1,000 input tokens, 10 output)."""
    import http.server
    import threading

    class Upstream(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sent = self.rfile.read(int(self.headers.get("content-length") or 0))
            image = {"url": "https://example.invalid/a.png", "size": "1024x1024"}
            answers = {  # by the path each provider's transformation posts to
                "/v1/ocr": {"pages": [], "model": "mistral-ocr-latest", "usage_info": OCR_USAGE},
                "/images/generations": {"created": 1, "data": [image]},
                "/v1/wand/si-image/generation": {"created": 1, "data": [image],
                                                 "tokenhub_usage": {"total_tokens": SEEDREAM_TOKENS}},
                "/dashscope": {"output": {"choices": [{"message": {"role": "assistant", "content": [
                    {"image": image["url"]}]}}]}, "usage": {"width": 1024, "height": 1024, "image_count": 1}},
            }
            body = json.dumps(answers[self.path]).encode() if self.path in answers else b'{"result": "ok"}'
            if self.path.endswith("/decisions"):
                request = json.loads(sent)
                counts = dict(part.split("=") for part in str(request.get("input", "")).split())
                body = json.dumps({
                    "model": request.get("model"),
                    "answers": [{"type": "predicate", "name": q.get("name"), "probability": 0.9}
                                for q in request.get("questions", [])],
                    "usage": {"input_tokens": 1000, "output_tokens": 10, "total_tokens": 1010,
                              "input_tokens_details": {"cached_tokens": int(counts.get("cached", 0)),
                                                       "cache_write_tokens": int(counts.get("written", 0))},
                              "output_tokens_details": {"reasoning_tokens": 0}}}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def proxy_logs(tmp_path_factory):
    """Run the proxy over the request mix: its payload file, its spend-log file, the config, and the requests'
    HTTP statuses."""
    python = proxy_python()
    work = tmp_path_factory.mktemp("proxy")
    target = _pass_through_target()
    (work / "config.yaml").write_text(CONFIG.replace("PASS_THROUGH_TARGET",
                                                     f"http://127.0.0.1:{target.server_address[1]}"))
    shutil.copy(CAPTURE, work / CAPTURE.name)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CAPTURE_DIR": str(work), "PYTHONPATH": str(work), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true"}
    env.pop("DATABASE_URL", None)
    log = open(work / "proxy.log", "w")  # noqa: SIM115  (open for the process's whole life)
    proc = subprocess.Popen([str(python), "-m", "litellm.proxy.proxy_cli", "--config", "config.yaml", "--host",
                             "127.0.0.1", "--port", str(port)], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/liveliness", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (work / "proxy.log").read_text()[-1500:]
                    pytest.fail(f"the proxy did not start: {tail}")
                time.sleep(0.5)
        sent = requests_mix(N_REQUESTS)
        statuses = [_post(port, path, key, body) for path, key, body in sent]
        # the proxy logs after answering: wait for one payload and one spend-log row per request
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            counts = [(work / f).read_text().count("\n") if (work / f).exists() else 0
                      for f in ("payloads.jsonl", "spend_logs.jsonl")]
            if min(counts) >= len(sent):
                break
            time.sleep(0.5)
        time.sleep(1.0)
    finally:
        target.shutdown()
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    return work, sent, statuses


def _price(capsys, source: str, config: Path) -> list[dict]:
    code = main(["price", source, "--config", str(config), "--format", "jsonl"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def _booked(logged: dict, field: str) -> float:
    return float(logged[field] or 0.0)


def _agree(priced: list[dict], logged: list[dict], field: str) -> dict[str, int]:
    """Each costcalc line against the logged line it priced (same order); the counts by outcome."""
    assert len(priced) == len(logged)
    seen = {"exact": 0, "approximate": 0, "skipped": 0, "unpriced": 0}
    for mine, theirs in zip(priced, logged):
        booked = _booked(theirs, field)
        what = f"{theirs.get('call_type')} {theirs.get('model_group')}: {mine}"
        if theirs.get("status") == "failure" or str(theirs.get("cache_hit")).lower() == "true":
            assert mine["status"] == "skipped" and "the proxy books $0" in mine["reason"], what
            assert booked == 0.0, what
            seen["skipped"] += 1
            continue
        assert mine["request_id"] == (theirs.get("request_id") or theirs.get("id")), what
        if theirs["call_type"] == "aimage_generation" and theirs["model_group"] == "images":
            assert booked == 0.0, what
            assert mine["status"] == "unpriced" and "the proxy prices it per image" in mine["reason"], what
            seen["unpriced"] += 1
            continue
        if theirs["call_type"] == "acompletion" and theirs["model_group"] == "instruct-openai":
            assert booked == 0.0, what
            assert mine["status"] == "unpriced" and "would book it at $0" in mine["reason"], what
            seen["unpriced"] += 1
            continue
        assert mine["status"] == "priced", what
        if theirs["call_type"] == "aimage_generation" and mine["approximate"]:
            # azure/dall-e-3 per pixel: no logged size or quality; LiteLLM's defaults, said why
            assert theirs["model_group"] == "images-azure", what
            assert mine["approximate"].startswith("the log does not carry the requested size"), what
            assert mine["cost"] > 0, what
            seen["approximate"] += 1
        elif mine["approximate"] == UNSEEN_TOOL:
            # a spend-log row of an OpenAI search: the booked tool charge, without the response that shows it;
            # priced as one medium-context search, which is what the proxy booked (one citation-bearing answer, and
            # gpt-4o-search-preview's search prices are the same at every context size)
            assert theirs["model_group"] == "searcher", what
            assert mine["cost"] == pytest.approx(booked, rel=1e-9, abs=1e-15), what
            seen["approximate"] += 1
        elif mine["approximate"]:
            assert mine["approximate"] == PER_SECOND and theirs["model_group"] == "hosted", what
            assert mine["cost"] > 0 and booked > 0, what
            seen["approximate"] += 1
        else:
            assert mine["cost"] == pytest.approx(booked, rel=1e-9, abs=1e-15), what
            seen["exact"] += 1
    return seen


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_request_in_the_payload_file_costs_what_the_proxy_booked(proxy_logs, capsys):
    work, sent, statuses = proxy_logs
    payloads = _lines(work / "payloads.jsonl")
    assert len(payloads) == len(sent)  # one payload per request: successes, failures and cache hits
    seen = _agree(_price(capsys, str(work / "payloads.jsonl"), work / "config.yaml"), payloads, "response_cost")
    failures = sum(1 for s in statuses if s >= 400)
    cache_hits = sum(1 for p in payloads if p.get("cache_hit") is True)
    assert failures > 5 and cache_hits > 5
    assert seen["skipped"] == failures + cache_hits
    # approximate: the per-second calls, and the images priced per pixel by a size and quality the payload lacks
    assert seen["approximate"] == sum(1 for p in payloads if p["model_group"] in ("hosted", "images-azure")
                                      and p["status"] == "success" and not p.get("cache_hit"))
    assert seen["exact"] > 150
    assert seen["unpriced"] == sum(1 for p in payloads if p["status"] == "success" and not p.get("cache_hit") and (
        p["model_group"] == "images" or (p["model_group"], p["call_type"]) == ("instruct-openai", "acompletion"))) > 2
    # text completions to the openai deployment of gpt-3.5-turbo-instruct: booked under text-completion-openai
    rerouted = [p for p in payloads
                if p["model_group"] == "instruct-openai" and p["call_type"] == "atext_completion"]
    assert len(rerouted) > 2 and all(p["custom_llm_provider"] == "text-completion-openai"
                                     and p["response_cost"] > 0 for p in rerouted)
    # every image call of a priced deployment is priced exactly from the payload (response + model_parameters)
    assert sum(1 for _, _, body in sent if body.get("model") in ("images-azure", "images-priced")) > 5
    # each provider's image calculator: every deployment called, and priced as booked (above: exact)
    providers = {body["model"] for path, _, body in sent if path == "/v1/images/generations"}
    assert set(IMAGE_PROVIDER_DEPLOYMENTS) <= providers
    booked = {p["model_group"]: p["response_cost"] for p in payloads if p["call_type"] == "aimage_generation"}
    assert booked["gpt-image"] == booked["gpt-image-priced"] == 0.0
    assert booked["nova-canvas"] == 0.06 and booked["recraft"] == 0.04 and booked["imagen"] == 0.04
    # CometAPI at the deployment's $0.04 an image, Tencent by its reported tokens at $1.60 per million image tokens,
    # DashScope at the map's $0.035 an image
    assert (booked["comet-image"], booked["qwen-image"]) == (0.04, 0.035)
    assert booked["seedream"] == pytest.approx(SEEDREAM_TOKENS * 1.6e-6, rel=1e-12)
    # the tiers the proxy billed are the ones costcalc read: each tier occurs, priced as booked
    tiers = {(p.get("cost_breakdown") or {}).get("service_tier") for p in payloads}
    assert {"priority", "flex", None} <= tiers
    # pass-through calls booked their endpoint's cost_per_request, and were priced at it
    passed = {p["metadata"]["user_api_key_request_route"]: p["response_cost"] for p in payloads
              if p["call_type"] == "pass_through_endpoint"}
    assert passed == {"/tool": 0.25, "/free": 0.0}
    # OCR calls booked by each deployment's prices (3 pages, 2 annotated; the map: $0.004 a page, $0.005 an
    # annotated page), and priced exactly from the payloads (above)
    ocr = {p["model_group"]: p["response_cost"] for p in payloads if p["call_type"] == "aocr"}
    assert ocr == pytest.approx({"ocr": 3 * 0.004 + 2 * 0.005, "ocr-own": 3 * 0.01 + 2 * 0.005,
                                 "ocr-tokens": 2 * 0.02}, rel=1e-12)
    # web searches of each kind were booked (a tool charge) and priced exactly from the payloads
    searched = {p["model_group"] for p in payloads if (p.get("cost_breakdown") or {}).get("tool_usage_cost")}
    assert searched == set(SEARCH_MODELS)
    # Decisions calls were answered and booked (priced exactly above): the System One ones with their cached tokens,
    # which their logged usage lacks and only the cost breakdown shows
    decided = [p for p in payloads if p["call_type"] in ("asystemone", "adecisions")]
    assert [s for s, (path, _, _) in zip(statuses, sent) if "decisions" in path or "systemone" in path] == [200] * 4
    assert len(decided) == 4 and all(p["response_cost"] > 0 for p in decided)
    assert any(p["call_type"] == "asystemone" and "cached_tokens" not in json.dumps(p["metadata"]["usage_object"])
               and p["cost_breakdown"].get("cache_read_cost") for p in decided)


def test_every_spend_log_row_costs_what_the_proxy_booked(proxy_logs, capsys):
    work, sent, _ = proxy_logs
    rows = _lines(work / "spend_logs.jsonl")
    assert len(rows) == len(sent)
    seen = _agree(_price(capsys, str(work / "spend_logs.jsonl"), work / "config.yaml"), rows, "spend")
    assert seen["exact"] > 150 and seen["approximate"] > 5 and seen["skipped"] > 10 and seen["unpriced"] > 2
    # a row without stored prompts still carries the images the response held (usage_object.output_image_count):
    # only the azure/dall-e-3 rows, priced per pixel by an unlogged size and quality, the per-second ones and the
    # OpenAI search model's (a booked tool charge without the response that shows its searches) are approximate
    assert seen["approximate"] == sum(1 for r in rows if r["model_group"] in ("hosted", "images-azure", "searcher")
                                      and r["status"] == "success" and str(r["cache_hit"]).lower() != "true")
    # the DuckDB engine gives the same report, approximate records and skips included
    docs = []
    for engine in ("python", "duckdb"):
        code = main(["price", str(work / "spend_logs.jsonl"), "--config", str(work / "config.yaml"), "--format",
                     "json", "-g", "team", "--engine", engine])
        out, err = capsys.readouterr()
        assert code == 0, err
        doc = json.loads(out)
        docs.append((doc["groups"], doc["totals"], doc["accounting"], doc["approximate"]))
    assert docs[0] == docs[1] and docs[0][2]["approximate"] == seen["approximate"]


@pytest.fixture(scope="module")
def spend_log_database(proxy_logs):
    """The captured rows in a throwaway PostgreSQL with LiteLLM's schema, as the proxy would have inserted them."""
    from .pg_server import start_server

    work, _, _ = proxy_logs
    rows = _lines(work / "spend_logs.jsonl")
    gen = start_server()
    server = next(gen)
    from psycopg.types.json import Jsonb

    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'LiteLLM_SpendLogs'")
        types = dict(cur.fetchall())
        for row in rows:
            # the schema of litellm-proxy-extras 0.4.110 lacks three columns 1.110.2's writer adds (PROXY.md)
            cols = [c for c in row if c in types]
            values = [Jsonb(json.loads(row[c]) if isinstance(row[c], str) else row[c])
                      if types[c] == "jsonb" and row[c] is not None else row[c] for c in cols]
            names = ", ".join(f'"{c}"' for c in cols)
            cur.execute(f'INSERT INTO "LiteLLM_SpendLogs" ({names}) VALUES ({", ".join(["%s"] * len(cols))})',
                        values)
    yield server, rows
    with contextlib.suppress(StopIteration):
        next(gen)  # stops the cluster


def test_every_spend_log_row_in_the_database_costs_what_the_proxy_booked(proxy_logs, spend_log_database, capsys):
    work, sent, _ = proxy_logs
    server, rows = spend_log_database
    priced = _price(capsys, server.url(), work / "config.yaml")
    assert len(priced) == len(rows)
    by_id = {r["request_id"]: r for r in rows}
    skipped = sum(1 for r in rows if r["status"] == "failure" or str(r["cache_hit"]).lower() == "true")
    assert sum(1 for p in priced if p["status"] == "skipped" and "the proxy books $0" in p["reason"]) == skipped
    exact = approximate = unpriced = 0
    for mine in priced:
        if mine["status"] == "skipped":
            continue
        theirs = by_id[mine["request_id"]]
        if theirs["call_type"] == "aimage_generation" and theirs["model_group"] == "images":
            assert float(theirs["spend"] or 0) == 0.0
            assert mine["status"] == "unpriced" and "the proxy prices it per image" in mine["reason"]
            unpriced += 1
            continue
        if theirs["call_type"] == "acompletion" and theirs["model_group"] == "instruct-openai":
            assert float(theirs["spend"] or 0) == 0.0
            assert mine["status"] == "unpriced" and "would book it at $0" in mine["reason"]
            unpriced += 1
            continue
        assert mine["status"] == "priced"
        assert (mine["team_id"], mine["user_id"]) == (theirs["team_id"] or None, theirs["user"] or None)
        if theirs["call_type"] == "aimage_generation" and mine["approximate"]:
            assert theirs["model_group"] == "images-azure"
            assert mine["approximate"].startswith("the log does not carry the requested size")
            approximate += 1
        elif mine["approximate"] == UNSEEN_TOOL:
            assert theirs["model_group"] == "searcher"
            assert mine["cost"] == pytest.approx(float(theirs["spend"]), rel=1e-9, abs=1e-15), mine
            approximate += 1
        elif mine["approximate"]:
            assert mine["approximate"] == PER_SECOND and theirs["model_group"] == "hosted"
            approximate += 1
        else:
            assert mine["cost"] == pytest.approx(float(theirs["spend"]), rel=1e-9, abs=1e-15), mine
            exact += 1
    assert exact + approximate + unpriced + skipped == len(rows) == len(sent)
    # the in-database engine gives the same totals as the Python reading of the same rows
    totals = []
    for engine in ("python", "postgres"):
        code = main(["price", server.url(), "--config", str(work / "config.yaml"), "--format", "json", "-g", "team",
                     "--engine", engine])
        out, err = capsys.readouterr()
        assert code == 0, err
        doc = json.loads(out)
        totals.append((doc["totals"], doc["accounting"]))
    assert totals[0] == totals[1]
