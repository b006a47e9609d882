"""A throwaway PostgreSQL cluster from Debian's ``postgresql`` binaries, with LiteLLM's schema applied from the
migrations of the ``litellm-proxy-extras`` wheel (ENGINES.md §6). Tests that need it skip with the install
command as reason, unless COSTCALC_REQUIRE_SERVICES=1 (CI), where a missing piece fails the run."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL = "apt-get install -y postgresql (Debian), and pip install -e '.[test]' for psycopg and litellm-proxy-extras"


def _unavailable(reason: str) -> None:
    if os.environ.get("COSTCALC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}: {INSTALL}")
    pytest.skip(f"{reason}: {INSTALL}")


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str], **kw) -> subprocess.CompletedProcess:
    """Debian's initdb and pg_ctl refuse root: run them as the postgres user when we are root."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, capture_output=True, text=True, timeout=120, check=True, **kw)


class Server:
    def __init__(self, port: int, password: str):
        self.port, self.password = port, password

    def url(self, db: str = "litellm", user: str = "costcalc", password: str | None = None) -> str:
        pw = self.password if password is None else password
        return f"postgresql://{user}:{pw}@127.0.0.1:{self.port}/{db}"

    def connect(self, db: str = "litellm", user: str = "costcalc"):
        import psycopg

        return psycopg.connect(self.url(db, user), autocommit=True)


def migrations() -> list[Path]:
    import litellm_proxy_extras

    root = Path(litellm_proxy_extras.__file__).parent / "migrations"
    return sorted(root.glob("*/migration.sql"), key=lambda p: p.parent.name)


def start_server() -> Iterator[Server]:
    binaries = pg_bin()
    if binaries is None:
        _unavailable("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin")
    try:
        import litellm_proxy_extras  # noqa: F401
        import psycopg
    except ImportError as exc:
        _unavailable(f"{exc.name} is not installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable("runuser is needed to start PostgreSQL as root")
    base = tempfile.mkdtemp(prefix="costcalc-pg-", dir="/tmp")
    os.chmod(base, 0o755)
    data = os.path.join(base, "data")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    password = "s3cret-pw"
    pwfile = os.path.join(base, "pw")
    with open(pwfile, "w") as f:
        f.write(password)
    os.chmod(pwfile, 0o644)
    port = _free_port()
    try:
        _as_postgres([str(binaries / "initdb"), "-D", data, "-U", "costcalc", "--pwfile", pwfile,
                      "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"])
        _as_postgres([str(binaries / "pg_ctl"), "-D", data, "-l", os.path.join(base, "log"), "-w", "-o",
                      f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c full_page_writes=off", "start"])
    except subprocess.CalledProcessError as exc:
        log = Path(base, "log").read_text() if Path(base, "log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr.strip()} {log[-500:]}")
    server = Server(port, password)
    try:
        import psycopg

        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE litellm")
        with server.connect() as conn:
            for m in migrations():
                conn.execute(m.read_text())
        yield server
    finally:
        subprocess.run((["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
                       + [str(binaries / "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
