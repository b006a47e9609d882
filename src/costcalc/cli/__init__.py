"""The ``costcalc`` command: parsing options and calling the library, no pricing logic.

The flow of ``costcalc price``: options (cli/options.py, each declared once) → a ``PriceRequest`` built and checked
once (reports/request.py) → one library call (reports/pipeline.py ``run``; ``costcalc.price`` from Python) → the
format's writer (formats/registry.py) → the exit code. Every other command is the same shape over its own library
call (cli/commands/<name>.py). Errors are values until ``main`` (cli/app.py): one line on stderr and an exit code.

How to add an option, a format or an engine: docs/ARCHITECTURE.md.
"""

import importlib

from . import app as _app

# each module registers its command(s); --help lists them in this order
for _name in ("price", "lookup", "maps", "diff", "validate", "sql"):
    importlib.import_module(f".commands.{_name}", __name__)

app = _app.app
main = _app.main

__all__ = ["app", "main"]
