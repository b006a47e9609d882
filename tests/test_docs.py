"""The README cannot rot: its tour outputs are re-run, every command and option is documented, and the
set-up commands are what CI runs."""

from __future__ import annotations

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
