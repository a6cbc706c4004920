"""Errors to Sentry, when SENTRY_DSN is set: from the web (Django) and the workers (Celery).

Nothing that could name a patient leaves the building: no default PII, no local variables of
stack frames, no request bodies, cookies, headers or query strings, no user but their id, no task
arguments, and no exception messages (a database error's DETAIL quotes the row it refused). An
error is still found by its type, its stack and the path it happened on.
"""

from .logging_setup import redact

KEPT_BREADCRUMB_KEYS = ("type", "category", "level", "timestamp", "message")


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0, **extra) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        **extra,
    )


def before_send(event: dict, hint: dict) -> dict:
    request = event.get("request")
    if request:
        event["request"] = {
            key: redact(request[key].split("?")[0]) if key == "url" else request[key]
            for key in ("method", "url")
            if request.get(key)
        }
    user = event.get("user")
    if user:
        event["user"] = {"id": user["id"]} if user.get("id") is not None else {}
    for exception in (event.get("exception") or {}).get("values") or []:
        exception.pop("value", None)
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    if "logentry" in event:
        entry = event["logentry"]
        entry["message"] = redact(entry.get("formatted") or entry.get("message") or "")
        entry.pop("params", None)
        entry.pop("formatted", None)
    if "message" in event and isinstance(event["message"], str):
        event["message"] = redact(event["message"])
    job = (event.get("extra") or {}).get("celery-job") or {}
    event["extra"] = {"task_name": job["task_name"]} if "task_name" in job else {}
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs["values"] = [before_breadcrumb(crumb, {}) for crumb in breadcrumbs["values"]]
    return event


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    """Breadcrumbs keep what happened (a query's statement, a log line) but not their data."""
    kept = {key: crumb[key] for key in KEPT_BREADCRUMB_KEYS if key in crumb}
    if isinstance(kept.get("message"), str):
        kept["message"] = redact(kept["message"])
    return kept
