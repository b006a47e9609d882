"""`costcalc validate` time against config size: it must grow linearly (issue 14: under 1 s at 300 deployments).

    python benchmarks/validate.py [--sizes 1 100 300 1000] [--repeat 3]

Generates deterministic proxy configs shaped like large public ones (pairs of deployments sharing a name, ids,
os.environ keys, routing keys such as rpm/tpm/api_base in every deployment, custom prices on a third, Azure
deployments with base_model, a few wildcards, an alias) and prints, per size, the median wall time of the
`validate` command and of the in-process `validate_config` call (no start-up), and the time per deployment.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_BACKENDS = ("openai/gpt-4o", "openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5-20250929", "azure/prod-{i}",
             "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", "gemini/gemini-2.5-pro",
             "vertex_ai/gemini-2.5-flash", "groq/llama-3.1-8b-instant", "mistral/mistral-large-latest",
             "together_ai/meta-llama/Llama-3-70b-chat-hf")


def config_text(n: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    lines = ["model_list:"]
    for i in range(n):
        backend = _BACKENDS[i % len(_BACKENDS)].format(i=i)
        lines += [f"  - model_name: model-{i // 2}", "    litellm_params:", f"      model: {backend}",
                  f"      api_key: os.environ/KEY_{i}", "      api_base: https://example.invalid/v1",
                  "      rpm: 100", "      tpm: 100000", "      timeout: 30", "    model_info:", f"      id: dep-{i}"]
        if backend.startswith("azure"):
            lines.append("      base_model: azure/gpt-4o")
        if i % 3 == 0:
            lines += [f"      input_cost_per_token: {rng.choice([1e-6, 2e-6, 3e-6])}",
                      f"      output_cost_per_token: {rng.choice([4e-6, 5e-6])}"]
        lines += ["      mode: chat", "      supports_function_calling: true"]
    for i in range(max(1, n // 50)):
        lines += [f"  - model_name: 'team{i}/*'", "    litellm_params: {model: 'openai/*'}"]
    lines += ["router_settings:", "  routing_strategy: simple-shuffle", "  model_group_alias: {gpt-4: model-1}",
              "litellm_settings:", "  cost_margin_config: {global: 0.05}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 300, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from costcalc.rates.costmap import load_cost_map
    from costcalc.reports.validate import validate_config

    cost_map = load_cost_map()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'deployments':>11} {'cli (s)':>8} {'in-process (s)':>15} {'ms/deployment':>14}")
        for n in args.sizes:
            path = Path(tmp) / f"config-{n}.yaml"
            path.write_text(config_text(n))
            validate_config(str(path), cost_map)  # warm the map's indexes once
            cli, inner = [], []
            for _ in range(args.repeat):
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "costcalc", "validate", "--config", str(path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                cli.append(time.perf_counter() - start)
                start = time.perf_counter()
                validate_config(str(path), cost_map)
                inner.append(time.perf_counter() - start)
            total = n + max(1, n // 50)
            print(f"{total:>11} {statistics.median(cli):>8.2f} {statistics.median(inner):>15.3f} "
                  f"{statistics.median(inner) / total * 1000:>14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
