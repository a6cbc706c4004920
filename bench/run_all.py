"""Run every bench script and print one table of their figures, with the machine they ran on.

    make bench             # or: .venv/bin/python bench/run_all.py
    make bench QUICK=1     # shorter runs: fewer calls, shorter windows
    .venv/bin/python bench/run_all.py --only booking.py --only board.py --markdown
    .venv/bin/python bench/run_all.py --last --markdown   # the last run's table again

The scripts run one after another (they would disturb each other's timings), each with its own
throwaway databases. Each prints its own report (kept under var/bench/) and a final
`RESULT {json}` line (bench/results.py) that this table is made from. A script without that line
still runs: its row says so and the end of its report is shown below the table.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from results import parse

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LOGS = ROOT / "var" / "bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vertebro_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"


@dataclass
class Script:
    name: str
    args: list[str] = field(default_factory=list)
    quick: list[str] = field(default_factory=list)
    minutes: int = 30  # stopped after this long


# Every bench script, in the order they run. Helpers (throwaway.py, services.py, wide_unit.py,
# noop_tasks.py, results.py, run_all.py) are not scripts: a test checks every .py under bench/
# is in one list or the other. A script named here but not yet written is listed
# as absent. In quick mode each also sees BENCH_QUICK=1.
HELPERS = {"throwaway.py", "services.py", "wide_unit.py", "noop_tasks.py", "results.py",
           "run_all.py"}
SCRIPTS = [
    Script("booking.py", quick=["--calls", "10", "--warmup", "2"]),
    Script("board.py", quick=["--calls", "5"]),
    Script("busy_history.py", quick=["--days", "60", "--calls", "10"]),
    Script("dispatch.py", args=["--broker", "{redis}"],
           quick=["--reminders", "2000", "--noops", "2000"]),
    Script("reports.py", quick=["--calls", "3"]),
    Script("sweeper.py", quick=["--rows", "100000"]),
    Script("siu_send.py", quick=["--messages", "1000", "--cases", "100"]),
    Script("history.py", quick=["--cases", "20000", "--calls", "5"]),
    Script("optimiser.py"),
    Script("load.py", quick=["--quick"]),
    Script("soak.py", quick=["--quick"], minutes=45),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--only", action="append", metavar="SCRIPT", help="run only these")
    parser.add_argument("--redis", default=DEFAULT_REDIS_URL,
                        help=f"Redis database bench/dispatch.py flushes ({DEFAULT_REDIS_URL})")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--last", action="store_true",
                        help="print the table of the last run again (var/bench/), running nothing")
    args = parser.parse_args(argv)

    chosen = [s for s in SCRIPTS if not args.only or s.name in args.only]
    unknown = set(args.only or ()) - {s.name for s in SCRIPTS}
    if unknown:
        parser.error(f"not a bench script: {', '.join(sorted(unknown))}")
    LOGS.mkdir(parents=True, exist_ok=True)
    if args.last:
        last = json.loads((LOGS / "last.json").read_text())
        machine, runs = last["machine"], last["runs"]
        for outcome in runs:
            log = ROOT / outcome["log"]
            outcome["output"] = log.read_text() if log.exists() else ""
            outcome["results"] = parse(outcome["output"])
    else:
        machine = machine_facts(args.redis)
        load_before = os.getloadavg()[0]
        runs = [run(script, args) for script in chosen]
        machine["load average"] = f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
        machine["mode"] = "quick (make bench QUICK=1)" if args.quick else "full"
        kept = [{k: o[k] for k in ("script", "status", "seconds", "log")} for o in runs]
        (LOGS / "last.json").write_text(json.dumps({"machine": machine, "runs": kept}, indent=1))
    print()
    print_machine(machine, markdown=args.markdown)
    print()
    print_table(runs, markdown=args.markdown)
    for outcome in runs:
        if outcome["results"] or outcome["status"] == "absent" or verdict_lines(
                outcome["script"], outcome["output"]):
            continue
        print(f"\n--- {outcome['script']}: no RESULT line; the end of its output "
              f"({outcome['log']}):")
        print("\n".join(outcome["output"].rstrip().splitlines()[-25:]))
    failed = [o["script"] for o in runs if o["status"] not in ("ok", "absent")]
    return 1 if failed else 0


def run(script: Script, args) -> dict:
    path = BENCH / script.name
    outcome = {"script": script.name, "status": "absent", "results": [], "output": "",
               "seconds": 0.0, "log": str((LOGS / f"{path.stem}.log").relative_to(ROOT))}
    if not path.exists():
        return outcome
    argv = [a.format(redis=args.redis) for a in script.args + (script.quick if args.quick
                                                                 else [])]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if args.quick:
        env["BENCH_QUICK"] = "1"
    print(f"running bench/{script.name} {' '.join(argv)}", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, str(path), *argv], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=script.minutes * 60)
        output, status = done.stdout + done.stderr, "ok" if done.returncode == 0 else (
            f"exit {done.returncode}")
    except subprocess.TimeoutExpired as exc:  # its output so far comes as bytes
        output = (exc.stdout or b"").decode(errors="replace")
        status = f"stopped after {script.minutes} min"
    outcome.update(status=status, output=output, results=parse(output),
                   seconds=time.monotonic() - started)
    (LOGS / f"{path.stem}.log").write_text(output)
    print(f"  {status} in {outcome['seconds']:.0f} s", file=sys.stderr, flush=True)
    return outcome


def rows_of(outcome: dict) -> list[tuple[str, str, str, str, str]]:
    """(script, figure, value, goal, verdict) rows for one script's run."""
    name = outcome["script"]
    if outcome["status"] == "absent":
        return [(name, "(not in bench/ yet)", "", "", "")]
    rows = []
    for result in outcome["results"]:
        figures = result.get("figures")
        if figures is None:  # a RESULT without figures: its top-level numbers, no goals
            figures = [{"figure": key, "value": value} for key, value in result.items()
                       if isinstance(value, (int, float)) and not isinstance(value, bool)]
        for item in figures:
            verdict = "" if "met" not in item else ("met" if item["met"] else "MISSED")
            value = f"{fmt(item.get('value'))}{item.get('unit') or ''}"
            rows.append((name, str(item["figure"]), value, str(item.get("goal") or ""), verdict))
    if not outcome["results"]:
        rows += verdict_lines(name, outcome["output"])
    if not rows:
        rows.append((name, "(no RESULT line: see its output below)", "", "", ""))
    if outcome["status"] != "ok":
        rows.append((name, "run", outcome["status"], "runs to the end", "FAILED"))
    return rows


