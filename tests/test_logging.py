"""Structured logs: a JSON line per request with its id, path, status, duration and user id, and no
patient data anywhere (no names, phones, MRNs, query strings, link tokens or SQL); the Celery
worker logs in the same format."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from notifications.links import patient_token
from tests.conftest import REDIS_SERVER, case_payload, production_environ
from vertebro_site.logging_setup import logging_config, redact

pytestmark = REDIS_SERVER
ROOT = Path(__file__).resolve().parents[1]
PATIENT_DETAILS = ["Margaret", "Whitfield", "MRN-1001", "1948-05-17", "2125550100",
                   "m.whitfield@example.org", "Tom"]


@pytest.fixture
def json_log():
    """A handler made as the production configuration makes its console handler (JSON, the
    patient-data filter), writing to a buffer, with every logger at DEBUG; returns a function
    giving the lines written so far, each parsed (`.text`: the raw output)."""
    config = logging_config(level="DEBUG", log_format="json")
    formatter_config = dict(config["formatters"]["main"])
    formatter = formatter_config.pop("()")(**formatter_config)
    (filter_name,) = config["handlers"]["console"]["filters"]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    handler.addFilter(config["filters"][filter_name]["()"]())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    def lines() -> list[dict]:
        lines.text = buffer.getvalue()
        return [json.loads(line) for line in lines.text.splitlines() if line.strip()]

    lines.text = ""
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "vertebro.request"]


def book(front_desk) -> dict:
    response = front_desk.post("/api/v1/cases/", case_payload(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_patient_pages_log_json_lines_without_patient_data(unit, front_desk, client, json_log):
    case = book(front_desk)
    user = front_desk.user
    client.force_login(user)
    with CaptureQueriesContext(connection):  # SQL with its parameters would be logged now
        assert client.get(f"/cases/{case['id']}/").status_code == 200
        assert client.get("/patients/", {"q": "Whitfield"}).status_code == 200
        assert client.get("/patients/", {"q": "MRN-1001"}).status_code == 200
        front_desk.get(f"/api/v1/cases/{case['id']}/")
        refused = front_desk.post("/api/v1/cases/", case_payload(levels=99), format="json")
        assert refused.status_code in (400, 409)
    lines = json_log()  # every line parses as JSON
    text = json_log.text
    for detail in PATIENT_DETAILS:
        assert detail not in text, f"{detail!r} reached the logs"
    assert "SELECT" not in text
    assert "INSERT" not in text
    assert user.username not in text

    logged = request_lines(lines)
    assert [(line["method"], line["path"], line["status"]) for line in logged] == [
        ("POST", "/api/v1/cases/", 201),
        ("GET", f"/cases/{case['id']}/", 200),
        ("GET", "/patients/", 200),
        ("GET", "/patients/", 200),
        ("GET", f"/api/v1/cases/{case['id']}/", 200),
        ("POST", "/api/v1/cases/", refused.status_code),
    ]
    for line in logged:
        assert line["user_id"] == user.pk
        assert line["level"] == "INFO"
        assert len(line["request_id"]) == 32
        assert line["duration_ms"] >= 0
        assert line["timestamp"].endswith("+00:00")
    assert len({line["request_id"] for line in logged}) == len(logged)


def test_a_patient_link_token_never_reaches_the_logs(unit, front_desk, client, json_log):
    from scheduling.models import Case

    book(front_desk)
    token = patient_token(Case.objects.get())
    assert client.get(f"/p/{token}/").status_code == 200
    assert client.get("/p/not-a-real-token-at-all/").status_code == 404  # django.request logs it
    lines = json_log()
    assert token not in json_log.text
    assert "not-a-real-token-at-all" not in json_log.text
    assert [line["path"] for line in request_lines(lines)][1:] == ["/p/[token]/"] * 2
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found
    assert not_found[0]["message"] == "Not Found: /p/[token]/"
    assert not_found[0]["request_id"] == request_lines(lines)[-1]["request_id"]
    assert "request" not in not_found[0]  # its repr would carry the query string


def test_every_url_with_a_token_is_redacted():
    def patterns(resolver, prefix=""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from patterns(entry, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern)

    with_token = [route for route in patterns(get_resolver()) if "<str:token>" in route]
    assert len(with_token) >= 4  # patient page, calendar, confirm, family board
    for route in with_token:
        path = "/" + route.replace("<str:token>", "SeCrEt-TOKEN_123")
        assert "SeCrEt" not in redact(path), route


def test_a_request_id_from_the_proxy_is_kept_and_returned(client, db, json_log):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="nginx-5f2c9a01")
    assert response["X-Request-ID"] == "nginx-5f2c9a01"
    made_up = client.get("/accounts/login/", HTTP_X_REQUEST_ID="<script>")
    assert made_up["X-Request-ID"] != "<script>"
    ids = [line["request_id"] for line in request_lines(json_log())]
    assert ids == ["nginx-5f2c9a01", made_up["X-Request-ID"]]


def test_an_anonymous_request_logs_no_user(client, db, json_log):
    client.get("/accounts/login/?next=/patients/%3Fq%3DWhitfield")
    (line,) = request_lines(json_log())
    assert line["user_id"] is None
    assert line["path"] == "/accounts/login/"
    assert "Whitfield" not in json_log.text


def test_a_query_string_in_any_message_is_cut(json_log):
    logging.getLogger("some.library").warning("fetched %s", "/patients/?q=Whitfield&x=1")
    (line,) = json_log()
    assert line["message"] == "fetched /patients/?"


def settings_value(name: str, **env) -> str:
    clean = production_environ(DJANGO_ENV="development")
    clean.update(env)
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import "
         f"settings; print(settings.{name})"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_json_in_production_text_in_development_and_the_environment_decides():
    assert settings_value("LOG_FORMAT") == "text"
    assert settings_value("LOG_FORMAT", DJANGO_ENV="production") == "json"
    assert settings_value("LOG_FORMAT", DJANGO_ENV="production", DJANGO_LOG_FORMAT="text") == "text"
    assert settings_value("LOG_FORMAT", DJANGO_LOG_FORMAT="json") == "json"


# --- the Celery worker ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_worker_logs_json_lines_with_the_task_and_no_phone_or_text(tmp_path, monkeypatch):
    import redis
    from celery import Celery

    from notifications import rendering
    from notifications.models import Reminder, ReminderStatus
    from tests.notifications.test_delivery_worker import Worker, due_reminders

    host = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0").split("//")[-1]
    broker_url = f"redis://{host.split('/')[0]}/9"
    try:
        redis.Redis.from_url(broker_url, socket_timeout=2).flushdb()
    except redis.RedisError as exc:
        pytest.skip(f"Redis cannot be reached: {exc}")
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)

    ids = due_reminders(3, cases=3)
    text = rendering.render(Reminder.objects.get(pk=ids[0])).text
    phones = list(Reminder.objects.values_list("recipient", flat=True))
    worker = Worker(broker_url=broker_url, record_file=tmp_path / "sent.jsonl",
                    log_file=tmp_path / "worker.log")
    worker.env.update(DJANGO_LOG_FORMAT="json", LOG_LEVEL="INFO")
    worker.start()
    app = Celery("logging-test", broker=broker_url, set_as_current=False)
    try:
        app.send_task("notifications.tasks.dispatch_due_reminders")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = Reminder.objects.filter(status=ReminderStatus.SENT).count() == 3
            if done and '"vertebro.task"' in worker.log_file.read_text():
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the worker did not send and log in time:\n{worker.log_tail()}")
    finally:
        worker.kill(15)
        app.close()

    log = worker.log_file.read_text()
    # Celery's banner goes to stderr as text before logging starts (celery -q leaves it out);
    # every log record is a JSON line, none in Celery's own "[2026-...: INFO/...]" format.
    assert not re.search(r"^\[\d{4}-\d\d-\d\d", log, re.MULTILINE), log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line["logger"] == "celery.app.trace" for line in lines)
    (task,) = [line for line in lines if line["logger"] == "vertebro.task"]
    assert task["task"] == "notifications.tasks.dispatch_due_reminders"
    assert task["outcome"] == "SUCCESS"
    assert task["result"] == 3
    assert task["duration_ms"] >= 0
    sends = {line["reminder_id"]: line["outcome"] for line in lines if "reminder_id" in line}
    assert sends == dict.fromkeys(ids, "sent")
    for line in lines:
        assert not {"args", "kwargs", "return_value"} & set(line.get("data") or {}), line
    for detail in [*phones, "Margaret", "Worker0", text[:30], text[-30:]]:
        assert detail not in log, f"{detail!r} reached the worker's log"


# --- Sentry -----------------------------------------------------------------------------------

SENTRY_SCRIPT = """
import json, sys, types
import django
django.setup()
import sentry_sdk
from sentry_sdk.transport import Transport
from django.core.wsgi import get_wsgi_application
from django.test import RequestFactory, override_settings
from django.test.client import FakePayload
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

