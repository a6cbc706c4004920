from django.apps import AppConfig

from api.errors import error_codes_add

from .errors import ERROR_CODES


class SchedulingConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'scheduling'

    def ready(self) -> None:
        error_codes_add(ERROR_CODES)
