"""The questions the site-isolation table (tests/test_site_isolation_table.py) asks of each
address as a member of site B's staff, and how an answer is judged: a refusal where one is due,
none of site A's patients' details in it, nothing of site A's changed, and no difference from
the answer about something that does not exist."""

import json
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse

from scheduling.models import Patient
from tests.conftest import CLEAR_SCREENING
from tests.site_isolation_addresses import (
    OBJECT_PARAMS,
    Operation,
    Route,
    fillings,
    model_admin_of,
    names_object,
    resolved,
)
from tests.site_isolation_world import MONDAY, TUESDAY, leaks_in, site_a_state

# Refusals: of an object of another site named in the address, of a query or body naming one,
# and in the admin (where a row not found is a redirect to the index).
OUT = frozenset({403, 404, 405})
REFUSED = frozenset({400, 403, 404, 405, 409})
ADMIN_OUT = frozenset({302, 403, 404})
UNKNOWN_PATIENT_ID = 2**31 - 7
UNKNOWN_SITE = "no-such-site"
ADMIN_ROWS_ASKED = 6  # of each model: site A's first rows, the patients' own among them
OMIT = object()


@dataclass
class Ask:
    what: str
    method: str
    url: str
    query: dict = field(default_factory=dict)
    body: dict | None = None
    allowed: frozenset | None = None  # None: any answer but a 5xx
    absent: list[str] = field(default_factory=list)  # addresses the answer must not link to
    twin: "Ask | None" = None  # the same question about something that does not exist

    @property
    def sent(self) -> str:
        return " ".join([self.url, json.dumps(self.query), json.dumps(self.body)])

    def __str__(self) -> str:
        query = f"?{urlencode(self.query, doseq=True)}" if self.query else ""
        return f"{self.method} {self.url}{query} ({self.what})"


