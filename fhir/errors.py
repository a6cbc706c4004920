"""The FHIR interface's own refusals; FhirConfig.ready() adds them to the API's one table of codes
(api/errors.py), so an OperationOutcome carries the same stable codes as the REST API."""

ERROR_CODES: dict[str, tuple[int, str]] = {
    "fhir_unknown_resource_type": (400, "The FHIR interface serves no resource of this type."),
    "fhir_unknown_parameter": (
        400, "The search names a parameter this resource type does not have."
    ),
    "fhir_invalid_parameter": (
        400, "A search parameter's value cannot be read (a date, a number, a reference)."
    ),
    "insufficient_scope": (
        403, "The system client's token was not granted a scope for this read or search."
    ),
    "fhir_invalid_resource": (
        400, "The resource or Parameters sent cannot be read: issue.expression names where."
    ),
    "fhir_stale_version": (
        412, "If-Match names an older version of the Appointment than the current one."
    ),
}