client = sentry_sdk.get_client()
options = client.options
print(json.dumps({
    "active": client.is_active(),
    "send_default_pii": options.get("send_default_pii"),
    "include_local_variables": options.get("include_local_variables"),
    "max_request_body_size": options.get("max_request_body_size"),
    "before_send": getattr(options.get("before_send"), "__qualname__", None),
    "integrations": sorted(client.integrations),
}))
if not client.is_active():
    sys.exit(0)


class Captured(Transport):
    events = []

    def capture_envelope(self, envelope):
        for item in envelope.items:
            if item.type == "event":
                self.events.append(item.payload.json)


client.transport = Captured(options)


def boom(request):
    patient = {"name": "Margaret Whitfield", "mrn": "MRN-1001"}
    raise ValueError(f"could not book {patient['name']} {patient['mrn']}")


urls = types.ModuleType("sentry_test_urls")
urls.urlpatterns = [path("boom/", csrf_exempt(boom)), path("", include("vertebro_site.urls"))]
sys.modules[urls.__name__] = urls
sentry_sdk.set_user({"id": "7", "username": "nurse1", "email": "nurse1@example.org"})
body = b"first_name=Margaret"
environ = RequestFactory()._base_environ(
    REQUEST_METHOD="POST", PATH_INFO="/boom/", QUERY_STRING="q=Whitfield",
    CONTENT_TYPE="application/x-www-form-urlencoded", CONTENT_LENGTH=str(len(body)),
    HTTP_COOKIE="sessionid=s3ss10n", HTTP_AUTHORIZATION="Token t0k3n",
    **{"wsgi.input": FakePayload(body)},
)
statuses = []
with override_settings(ROOT_URLCONF=urls.__name__):
    # Through the WSGI application, as gunicorn calls it: Sentry hooks in there.
    get_wsgi_application()(environ, lambda status, headers, *rest: statuses.append(status))
