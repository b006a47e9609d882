"""Every call type of LiteLLM 1.110.2's ``CallTypes`` enum is priced (by tokens or by other units), priced and
marked approximate with its reason, skipped because the proxy books it $0 (with that reason), or counted unpriced
with a reason of its own: none is forgotten, and a spend-log row of each comes out as its class says."""

from __future__ import annotations

import json
import os

import pytest

from costcalc.pricing.coverage import RAG_QUERY_CALLS, REALTIME_CALLS, TOKEN_CALLS, UNIT_CALLS, UNPRICED, ZERO_BOOKED
from costcalc.pricing.vectorstores import VECTOR_STORE_SEARCH_CALLS
from costcalc.reading.shapes import TOKEN_CALL_TYPES

from .runner import main

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
litellm = pytest.importorskip("litellm", reason="pip install 'costcalc[test]' (litellm==1.110.2)")
from litellm.types.utils import CallTypes

ENUM = [c.value for c in CallTypes]
CLASSES = {"token": TOKEN_CALLS, "units": UNIT_CALLS, "realtime": REALTIME_CALLS, "rag query": RAG_QUERY_CALLS,
           "zero": ZERO_BOOKED, "unpriced": frozenset(UNPRICED)}


def test_every_call_type_of_the_enum_has_exactly_one_class():
    for call_type in ENUM:
        classes = [name for name, members in CLASSES.items() if call_type in members]
        assert len(classes) == 1, (call_type, classes)
    # no class of pricing/coverage.py names a call type LiteLLM does not have (pricing/calltypes.py's image calls
    # also list image_variation, which the enum lacks)
    named = frozenset().union(*(members for name, members in CLASSES.items() if name != "units"))
    assert named <= set(ENUM), named - set(ENUM)


def test_the_spend_log_reader_reads_the_token_classes_as_token_calls():
    assert TOKEN_CALL_TYPES == TOKEN_CALLS


@pytest.mark.parametrize("call_type", sorted(ZERO_BOOKED))
def test_litellm_books_a_resource_call_at_zero(call_type):
    # what such a call returns (a file, a list, a deleted object) carries no usage; completion_cost has no branch
    # for the call type and prices nothing
    response = {"id": "obj_1", "object": "list", "data": []}
    assert litellm.completion_cost(completion_response=response, model="gpt-4o", custom_llm_provider="openai",
                                   call_type=call_type) == 0.0


def test_a_row_of_every_call_type_comes_out_as_its_class_says(capsys, tmp_path):
    rows = [{"request_id": f"r{i}", "call_type": call_type, "model": "gpt-4o", "custom_llm_provider": "openai",
             "status": "success", "prompt_tokens": 100, "completion_tokens": 10, "spend": 0.0, "metadata": "{}"}
            for i, call_type in enumerate(ENUM)]
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["price", str(src), "--format", "jsonl"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(out) == len(ENUM)
    for call_type, found in zip(ENUM, out):
        if call_type in TOKEN_CALLS:
            assert found["status"] == "priced" and found["approximate"] == "", (call_type, found)
            # gpt-4o: $2.50 per million input tokens, $10 per million output tokens (batch lines at half)
            full = 100 * 2.5e-6 + 10 * 1e-5
            assert found["cost"] == pytest.approx(full / 2 if "batch" in call_type else full, rel=1e-12)
        elif call_type in REALTIME_CALLS:
            assert found["status"] == "priced" and found["approximate"].startswith("realtime session")
        elif call_type in RAG_QUERY_CALLS:
            assert found["status"] == "priced" and found["approximate"].startswith("RAG query priced by its")
            assert found["cost"] == pytest.approx(100 * 2.5e-6 + 10 * 1e-5, rel=1e-12)  # gpt-4o, as above
        elif call_type in ZERO_BOOKED:
            assert found["status"] == "skipped" and "the proxy books $0" in found["reason"], (call_type, found)
        elif call_type in UNIT_CALLS:
            # priced by what the row carries (its tokens, where the call's model prices them), else unpriced
            # naming what is missing: never skipped, but for a vector-store search of a provider whose search
            # LiteLLM books at $0 (tests/test_vector_store_search.py)
            if call_type in VECTOR_STORE_SEARCH_CALLS:
                assert found["status"] == "skipped" and "the proxy books $0" in found["reason"], found
                continue
            assert found["status"] in ("priced", "unpriced"), (call_type, found)
            assert found["status"] == "priced" or found["reason"].startswith(f"call type {call_type!r}"), found
        else:
            assert found["status"] == "unpriced" and found["reason"].startswith(f"call type {call_type!r}: ")
