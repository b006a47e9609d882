"""OCR calls (``ocr`` / ``aocr``) cost what LiteLLM 1.110.2's ``ocr_cost`` books from the response's
``usage_info``: pages × ``ocr_cost_per_page`` plus annotated pages × ``annotation_cost_per_page`` (the page price
when unset), the deployment's prices over the cost map's; a log without the response stays unpriced."""

from __future__ import annotations

import json
import os

import pytest

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


def test_an_ocr_row_without_its_response_is_unpriced_with_the_reason(capsys, tmp_path):
    out = _price(capsys, tmp_path, [_row(0, "ocr", "mistral/mistral-ocr-latest", {"pages_processed": 7}, "ocr",
                                         False)])
    assert out[0]["status"] == "unpriced" and "pages_processed" in out[0]["reason"], out[0]


def test_an_ocr_deployment_with_its_own_page_price_is_unpriced_not_priced_from_the_map(capsys, tmp_path):
    out = _price(capsys, tmp_path, [_row(0, "ocr-own", "mistral/mistral-ocr-latest", {"pages_processed": 4},
                                         "ocr", True)])
    assert out[0]["status"] == "unpriced" and "ocr_cost_per_page" in out[0]["reason"], out[0]
