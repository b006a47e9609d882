"""The README cannot rot: its tour outputs are re-run, every command and option is documented, and the
set-up commands are what CI runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal

import typer

from costcalc.cli import app

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_tour_outputs_match_what_the_commands_print():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "update_readme.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _commands(group, prefix: str = "costcalc") -> list:
    out = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            out += _commands(cmd, f"{prefix} {name}")
        else:
            out.append((f"{prefix} {name}", cmd))
    return out


def test_every_command_and_option_is_in_the_readme():
    missing = []
    for name, cmd in _commands(typer.main.get_command(app)):
        if f"`{name}" not in README and f"$ {name}" not in README:
            missing.append(name)
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt not in ("--help",) and opt not in README:
                    missing.append(f"{name} {opt}")
    assert not missing, f"not documented in README.md: {missing}"


def test_first_code_block_holds_the_two_setup_commands_and_ci_runs_the_second():
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", README, re.S).group(1)
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 2
    assert "costcalc price sample_data/" in lines[0]
    assert "pytest" in lines[1] and "[test]" in lines[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "lines[1]" in ci and "README.md" in ci  # CI extracts and runs exactly that line


def _examples() -> list[tuple[str, str]]:
    section = README.split("## Use from Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```\n\nIt prints:\n\n```text\n(.*?)```", section, re.S)


def _run_example(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={k: v for k, v in os.environ.items() if k != "COSTCALC_COST_MAP"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_use_from_python_examples_print_what_the_readme_shows():
    examples = _examples()
    assert len(examples) == 2
    for code, shown in examples:
        assert _run_example(code) == shown
        probe = "\nimport sys\nprint('rich' in sys.modules, 'typer' in sys.modules)"
        assert _run_example(code + probe).splitlines()[-1] == "False False"  # no CLI dependencies
    # the second example's single record, by hand: gpt-4o's map rates 2.5e-6 in / 1e-5 out, then the sample
    # config's 5% margin: (1000 x 2.5e-6 + 500 x 1e-5) x 1.05 = 0.007875
    assert "$0.007875" in examples[1][1].splitlines()[1]


def test_the_price_example_equals_price_runs_of_its_own_parts():
    """The first example's EUR total is 0.92 x the dollar total of the same run, and that is the sum of a run
    with each config over the days it was in force."""
    code, shown = _examples()[0]
    total_eur = Decimal(re.search(r"^total EUR (\S+)$", shown, re.M).group(1))
    probe = code + """
import costcalc
both = costcalc.price("sample_data/usage.jsonl", config=["sample_data/config.yaml", f"2026-11-04={new_prices}"],
                      since="2026-11-03", until="2026-11-06").report.totals.total
old = costcalc.price("sample_data/usage.jsonl", config="sample_data/config.yaml", since="2026-11-03",
                     until="2026-11-04").report.totals.total
new = costcalc.price("sample_data/usage.jsonl", config=str(new_prices), since="2026-11-04",
                     until="2026-11-06").report.totals.total
print("CHECK", both, old + new)
"""
    check = next(line for line in _run_example(probe).splitlines() if line.startswith("CHECK")).split()
    assert Decimal(check[1]) == Decimal(check[2])
    assert round(Decimal(check[1]) * Decimal("0.92"), 6) == total_eur


def test_public_api_all_names_exist():
    import costcalc

    assert sorted(costcalc.__all__) == sorted(set(costcalc.__all__))
    assert [name for name in costcalc.__all__ if not hasattr(costcalc, name)] == []
