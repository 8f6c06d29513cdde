"""A real PostgreSQL server for the tests: initdb in a temporary directory, pg_ctl on a free port of 127.0.0.1.

The server binaries come from PATH or the Debian layout (/usr/lib/postgresql/VERSION/bin); `.ci/run`
installs them when they are missing. initdb refuses to run as root, so under root (CI) the cluster is
created and run as the `postgres` system user (which the Debian package creates) through runuser.
Each test gets its own database (`fresh_database`), so tests neither see nor wait for each other.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUPERUSER = "meshbot"
RUN_AS = "postgres"


def binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql; .ci/run does it)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "postgres.log"
        self.port = free_port()
        self._names = itertools.count(1)

    @classmethod
    @contextmanager
    def temporary(cls) -> Iterator[PostgresServer]:
        """A server in a new directory of the system's temporary space (pytest's own is private to root,
        and the `postgres` user must reach it), removed with everything in it afterwards."""
        root = Path(tempfile.mkdtemp(prefix="meshbot-pg-"))
        server = cls(root)
        try:
            yield server.start()
        finally:
            server.stop()
            shutil.rmtree(root, ignore_errors=True)

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = list(argv)
        if os.geteuid() == 0:  # initdb and postgres refuse root
            command = ["runuser", "-u", RUN_AS, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> PostgresServer:
        self.sockets.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, RUN_AS)
            shutil.chown(self.sockets, RUN_AS)
        init = self._run(
            binary("initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--no-sync"
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr}")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        started = self._run(binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        if started.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stderr}\n{log}")
        return self

    def stop(self) -> None:
        if self.data.exists():
            self._run(binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        """A new, empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
