"""The model-name index: time to build it over the embedded cost map, and per lookup.

    python benchmarks/model_index.py [--repeat 5]

Prints the median build time and the median time per `find` over every map key (the figures a test used to
assert as bounds; timings are measured here, never asserted in tests).
"""

from __future__ import annotations

import argparse
import statistics
import time

from costcalc.rates.costmap import load_cost_map
from costcalc.rates.modelname import ModelIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    entries = load_cost_map().entries
    names = [key for key in entries if key not in ("sample_spec", "fallback_generalizations")]
    builds, lookups = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        index = ModelIndex(entries)
        builds.append(time.perf_counter() - started)
        started = time.perf_counter()
        for name in names:
            index.find(name)
        lookups.append((time.perf_counter() - started) / len(names))
    print(f"{len(names):,} map keys: build {statistics.median(builds) * 1e3:.1f} ms, "
          f"find {statistics.median(lookups) * 1e6:.1f} µs per name (median of {args.repeat})")


if __name__ == "__main__":
    main()
