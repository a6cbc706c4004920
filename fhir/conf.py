"""The URIs the interface names its codes and identifiers under, from settings, each with a
default under the product's own base."""

from django.conf import settings

DEFAULT_BASE = "https://vertebro.org/fhir"


def canonical_base() -> str:
    return getattr(settings, "VERTEBRO_FHIR_BASE", DEFAULT_BASE).rstrip("/")


def mrn_system() -> str:
    """The hospital's identifier system for its MRNs: set it to the record system's own."""
    return getattr(settings, "VERTEBRO_FHIR_MRN_SYSTEM", f"{canonical_base()}/sid/mrn")


def procedure_system() -> str:
    return getattr(
        settings, "VERTEBRO_FHIR_PROCEDURE_SYSTEM", f"{canonical_base()}/CodeSystem/procedure-type"
    )


def surgeon_system() -> str:
    return getattr(settings, "VERTEBRO_FHIR_SURGEON_SYSTEM", f"{canonical_base()}/sid/surgeon")


def error_system() -> str:
    return f"{canonical_base()}/CodeSystem/error-code"


def arrival_extension_url() -> str:
    return f"{canonical_base()}/StructureDefinition/arrival-time"


def levels_extension_url() -> str:
    """The number of vertebral levels the case treats."""
    return f"{canonical_base()}/StructureDefinition/levels"


def hold_expiry_extension_url() -> str:
    return f"{canonical_base()}/StructureDefinition/hold-expires"


def screening_extension_url() -> str:
    """The screening answers a booking through Appointment/$book carries."""
    return f"{canonical_base()}/StructureDefinition/screening"
