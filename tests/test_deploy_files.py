"""The deployment files stay true: deploy/env.example lists exactly the variables the code reads,
gunicorn starts with deploy/gunicorn.conf.py and serves the app without query strings or link
tokens in its access log, and the systemd units run web, templated workers, one beat and the HL7
listener."""

import ast
import configparser
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"


def env_calls(path: Path) -> set[str]:
    """Names read by env("NAME", ...), env.int("NAME", ...), os.environ.get("NAME") or
    os.environ["NAME"] in one module."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args:
            func, first = node.func, node.args[0]
            reads_env = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute)
                and (
                    (isinstance(func.value, ast.Name) and func.value.id == "env")
                    or (func.attr == "get" and ast.unparse(func.value) == "os.environ")
                )
            )
            if reads_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
        if (isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ"
                and isinstance(node.slice, ast.Constant)):
            names.add(node.slice.value)
    return names


def variables_read() -> set[str]:
    names = set()
    for module in [*sorted((ROOT / "vertebro_site").glob("*.py")), DEPLOY / "gunicorn.conf.py"]:
        names |= env_calls(module)
    names.discard("DJANGO_SETTINGS_MODULE")  # set by manage.py, wsgi.py and celery.py
    return names


def variables_listed() -> set[str]:
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]+)=", re.MULTILINE)
    return set(pattern.findall((DEPLOY / "env.example").read_text()))


def test_the_settings_read_the_variables_this_test_looks_for():
    read = variables_read()
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "SENTRY_DSN",
            "DJANGO_PROXY_COUNT", "GUNICORN_WORKERS"} <= read


def test_env_example_names_every_variable_read_and_no_other():
    read, listed = variables_read(), variables_listed()
    assert not read - listed, f"read but missing from deploy/env.example: {sorted(read - listed)}"
    assert not listed - read, f"in deploy/env.example but read nowhere: {sorted(listed - read)}"


def test_the_readme_configuration_table_names_every_variable():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = sorted(name for name in variables_read() if f"`{name}`" not in section)
    assert not missing, f"README's configuration section lacks {missing}"


def gunicorn_config(**env) -> dict:
    script = (f"import json, runpy; c = runpy.run_path({str(DEPLOY / 'gunicorn.conf.py')!r}); "
              "print(json.dumps({k: c[k] for k in ['workers', 'bind', 'timeout', 'accesslog', "
              "'wsgi_app']}))")
    result = subprocess.run([sys.executable, "-c", script], cwd="/", env={**os.environ, **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_gunicorn_config_imports_and_reads_the_environment():
    default = gunicorn_config(GUNICORN_WORKERS="")
    assert default["workers"] == (os.cpu_count() or 1) * 2 + 1
    assert default["bind"] == "127.0.0.1:8000"
    assert default["accesslog"] is None
    assert default["wsgi_app"] == "vertebro_site.wsgi:application"
    custom = gunicorn_config(GUNICORN_WORKERS="3", GUNICORN_BIND="10.0.0.5:9000",
                             GUNICORN_TIMEOUT="45", GUNICORN_ACCESS_LOG="-")
    assert (custom["workers"], custom["bind"], custom["timeout"], custom["accesslog"]) == (
        3, "10.0.0.5:9000", 45, "-")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_gunicorn_serves_the_app_and_logs_neither_query_strings_nor_tokens(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1", GUNICORN_ACCESS_LOG="-",
               DJANGO_LOG_FORMAT="json", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py")],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status = get(f"{base}/accounts/login/?next=/patients/%3Fq%3DWhitfield")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
                time.sleep(0.2)
        assert status == 200
        assert get(f"{base}/p/SeCrEtToKeN123/?q=Whitfield") == 404
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # gunicorn's own lines too
    assert {"gunicorn.error", "gunicorn.access", "vertebro.request"} <= {
        line["logger"] for line in lines}
    access = [line["message"] for line in lines if line["logger"] == "gunicorn.access"]
    assert access[0].startswith('127.0.0.1 "GET /accounts/login/" 200')
    assert access[1].startswith('127.0.0.1 "GET /p/[token]/" 404')
    assert {"/accounts/login/", "/p/[token]/"} <= {line.get("path") for line in lines}
    for secret in ["Whitfield", "SeCrEtToKeN123", "next="]:
        assert secret not in text


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read(UNITS / name)
    return parser


def test_the_systemd_units_run_web_templated_workers_one_beat_and_the_hl7_listener():
    units = sorted(path.name for path in UNITS.glob("*.service"))
    assert units == ["vertebro-beat.service", "vertebro-hl7.service", "vertebro-web.service",
                     "vertebro-worker@.service"]
    web, worker, beat, listener = (unit(name)["Service"] for name in
                                   ["vertebro-web.service", "vertebro-worker@.service",
                                    "vertebro-beat.service", "vertebro-hl7.service"])
    assert "gunicorn -c /opt/vertebro/deploy/gunicorn.conf.py" in web["ExecStart"]
    assert " worker " in worker["ExecStart"]
    assert " beat " not in worker["ExecStart"]
    assert "-n worker%i@%H" in worker["ExecStart"]  # unique per instance and machine
    assert " beat " in beat["ExecStart"]
    assert " worker " not in beat["ExecStart"]
    assert "EXACTLY ONE" in (UNITS / "vertebro-beat.service").read_text()
    assert listener["ExecStart"] == "/opt/vertebro/.venv/bin/python manage.py hl7_listen"
    assert listener["KillSignal"] == "SIGTERM"
    for service in (web, worker, beat, listener):
        assert service["EnvironmentFile"] == "/etc/vertebro/env"
        assert service["User"] == "vertebro"
        assert service["WorkingDirectory"] == "/opt/vertebro"


def test_the_deployment_guide_covers_every_deploy_file():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            assert str(path.relative_to(ROOT)) in guide, path


# --- make bench -------------------------------------------------------------------------------


@pytest.fixture
def run_all(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import run_all

    return run_all


def test_every_bench_script_is_run_by_make_bench(run_all):
    scripts = {script.name for script in run_all.SCRIPTS}
    on_disk = {path.name for path in (ROOT / "bench").glob("*.py")}
    assert not scripts & run_all.HELPERS
    unlisted = on_disk - scripts - run_all.HELPERS
    assert not unlisted, f"add to SCRIPTS (or HELPERS) in bench/run_all.py: {sorted(unlisted)}"
    assert "bench/run_all.py" in (ROOT / "Makefile").read_text()


def test_the_table_is_made_from_result_lines_and_shows_what_failed(run_all, capsys):
    from results import emit, figure

    emit("booking", [figure("median", 12.345, unit=" ms"),
                     figure("ratio", 5.1, unit="x", goal="<= 4x", met=False),
                     figure("queries", "same", goal="same", met=True)])
    output = "report for people\n" + capsys.readouterr().out
    runs = [
        {"script": "booking.py", "status": "ok", "results": run_all.parse(output),
         "output": output},
        {"script": "load.py", "status": "ok",
         "results": run_all.parse('RESULT {"bench": "load", "5xx": 0, "rps": 41.5, "x": "y"}'),
         "output": ""},
        {"script": "board.py", "status": "ok", "results": [], "output":
            "call  median\npage: 300 cases / 10 cases, time   2.48x  <= 5x  met\n"
            "  goal day: +0 case(s) (NOT met)\n"},
        {"script": "reports.py", "status": "exit 1", "results": [], "output": "Traceback"},
        {"script": "later.py", "status": "absent", "results": [], "output": ""},
    ]
    run_all.print_table(runs, markdown=True)
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "| script | figure | value | goal | met |"
    assert table[2:] == [
        "| booking.py | median | 12.35 ms |  |  |",
        "| booking.py | ratio | 5.10x | <= 4x | MISSED |",
        "| booking.py | queries | same | same | met |",
        "| load.py | 5xx | 0 |  |  |",
        "| load.py | rps | 41.50 |  |  |",
        "| board.py | page: 300 cases / 10 cases, time 2.48x <= 5x |  | (as printed) | met |",
        "| board.py | goal day: +0 case(s) |  | (as printed) | MISSED |",
        "| reports.py | (no RESULT line: see its output below) |  |  |  |",
        "| reports.py | run | exit 1 | runs to the end | FAILED |",
        "| later.py | (not in bench/ yet) |  |  |  |",
    ]


def test_the_machine_is_described(run_all):
    facts = run_all.machine_facts("redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert facts["cores"] == str(os.cpu_count())
    assert facts["RAM"].endswith("GiB")
    assert facts["Redis"].startswith("not reached")
