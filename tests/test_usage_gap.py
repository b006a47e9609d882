"""What bypassed the gateway (``reports.usage_gap``): the provider's usage report priced with the proxy's config and
joined to the proxy's logs per day × provider × model, each planted gap found with its cause.

Rates (the embedded map, $/token): gpt-4o-mini in 1.5e-7, cache read 7.5e-8, out 6e-7; gpt-4o in 2.5e-6,
out 1e-5; o4-mini in 1.1e-6, out 4.4e-6; gpt-4.1 in 2e-6, out 8e-6.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from costcalc.engines.streaming import PricingEngine
from costcalc.rates.costmap import load_cost_map
from costcalc.reports.usage_gap import Side, causes, usage_gap

from .runner import costcalc

DAY1, DAY2, DAY3 = 1764547200, 1764633600, 1764720000  # 2025-12-01, -02, -03 00:00 UTC


def spend_log(n: int, model: str, day: int, prompt: int, completion: int, *, cached: int = 0,
              spend: float | None = None, provider: str = "openai") -> dict:
    """A LiteLLM_SpendLogs row as the proxy writes it (prompt includes the cached tokens)."""
    metadata: dict = {"usage_object": {"prompt_tokens": prompt, "completion_tokens": completion,
                                       "prompt_tokens_details": {"cached_tokens": cached}}}
    return {"request_id": f"req-{model}-{day}-{n}", "call_type": "acompletion", "model_group": model,
            "custom_llm_provider": provider, "startTime": day + 3600 + n, "endTime": day + 3601 + n,
            "prompt_tokens": prompt, "completion_tokens": completion, "metadata": metadata,
            "spend": 0.001 if spend is None else spend}


def bucket(day: int, *results: dict) -> dict:
    return {"object": "bucket", "start_time": day, "end_time": day + 86400, "results": [
        {"object": "organization.usage.completions.result", "input_cached_tokens": 0, "project_id": "proj_gw",
         "api_key_id": "key_gw", "batch": False, **r} for r in results]}


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, Path]:
    logs: list[dict] = []
    # day 1: gpt-4o-mini matches (10 requests of 1000 in / 100 out)
    logs += [spend_log(i, "gpt-4o-mini", DAY1, 1000, 100) for i in range(10)]
    # day 1: gpt-4o: nothing logged (5 requests outside the proxy)
    # day 1: o4-mini: the logs lack the reasoning (500 out logged, the provider billed 1500 each)
    logs += [spend_log(i, "o4-mini", DAY1, 1000, 500) for i in range(4)]
    # day 2: gpt-4o-mini: the logs lack the 750 cached tokens of every 1000-token prompt
    logs += [spend_log(i, "gpt-4o-mini", DAY2, 1000, 100) for i in range(8)]
    # day 2: gpt-4.1: the proxy booked $0
    logs += [spend_log(i, "gpt-4.1", DAY2, 1000, 100, spend=0.0) for i in range(2)]
    # day 2: gpt-4o: 10 of the provider's 12 requests logged
    logs += [spend_log(i, "gpt-4o", DAY2, 1000, 100) for i in range(10)]
    # not covered: a day the report does not have, a provider it does not cover
    logs.append(spend_log(0, "gpt-4o", DAY3, 1000, 100))
    logs.append(spend_log(0, "claude-sonnet-4-5-20250929", DAY1, 1000, 100, provider="anthropic"))
    page = {"object": "page", "data": [
        bucket(DAY1,
               {"model": "gpt-4o-mini-2024-07-18", "num_model_requests": 10, "input_tokens": 10_000,
                "output_tokens": 1000},
               {"model": "gpt-4o-2024-08-06", "num_model_requests": 5, "input_tokens": 5000, "output_tokens": 500},
               {"model": "o4-mini-2025-04-16", "num_model_requests": 4, "input_tokens": 4000,
                "output_tokens": 6000}),
        bucket(DAY2,
               {"model": "gpt-4o-mini-2024-07-18", "num_model_requests": 8, "input_tokens": 8000,
                "input_cached_tokens": 6000, "output_tokens": 800},
               {"model": "gpt-4.1-2025-04-14", "num_model_requests": 2, "input_tokens": 2000, "output_tokens": 200},
               {"model": "gpt-4o-2024-08-06", "num_model_requests": 12, "input_tokens": 12_000,
                "output_tokens": 1200})]}
    proxy, usage = tmp_path / "spend_logs.jsonl", tmp_path / "usage.json"
    proxy.write_text("".join(json.dumps(x) + "\n" for x in logs))
    usage.write_text(json.dumps(page, indent=2))
    return proxy, usage


def test_each_planted_gap_has_its_cause(planted):
    engine = PricingEngine(load_cost_map())
    proxy, usage = planted
    gap = usage_gap(engine.run([str(proxy)]), engine.run([str(usage)]))
    rows = {(r.day, r.model): r for r in gap.rows}
    assert list(rows) == [("2025-12-01", "gpt-4o"), ("2025-12-01", "gpt-4o-mini"), ("2025-12-01", "o4-mini"),
                          ("2025-12-02", "gpt-4.1"), ("2025-12-02", "gpt-4o"), ("2025-12-02", "gpt-4o-mini")]
    assert gap.not_covered == 2  # day 3, and the Anthropic record (the report is OpenAI's)

    match = rows[("2025-12-01", "gpt-4o-mini")]
    assert match.causes == [] and match.gap == 0
    assert match.usage.cost == match.proxy.cost

    outside = rows[("2025-12-01", "gpt-4o")]
    assert outside.causes == ["traffic outside the proxy: the provider served 5 requests (5500 tokens) that the logs "
                              "do not have"]
    assert outside.gap == Decimal("0.0175")  # 5000 x 2.5e-6 + 500 x 1e-5

    reasoning = rows[("2025-12-01", "o4-mini")]
    assert reasoning.causes == ["reasoning or audio output missing from the logs: output short by 4000 tokens with "
                                "every request logged"]
    assert reasoning.gap == Decimal("0.0176")  # 4000 x 4.4e-6

    cache = rows[("2025-12-02", "gpt-4o-mini")]
    assert cache.causes == ["cache tokens missing from the logs: 6000 cache reads priced as uncached input"]
    assert cache.gap == Decimal("-0.00045")  # 6000 x (7.5e-8 - 1.5e-7): the logs over-price the prompt

    zero = rows[("2025-12-02", "gpt-4.1")]
    assert zero.causes == ["booked at $0: the proxy recorded $0 for 2 records that cost $0.0056"]  # 2 x (2e-3+8e-4)
    assert zero.gap == 0

    partial = rows[("2025-12-02", "gpt-4o")]
    assert partial.causes == ["traffic outside the proxy: 2 more requests at the provider (12 against 10 logged)"]
    assert partial.gap == Decimal("0.007")  # 2000 x 2.5e-6 + 200 x 1e-5
    doc = gap.as_dict()
    # usage: 0.0021 + 0.0175 + 0.0308 + 0.00123 + 0.0056 + 0.042; proxy: 0.0021 + 0.0132 + 0.00168 + 0.0056 + 0.035
    assert doc["totals"] == {"usage": "0.09923", "proxy": "0.05758", "gap": "0.04165"}
    assert doc["rows"][0]["usage"]["requests"] == 5 and doc["rows"][0]["proxy"]["records"] == 0


def test_join_by_project(planted, tmp_path):
    """With ``by="project"`` a provider project the logs never name is traffic outside the proxy, whatever the
    model's totals say."""
    engine = PricingEngine(load_cost_map())
    proxy, usage = planted
    page = json.loads(usage.read_text())
    other = dict(page["data"][0]["results"][0], project_id="proj_other", num_model_requests=3, input_tokens=3000,
                 output_tokens=300)
    page["data"][0]["results"].append(other)
    usage.write_text(json.dumps(page))
    logs = [json.loads(x) for x in proxy.read_text().splitlines()]
    for x in logs:
        x["metadata"]["project_id"] = "proj_gw"
    proxy.write_text("".join(json.dumps(x) + "\n" for x in logs))
    gap = usage_gap(engine.run([str(proxy)]), engine.run([str(usage)]), by="project")
    rows = {(r.day, r.model, r.scope): r for r in gap.rows}
    assert rows[("2025-12-01", "gpt-4o-mini", "proj_gw")].causes == []
    assert rows[("2025-12-01", "gpt-4o-mini", "proj_other")].causes[0].startswith(
        "traffic outside the proxy: the provider served 3 requests")


