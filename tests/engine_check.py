"""What the DuckDB engine does with rows of a call type: the same aggregate report as the Python engine, byte for
byte, and which of the rows it priced in SQL and which it left to the Python engine (``run_aggregate``'s files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from costcalc.engines.contract import KeySpec
from costcalc.engines.duckdb_engine import run_aggregate
from costcalc.engines.streaming import PricingEngine
from costcalc.rates.config import load_config
from costcalc.rates.costmap import load_cost_map

from .runner import main


def lines_left_to_python(capsys: Any, tmp_path: Path, rows: list[dict], config: str | None = None) -> list[int]:
    """Write ``rows`` as JSON lines; check both engines print the same ``--format json`` report (exit code, stdout,
    stderr), and return the line numbers the DuckDB engine handed to the Python engine."""
    src = tmp_path / "engines.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args: list[Any] = ["price", src, "--format", "json"]
    if config is not None:
        (tmp_path / "engines.yaml").write_text(config)
        args += ["--config", tmp_path / "engines.yaml"]
    capsys.readouterr()
    results = []
    for engine in ("python", "duckdb"):
        code = main([*args, "--engine", engine])
        results.append((code, *capsys.readouterr()))
    assert results[0] == results[1]
    assert results[0][0] == 0, results[0][2]
    engine = PricingEngine(load_cost_map(), load_config(tmp_path / "engines.yaml") if config is not None else None)
    done = run_aggregate(engine, [str(src)], [KeySpec("model")])
    return sorted(r.line for _, _, left in done.files for r in left)
