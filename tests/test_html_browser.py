"""The HTML report as a browser lays it out (headless Chromium, Debian's ``chromium``): no horizontal page
overflow at 1280 px, a wide table that scrolls inside its box with the label and total columns in view, no
overlapping axis labels (from the element boxes Chromium computes), and a screenshot kept as an artifact."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from itertools import combinations
from pathlib import Path

import pytest

from .conftest import ROOT
from .runner import main

INSTALL = "apt-get update && apt-get install -y chromium"
ARTIFACTS = Path(os.environ.get("COSTCALC_ARTIFACTS", ROOT / ".test-artifacts"))


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("COSTCALC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"headless Chromium is required (COSTCALC_REQUIRE_SERVICES=1): {INSTALL}")
    pytest.skip(INSTALL)


def _browse(html: Path, profile: Path, *args: str) -> str:
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
           "--hide-scrollbars", "--window-size=1280,1000", *args, html.as_uri()]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


# Run inside a test-only copy of the report (the report itself has no scripts): element boxes as JSON.
MEASURE = """<script>
(function () {
  function box(e) { var r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: e.textContent}; }
  var out = {innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
             xticks: Array.from(document.querySelectorAll('.xtick')).map(box),
             yticks: Array.from(document.querySelectorAll('.ytick')).map(box),
             legend: Array.from(document.querySelectorAll('.legend li')).map(box),
             chart: box(document.querySelector('svg.chart')),
             labels: Array.from(document.querySelector('.scroll').querySelectorAll('tbody .k')).map(function (e) {
               return {text: e.textContent, clipped: e.scrollWidth > e.clientWidth}; })};
  var scroll = document.querySelector('.scroll');
  out.table = {scrollWidth: scroll.scrollWidth, clientWidth: scroll.clientWidth};
  scroll.scrollLeft = 100000;
  out.scrolled = {box: box(scroll), label: box(scroll.querySelector('tbody .k')),
                  total: box(scroll.querySelector('tbody .tot')), headTotal: box(scroll.querySelector('thead .tot'))};
  var pre = document.createElement('pre'); pre.id = 'measure'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def _overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.fixture
def hard_report(tmp_path, capsys) -> Path:
    """Two group levels, long labels, nine teams over 75 days, 1-hour cache writes, discount and margin, and
    recorded spend to reconcile: the widest table and the most crowded date axis a month-plus report has."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text("model_list:\n  - model_name: sonnet\n    litellm_params: {model: anthropic/claude-sonnet-4-5}\n"
                   "litellm_settings:\n  cost_discount_config: {anthropic: 0.1}\n"
                   "  cost_margin_config: {global: 0.05}\n")
    start = datetime(2026, 8, 1, 12, tzinfo=timezone.utc)
    rows = []
    for day in range(75):
        for team in range(9):
            rows.append({"model": "sonnet" if team % 2 else "gpt-4o-mini", "prompt_tokens": 40000 + 1000 * team,
                         "completion_tokens": 3000, "cache_read_input_tokens": 20000,
                         "cache_creation_input_tokens": 8000, "cache_creation_1h_input_tokens": 2000,
                         "timestamp": (start + timedelta(days=day)).isoformat(), "spend": 0.05,
                         "team": f"platform-engineering-observability-and-reliability-squad-{team}"})
    usage = tmp_path / "u.jsonl"
    usage.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "report.html"
    code = main(["price", str(usage), "-c", str(cfg), "-g", "team", "-g", "model", "-f", "html", "--reconcile",
                 "-o", str(out), "--quiet"])
    capsys.readouterr()
    assert code == 0
    return out


def test_html_fits_1280_px_with_readable_axes(hard_report, tmp_path):
    html = hard_report.read_text()
    assert "<script" not in html
    measured = tmp_path / "measured.html"
    measured.write_text(html.replace("</body>", MEASURE + "</body>"))
    dom = _browse(measured, tmp_path / "profile-measure", "--dump-dom")
    start = dom.index('<pre id="measure">') + len('<pre id="measure">')
    m = json.loads(dom[start:dom.index("</pre>", start)].replace("&quot;", '"').replace("&amp;", "&"))

    assert m["innerWidth"] == 1280
    assert m["scrollWidth"] <= m["innerWidth"], "the page scrolls sideways"
    # the table is wider than the page: it scrolls inside its box, its label and total columns in view
    assert m["table"]["scrollWidth"] > m["table"]["clientWidth"]
    box, label, total = m["scrolled"]["box"], m["scrolled"]["label"], m["scrolled"]["total"]
    assert box["left"] <= label["left"] and label["right"] <= box["right"]
    assert box["left"] <= total["left"] and total["right"] <= box["right"] + 0.5
    assert not _overlap(label, total)
    assert m["scrolled"]["headTotal"]["text"] == "total $"
    # long team names are shortened in the middle: every row label still reads apart, none is clipped
    labels = [x["text"] for x in m["labels"] if x["text"] != "total"]
    assert len(labels) == len(set(labels)) == 9
    assert {x.split(" / ")[0][-7:] for x in labels} == {f"squad-{i}" for i in range(9)}
    assert all(x.startswith("platform-") and "…" in x for x in labels)
    assert not any(x["clipped"] for x in m["labels"])
    # axes: at least four round y ticks, the date axis labels every k-th day, no two labels touch
    assert len(m["yticks"]) >= 4 and m["yticks"][0]["text"].startswith("$0")
    assert 8 <= len(m["xticks"]) < 75
    for ticks in (m["xticks"], m["yticks"]):
        for a, b in combinations(ticks, 2):
            assert not _overlap(a, b), (a, b)
    # the legend sits beside the chart, one entry per team
    assert len(m["legend"]) == 9
    assert all(item["left"] >= m["chart"]["right"] for item in m["legend"])

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "html-report-1280.png"
    _browse(hard_report, tmp_path / "profile-shot", f"--screenshot={shot}")
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_reads_top_down_and_prints(hard_report):
    html = hard_report.read_text()
    body = html[html.index("<body>"):]
    # headline total and period first, then the chart, the table, and the reconcile section
    order = [body.index(s) for s in ('class="headline"', "period: 2026-08-01 12:00 to 2026-10-14 12:00 UTC",
                                     "<svg", "<table", "<h2>Reconciliation</h2>")]
    assert order == sorted(order)
    assert "@media print" in html
    headline = body.split('<span class="total">', 1)[1].split("<", 1)[0]
    table_total = body.split('<tr class="total">', 1)[1].split('<td class="n tot">', 1)[1].split("<", 1)[0]
    assert headline == table_total and headline.startswith("$")
