"""gunicorn settings for Vertebro: gunicorn -c deploy/gunicorn.conf.py (see docs/deployment.md).

Every value can be changed from the environment (the systemd unit reads /etc/vertebro/env).
"""

import multiprocessing
import os
import sys
from pathlib import Path

from gunicorn.glogging import Logger

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vertebro_site.logging_setup import logging_config, redact  # noqa: E402 - needs ROOT

chdir = str(ROOT)
wsgi_app = "vertebro_site.wsgi:application"
# Behind the reverse proxy only: never let clients reach gunicorn directly (DJANGO_PROXY_COUNT).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request holds one PostgreSQL connection; PostgreSQL's max_connections must
# cover workers x machines, plus the Celery pool processes.
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A booking takes well under a second; a request still running after 30 s is stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Workers are replaced now and then so a slow leak never grows without bound.
max_requests = 2000
max_requests_jitter = 200
# Django's request log line (JSON in production) is the access log. Set GUNICORN_ACCESS_LOG=-
# for gunicorn's own as well: path without query string, patient-link tokens taken out.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn's own lines in the app's format (JSON in production), through the same filter.
_log_format = os.environ.get("DJANGO_LOG_FORMAT") or (
    "json" if os.environ.get("DJANGO_ENV") == "production" else "text"
)
logconfig_dict = logging_config(level=os.environ.get("LOG_LEVEL", "INFO"), log_format=_log_format)
logconfig_dict["loggers"].update({
    "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
    # gunicorn writes access lines whenever a logging config is given: kept out unless asked for
    "gunicorn.access": {"level": "INFO" if accesslog else "WARNING", "handlers": [],
                        "propagate": True},
})


class RedactingLogger(Logger):
    """Even if a format names the full request line, the referrer or the query string, the
    query string and patient-link tokens never reach the access log."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["q"] = "-"
        for key in ("r", "U", "f", "{referer}i"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms


logger_class = RedactingLogger
