from django.apps import AppConfig
from django.contrib.auth.signals import user_login_failed

from .lockout import lockout_flag_to_django_request


class ApiConfig(AppConfig):
    """The project's API plumbing: the error format, JSON input, permissions, the token login
    and the root API addresses. The apps' operations live with the apps."""

    name = "api"

    def ready(self) -> None:
        # Connected here, once "axes" (before "api" in INSTALLED_APPS) has connected its own.
        user_login_failed.connect(lockout_flag_to_django_request, dispatch_uid="axes-drf-lockout")
