"""Durations from two timestamps are exact (issue 14.6): the proxy subtracts datetimes (exact to the
microsecond), so a per-second price multiplies a duration such as 0.05 s exactly, in every shape that carries
startTime/endTime, and --explain shows arithmetic that multiplies out."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from costcalc.reading.records import duration, epoch_micros
from costcalc.reading.shapes import adapt

from .conftest import engine_for, write_config
from .runner import costcalc

# input_cost_per_second 0.01: a 0.05 s call costs 0.05 x 0.01 = 0.0005
PER_SECOND = """
model_list:
  - model_name: persec
    litellm_params: {model: sagemaker/my-endpoint, input_cost_per_second: 0.01}
"""
START, END = "2025-09-15T10:00:00.123456Z", "2025-09-15T10:00:00.173456Z"


@pytest.mark.parametrize(("start", "end"), [
    (START, END),  # ISO 8601, as a spend-log row writes them
    (1757930400.123456, 1757930400.173456),  # epoch seconds: their float difference is 0.04999995...
    (1757930400123.456, 1757930400173.456),  # epoch milliseconds
    ("2025-09-15T12:00:00.123456+02:00", "1757930400.173456"),  # an offset, and a number written as a string
])
def test_two_timestamps_give_the_exact_duration(start, end):
    assert duration({"startTime": start, "endTime": end}) == 0.05
    assert epoch_micros(end, "endTime") - epoch_micros(start, "startTime") == 50_000


def test_the_float_difference_was_not_exact():
    # the reason for the change: what a float subtraction of the epoch seconds gives
    assert 1757930400.173456 - 1757930400.123456 != 0.05


def _spend_log_row(start, end) -> dict:
    return {"request_id": "r1", "call_type": "acompletion", "spend": 0.0005, "model": "my-endpoint",
            "model_group": "persec", "custom_llm_provider": "sagemaker", "prompt_tokens": 10,
            "completion_tokens": 5, "startTime": start, "endTime": end, "status": "success"}


@pytest.mark.parametrize("shape", ["canonical", "litellm-spend-log"])
def test_per_second_cost_is_exact_in_every_shape_with_two_timestamps(tmp_path, real_map, shape):
    engine = engine_for(real_map, tmp_path, PER_SECOND)
    obj = {"model": "persec", "prompt_tokens": 10, "completion_tokens": 5, "startTime": START, "endTime": END} \
        if shape == "canonical" else _spend_log_row(START, END)
    record = adapt(obj, "f", 1, json.dumps(obj).encode())
    assert record.shape == shape
    assert record.duration_s == 0.05
    assert engine.price(record).cost.total == 0.05 * 0.01  # exactly, as the proxy books it


def test_matches_the_proxy_given_its_datetime_duration(tmp_path, real_map):
    pytest.importorskip("litellm", reason="pip install -e '.[test]' (litellm==1.110.2 is the reference)")
    import yaml

    from .litellm_oracle import ProxyOracle

    # the proxy's own duration: (end_time - start_time).total_seconds() * 1000 on datetimes
    start, end = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (START, END))
    proxy_ms = (end - start).total_seconds() * 1000
    oracle = ProxyOracle(yaml.safe_load(PER_SECOND)["model_list"])
    theirs = oracle.cost({"model": "persec", "prompt_tokens": 10, "completion_tokens": 5,
                          "response_time_ms": proxy_ms})
    record = adapt(_spend_log_row(START, END), "f", 1, b"")
    assert engine_for(real_map, tmp_path, PER_SECOND).price(record).cost.total == theirs


def test_explain_multiplies_out(tmp_path, capsys):
    config = write_config(tmp_path, PER_SECOND)
    usage = tmp_path / "usage.jsonl"
    usage.write_text(json.dumps(_spend_log_row(1757930400.123456, 1757930401.358123)) + "\n")
    code, out, _ = costcalc(capsys, "price", usage, "--config", config, "--explain")
    assert code == 0
    line = next(text for text in out.splitlines() if "duration (s)" in text)
    # 1.234667 s exactly (1757930401.358123 - 1757930400.123456), x 0.01 = 0.01234667
    assert "1.234667 s × 0.01 = 0.01234667" in line
    units, rest = line.split("duration (s)")[1].split(" s × ")
    rate, cost = rest.split(" = ")
    assert float(units) * float(rate) == pytest.approx(float(cost.split()[0]), rel=1e-12)


def test_explain_shows_rates_in_full(tmp_path, capsys):
    config = write_config(tmp_path, """
model_list:
  - model_name: odd
    litellm_params: {model: openai/gpt-4o}
    model_info: {input_cost_per_token: 0.00000123456789, output_cost_per_token: 0.000002}
""")
    usage = tmp_path / "usage.jsonl"
    usage.write_text('{"model": "odd", "prompt_tokens": 1000, "completion_tokens": 10}\n')
    code, out, _ = costcalc(capsys, "price", usage, "--config", config, "--explain")
    assert code == 0
    # 1,000 x 1.23456789e-06 = 0.00123456789 (six significant digits, 1.23457e-06, would not multiply out)
    assert "1,000 × 1.23456789e-06 = 0.00123456789" in out
