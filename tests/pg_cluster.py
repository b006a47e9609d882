"""A throwaway PostgreSQL cluster from Debian's binaries (/usr/lib/postgresql/15/bin), run as the ``postgres``
user on 127.0.0.1 and a free port, data directory under /tmp; skipped with the install command when missing,
failing instead under COSTCALC_REQUIRE_SERVICES=1. Small on purpose, so it can be unified with issue 11's."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

PG_BIN = "/usr/lib/postgresql/15/bin"
INSTALL = "apt-get install -y postgresql-15 && pip install 'psycopg[binary]'"


def _missing(reason: str) -> None:
    if os.environ.get("COSTCALC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"PostgreSQL required: {reason}")
    pytest.skip(f"{reason}: {INSTALL}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not os.path.exists(os.path.join(PG_BIN, "initdb")) or shutil.which("runuser") is None:
        _missing(f"no PostgreSQL binaries in {PG_BIN}")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed")
    data = tempfile.mkdtemp(prefix="costcalc-pg-", dir="/tmp")
    shutil.chown(data, "postgres")
    port = _free_port()

    def as_postgres(*args: str) -> None:
        # no pipes: the server pg_ctl starts would hold them open, and the run would wait for it to exit
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)

    as_postgres(f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    as_postgres(f"{PG_BIN}/pg_ctl", "-D", data, "-o", f"-h 127.0.0.1 -p {port} -k {data}",
                "-l", os.path.join(data, "server.log"), "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)