# A report line that ends in a verdict, e.g. "page: 300 cases / 10 cases, time  2.48x  <= 5x  met".
VERDICT = re.compile(r"^\s*(?P<text>\S.*?)[\s:(]+(?P<verdict>met|MISSED|NOT met)\)?\s*$")


def verdict_lines(name: str, output: str) -> list[tuple[str, str, str, str, str]]:
    """Rows for a script without a RESULT line: its report's own goal lines, as printed."""
    rows = []
    for line in output.splitlines():
        match = VERDICT.match(line)
        if match:
            text = " ".join(match["text"].split())
            rows.append((name, text, "", "(as printed)",
                         "met" if match["verdict"] == "met" else "MISSED"))
    return rows


def fmt(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(runs: list[dict], *, markdown: bool) -> None:
    header = ("script", "figure", "value", "goal", "met")
    rows = [row for outcome in runs for row in rows_of(outcome)]
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("| " + " | ".join("---" for _ in header) + " |")
        for row in rows:
            print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
        return
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(f"{cell:>{w}}" if i == 2 else f"{cell:<{w}}"
                        for i, (cell, w) in enumerate(zip(row, widths, strict=False))).rstrip())


def machine_facts(redis_url: str) -> dict:
    return {
        "CPU": cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": memory(),
        "OS": f"{os_name()}, kernel {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": postgres_version(),
        "Redis": redis_version(redis_url),
    }


def print_machine(machine: dict, *, markdown: bool) -> None:
    if markdown:
        print("Measured on: " + "; ".join(f"{k} {v}" for k, v in machine.items()) + ".")
        return
    width = max(len(key) for key in machine)
    for key, value in machine.items():
        print(f"{key:<{width}}  {value}")


def cpu_model() -> str:
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    except OSError:
        match = None
    return match.group(1).strip() if match else platform.processor() or "unknown"


def memory() -> str:
    try:
        match = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    except OSError:
        return "unknown"
    return f"{int(match.group(1)) / 2**20:.1f} GiB" if match else "unknown"


def os_name() -> str:
    try:
        match = re.search(r'^PRETTY_NAME="?([^"\n]+)', Path("/etc/os-release").read_text(), re.M)
    except OSError:
        match = None
    return match.group(1) if match else platform.system()


def postgres_version() -> str:
    import psycopg

    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    server = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(server, connect_timeout=5) as connection:
            return connection.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error as exc:
        return f"not reached ({type(exc).__name__})"


def redis_version(url: str) -> str:
    import redis

    try:
        return redis.Redis.from_url(url, socket_timeout=5).info("server")[
            "redis_version"]
    except redis.RedisError as exc:
        return f"not reached ({type(exc).__name__})"


if __name__ == "__main__":
    sys.exit(main())