def shown(response) -> str:
    """The whole answer as text: body, redirect target, file name and the messages queued for
    the next page."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    queued = getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", [])
    return " ".join([
        content.decode("utf-8", "replace"),
        response.get("Location", ""),
        response.get("Content-Disposition", ""),
        *(str(message) for message in queued),
    ])


def _to_login(response) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and (
        location.startswith(reverse("login")) or location.startswith(reverse("admin:login"))
    )


def _code(response) -> str:
    try:
        return response.json().get("code", "")
    except (ValueError, AttributeError, TypeError):  # not JSON, or no body at all (204)
        return ""


def _send(client, ask: Ask, *, api: bool):
    if api:
        query = f"?{urlencode(ask.query, doseq=True)}" if ask.query else ""
        data = json.dumps(ask.body) if ask.body is not None else ""
        return client.generic(ask.method, ask.url + query, data, content_type="application/json")
    if ask.method == "GET":
        return client.get(ask.url, ask.query)
    return client.post(ask.url, ask.body or {})


def problems_of(client, ask: Ask, world, *, api: bool) -> list[str]:
    """What is wrong with the answer to `ask`, a line each. The request's writes are undone
    after, so that every question starts from the same site A."""
    problems = []
    with transaction.atomic():
        before = site_a_state(world) if ask.method != "GET" else None
        try:
            response = _send(client, ask, api=api)
        except Exception as error:  # the test client re-raises what a 500 would hide
            transaction.set_rollback(True)
            return [f"{ask}: raises {type(error).__name__}: {error}"]
        text, status = shown(response), response.status_code
        if status >= 500:
            problems.append(f"{ask}: answers {status}")
        elif ask.allowed is not None and status not in ask.allowed and not _to_login(response):
            problems.append(f"{ask}: answers {status}, not one of {sorted(ask.allowed)}")
        if leaks := leaks_in(text, ask.sent, world):
            problems.append(f"{ask}: answers {status} showing " + "; ".join(leaks))
        if linked := [address for address in ask.absent if address in text]:
            problems.append(f"{ask}: lists site A's rows " + ", ".join(linked))
        if before is not None and (after := site_a_state(world)) != before:
            changed = [part for part in before if before[part] != after[part]]
            problems.append(f"{ask}: answers {status} and changes site A's " + ", ".join(changed))
        answer = (status, _code(response))
        transaction.set_rollback(True)
    if ask.twin is not None:
        with transaction.atomic():
            twin = _send(client, ask.twin, api=api)
            unknown = (twin.status_code, _code(twin))
            transaction.set_rollback(True)
        if unknown != answer:
            problems.append(
                f"{ask}: answers {answer}, but {unknown} for {ask.twin.what}: "
                "the difference tells that site A's exists"
            )
    return problems


# Staff pages

def _form(code: str) -> dict:
    """The fields of every staff form, filled plausibly for the site with this code."""
    screening = {
        name: ("yes" if value else "no")
        for name, value in CLEAR_SCREENING.items() if isinstance(value, bool)
    }
    return {
        "token": "", "action": "book", "site": code, "date": TUESDAY.isoformat(),
        "procedure_type": "vertebroplasty", "levels": "1", "surgeon": "", "start": "",
        "reason": "Asked by phone", "version": "", "driver_name": "Dora Driver",
        "driver_phone": "+12125550199", "preferred_channel": "sms", "language": "en",
        "waiting_list": "on", "time_limit": "2", "no_medicines": "on", **screening,
        "conservative_treatment_weeks": str(CLEAR_SCREENING["conservative_treatment_weeks"]),
    }


def _site_query(code: str) -> dict:
    return {"site": code, "date": TUESDAY.isoformat(),
            "start": (MONDAY - timedelta(days=28)).isoformat(), "end": TUESDAY.isoformat()}


def page_asks(page: Route, world) -> list[Ask]:
    asks = []
    for values in fillings(page.route, page.params, world.a):
        url = page.url(values)
        if names_object(values):
            asks.append(Ask("site A's object", "GET", url, allowed=OUT))
            asks.append(Ask("site A's object", "POST", url, body=_form(world.alpha.code),
                            allowed=OUT))
        else:
            asks += _page_questions(url, world)
    if names_object(dict.fromkeys(page.params)):
        # Their own site's objects may show or offer site A's patients too (the waiting
        # patients who could take a cancelled case's time).
        for values in fillings(page.route, page.params, world.b):
            url = page.url(values)
            asks.append(Ask("their own site's object", "GET", url))
            asks.append(Ask("their own site's object", "POST", url, body=_form(world.bravo.code)))
    return asks


def _page_questions(url: str, world) -> list[Ask]:
    """A page whose address names no object, asked about site A by its code (which must be
    answered as a code no site has) and about site A's patients by their details."""
    zebulon, ottoline = world.patients_a
    alpha, bravo = world.alpha.code, world.bravo.code
    return [
        Ask("their own site", "GET", url),
        Ask("site A by its code", "GET", url, query=_site_query(alpha),
            twin=Ask("a site that does not exist", "GET", url, query=_site_query(UNKNOWN_SITE))),
        Ask("site A's patient's MRN", "GET", url,
            query={"q": zebulon.mrn, "mrn": zebulon.mrn, "find_mrn": zebulon.mrn}),
        Ask("site A's patient's name", "GET", url, query={"q": ottoline.last_name}),
        Ask("site A's patient's phone", "GET", url, query={"q": "646 555 0177"}),
        Ask("site A's patient's date of birth", "GET", url,
            query={"q": ottoline.date_of_birth.isoformat()}),
        Ask("site A's patient's id", "GET", url, query={
            "patient": zebulon.pk, "patient_id": zebulon.pk, "use_patient": zebulon.pk,
        }),
        Ask("site A by its code", "POST", url, body=_form(alpha),
            twin=Ask("a site that does not exist", "POST", url, body=_form(UNKNOWN_SITE))),
        Ask("site A's patient's MRN at their own site", "POST", url,
            body=_form(bravo) | {"find_mrn": zebulon.mrn}),
        Ask("site A's patient by id at their own site", "POST", url,
            body=_form(bravo) | {"use_patient": str(zebulon.pk)}),
        Ask("registering site A's patient's MRN at their own site", "POST", url,
            body=_form(bravo) | {"first_name": "Other", "last_name": "Person",
                                 "date_of_birth": "1950-01-01", "mrn": zebulon.mrn}),
        Ask("registering site A's patient's name and birth date at their own site", "POST", url,
            body=_form(bravo) | {"first_name": zebulon.first_name,
                                 "last_name": zebulon.last_name,
                                 "date_of_birth": zebulon.date_of_birth.isoformat(),
                                 "mrn": "MRN-B-2002"}),
    ]


