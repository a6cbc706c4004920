"""A private PostgreSQL cluster and a private Redis for one bench run, on spare ports, and the
Celery processes that run on them.

bench/load.py and bench/soak.py start their own servers rather than use the machine's: the soak
restarts them on purpose, and nothing a bench does may touch a database or a Redis that someone
else is using. Each server lives in a temporary folder that is removed when it stops; `stopping()`
turns SIGTERM and SIGHUP into KeyboardInterrupt so that the `finally` blocks that stop them run
whichever way a run ends.

PostgreSQL refuses to run as root, so as root the cluster's commands run as the `postgres`
system user, in a folder that user owns.
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path


class ServiceError(Exception):
    """A private server could not be started: the message says which and why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def stopping() -> Iterator[None]:
    """Let SIGTERM and SIGHUP unwind the run like Ctrl-C, so every server is stopped."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_privately(body: Callable[[ExitStack, Path], dict], *, prefix: str,
                  report: Callable[[dict], None], keep: bool = False) -> int:
    """Call body(stack, tmp): what it puts on the stack (servers to stop, connections to close)
    is undone in reverse order however the run ends, Ctrl-C and SIGTERM included, and the
    temporary folder is removed (or, with `keep`, kept and named). Then `report` prints what
    the body returned. Returns the exit status."""
    with stopping(), ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix=prefix))
        if keep:
            stack.callback(print, f"logs kept in {tmp}", file=sys.stderr)
        else:
            stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        try:
            figures = body(stack, tmp)
        except ServiceError as exc:
            print(f"bench failed: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted; stopping the servers", file=sys.stderr)
            return 130
    report(figures)
    return 0


def close_django() -> None:
    """Close this process's database connections (before its server stops or restarts)."""
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServiceError("No PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")


