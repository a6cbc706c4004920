"""A private PgBouncer in transaction pooling mode in front of the PostgreSQL the tests use, on a
spare port, as production may run one: every transaction may go to a different server
connection, so nothing a client does may outlive its transaction (no session lock, no
server-side cursor, no prepared statement).

PgBouncer refuses to run as root; as root it runs as the `postgres` system user (`-u`), from a
folder that user can read. It logs to a file this process opens.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PGBOUNCER = "/usr/sbin/pgbouncer"
START_TIMEOUT = 10  # seconds

CONFIG = """\
[databases]
* = host={host} port={port} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 200
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
"""


class PgBouncerError(Exception):
    """PgBouncer could not be started: the message says why."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PgBouncer:
    def __init__(self, *, host: str, port: int, user: str) -> None:
        self.server = {"host": host or "127.0.0.1", "port": port or 5432, "user": user}
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="vertebro-pgbouncer-"))
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if not os.path.exists(PGBOUNCER):
            raise PgBouncerError(f"{PGBOUNCER} is missing: install Debian's pgbouncer package")
        self.folder.chmod(0o755)
        config = self.folder / "pgbouncer.ini"
        config.write_text(CONFIG.format(listen_port=self.port, **self.server))
        config.chmod(0o644)
        command = [PGBOUNCER, str(config)]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "postgres"]
        with open(self.folder / "pgbouncer.log", "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PgBouncerError(f"PgBouncer exited with {self.process.returncode}:\n"
                                     f"{self.log()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise PgBouncerError(f"PgBouncer did not listen within {START_TIMEOUT} s:\n{self.log()}")

    def transactions(self, database: str) -> int:
        """How many transactions PgBouncer has passed to `database` (its admin console)."""
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "pgbouncer", "-d",
             "pgbouncer", "-A", "-F", "\t", "-c", "SHOW STATS"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.splitlines()
        header = out[0].split("\t")
        for line in out[1:]:
            row = dict(zip(header, line.split("\t"), strict=False))
            if row.get("database") == database:
                return int(row["total_xact_count"])
        return 0

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        """Stop it; its server connections close with it."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)  # immediate: the workers are gone by now
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)
