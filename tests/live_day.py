"""A day built once for a module of browser tests, served by a live server of the module's own.

pytest-django's `live_server` makes every test transactional: the database is emptied after each
one, so a day that takes seconds to build (the demo's) is built again for every test. Browser
tests that only read the day share one build instead: it is committed once (the server's threads
see it), each test runs in a transaction of its own (`pytest.mark.django_db`, which also lets the
server's threads reach the database), and when the module ends the database is emptied and the
reference data (roles, drug table, message rules) is put back, as the migrations left it."""

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import connections
from django.test.utils import override_settings
from pytest_django.live_server_helper import LiveServer

from notifications.models import ReminderRule
from tests.conftest import REFERENCE_DATA

Built = TypeVar("Built")


def reference_data_restored() -> None:
    """The roles, drug table and message rules that a transactional test's flush empties."""
    if ReminderRule.objects.exists():
        return
    for entry in REFERENCE_DATA:
        module, function = entry.split(":")
        getattr(importlib.import_module(module), function)(apps, None)


def settings_of_a_test(cache: str = "live-day") -> override_settings:
    """The settings conftest's autouse fixtures give each test (the in-memory outbox, a cache of
    the process's own, fast password hashing): they are function-scoped, so a module's fixture
    that builds a day must ask for them itself."""
    return override_settings(
        NOTIFICATIONS_SMS_BACKEND="notifications.backends.locmem.OutboxBackend",
        NOTIFICATIONS_EMAIL_BACKEND="notifications.backends.locmem.OutboxBackend",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                            "LOCATION": cache}},
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )


@contextmanager
def day_served(django_db_blocker, *, at: datetime, build: Callable[[], Built],
               cache: str = "live-day") -> Iterator[tuple[str, Built]]:
    """Build the day with the clock stopped at `at` and the settings of a test, start a live
    server on it, and yield its address and what `build` returned."""
    with (django_db_blocker.unblock(), time_machine.travel(at, tick=False),
          settings_of_a_test(cache)):
        reference_data_restored()
        server = None
        try:
            built = build()
            connections.close_all()  # the live server's threads open their own
            server = LiveServer("localhost")
            server._live_server_modified_settings.enable()
            yield server.url, built
        finally:
            if server is not None:
                server._live_server_modified_settings.disable()
                server.stop()
            # The tests after this module find the database as the migrations left it.
            call_command("flush", interactive=False, verbosity=0)
            reference_data_restored()
            connections.close_all()
