"""What stops a production start: settings that are fine on a developer's machine and unsafe with
patients' data, each told as what to set. settings.py refuses to load with any of them, so the
web server, the workers and beat all fail at once, with this message, rather than run."""

from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
# Django's own deployment check asks for 50 characters (security.W009).
SECRET_KEY_MIN_LENGTH = 50
NEW_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(60))"'


def production_problems(*, secret_key: str, database_engine: str, broker_url: str) -> list[str]:
    problems = []
    if not secret_key or secret_key == DEVELOPMENT_SECRET_KEY:
        problems.append(
            "DJANGO_SECRET_KEY is not set (the development key is in use): set it to 50 or more "
            f"random characters, for example the output of {NEW_KEY}."
        )
    elif len(secret_key) < SECRET_KEY_MIN_LENGTH:
        problems.append(
            f"DJANGO_SECRET_KEY has {len(secret_key)} characters: set it to 50 or more random "
            f"characters, for example the output of {NEW_KEY}."
        )
    if broker_url.startswith("filesystem://"):
        problems.append(
            "CELERY_BROKER_URL is the embedded filesystem:// broker, which no other machine can "
            "reach: set it to your Redis, e.g. redis://redis.internal:6379/0."
        )
    if database_engine == "django.db.backends.sqlite3":
        problems.append(
            "DATABASE_URL is SQLite (or not set): set it to your PostgreSQL database, e.g. "
            "postgres://vertebro:secret@db.internal:5432/vertebro."
        )
    return problems


def refuse_unsafe_production(**settings) -> None:
    problems = production_problems(**settings)
    if problems:
        raise ImproperlyConfigured(
            "Vertebro does not start with DJANGO_ENV=production and these settings:\n- "
            + "\n- ".join(problems)
        )
