"""The compiled per-layout extractors must give exactly what the fully checked reader gives: the same record,
or the same rejection. Fuzzed over layouts and values, valid and not."""

from __future__ import annotations

import random

from costcalc.reading.records import BadField, canonical, canonical_checked

VALUES = [0, 1, 7, 1200, 1200.0, 1.5, -5, "lots", None, True, 2**53 - 1, 2**53, 1e30, "", " x"]
FIELDS = ["prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
          "reasoning_tokens", "audio_input_tokens", "audio_output_tokens", "image_input_tokens"]
EXTRAS = {"model_id": ["dep", "", None, 3, ["x"]], "service_tier": ["priority", "", None, 1],
          "timestamp": [1767323045, 1767323045123, "2026-01-02T03:04:05Z", "2026-01-02", "nope", -5, None, 1.5],
          "user": ["ann"], "team": ["red"], "metadata": [{"project": "x"}]}
MODELS = ["gpt-4o", " gpt-4o", "gpt-4o ", "", None, 42, "m"]


def outcome(fn, obj):
    try:
        r = fn(dict(obj), "f", 3)
    except BadField as exc:
        return ("rejected", str(exc))
    return ("record", tuple(getattr(r, name) for name in r.__slots__ if name != "raw"))


def test_compiled_extractors_agree_with_the_checked_reader():
    rng = random.Random(42)
    for _ in range(20_000):
        obj = {"model": rng.choice(MODELS)} if rng.random() < 0.97 else {}
        for field in rng.sample(FIELDS, rng.randint(0, len(FIELDS))):
            obj[field] = rng.choice(VALUES) if rng.random() < 0.3 else rng.randint(0, 5000)
        for field, choices in EXTRAS.items():
            if rng.random() < 0.4:
                obj[field] = rng.choice(choices)
        assert outcome(canonical, obj) == outcome(canonical_checked, obj), obj