class PrivatePostgres:
    """A throwaway cluster: trust authentication, user postgres, 127.0.0.1 only."""

    def __init__(self, *, max_connections: int = 200) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.max_connections = max_connections
        self.root = Path(tempfile.mkdtemp(prefix="vertebro-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, user="postgres", group="postgres")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=self.root)
        if done.returncode != 0:
            raise ServiceError(f"{args[0]} {args[1]} failed: {done.stderr.strip()[-2000:]}\n"
                               f"{self.log_tail()}")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   f"-c max_connections={self.max_connections}")
        self._run("pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", "60", "-o", options, *extra)

    def start(self) -> "PrivatePostgres":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8")
        self._pg_ctl("start")
        return self

    def restart(self) -> None:
        """A fast restart: open connections are cut, as when the server is restarted for real."""
        self._pg_ctl("restart", "-m", "fast")

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def stop(self) -> None:
        if self.data.exists():
            with suppress(ServiceError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-1500:]
        except OSError:
            return ""


class PrivateRedis:
    """redis-server with no persistence: a restart loses every queued message, on purpose."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise ServiceError("No redis-server on PATH: apt-get install redis-server")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="vertebro-redis-"))
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "PrivateRedis":
        with open(self.root / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--dir", str(self.root)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceError(f"redis-server exited: {self._log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise ServiceError(f"redis-server did not answer on port {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def _log_tail(self) -> str:
        try:
            return (self.root / "redis.log").read_text(errors="replace")[-1500:]
        except OSError:
            return ""


ROOT = Path(__file__).resolve().parent.parent
RECORDING = "notifications.backends.recording.RecordingBackend"


class CeleryFleet:
    """Celery workers and beats on the private servers, sending through the recording backend
    (one JSON line per provider call in `record_file`). Each process runs in a session of its
    own, so that a kill takes its whole tree."""

    def __init__(self, *, database_url: str, broker_url: str, tmp: Path, delay_ms: int) -> None:
        self.tmp = tmp
        self.record_file = tmp / "sent.jsonl"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "NOTIFICATIONS_SMS_BACKEND": RECORDING,
            "NOTIFICATIONS_EMAIL_BACKEND": RECORDING,
            "VERTEBRO_RECORD_FILE": str(self.record_file),
            "VERTEBRO_RECORD_DELAY_MS": str(delay_ms),
            "DJANGO_DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }
        self.workers: dict[str, subprocess.Popen] = {}
        self.beats: dict[str, subprocess.Popen] = {}
        self.starts: dict[str, int] = {}
        self.owners: dict[int, str] = {}  # every pid seen in a worker's tree -> the worker
        self.marks: dict[str, int] = {}  # an event -> the size of the record when it happened
        self._halt = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        """Note which worker each pool process belongs to, so that the record of sends (which
        names the sending pid) can be read per worker."""
        while not self._halt.wait(0.25):
            for name, process in list(self.workers.items()):
                for pid in (process.pid, *_children(process.pid)):
                    self.owners.setdefault(pid, name)

    def calls_by_worker(self, since: int = 0) -> dict[str, int]:
        """Provider calls per worker recorded after byte `since` of the record."""
        counts: dict[str, int] = {}
        try:
            lines = self.record_file.read_bytes()[since:].splitlines()
        except OSError:
            return counts
        for line in lines:
            name = self.owners.get(json.loads(line)["pid"], "?")
            counts[name] = counts.get(name, 0) + 1
        return counts

    def record_size(self) -> int:
        try:
            return self.record_file.stat().st_size
        except OSError:
            return 0

    def _spawn(self, name: str, *command: str) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "vertebro_site", *command,
                 "--loglevel", "WARNING"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def worker_start(self, name: str) -> None:
        self.starts[name] = self.starts.get(name, 0) + 1
        self.workers[name] = self._spawn(
            name, "worker", "--concurrency", "2", "--without-gossip", "--without-mingle",
            "-n", f"{name}-{self.starts[name]}@{socket.gethostname()}",
        )

    def beat_start(self, name: str) -> None:
        self.beats[name] = self._spawn(
            name, "beat", "--schedule", str(self.tmp / f"{name}-schedule"),
            "--pidfile", str(self.tmp / f"{name}.pid"),
        )

    def calls(self) -> int:
        """Provider calls recorded so far."""
        try:
            return self.record_file.read_bytes().count(b"\n")
        except OSError:
            return 0

    def sender(self, timeout: float) -> int | None:
        """Wait for the next provider call; the pid of the process that made it (it is in the
        middle of a batch), or None if no call comes within `timeout` seconds."""
        seen = self.record_size()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.record_file, "rb") as record:
                    record.seek(seen)
                    fresh = record.read()
            except OSError:
                fresh = b""
            lines = fresh.splitlines()
            if lines and fresh.endswith(b"\n"):
                return json.loads(lines[-1])["pid"]
            time.sleep(0.02)
        return None

    def worker_of(self, pid: int) -> str | None:
        for name, process in self.workers.items():
            if pid == process.pid or pid in _children(process.pid):
                return name
        return None

    def worker_kill(self, name: str, *, pool_pid: int | None = None) -> None:
        """SIGKILL one pool process (its parent starts another) or, without one, the whole
        worker."""
        if pool_pid is not None:
            os.kill(pool_pid, signal.SIGKILL)
        else:
            _kill_tree(self.workers[name])

    def beat_stop(self, name: str) -> None:
        _stop(self.beats.pop(name))

    def stop_beats(self) -> None:
        for name in list(self.beats):
            self.beat_stop(name)

    def stop_workers(self) -> None:
        for name in list(self.workers):
            _stop(self.workers.pop(name), grace=60)

    def stop_all(self) -> None:
        self._halt.set()
        self.stop_beats()
        for process in self.workers.values():
            _kill_tree(process)
        self.workers.clear()

    def log_tails(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}"
                         for log in sorted(self.tmp.glob("*.log")))


def _children(pid: int) -> list[int]:
    """Every child of the process, whichever of its threads forked it."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _kill_tree(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _stop(process: subprocess.Popen, grace: float = 20) -> None:
    """A warm shutdown (a task in hand is finished first), then SIGKILL after `grace` s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        _kill_tree(process)
