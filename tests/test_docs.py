"""The README cannot rot: its tour outputs are re-run, every command and option is documented, and the
set-up commands are what CI runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

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


def test_use_from_python_example_prints_what_the_readme_shows():
    section = README.split("## Use from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"It prints:\n\n```text\n(.*?)```", section, re.S).group(1)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={k: v for k, v in os.environ.items() if k != "COSTCALC_COST_MAP"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown
    # the example's single record, by hand: gpt-4o's map rates 2.5e-6 in / 1e-5 out, then the sample config's
    # 5% margin: (1000 x 2.5e-6 + 500 x 1e-5) x 1.05 = 0.007875
    assert "$0.007875" in shown.splitlines()[1]
    probe = "\nimport sys\nprint('rich' in sys.modules, 'typer' in sys.modules)"
    check = subprocess.run([sys.executable, "-c", code + probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert check.stdout.splitlines()[-1] == "False False"  # the library runs without the CLI's dependencies


def test_public_api_all_names_exist():
    import costcalc

    assert sorted(costcalc.__all__) == sorted(set(costcalc.__all__))
    assert [name for name in costcalc.__all__ if not hasattr(costcalc, name)] == []
