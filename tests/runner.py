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
