"""Dated cost-map snapshots: every ``map update`` that brings a different map keeps a copy, dated by when it was
retrieved, so that ``--map-as-of DATE`` can price with the map that was in force then.

Snapshots live in ``cache_dir() / "snapshots"`` as ``cost_map-<YYYYmmddTHHMMSSZ>.json`` with the same
``.meta.json`` sidecar as the cached map. The embedded map counts as a snapshot in force from its own
``snapshot_date``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from ..errors import FieldError
from .costmap import CostMap, _embedded, cache_dir, load_cost_map

SNAPSHOT_DIR = "snapshots"
_PREFIX = "cost_map-"


def snapshot_dir(directory: Path | None = None) -> Path:
    return (directory or cache_dir()) / SNAPSHOT_DIR


def _write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def list_snapshots(directory: Path | None = None) -> list[tuple[datetime, Path]]:
    """(retrieved at, path) of every kept snapshot, oldest first."""
    folder = snapshot_dir(directory)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"{_PREFIX}*.json"):
        if path.name.endswith(".meta.json"):
            continue
        stamp = path.stem[len(_PREFIX):]
        try:
            at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        found.append((at, path))
    return sorted(found)


def save_snapshot(raw: bytes, meta: dict[str, Any], directory: Path | None = None) -> Path | None:
    """Keep ``raw`` as a dated snapshot unless the newest snapshot is the same map; returns its path."""
    folder = snapshot_dir(directory)
    kept = list_snapshots(directory)
    digest = hashlib.sha256(raw).hexdigest()
    if kept and hashlib.sha256(kept[-1][1].read_bytes()).hexdigest() == digest:
        return None
    at = datetime.fromisoformat(meta["retrieved_at"]).astimezone(timezone.utc)
    path = folder / f"{_PREFIX}{at.strftime('%Y%m%dT%H%M%SZ')}.json"
    folder.mkdir(parents=True, exist_ok=True)
    _write(path, raw)
    _write(path.with_name(path.name + ".meta.json"), orjson.dumps(meta, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def load_cost_map_as_of(when: float, directory: Path | None = None) -> tuple[CostMap, str]:
    """The map in force at ``when`` (epoch seconds): the newest snapshot retrieved at or before it, else the
    embedded map when its snapshot date is not later. Returns the map and how it was chosen, in words."""
    moment = datetime.fromtimestamp(when, timezone.utc)
    candidates: list[tuple[datetime, Path | None]] = list(list_snapshots(directory))
    embedded = _embedded()
    if embedded.info.snapshot_date:
        candidates.append((datetime.fromisoformat(embedded.info.snapshot_date).replace(tzinfo=timezone.utc), None))
    candidates.sort(key=lambda c: c[0])
    chosen = [c for c in candidates if c[0] <= moment]
    shown = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if not chosen:
        oldest = candidates[0][0].strftime("%Y-%m-%dT%H:%M:%SZ") if candidates else None
        raise FieldError("map_as_of", f" {shown}: no cost map snapshot on or before it"
                         + (f" (the oldest is from {oldest})" if oldest else " (run costcalc map update)"),
                         about_value=True)
    at, path = chosen[-1]
    cm = embedded if path is None else load_cost_map(path)
    where = "the embedded map" if path is None else f"snapshot {path.name}"
    return cm, f"{where}, in force from {at.strftime('%Y-%m-%dT%H:%M:%SZ')} (--map-as-of {shown})"