def test_anthropic_style_prompts_missing_their_cache():
    """Logs that took Anthropic's ``input_tokens`` for the whole prompt lack exactly the cache tokens."""
    usage = Side(records=1, prompt=10_000, cache_read=8000, cache_write=1000, completion=100)
    proxy = Side(records=5, requests=5, prompt=1000, completion=100)
    assert causes(usage, proxy) == ["cache tokens missing from the logs: the logged prompts leave out 8000 cache "
                                    "reads, 1000 cache writes (an input count that excludes the cache logged as the "
                                    "whole prompt)"]


def test_logs_above_the_provider():
    usage = Side(records=1, requests=10, prompt=10_000, completion=1000)
    proxy = Side(records=12, requests=12, prompt=12_000, completion=1200)
    assert causes(usage, proxy) == ["the logs count more than the provider: retries or duplicates in the logs, or a "
                                    "provider report that is not final"]
    with pytest.raises(ValueError, match="by must be one of project, key"):
        usage_gap([], [], by="team")


def test_price_reconcile_usage(planted, capsys, tmp_path):
    """``costcalc price LOGS --reconcile-usage USAGE``: the gap section in every format that shows it."""
    proxy, usage = planted
    run = costcalc(capsys, "price", proxy, "--reconcile-usage", usage, "--format", "json")
    assert run.code == 0
    gap = json.loads(run.out)["usage_gap"]
    assert gap["totals"] == {"usage": "0.09923", "proxy": "0.05758", "gap": "0.04165"}
    assert gap["proxy_records_not_covered"] == 2
    assert [(r["day"], r["model"], r["causes"][:1]) for r in gap["rows"]][:2] == [
        ("2025-12-01", "gpt-4o", ["traffic outside the proxy: the provider served 5 requests (5500 tokens) that the "
                                  "logs do not have"]),
        ("2025-12-01", "gpt-4o-mini", [])]
    table = " ".join(costcalc(capsys, "price", proxy, "--reconcile-usage", usage).out.split())
    assert "provider usage vs the proxy's logs" in table and "booked at $0" in table
    markdown = costcalc(capsys, "price", proxy, "--reconcile-usage", usage, "--format", "markdown").out
    # amounts in the report's one money format (4 decimals: the table's amounts are cents and less), JSON exact
    assert "| 2025-12-02 | openai | gpt-4.1 | (all) | 2 | 2,200 | $0.0056 | 2 | 2,200 | $0.0056 | $0.0000 | " \
        "booked at $0" in markdown
    assert "| total |  |  |  |  |  | $0.0992 |  |  | $0.0576 | +$0.0416 |  |" in markdown
    markdown = costcalc(capsys, "price", proxy, "--reconcile-usage", usage, "--format", "markdown", "--decimals",
                        "2").out
    assert "| total |  |  |  |  |  | $0.10 |  |  | $0.06 | +$0.04 |  |" in markdown
    html = costcalc(capsys, "price", proxy, "--reconcile-usage", usage, "--format", "html").out
    assert "<h2>Provider usage vs the proxy&#x27;s logs</h2>" in html


def test_reconcile_usage_option_rules(planted, capsys):
    proxy, usage = planted
    run = costcalc(capsys, "price", proxy, "--reconcile-usage", usage, "--format", "csv")
    assert run.code == 2 and "--reconcile-usage goes with --format table, json, markdown or html" in run.err
    run = costcalc(capsys, "price", proxy, "--usage-join", "project")
    assert run.code == 2 and "Invalid value for --usage-join: goes with --reconcile-usage" in run.err
    run = costcalc(capsys, "price", proxy, "--reconcile-usage", usage, "--usage-join", "team")
    assert run.code == 2 and "'team': one of project, key" in run.err
    run = costcalc(capsys, "price", "-", "--reconcile-usage", usage)
    assert run.code == 2 and "give files or a database, not standard input" in run.err
