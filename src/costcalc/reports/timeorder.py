"""Items in time order with bounded memory: an external merge sort for the budget replay, which must see a
log's requests oldest first however the files hold them.

Items arrive as ``(time, payload)``. Up to ``run_size`` of them are held and sorted; a full run is written to a
temporary file, and the runs are merged as they are read back (``heapq.merge``), so memory holds one run being
filled plus one item per written run. Items with the same time keep their input order (each carries its
position), as a stable in-memory sort would give them.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

RUN_SIZE = 50_000  # items sorted in memory at once: a run of compact replay items is a few tens of MB at most
_BATCH = 1_000  # items pickled together in a written run (one pickle per item would be slow to read back)


def time_ordered(items: Iterable[tuple[float, Any]], run_size: int | None = None) -> Iterator[tuple[float, Any]]:
    """``items`` sorted by time (ties in input order), holding at most ``run_size`` (``RUN_SIZE``) of them in
    memory."""
    run_size = run_size or RUN_SIZE
    runs: list[IO[bytes]] = []
    run: list[tuple[float, int, Any]] = []
    try:
        for position, (when, payload) in enumerate(items):
            run.append((when, position, payload))
            if len(run) >= run_size:
                runs.append(_spill(sorted(run, key=_key)))
                run = []
        run.sort(key=_key)
        if not runs:
            for when, _, payload in run:
                yield when, payload
            return
        merged = heapq.merge(*(_read(f) for f in runs), iter(run), key=_key)
        for when, _, payload in merged:
            yield when, payload
    finally:
        for f in runs:
            f.close()


def _key(item: tuple[float, int, Any]) -> tuple[float, int]:
    return item[0], item[1]


def _spill(run: list[tuple[float, int, Any]]) -> IO[bytes]:
    # the run outlives this call (the merge reads it): time_ordered closes it; the system removes it once closed
    f = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        for start in range(0, len(run), _BATCH):
            pickle.dump(run[start:start + _BATCH], f, protocol=pickle.HIGHEST_PROTOCOL)
        f.seek(0)
    except BaseException:
        f.close()
        raise
    return f


def _read(f: IO[bytes]) -> Iterator[tuple[float, int, Any]]:
    """A written run back, one batch in memory at a time (the file holds only what ``_spill`` wrote)."""
    while True:
        try:
            batch = pickle.load(f)
        except EOFError:
            return
        yield from batch
