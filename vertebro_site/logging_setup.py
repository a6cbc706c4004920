"""Logs for people who run Vertebro: one line per request and per task, as JSON in production.

Every handler passes each record through PatientDataFilter, so whatever a library logs, a line
never carries a query string (patient search sends its words there), a patient-link or family-
board token (either opens a patient's page), or SQL with its parameters. Request bodies are never
logged by anything here or in Django. The request line (RequestLogMiddleware) names the user by
id only.

The Celery worker and beat use the same configuration: connecting to Celery's setup_logging
signal keeps Celery from installing its own handlers over Django's.
"""

import contextvars
import logging
import logging.config
import re
import time

from celery import signals
from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"

# Paths whose segment after the prefix is a secret that opens a patient's page or offer (see
# notifications/urls.py and scheduling/pages/family_urls.py; a test checks every URL with a
# `token` is covered).
_TOKEN_IN_PATH = re.compile(r"(/(?:p|o|family)/)[^/\s?#\"']+")
# A query string after anything that looks like a path: "/patients/?q=Whitfield" keeps the "?".
_QUERY_STRING = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")
_TASK_DATA = frozenset({"args", "kwargs", "return_value"})


def redact(text: str) -> str:
    """The text with every query string and path token taken out."""
    return _QUERY_STRING.sub(r"\1?", _TOKEN_IN_PATH.sub(r"\1[token]", text))


class PatientDataFilter(logging.Filter):
    """Drops SQL statements and takes query strings and path tokens out of every message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.db.backends") and record.levelno < logging.INFO:
            return False  # statements with their parameters: patient data
        if isinstance(record.args, dict) and _TASK_DATA & record.args.keys():
            # Celery's task lines: a task's arguments and return value are the caller's data.
            record.args = {k: "-" if k in _TASK_DATA else v for k, v in record.args.items()}
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        for key in ("path", "url"):
            value = getattr(record, key, None)
            if isinstance(value, str):
                setattr(record, key, redact(value))
        record.request_id = (
            getattr(record, "request_id", None)
            or request_id_var.get()
            # django.request logs a 4xx or 5xx after the middleware has returned
            or getattr(getattr(record, "request", None), "request_id", "")
        )
        return True


class SafeJsonFormatter(JsonFormatter):
    """JSON lines without the objects some loggers attach: Django's request (its repr holds the
    query string) and the socket of the development server."""

    def add_fields(self, log_data, record, message_dict) -> None:
        super().add_fields(log_data, record, message_dict)
        for key in ("request", "server_time"):
            log_data.pop(key, None)
        if isinstance(log_data.get("data"), dict):  # Celery's task lines
            log_data["data"] = {k: v for k, v in log_data["data"].items() if k not in _TASK_DATA}
        if not log_data.get("request_id"):
            log_data.pop("request_id", None)


def logging_config(*, level: str, log_format: str) -> dict:
    """Django's LOGGING for `log_format` "json" or "text"."""
    formatter = (
        {
            "()": SafeJsonFormatter,
            "fmt": JSON_FIELDS,
            "timestamp": True,  # ISO 8601 in UTC
            "rename_fields": {"levelname": "level", "name": "logger"},
        }
        if log_format == "json"
        else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"patient_data": {"()": PatientDataFilter}},
        "formatters": {"main": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["patient_data"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own console handler prints unfiltered lines when DEBUG is on: ours only.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            # Never the SQL, even at LOG_LEVEL=DEBUG: its parameters are patient data.
            "django.db.backends": {"level": "INFO", "propagate": True},
            # The request line below replaces the development server's, which has query strings.
            "django.server": {"level": "WARNING", "propagate": True},
        },
    }


# --- Celery: same handlers, and one line per task --------------------------------------------

task_log = logging.getLogger("vertebro.task")
_task_started: dict[str, float] = {}


@signals.setup_logging.connect
def _django_logging_for_celery(**kwargs) -> None:
    """Connected, this stops Celery installing its own handlers; beat never runs django.setup(),
    so Django's LOGGING is applied here (again, for the worker: it is idempotent)."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.task_prerun.connect
def _task_started_at(task_id=None, **kwargs) -> None:
    _task_started[task_id] = time.monotonic()


@signals.task_postrun.connect
def _task_finished(task_id=None, task=None, retval=None, state=None, **kwargs) -> None:
    started = _task_started.pop(task_id, None)
    duration_ms = round((time.monotonic() - started) * 1000, 1) if started else None
    # Tasks return counts (or a dict of counts): safe to log. Anything else is not logged.
    result = retval if _counts_only(retval) else None
    task_log.info(
        "task %s %s", task.name if task else "?", (state or "").lower(),
        extra={"task": task.name if task else None, "task_id": task_id, "outcome": state,
               "duration_ms": duration_ms, "result": result},
    )


def _counts_only(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, int) for k, v in value.items()
    )