# The API

def _example(schema: dict, given: dict):
    """A plausible value for `schema`, with the named properties taken from `given`."""
    schema = resolved(schema)
    if "properties" in schema:
        body = {}
        for name, part in schema["properties"].items():
            value = given[name] if name in given else _example(part, {})
            if value is not OMIT and not part.get("readOnly"):
                body[name] = value
        return body
    if "enum" in schema:
        return schema["enum"][0]
    kind, form = schema.get("type"), schema.get("format")
    if kind == "string":
        moments = {"date": TUESDAY.isoformat(), "date-time": "2026-03-03T09:00:00-05:00"}
        return moments.get(form, "x")
    if kind in ("integer", "number"):
        return max(schema.get("minimum", 1), 1)
    return {"boolean": False, "array": []}.get(kind)


def _given(world, code: str, **patient) -> dict:
    """A value for each property the API takes, for the site with this code; `patient` says
    who (patient_id=..., or a new patient=...), site A's patient by id when not given."""
    return {
        "site": code, "procedure_type": "vertebroplasty", "levels": 1,
        "date": TUESDAY.isoformat(), "earliest_date": TUESDAY.isoformat(),
        "latest_date": (TUESDAY + timedelta(days=7)).isoformat(), "status": "waiting",
        "surgeon": world.surgeon_a if code == world.alpha.code else OMIT, "start": OMIT,
        "screening": dict(CLEAR_SCREENING), "medications": ["warfarin"],
        "driver": {"name": "Dora Driver", "phone": "+12125550199"},
        "driver_name": "Dora Driver", "driver_phone": "+12125550199", "note": "Asked by phone",
        "priority": "urgent", "reason": "Asked by phone", "token": "x", "override_reason": OMIT,
        "waiting_list": True, "allow_move_told": False, "time_limit": 1, "what_if": OMIT,
        "username": "nobody", "password": "not-the-password",
        "patient_id": OMIT, "patient": OMIT,
    } | (patient or {"patient_id": world.patients_a[0].pk})


def _query(operation: Operation, world, code: str) -> dict:
    given = _given(world, code)
    query = {}
    for param in operation.params("query"):
        value = given.get(param["name"], _example(param.get("schema", {}), {}))
        if value is not OMIT:
            query[param["name"]] = value
    return query


def api_asks(operation: Operation, world) -> list[Ask]:
    schema = operation.body_schema
    properties = schema.get("properties", {}) if schema else {}
    path_params = [p["name"] for p in operation.params("path")]
    method, alpha, bravo = operation.method, world.alpha.code, world.bravo.code

    def ask(what, url, code, **patient):
        body = _example(schema, _given(world, code, **patient)) if schema else None
        return Ask(what, method, url, _query(operation, world, code), body)

    asks = []
    for values in fillings(operation.path, path_params, world.a):
        question = ask("site A's objects", operation.path.format(**values), alpha)
        if any(param in values for param in OBJECT_PARAMS):
            question.allowed = OUT
        elif "site" in question.query or "site" in properties or "code" in values:
            # Site A by its code must be answered as a code no site has.
            question.allowed = REFUSED
            unknown = operation.path.format(**(values | {"code": UNKNOWN_SITE}))
            question.twin = ask("a site that does not exist", unknown, UNKNOWN_SITE)
        elif question.query or "patient_id" in properties:
            question.allowed = REFUSED
        asks.append(question)
    if path_params:
        return asks + [
            ask("their own site's objects", operation.path.format(**values), bravo)
            for values in fillings(operation.path, path_params, world.b)
        ]
    url = operation.path
    if operation.params("query"):
        asks.append(Ask("their own site", method, url, _query(operation, world, bravo)))
        asks.append(Ask("no query", method, url))
    zebulon = world.patients_a[0]
    if "patient_id" in properties:
        question = ask("site A's patient by id at their own site", url, bravo,
                       patient_id=zebulon.pk)
        question.allowed = REFUSED
        question.twin = ask("a patient who does not exist", url, bravo,
                            patient_id=UNKNOWN_PATIENT_ID)
        asks.append(question)
    if "patient" in properties:
        question = ask("registering site A's patient's MRN at their own site", url, bravo,
                       patient={"first_name": "Other", "last_name": "Person",
                                "date_of_birth": "1950-01-01", "mrn": zebulon.mrn})
        question.allowed = REFUSED
        asks.append(question)
        asks.append(ask(
            "registering site A's patient's name and birth date at their own site", url, bravo,
            patient={"first_name": zebulon.first_name, "last_name": zebulon.last_name,
                     "date_of_birth": zebulon.date_of_birth.isoformat(), "mrn": "MRN-B-2002"},
        ))
    return asks