sentry_sdk.flush()
print(json.dumps({"status": statuses[0], "events": Captured.events}))
"""


def run_with_sentry(tmp_path, **env) -> list[dict]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST",
                                                                        "SENTRY_"))}
    clean.update(DJANGO_SETTINGS_MODULE="vertebro_site.settings",
                 DATABASE_URL=f"sqlite:///{tmp_path / 'sentry.sqlite3'}", **env)
    result = subprocess.run([sys.executable, "-c", SENTRY_SCRIPT], cwd=ROOT, env=clean,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_without_a_dsn_sentry_stays_off(tmp_path):
    (options,) = run_with_sentry(tmp_path)
    assert options["active"] is False


def test_with_a_dsn_errors_go_to_sentry_without_patient_data(tmp_path):
    """The DSN's host does not exist and nothing is sent: the client's transport is swapped for
    one that keeps the events (sentry-sdk's own Transport interface)."""
    options, outcome = run_with_sentry(
        tmp_path, SENTRY_DSN="https://public@sentry.example.invalid/1"
    )
    assert options == {
        "active": True,
        "send_default_pii": False,
        "include_local_variables": False,
        "max_request_body_size": "never",
        "before_send": "before_send",
        "integrations": options["integrations"],
    }
    assert {"django", "celery"} <= set(options["integrations"])
    assert outcome["status"].startswith("500")
    (event,) = [event for event in outcome["events"] if "exception" in event]
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "ValueError"
    assert "value" not in exception
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])
    assert event["request"] == {"method": "POST", "url": "http://testserver/boom/"}
    assert event["user"] == {"id": "7"}
    dumped = json.dumps(outcome["events"])
    for secret in ["Margaret", "Whitfield", "MRN-1001", "s3ss10n", "t0k3n", "nurse1"]:
        assert secret not in dumped, f"{secret!r} would reach Sentry"


def test_before_send_keeps_only_what_finds_the_error():
    from vertebro_site.logging_sentry import before_send

    event = {
        "request": {"method": "GET", "url": "https://x.org/p/SECRETTOKEN/", "query_string":
                    "q=Whitfield", "cookies": {"sessionid": "s"}, "data": {"mrn": "MRN-1"},
                    "headers": {"Cookie": "sessionid=s"}, "env": {"REMOTE_ADDR": "10.0.0.1"}},
        "user": {"id": 3, "username": "frontdesk", "email": "f@x.org", "ip_address": "10.0.0.1"},
        "exception": {"values": [{
            "type": "IntegrityError", "value": "Key (mrn)=(MRN-1)",
            "stacktrace": {"frames": [{"function": "f", "vars": {"p": 1}}]},
        }]},
        "logentry": {"message": "booked %s", "params": ["Whitfield"],
                     "formatted": "booked /patients/?q=Whitfield"},
        "extra": {"celery-job": {"task_name": "t", "args": ["+12125550100"], "kwargs": {}}},
        "breadcrumbs": {"values": [{"category": "query", "message": "SELECT 1",
                                    "data": {"db.params": ["Whitfield"]}}]},
    }
    cleaned = before_send(event, {})
    assert cleaned["request"] == {"method": "GET", "url": "https://x.org/p/[token]/"}
    assert cleaned["user"] == {"id": 3}
    assert cleaned["exception"]["values"] == [{"type": "IntegrityError",
                                              "stacktrace": {"frames": [{"function": "f"}]}}]
    assert cleaned["logentry"] == {"message": "booked /patients/?"}
    assert cleaned["extra"] == {"task_name": "t"}
    assert cleaned["breadcrumbs"]["values"] == [{"category": "query", "message": "SELECT 1"}]
