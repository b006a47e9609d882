"""The one way tests run the CLI: in process, with the arguments a user types, through ``costcalc.cli.main``.

Every run is also checked for what must never reach a user: a traceback, or an internal error (exit 3).
"""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass
from typing import Any

from costcalc.cli import main as cli_main


def main(argv: list[Any]) -> int:
    """Run ``costcalc ARGV...``; its exit code. stdout and stderr go where they would (pytest's capture)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli_main([str(a) for a in argv])
    sys.stderr.write(err.getvalue())
    assert "Traceback" not in err.getvalue(), err.getvalue()
    assert code != 3, err.getvalue()  # an internal error
    return code


@dataclass
class Run:
    code: int
    out: str
    err: str

    def __iter__(self) -> Any:
        return iter((self.code, self.out, self.err))


def costcalc(capsys: Any, *args: Any) -> Run:
    """Run ``costcalc ARGS...``: exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return Run(code, out, err)


def priced_records(capsys: Any, tmp_path: Any, rows: list[dict], *args: Any, config: str | None = None) -> list[dict]:
    """``costcalc price`` over ``rows`` (written as a JSONL file) with ``--format jsonl``: the per-record lines.
    ``config``: a config's text, written beside them and passed as ``--config``."""
    import json

    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    if config is not None:
        (tmp_path / "config.yaml").write_text(config)
        args = ("--config", tmp_path / "config.yaml", *args)
    capsys.readouterr()  # what the test printed before (LiteLLM's own output while it worked out the expected costs)
    code = main(["price", src, "--format", "jsonl", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]
