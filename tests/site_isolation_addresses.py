"""The addresses the site-isolation table walks (tests/test_site_isolation_table.py), read at
collection time from Django's URL resolver and drf-spectacular's schema, and how each parameter
of an address is filled with one site's objects."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import product

from django.contrib import admin
from django.urls import URLResolver, resolve, reverse
from drf_spectacular.generators import SchemaGenerator

from fhir.resources import resource_location_id, site_location_id
from fhir.schedules import schedule_id, schedule_site, schedule_slots
from fhir.types import TYPES as FHIR_TYPES
from scheduling.models import Resource, Site, StageKind, Surgeon
from scheduling.pages.board_actions import ACTIONS
from scheduling.reports.export import TABLES
from tests.site_isolation_world import TUESDAY

API_PREFIX = "api/v1/"
ADMIN_PREFIX = "admin/"

# How an address names an object: an id after "cases/" is a case, and so on (World.a and World.b
# hold each site's). A parameter that is in none of these fails
# test_every_address_is_walked_or_excluded_with_a_reason.
OBJECT_PARAMS = ("pk", "id")
OBJECTS_AFTER = {
    "cases": "cases", "patients": "patients", "messages": "messages", "needs-call": "texts",
    "waiting-list": "waiting", "closures": "closures",
    # The staff pages' call lists and the clinicians' review list.
    "texts": "texts", "calls": "cases", "review": "cases",
    # The FHIR interface (fhir/urls.py): its resource types.
    "Patient": "patients", "Appointment": "cases", "Practitioner": "surgeons",
    "Location": "locations", "Encounter": "cases", "ServiceRequest": "waiting",
    "Schedule": "schedules", "Slot": "slots",
    # A plan run: the API's .../plan/<pk>/ and the plan page's runs/<pk>/.
    "plan": "plans", "runs": "plans",
}
SITE_PARAMS = ("code", "day")
CHOICES = {
    "kind": list(StageKind.values), "action": list(ACTIONS), "report": list(TABLES),
    # A FHIR search names its type: each served one, and one that is not.
    "resource_type": [*FHIR_TYPES, "Observation"],
}


def _site_surgeons(code: str) -> list[int]:
    return list(Surgeon.objects.filter(sites__code=code).values_list("pk", flat=True))


def _site_locations(code: str) -> list[str]:
    """A site and its rooms and bays, as FHIR Location ids."""
    sites = Site.objects.filter(code=code).values_list("pk", flat=True)
    rooms = Resource.objects.filter(site__code=code).values_list("pk", flat=True)
    return [*map(site_location_id, sites), *map(resource_location_id, rooms)]


def _site_schedule_rows(code: str) -> list:
    return [*Resource.objects.filter(site__code=code).select_related("site").order_by("pk"),
            *Surgeon.objects.filter(sites__code=code).order_by("pk")]


def _site_schedules(code: str) -> list[str]:
    """Each room's, bay's and surgeon's Schedule id."""
    return [schedule_id(row) for row in _site_schedule_rows(code)]


def _site_slots(code: str) -> list[str]:
    """The Slot ids of the times the site's cases hold its rooms, bays and surgeons on the
    world's Tuesday."""
    day = datetime(TUESDAY.year, TUESDAY.month, TUESDAY.day, tzinfo=UTC)
    window = (day - timedelta(hours=12), day + timedelta(hours=36))
    return [
        slot.id for row in _site_schedule_rows(code)
        for slot in schedule_slots(row=row, site=schedule_site(row), window=window)
        if slot.status == "busy"
    ]


# Objects that only the FHIR interface names, found from the site's code.
OBJECTS_OF_SITE = {
    "surgeons": _site_surgeons, "locations": _site_locations, "schedules": _site_schedules,
    "slots": _site_slots,
}


def _objects(objects: dict, kind: str) -> list:
    return objects[kind] if kind in objects else OBJECTS_OF_SITE[kind](objects["code"][0])


# The admin site's own; a model admin's page of one row has the row's id as its only one.
ADMIN_SITE_PARAMS = {"content_type_id", "object_id", "app_label"}


@dataclass(frozen=True)
class Route:
    key: str  # the URL's name, or its route when it has none
    route: str
    pattern: object = field(compare=False)

    @property
    def name(self) -> str | None:
        return self.key if self.key != self.route else None

    @property
    def params(self) -> list[str]:
        return list(self.pattern.pattern.regex.groupindex)

    def url(self, values: dict) -> str:
        if self.name:
            return reverse(self.name, kwargs=values)
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), self.route)


def routes(resolver, namespace: str = "", prefix: str = ""):
    """Every URL pattern under `resolver`, with its whole route and namespaced name."""
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from routes(entry, inner, prefix + str(entry.pattern))
        else:
            route = prefix + str(entry.pattern)
            yield Route(f"{namespace}{entry.name}" if entry.name else route, route, entry)


SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def resolved(schema: dict) -> dict:
    """The schema itself, through $ref and the first of allOf/oneOf/anyOf."""
    while True:
        if "$ref" in schema:
            schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif combined := next((k for k in ("allOf", "oneOf", "anyOf") if k in schema), None):
            schema = schema[combined][0]
        else:
            return schema


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict = field(compare=False)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def url_name(self) -> str:
        sample = re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1) == "id" else "x", self.path)
        return resolve(sample).url_name

    def params(self, where: str) -> list[dict]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == where]

    @property
    def body_schema(self) -> dict | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        return resolved(content["application/json"]["schema"]) if content else None


def operations() -> list[Operation]:
    return [
        Operation(method.upper(), path, spec)
        for path, methods in SCHEMA["paths"].items()
        for method, spec in methods.items()
    ]


def _segment_before(address: str, param: str) -> str | None:
    found = re.search(rf"([\w-]+)/(?:<(?:\w+:)?{param}>|\{{{param}\}})", address)
    return found.group(1) if found else None


def unfillable(address: str, params: list[str]) -> list[str]:
    """The parameters of an address (a route or a schema path) the table has no value for."""
    return [
        param for param in params
        if not (
            _segment_before(address, param) in OBJECTS_AFTER if param in OBJECT_PARAMS
            else param in SITE_PARAMS or param in CHOICES
        )
    ]


def fillings(address: str, params: list[str], objects: dict) -> list[dict]:
    """Every combination of one site's `objects` (and of the choices, such as a board action)
    for the address's parameters."""
    choices = [
        _objects(objects, OBJECTS_AFTER[_segment_before(address, param)])
        if param in OBJECT_PARAMS
        else objects[param] if param in SITE_PARAMS else CHOICES[param]
        for param in params
    ]
    return [dict(zip(params, combination, strict=True)) for combination in product(*choices)]


def names_object(values: dict) -> bool:
    """The address names an object or a site, not just a choice such as a report."""
    return any(param in values for param in (*OBJECT_PARAMS, *SITE_PARAMS))


def model_admin_of(route: Route):
    """The model admin whose page this is, from the address: admin/<app>/<model>/..."""
    found = re.match(rf"{ADMIN_PREFIX}(\w+)/(\w+)/", route.route)
    if not found:
        return None
    return next(
        (model_admin for model, model_admin in admin.site._registry.items()
         if (model._meta.app_label, model._meta.model_name) == found.groups()),
        None,
    )
