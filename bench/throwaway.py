"""A throwaway PostgreSQL database for a bench script.

Django is set up on DATABASE_URL (a default when unset); the script's own database,
test_<name>_<script>, is created with Django's test-database machinery, migrated, and dropped at
the end. It is never Django's usual test_<name>, which a pytest run on the same server uses.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Unavailable(Exception):
    """No PostgreSQL to measure on: the message says why and what to set."""


class BenchError(Exception):
    """A run that went wrong: the message says what, and the script exits 1."""


@contextmanager
def bench_database(script: str, default_url: str) -> Iterator[tuple[str, str]]:
    """throwaway_database for a script's main(): no PostgreSQL (exit 2) or a BenchError (exit 1)
    is told in one line, without a traceback, and ends the script."""
    try:
        with throwaway_database(script, default_url) as names:
            yield names
    except Unavailable as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


@contextmanager
def throwaway_database(script: str, default_url: str) -> Iterator[tuple[str, str]]:
    """Yield (server version, database name) while the database exists."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", default_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vertebro_site.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    if connection.vendor != "postgresql":
        raise Unavailable(
            f"bench/{script}.py measures PostgreSQL only, but DATABASE_URL gives "
            f"{connection.vendor}. Set DATABASE_URL to a postgres:// URL (default {default_url})."
        )
    name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"test_{name}_{script}"
    setup_test_environment(debug=False)
    try:
        test_name = connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=False
        )
    except Exception as exc:  # a server that cannot be reached: say so, without a traceback
        teardown_test_environment()
        raise Unavailable(f"Could not create the throwaway database: {exc}") from None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
        yield server, test_name
    finally:
        connection.close()
        connection.creation.destroy_test_db(name, verbosity=0, keepdb=False)
        teardown_test_environment()
