from django.apps import AppConfig

from api.errors import error_codes_add

from .errors import ERROR_CODES


class FhirConfig(AppConfig):
    """The FHIR R4 interface for the hospital's record system, under /fhir/R4/."""

    name = "fhir"
    verbose_name = "FHIR R4"

    def ready(self) -> None:
        error_codes_add(ERROR_CODES)
