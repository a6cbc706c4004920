"""/fhir/R4/: the CapabilityStatement, SMART's discovery document and token endpoint, a read
address per resource type, and one search address
whose converter also takes an unknown type (and `Type/id` of one), answered 400 rather than with
the site's 404 page."""

from django.urls import path, register_converter

from .auth import SmartConfigurationView, TokenView
from .types import TYPES
from .views import (
    BookView,
    FindView,
    HoldView,
    MetadataView,
    OperationDefinitionView,
    ReadView,
    SearchView,
)


class ResourceTypeConverter:
    regex = r"[A-Z][A-Za-z]{0,63}(?:/[^/]{1,64})?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ResourceTypeConverter, "fhir_type")

urlpatterns = [
    path("metadata", MetadataView.as_view(), name="fhir-metadata"),
    path(".well-known/smart-configuration", SmartConfigurationView.as_view(),
         name="fhir-smart-configuration"),
    path("auth/token", TokenView.as_view(), name="fhir-token"),
    # The operations before the reads, whose id would otherwise take "$find".
    path("Appointment/$find", FindView.as_view(), name="fhir-appointment-find"),
    path("Appointment/$hold", HoldView.as_view(), name="fhir-appointment-hold"),
    path("Appointment/$book", BookView.as_view(), name="fhir-appointment-book"),
    path("OperationDefinition/<str:id>", OperationDefinitionView.as_view(),
         name="fhir-operation-definition"),
    *(
        path(f"{name}/<str:id>", ReadView.as_view(fhir_type=fhir_type),
             name=f"fhir-{name.lower()}")
        for name, fhir_type in TYPES.items()
    ),
    path("<fhir_type:resource_type>", SearchView.as_view(), name="fhir-search"),
]
