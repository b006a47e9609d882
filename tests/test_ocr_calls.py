"""OCR calls (``ocr`` / ``aocr``) cost what LiteLLM 1.110.2's ``ocr_cost`` books from the response's
``usage_info``: pages × ``ocr_cost_per_page`` plus annotated pages × ``annotation_cost_per_page`` (the page price
when unset), the deployment's prices over the cost map's; a log without the response stays unpriced."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from .engine_check import lines_left_to_python
from .runner import priced_records

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
litellm = pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
from litellm.llms.base_llm.ocr.transformation import OCRResponse

CONFIG = """model_list:
  - model_name: ocr
    litellm_params: {model: mistral/mistral-ocr-latest}
  - model_name: ocr-own
    litellm_params: {model: mistral/mistral-ocr-latest, ocr_cost_per_page: 0.01}
  - model_name: doc
    litellm_params: {model: azure_ai/doc-intelligence/prebuilt-layout}
"""
# (model group, the deployment's model, usage_info, the deployment's own OCR prices)
CASES = [
    ("ocr", "mistral/mistral-ocr-latest", {"pages_processed": 7}, None),
    ("ocr", "mistral/mistral-ocr-latest", {"pages_processed": 3, "pages_processed_annotation": 2}, None),
    ("doc", "azure_ai/doc-intelligence/prebuilt-layout", {"pages_processed": 2, "pages_processed_annotation": 5},
     None),
]


def _row(i: int, group: str, model: str, usage_info: dict, call_type: str, stored: bool) -> dict:
    provider, name = model.split("/", 1)
    response = {"pages": [], "model": name, "usage_info": usage_info, "object": "ocr"}
    return {"request_id": f"r{i}", "call_type": call_type, "model_group": group, "model": name,
            "custom_llm_provider": provider, "status": "success", "prompt_tokens": 0, "completion_tokens": 0,
            "spend": 0.0, "metadata": "{}", "response": json.dumps(response) if stored else "{}"}


def _price(capsys, tmp_path, rows: list[dict]) -> list[dict]:
    return priced_records(capsys, tmp_path, rows, config=CONFIG)

def test_ocr_calls_cost_what_litellm_books(capsys, tmp_path):
    from litellm.cost_calculator import ocr_cost

    rows = [_row(i, group, model, info, "aocr" if i % 2 else "ocr", True)
            for i, (group, model, info, _) in enumerate(CASES)]
    out = _price(capsys, tmp_path, rows)
    for (group, model, info, own), found in zip(CASES, out):
        provider, name = model.split("/", 1)
        expected, _ = ocr_cost(model=name, custom_llm_provider=provider,
                               response=OCRResponse(pages=[], model=name, usage_info=info), model_info=own)
        assert found["status"] == "priced" and found["approximate"] == "", found
        assert found["cost"] == pytest.approx(expected, rel=1e-12), (group, info, found)
    # by hand on the cost map's rows: Mistral OCR $0.004 a page, $0.005 an annotated page;
    # Azure's layout model $0.01 a page, annotated pages at it
    assert [r["cost"] for r in out] == pytest.approx(
        [7 * 0.004, 3 * 0.004 + 2 * 0.005, (2 + 5) * 0.01], rel=1e-12)


def test_an_ocr_row_without_its_response_is_priced_from_its_usage_object(capsys, tmp_path):
    """LiteLLM's logging records an OCR response's usage_info as the call's usage object (get_usage_object), which
    the spend-log row keeps in metadata whether or not it stores the response."""
    from litellm.cost_calculator import ocr_cost

    info = {"pages_processed": 3, "pages_processed_annotation": 2, "doc_size_bytes": 10}
    row = {**_row(0, "ocr", "mistral/mistral-ocr-latest", info, "aocr", False),
           "metadata": json.dumps({"usage_object": info})}
    (found,) = _price(capsys, tmp_path, [row])
    expected, _ = ocr_cost(model="mistral-ocr-latest", custom_llm_provider="mistral",
                           response=OCRResponse(pages=[], model="mistral-ocr-latest", usage_info=info))
    assert found["status"] == "priced" and found["approximate"] == ""
    assert found["cost"] == pytest.approx(expected, rel=1e-12) == pytest.approx(3 * 0.004 + 2 * 0.005, rel=1e-12)


def test_an_ocr_row_without_its_response_is_unpriced_with_the_reason(capsys, tmp_path):
    out = _price(capsys, tmp_path, [_row(0, "ocr", "mistral/mistral-ocr-latest", {"pages_processed": 7}, "ocr",
                                         False)])
    assert out[0]["status"] == "unpriced" and "pages_processed" in out[0]["reason"], out[0]


# deployments with OCR prices of their own (litellm_params, model_info), laid over the map field by field, and
# deployments whose token prices make LiteLLM price the call by their id alone (no cost-map fallback)
OWN_PRICES = {
    "p-page": ({"ocr_cost_per_page": 0.01}, {}),
    "p-annot": ({"annotation_cost_per_page": 0.02}, {}),
    "p-credit": ({"ocr_cost_per_credit": 0.001}, {}),
    "i-page": ({}, {"ocr_cost_per_page": 0.01}),
    "p-page-i-annot": ({"ocr_cost_per_page": 0.01}, {"ocr_cost_per_page": 0.5, "annotation_cost_per_page": 0.03}),
    "p-tokens": ({"input_cost_per_token": 1e-6}, {}),
    "p-tokens-i-page": ({"input_cost_per_token": 1e-6}, {"ocr_cost_per_page": 0.01}),
    "i-tokens-i-annot": ({}, {"input_cost_per_token": 1e-6, "annotation_cost_per_page": 0.02}),
    "i-image": ({}, {"input_cost_per_image": 0.5}),
    "plain": ({}, {}),
}
USAGE_INFO = {"pages_processed": 3, "pages_processed_annotation": 2, "doc_size_bytes": 10}


@pytest.fixture
def mistral_ocr_server():
    """A local stand-in for Mistral's /v1/ocr: every document has 3 pages, 2 of them annotated."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Upstream(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = json.dumps({"pages": [], "model": "mistral-ocr-latest", "usage_info": USAGE_INFO}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_deployments_own_ocr_prices_are_laid_over_the_map_as_a_real_router_books_them(
        capsys, tmp_path, mistral_ocr_server, registering_router):
    """Each deployment's OCR call goes through LiteLLM's own Router (``aocr``) to the local server, and the cost it
    books (``response_cost``, what the proxy's cost callback writes) is what costcalc prices from the logged row."""
    import asyncio

    deployments = [{"model_name": name, "model_info": {"id": f"dep-{name}", **info},
                    "litellm_params": {"model": "mistral/mistral-ocr-latest", "api_key": "sk-fake",
                                       "api_base": mistral_ocr_server, **params}}
                   for name, (params, info) in OWN_PRICES.items()]
    router = litellm.Router(model_list=deployments)

    async def book() -> list[float]:
        document = {"type": "document_url", "document_url": "https://example.com/a.pdf"}
        return [(await router.aocr(model=name, document=document))._hidden_params["response_cost"]
                for name in OWN_PRICES]

    booked = dict(zip(OWN_PRICES, asyncio.run(book())))
    # by hand (3 pages, 2 annotated; the map's Mistral OCR: $0.004 a page, $0.005 an annotated page): the
    # deployment's fields first (litellm_params before model_info), the map's for the rest; with token prices the
    # deployment's entry alone, where an unset annotation price takes the page price and no page price books $0
    assert booked == pytest.approx({
        "p-page": 3 * 0.01 + 2 * 0.005, "p-annot": 3 * 0.004 + 2 * 0.02, "p-credit": 3 * 0.004 + 2 * 0.005,
        "i-page": 3 * 0.01 + 2 * 0.005, "p-page-i-annot": 3 * 0.01 + 2 * 0.03, "p-tokens": 0.0,
        "p-tokens-i-page": (3 + 2) * 0.01, "i-tokens-i-annot": 2 * 0.02, "i-image": 3 * 0.004 + 2 * 0.005,
        "plain": 3 * 0.004 + 2 * 0.005}, rel=1e-12)
    config = yaml.safe_dump({"model_list": [{**d, "litellm_params": {k: v for k, v in d["litellm_params"].items()
                                                                     if k != "api_base"}} for d in deployments]})
    rows = [{**_row(i, name, "mistral/mistral-ocr-latest", USAGE_INFO, "aocr", True), "model_id": f"dep-{name}"}
            for i, name in enumerate(OWN_PRICES)]
    out = priced_records(capsys, tmp_path, rows, "--engine", "python", config=config)
    for name, found in zip(OWN_PRICES, out):
        assert found["status"] == "priced" and found["approximate"] == "", (name, found)
        assert found["cost"] == pytest.approx(booked[name], rel=1e-12, abs=1e-15), (name, found)
    # DuckDB prints aggregate reports only: the same report, every OCR row handed to the Python engine
    assert lines_left_to_python(capsys, tmp_path, rows, config=config) == list(range(1, len(rows) + 1))


