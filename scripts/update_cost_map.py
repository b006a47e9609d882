"""Regenerate costcalc's embedded cost-map snapshot from the litellm wheel on PyPI.

    python scripts/update_cost_map.py [--version 1.110.2] [--wheel PATH]

Downloads ``litellm==VERSION`` with ``pip download --no-deps`` (or reads ``--wheel``), and writes:

- ``src/costcalc/data/cost_map.json``: ``model_prices_and_context_window_backup.json`` from the wheel,
  pruned to what pricing and lookups need (capability flags and prose are dropped);
- ``src/costcalc/data/cost_map.meta.json``: where it came from (package, version, file, date, hashes);
- ``src/costcalc/data/litellm_fields.json``: the two field lists LiteLLM's pricing depends on, read from
  the wheel's source with ``ast`` (never imported): the pricing keys a deployment may set
  (``CustomPricingLiteLLMParams``) and the keys ``get_model_info`` carries through to the cost formulas.

The map is LiteLLM's (MIT licence, (c) Berri AI); these files are generated: do not edit them by hand.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "src" / "costcalc" / "data"
MAP_MEMBER = "litellm/model_prices_and_context_window_backup.json"

# Entry fields that never influence a price or a lookup: capability flags and prose.
_DROP_PREFIXES = ("supports_", "supported_", "token_count_", "thinking_", "bedrock_", "gemini_", "reasoning_")
_DROP_FIELDS = {
    "source",
    "deprecation_source",
    "comment",
    "default_reasoning_effort",
    "use_openai_responses_path",
    "uses_embed_content",
    "vertex_ai_audio_api",
    "audio_transcription_config",
    "successor_model",
}


def _keep_field(name: str) -> bool:
    if "cost" in name or "pricing" in name or "multiplier" in name:
        return True
    return name not in _DROP_FIELDS and not name.startswith(_DROP_PREFIXES)


def prune(cost_map: dict) -> dict:
    pruned = {}
    for key, entry in cost_map.items():
        if key == "sample_spec" or not isinstance(entry, dict):
            continue
        pruned[key] = {name: value for name, value in entry.items() if _keep_field(name)}
    return pruned


def _class_fields(tree: ast.Module, class_name: str) -> list[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            fields = [
                stmt.target.id
                for stmt in node.body
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
            ]
            for base in node.bases:
                if isinstance(base, ast.Name) and base.id != "LiteLLMBaseModel":
                    fields = _class_fields(tree, base.id) + fields
            return fields
    raise SystemExit(f"class {class_name} not found in the wheel")


def _model_info_fields(tree: ast.Module) -> list[str]:
    """Keyword names of the largest ``ModelInfoBase(...)`` call in ``get_model_info_helper``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "get_model_info_helper":
            calls = [
                call
                for call in ast.walk(node)
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "ModelInfoBase"
            ]
            biggest = max(calls, key=lambda call: len(call.keywords))
            return [kw.arg for kw in biggest.keywords if kw.arg]
    raise SystemExit("get_model_info_helper not found in the wheel")


def _threshold_pattern(types_source: str) -> str:
    match = re.search(r'ABOVE_THRESHOLD_COST_KEY_PATTERN: Final = re\.compile\(r"([^"]+)"\)', types_source)
    if not match:
        raise SystemExit("ABOVE_THRESHOLD_COST_KEY_PATTERN not found in the wheel")
    return match.group(1)


def download_wheel(version: str, into: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(into),
         f"litellm=={version}"],
        check=True,
    )
    return next(into.glob("litellm-*.whl"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.110.2")
    parser.add_argument("--wheel", type=Path, help="use this wheel instead of downloading one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(args.version, Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            raw = zf.read(MAP_MEMBER)
            types_source = zf.read("litellm/types/utils.py").decode()
            utils_source = zf.read("litellm/utils.py").decode()

    version = re.search(r"litellm-([^-]+)-", wheel.name).group(1)
    cost_map = json.loads(raw)
    pruned = prune(cost_map)
    # One model a line: compact, yet a refresh shows up in `git diff` model by model.
    lines = (json.dumps(k) + ":" + json.dumps(v, separators=(",", ":")) for k, v in pruned.items())
    body = ("{\n" + ",\n".join(lines) + "\n}\n").encode()
    (DATA / "cost_map.json").write_bytes(body)

    types_tree = ast.parse(types_source)
    fields = {
        "generated_by": "scripts/update_cost_map.py -- do not edit",
        "litellm_version": version,
        "custom_pricing_fields": sorted(set(_class_fields(types_tree, "CustomPricingLiteLLMParams"))),
        "model_info_fields": sorted(set(_model_info_fields(ast.parse(utils_source)))),
        "above_threshold_pattern": _threshold_pattern(types_source),
    }
    (DATA / "litellm_fields.json").write_text(json.dumps(fields, indent=1) + "\n")

    meta = {
        "generated_by": "scripts/update_cost_map.py -- do not edit",
        "source": f"litellm=={version} (PyPI wheel) {MAP_MEMBER}",
        "litellm_version": version,
        "snapshot_date": dt.date.today().isoformat(),
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "sha256": hashlib.sha256(body).hexdigest(),
        "models": len(pruned),
        "license": "MIT (c) Berri AI -- https://github.com/BerriAI/litellm",
    }
    (DATA / "cost_map.meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(pruned)} models ({len(body):,} bytes) from litellm {version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
