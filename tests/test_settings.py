"""What the settings make of the environment, read in a fresh interpreter as a server would."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import production_environ
from vertebro_site.production import DEVELOPMENT_SECRET_KEY

ROOT = Path(__file__).resolve().parents[1]


def settings_in(env: dict, names: list[str]) -> dict:
    """The values of `names` after django.setup() with only `env` on top of a clean environment."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST", "CELERY_", "CACHE_", "DATABASE_"))
    }
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{k: getattr(s, k, None) for k in {names!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "vertebro_site.settings", **env},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_embedded_broker_keeps_every_folder_under_var_broker():
    name = "CELERY_BROKER_TRANSPORT_OPTIONS"
    options = settings_in({}, [name])[name]
    folders = {key: Path(value) for key, value in options.items() if key.endswith("_folder")
               or key.startswith("data_folder")}
    assert set(folders) == {"data_folder_in", "data_folder_out", "processed_folder",
                            "control_folder"}
    for key, folder in folders.items():
        assert folder.is_relative_to(ROOT / "var" / "broker"), (key, folder)
    assert folders["control_folder"] == ROOT / "var" / "broker" / "control"


def test_no_control_folder_is_kept_in_the_checkout():
    tracked = subprocess.run(["git", "ls-files", "control"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert tracked == ""
    assert "/control/" in (ROOT / ".gitignore").read_text().splitlines()


# --- a production start -----------------------------------------------------------------------


def manage_check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def without(env: dict, name: str) -> dict:
    return {key: value for key, value in env.items() if key != name}


REFUSALS = {
    "no secret key": (without(production_environ(), "DJANGO_SECRET_KEY"),
                      "DJANGO_SECRET_KEY is not set"),
    "the development key": (production_environ(DJANGO_SECRET_KEY=DEVELOPMENT_SECRET_KEY),
                            "DJANGO_SECRET_KEY is not set"),
    "an empty key": (production_environ(DJANGO_SECRET_KEY=""), "DJANGO_SECRET_KEY is not set"),
    "a short key": (production_environ(DJANGO_SECRET_KEY="k" * 49),
                    "DJANGO_SECRET_KEY has 49 characters: set it to 50 or more"),
    "the embedded broker": (production_environ(CELERY_BROKER_URL="filesystem://"),
                            "CELERY_BROKER_URL is the embedded filesystem:// broker"),
    "no broker": (without(production_environ(), "CELERY_BROKER_URL"),
                  "CELERY_BROKER_URL is the embedded filesystem:// broker"),
    "SQLite": (production_environ(DATABASE_URL="sqlite:////tmp/vertebro.sqlite3"),
               "DATABASE_URL is SQLite"),
    "no database": (without(production_environ(), "DATABASE_URL"), "DATABASE_URL is SQLite"),
}


@pytest.mark.parametrize(("env", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_production_refuses_to_start_unsafe_and_says_what_to_set(env, message):
    result = manage_check(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: Vertebro does not start with DJANGO_ENV=production" in (
        result.stderr)
    assert message in result.stderr


def test_every_problem_is_named_at_once():
    result = manage_check(production_environ(
        DJANGO_SECRET_KEY="short", CELERY_BROKER_URL="filesystem://", DATABASE_URL="sqlite://"
    ))
    assert result.returncode != 0
    for variable in ("DJANGO_SECRET_KEY", "CELERY_BROKER_URL", "DATABASE_URL"):
        assert f"- {variable} " in result.stderr


def test_production_starts_with_a_strong_key_postgresql_and_redis():
    result = manage_check(production_environ())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_development_starts_with_the_embedded_defaults():
    values = settings_in({}, ["SECRET_KEY", "CELERY_BROKER_URL", "DATABASES"])
    assert values["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    assert values["CELERY_BROKER_URL"] == "filesystem://"
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"


def test_old_secret_keys_are_read_as_fallbacks():
    values = settings_in({"DJANGO_SECRET_KEY_FALLBACKS": "old-one,older-one"},
                         ["SECRET_KEY_FALLBACKS"])
    assert values == {"SECRET_KEY_FALLBACKS": ["old-one", "older-one"]}


# --- the cache and the rate limits ------------------------------------------------------------


def test_the_cache_is_this_process_by_default_and_redis_with_cache_url():
    embedded = settings_in({}, ["CACHES"])["CACHES"]["default"]
    assert embedded["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    shared = settings_in({"CACHE_URL": "redis://redis.internal:6379/1"}, ["CACHES"])
    assert shared["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://redis.internal:6379/1",
    }


def test_a_cache_url_that_is_not_redis_is_refused():
    result = manage_check(production_environ(CACHE_URL="memcached://cache.internal:11211"))
    assert result.returncode != 0
    assert "CACHE_URL must be a Redis address" in result.stderr


def test_the_rate_limits_have_defaults_and_the_environment_changes_them():
    defaults = settings_in({}, ["RATE_LIMITS"])["RATE_LIMITS"]
    assert defaults == {"plan": "10/min", "token": "10/min", "patient_link": "30/min",
                        "family_board": "30/min"}
    changed = settings_in({"RATE_LIMIT_PLAN": "5/hour", "RATE_LIMIT_FAMILY_BOARD": ""},
                          ["RATE_LIMITS"])["RATE_LIMITS"]
    assert changed["plan"] == "5/hour"
    assert changed["family_board"] == ""


def test_a_rate_limit_written_wrong_is_refused_at_start():
    result = manage_check(production_environ(RATE_LIMIT_TOKEN="10 a minute"))
    assert result.returncode != 0
    assert "RATE_LIMIT_TOKEN is '10 a minute': write a count per second, minute" in result.stderr
