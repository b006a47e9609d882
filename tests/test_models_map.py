"""`costcalc models` (search the map) and `costcalc map info` / `map update` (where prices come from, refreshing
them). The cache directory is the per-test tmp dir of conftest's autouse fixture; no test touches the network."""

from __future__ import annotations

import hashlib
import io
import json
import urllib.error
import urllib.request
from importlib import resources

import pytest

from costcalc.rates import mapupdate
from costcalc.rates.costmap import cache_dir, load_cost_map
from costcalc.reports.explain import search_models

from .conftest import make_map
from .runner import costcalc, main

EMBEDDED = resources.files("costcalc").joinpath("data/cost_map.json")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code, out, err = costcalc(capsys, *args)
    return code, out, err


def squeeze(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines()]


# -- models ---------------------------------------------------------------------------------------------------

RANKING_MAP = {
    "xgpt-4o-like": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-6},
    "openai/gpt-4o-mini": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1.5e-7},
    "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2.5e-6,
               "output_cost_per_token": 1e-5, "cache_read_input_token_cost": 1.25e-6, "max_input_tokens": 128000},
    "azure/gpt-4o": {"litellm_provider": "azure", "mode": "chat", "input_cost_per_token": 2.5e-6},
    "vendor/my-gpt-4o": {"litellm_provider": "vertex_ai-language-models", "mode": "chat"},
    "text-embedding-gpt-4o": {"litellm_provider": "openai", "mode": "embedding"},
    "gpt-4o-latest": {"alias_of": "gpt-4o"},
    "fallback_generalizations": {"rules": []},
}


def test_models_ranking():
    doc = search_models(make_map(RANKING_MAP), "GPT-4O")
    # exact (key or name after the provider) → prefix → word start → anywhere; then shorter, then alphabetical
    assert [m["model"] for m in doc["models"]] == [
        "gpt-4o", "azure/gpt-4o", "gpt-4o-latest", "openai/gpt-4o-mini", "vendor/my-gpt-4o",
        "text-embedding-gpt-4o", "xgpt-4o-like"]
    assert doc["matches"] == 7


def test_models_filters_and_aliases():
    cm = make_map(RANKING_MAP)
    assert [m["model"] for m in search_models(cm, "gpt", provider="azure")["models"]] == ["azure/gpt-4o"]
    # a provider family: vertex_ai finds vertex_ai-language-models
    assert [m["model"] for m in search_models(cm, None, provider="vertex_ai")["models"]] == ["vendor/my-gpt-4o"]
    assert [m["model"] for m in search_models(cm, "gpt", mode="embedding")["models"]] == ["text-embedding-gpt-4o"]
    alias = search_models(cm, "latest")["models"][0]
    assert (alias["model"], alias["alias_of"], alias["input_per_million"]) == ("gpt-4o-latest", "gpt-4o", 2.5)
    assert search_models(cm, "fallback")["models"] == []  # not a model