def test_diff_and_lookup_show_the_ocr_prices_that_apply(capsys, tmp_path):
    from .runner import costcalc

    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    run = costcalc(capsys, "diff", "--config", config, "--format", "json")
    assert run.code == 0, run.err
    own = next(d for d in json.loads(run.out)["deployments"] if d["model_name"] == "ocr-own")
    (page,) = [f for f in own["fields"] if f["field"] == "ocr_cost_per_page"]
    # the deployment's $0.01 a page applies over the map's $0.004 (a real Router books 3 pages × $0.01 + 2
    # annotated × the map's $0.005 for it: the test above)
    assert (page["config"], page["cost_map"], page["applies"], page["status"]) == (0.01, 0.004, 0.01, "overridden")
    # said as what it is: a price of calls priced by other units, not an ignored cache-only override
    assert any(w.startswith("sets only prices of calls priced by other units than tokens (ocr_cost_per_page)")
               for w in own["warnings"]), own["warnings"]
    run = costcalc(capsys, "validate", "-c", config)
    assert run.code == 0 and "info: ocr-own (#2): sets only prices of calls priced by other units" in run.out, run.out
    run = costcalc(capsys, "lookup", "mistral/mistral-ocr-latest")
    assert run.code == 0 and any(line.startswith("ocr_cost_per_page ") and "0.004 $/page" in line
                                 for line in run.out.splitlines()), run.out