# The Django admin

def _private_models() -> set:
    """Patients and every model whose rows are about one (a case, a stage, a message, a text,
    an access-log line)."""
    private = {Patient}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model not in private and any(
                (column.is_relation and column.related_model in private)
                or column.name in ("patient_id", "case_id")
                for column in model._meta.concrete_fields
            ):
                private.add(model)
                grew = True
    return private


def _private(model, pk, private_models) -> bool:
    if model in private_models:
        return True
    names = {column.name for column in model._meta.concrete_fields}
    if "content_type" in names and names & {"object_pk", "object_id"}:
        target = model._default_manager.get(pk=pk).content_type.model_class()
        return target in private_models  # a change-log line about a patient's record
    return False


def change_url(model, pk) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
                   args=[quote(pk)])


def admin_asks(route: Route, world) -> list[Ask]:
    model_admin = model_admin_of(route)
    params = route.params
    private_models = _private_models()
    zebulon, ottoline = world.patients_a
    if model_admin is not None and params:  # a page of one row: its id is the only parameter
        model = model_admin.model
        asks = []
        for pk in world.rows_a[model][:ADMIN_ROWS_ASKED]:
            url = route.url({params[0]: quote(pk)})
            allowed = ADMIN_OUT if _private(model, pk, private_models) else None
            asks.append(Ask("site A's row", "GET", url, allowed=allowed))
            if route.key.endswith("_delete"):
                asks.append(Ask("deleting site A's row", "POST", url, body={"post": "yes"},
                                allowed=allowed))
        return asks + [
            Ask("their own site's row", "GET", route.url({params[0]: quote(pk)}))
            for pk in world.rows_b[model][:2]
        ]
    if "content_type_id" in params:
        return [
            Ask("site A's row", "GET", route.url({
                "content_type_id": ContentType.objects.get_for_model(type(row)).pk,
                "object_id": row.pk,
            }), allowed=ADMIN_OUT)
            for row in [zebulon, world.cases_a[1], world.waiting_a[0]]
        ]
    if "app_label" in params:
        labels = dict.fromkeys(model._meta.app_label for model in admin.site._registry)
        return [Ask("an app", "GET", reverse(route.name, kwargs={"app_label": label}))
                for label in labels]
    url = route.url({})
    if route.key == "admin:autocomplete":
        fields = [
            (model, name) for model, registered in admin.site._registry.items()
            for name in registered.autocomplete_fields
        ] or [(apps.get_model("scheduling", "Case"), "patient")]
        return [
            Ask("site A's patient's name", "GET", url, query={
                "app_label": model._meta.app_label, "model_name": model._meta.model_name,
                "field_name": name, "term": ottoline.last_name,
            })
            for model, name in fields
        ]
    if model_admin is None or not route.key.endswith("_changelist"):
        return [Ask("the page", "GET", url)]
    model = model_admin.model
    absent = [change_url(model, pk) for pk in world.rows_a[model]
              if _private(model, pk, private_models)]
    actions = [name for name, _ in admin.site.actions] + [
        action if isinstance(action, str) else action.__name__
        for action in model_admin.actions or []
    ]
    return [
        Ask("the list", "GET", url, absent=absent),
        Ask("site A's patient's name", "GET", url, query={"q": zebulon.last_name}, absent=absent),
        Ask("site A's patient's MRN", "GET", url, query={"q": ottoline.mrn}, absent=absent),
    ] + [
        Ask(f"the action {action} on site A's rows", "POST", url, body={
            "action": action, "index": "0", "_selected_action": world.rows_a[model],
        })
        for action in actions
    ]