def test_models_cli_table_and_json(capsys):
    code, out, _ = run(capsys, "models", "gpt-4o-mini", "--limit", "2")
    lines = squeeze(out)
    assert code == 0
    assert "gpt-4o-mini openai chat $0.15 $0.60 $0.075 - 128,000" in lines
    assert "azure/gpt-4o-mini azure chat $0.15 $0.60 $0.075 - 128,000" in lines
    assert lines[-1].startswith("2 of ") and lines[-1].endswith(" matches (--limit to see more)")
    code, out, _ = run(capsys, "models", "claude-sonnet-4-5", "--provider", "anthropic", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert set(doc) == {"query", "provider", "mode", "matches", "models"}
    first = doc["models"][0]
    assert set(first) == {"model", "alias_of", "provider", "mode", "input_per_million", "output_per_million",
                          "cache_read_per_million", "cache_write_per_million", "max_input_tokens"}
    assert (first["model"], first["input_per_million"], first["output_per_million"]) == \
        ("claude-sonnet-4-5", 3.0, 15.0)


def test_models_no_match_exits_1(capsys):
    code, out, _ = run(capsys, "models", "no-such-model-anywhere")
    assert code == 1 and out.strip() == "no matching models"


# -- map info / map update -----------------------------------------------------------------------------------

def test_map_info_embedded(capsys):
    code, out, _ = run(capsys, "map", "info", "--format", "json")
    info = json.loads(out)
    assert code == 0
    assert info["path"] == "(embedded)" and info["litellm_version"] == "1.110.2"
    assert set(info) == {"source", "litellm_version", "snapshot_date", "sha256", "models", "path"}


def test_update_from_a_local_file_becomes_the_default_map(capsys, tmp_path):
    source = tmp_path / "newer.json"
    raw = EMBEDDED.read_bytes()
    source.write_bytes(raw)
    code, out, _ = run(capsys, "map", "update", "--from", str(source), "--format", "json")
    result = json.loads(out)
    assert code == 0
    digest = hashlib.sha256(raw).hexdigest()
    target = cache_dir() / "cost_map.json"
    assert result["path"] == str(target) and result["sha256"] == digest and result["unchanged"] is False
    assert target.read_bytes() == raw
    meta = json.loads((cache_dir() / "cost_map.json.meta.json").read_text())
    assert meta["source"] == str(source) and meta["sha256"] == digest
    assert set(meta) == {"source", "litellm_version", "snapshot_date", "retrieved_at", "sha256", "models",
                         "priced_models"}
    # the cached map is now what every command uses
    code, out, _ = run(capsys, "map", "info", "--format", "json")
    info = json.loads(out)
    assert (info["path"], info["source"], info["sha256"]) == (str(target), str(source), digest)
    assert load_cost_map().info.path == str(target)
    # the same map again: reported as unchanged
    code, out, _ = run(capsys, "map", "update", "--from", str(source))
    assert code == 0 and out.startswith("cost map unchanged: ")


def _install(tmp_path) -> bytes:
    source = tmp_path / "good.json"
    source.write_bytes(EMBEDDED.read_bytes())
    assert main(["map", "update", "--from", str(source)]) == 0
    return (cache_dir() / "cost_map.json").read_bytes() + (cache_dir() / "cost_map.json.meta.json").read_bytes()


@pytest.mark.parametrize(("content", "message"), [
    (b"<html>404 Not Found</html>", "not valid JSON"),
    (b'{"model_prices": [1, 2]}', "no model entries found"),
    (b'{"a": {"litellm_provider": "openai", "input_cost_per_token": 1e-6}}', "only 1 models with token prices"),
    (b'{"truncated": {"input_cost_', "not valid JSON"),
])
def test_garbage_leaves_the_old_map_intact(capsys, tmp_path, content, message):
    before = _install(tmp_path)
    capsys.readouterr()
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(content)
    code, out, err = run(capsys, "map", "update", "--from", str(garbage))
    assert code == 2 and out == ""
    assert err.startswith("costcalc: error: ") and err.count("\n") == 1
    assert message in err and err.rstrip().endswith("the cost map in use is unchanged")
    after = (cache_dir() / "cost_map.json").read_bytes() + (cache_dir() / "cost_map.json.meta.json").read_bytes()
    assert after == before
    assert not [p for p in cache_dir().iterdir() if p.name.endswith(".tmp")]


def test_unreachable_file_url(capsys, tmp_path):
    code, _, err = run(capsys, "map", "update", "--from", f"file://{tmp_path}/does-not-exist.json")
    assert code == 2 and "cannot download" in err and "No such file" in err
    assert not (cache_dir() / "cost_map.json").exists()


def test_offline_default_url_fails_cleanly_without_network(capsys, tmp_path, monkeypatch):
    before = _install(tmp_path)
    capsys.readouterr()
    asked = []

    def offline(request, timeout):
        asked.append((request.full_url, timeout))
        raise urllib.error.URLError(OSError(101, "Network is unreachable"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    code, out, err = run(capsys, "map", "update", "--timeout", "5")
    assert asked == [(mapupdate.DEFAULT_URL, 5.0)]
    assert code == 2 and out == ""
    assert err == (f"costcalc: error: cannot download {mapupdate.DEFAULT_URL}: Network is unreachable (offline?); "
                   "the cost map in use is unchanged\n")
    after = (cache_dir() / "cost_map.json").read_bytes() + (cache_dir() / "cost_map.json.meta.json").read_bytes()
    assert after == before


def test_download_is_validated_then_installed(capsys, monkeypatch):
    raw = EMBEDDED.read_bytes()

    class Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout: Response(raw))
    code, out, _ = run(capsys, "map", "update", "--from", "https://example.invalid/map.json")
    assert code == 0 and out.startswith("cost map updated: ")
    assert "from https://example.invalid/map.json" in out
    assert (cache_dir() / "cost_map.json").read_bytes() == raw


def test_http_error_is_one_line(capsys, monkeypatch):
    def not_found(request, timeout):
        raise urllib.error.HTTPError(request.full_url, 404, "Not Found", None, None)

    monkeypatch.setattr(urllib.request, "urlopen", not_found)
    code, _, err = run(capsys, "map", "update", "--from", "https://example.invalid/map.json")
    assert code == 2
    assert err == ("costcalc: error: cannot download https://example.invalid/map.json: HTTP 404 Not Found; "
                   "the cost map in use is unchanged\n")
