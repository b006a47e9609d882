"""Refreshing the cost map: download (or copy) a newer LiteLLM map into the user cache, validated first.

The map is written to ``costmap.cache_dir() / cost_map.json`` next to ``cost_map.json.meta.json`` (where it came
from, when, its sha256). Both are written to temporary files and moved into place with ``os.replace``, and only
after the new map has been parsed and sanity-checked, so a failed update (offline, a 404 page, truncated JSON,
a JSON file that is not a cost map) leaves the existing map untouched. ``costmap.load_cost_map`` prefers the
cached map over the embedded snapshot once it exists. Each update that brings a different map also keeps a dated
copy (``history.save_snapshot``) for ``--map-as-of``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import orjson

from ..errors import CostMapError
from .costmap import CACHE_FILE_NAME, cache_dir, parse_cost_map
from .history import save_snapshot

DEFAULT_URL = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
MIN_PRICED_MODELS = 100  # LiteLLM's map prices thousands; fewer than this is not a cost map we should trust
MAX_BYTES = 64 * 1024 * 1024
TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class UpdateResult:
    path: str
    meta_path: str
    source: str
    retrieved_at: str
    sha256: str
    models: int
    priced_models: int
    previous_sha256: str | None  # the cached map this replaced, if any
    unchanged: bool
    snapshot: str | None = None  # the dated copy kept for --map-as-of (None: the newest one is this map)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "meta_path": self.meta_path, "source": self.source,
                "retrieved_at": self.retrieved_at, "sha256": self.sha256, "models": self.models,
                "priced_models": self.priced_models, "previous_sha256": self.previous_sha256,
                "unchanged": self.unchanged, "snapshot": self.snapshot}


def _is_url(source: str) -> bool:
    try:
        return urlparse(source).scheme.lower() in ("http", "https", "file")
    except ValueError:  # "http://[::1": not a URL that can be fetched, so read as a path (and not found)
        return False


def fetch(source: str, timeout: float = TIMEOUT_S) -> bytes:
    """The bytes at a URL (http, https, file) or a local path; CostMapError with one line on any failure."""
    if not _is_url(source):
        try:
            with open(source, "rb") as fh:
                data = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            raise CostMapError(f"{source}: cannot read ({exc.strerror})") from None
    else:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(source, headers={"User-Agent": "costcalc (cost map update)"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                data = response.read(MAX_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise CostMapError(f"cannot download {source}: HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason.strerror if isinstance(exc.reason, OSError) and exc.reason.strerror else exc.reason
            hint = "" if source.lower().startswith("file:") else " (offline?)"
            raise CostMapError(f"cannot download {source}: {reason}{hint}") from None
        except TimeoutError:
            raise CostMapError(f"cannot download {source}: no answer within {timeout:g} s (offline?)") from None
        except OSError as exc:
            raise CostMapError(f"cannot download {source}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise CostMapError(f"{source}: larger than {MAX_BYTES // (1024 * 1024)} MB; not a cost map")
    return data


def check(raw: bytes, where: str) -> tuple[int, int]:
    """(models, priced models) of a map that passes costmap.parse_cost_map and has enough priced models."""
    entries = parse_cost_map(raw, where)
    priced = sum(1 for e in entries.values()
                 if isinstance(e.get("input_cost_per_token"), (int, float))
                 or isinstance(e.get("output_cost_per_token"), (int, float)))
    if priced < MIN_PRICED_MODELS:
        raise CostMapError(f"{where}: only {priced} models with token prices (at least {MIN_PRICED_MODELS} "
                           "expected); not replacing the cost map")
    return len(entries), priced


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_cost_map(source: str | None = None, *, timeout: float = TIMEOUT_S,
                    directory: Path | None = None) -> UpdateResult:
    """Fetch ``source`` (default: LiteLLM's map on GitHub), validate it, and install it as the cached map."""
    source = source or DEFAULT_URL
    shown = source if _is_url(source) else str(Path(source).resolve())
    try:
        raw = fetch(source, timeout)
        models, priced = check(raw, source)
    except CostMapError as exc:
        raise CostMapError(f"{exc}; the cost map in use is unchanged") from None
    directory = directory or cache_dir()
    target = directory / CACHE_FILE_NAME
    meta_path = target.with_name(target.name + ".meta.json")
    previous = None
    if target.is_file():
        try:
            previous = hashlib.sha256(target.read_bytes()).hexdigest()
        except OSError:
            previous = None
    digest = hashlib.sha256(raw).hexdigest()
    now = datetime.now(timezone.utc)
    meta = {"source": shown, "litellm_version": None, "snapshot_date": now.date().isoformat(),
            "retrieved_at": now.isoformat(timespec="seconds"), "sha256": digest, "models": models,
            "priced_models": priced}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, raw)
        _write_atomically(meta_path, orjson.dumps(meta, option=orjson.OPT_INDENT_2) + b"\n")
        snapshot = save_snapshot(raw, meta, directory)
    except OSError as exc:
        raise CostMapError(f"{directory}: cannot write the cost map ({exc.strerror or exc})") from None
    return UpdateResult(path=str(target), meta_path=str(meta_path), source=shown,
                        retrieved_at=meta["retrieved_at"], sha256=digest, models=models, priced_models=priced,
                        previous_sha256=previous, unchanged=previous == digest,
                        snapshot=str(snapshot) if snapshot is not None else None)
