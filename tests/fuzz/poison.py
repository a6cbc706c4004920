"""Requests with one string replaced by a poison (a NUL byte, a megabyte of text), built from the
OpenAPI document alone, so every operation the schema has is covered without a list here.

A request starts from plain values for every documented field (the unit's own codes where a
field names one) and then poisons one string at a time: a query parameter, a path parameter, or
one leaf of the JSON body (a nested field such as patient.last_name, or an item of a list)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

NUL = "Whit\x00field"
HUGE = "x" * 1_000_000

# Fields and path parameters that name one of the unit's objects (a site's code, a day it is
# open); anything else gets a plain value from its schema.
UNIT_VALUES = {"site": "main", "code": "main", "procedure_type": "vertebroplasty",
               "day": "2026-03-03", "date": "2026-03-03"}
FORMAT_VALUES = {"date": "2026-03-03", "date-time": "2026-03-03T10:00:00-05:00",
                 "email": "patient@example.org"}


@dataclass
class Poisoned:
    """One request: where the poison sits (for the failure message) and what is sent."""

    where: str
    field: str
    path_parameters: dict[str, Any]
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


class Document:
    def __init__(self, raw: dict) -> None:
        self.raw = raw

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            node = self.raw
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.resolve(schema["allOf"][0]) | {k: v for k, v in schema.items()
                                                         if k != "allOf"}
        return schema

    def plain(self, schema: dict, name: str = "") -> Any:
        """A plain value of this schema, so that only the poisoned field is wrong."""
        schema = self.resolve(schema)
        if "enum" in schema:
            return next(value for value in schema["enum"] if value is not None)
        kind = schema.get("type", "object")
        if kind == "object":
            return {key: self.plain(sub, key) for key, sub in schema.get("properties", {}).items()}
        if kind == "array":
            return []
        if kind == "boolean":
            return False
        if kind in ("integer", "number"):
            return max(schema.get("minimum", 1), 1)
        return UNIT_VALUES.get(name) or FORMAT_VALUES.get(schema.get("format"), "plain")

    def string_leaves(self, schema: dict, prefix: str = "") -> Iterator[tuple[tuple, str]]:
        """(path into the body, dotted name) of every string the body can carry."""
        schema = self.resolve(schema)
        kind = schema.get("type", "object")
        if kind == "object":
            for key, sub in schema.get("properties", {}).items():
                for path, name in self.string_leaves(sub, f"{prefix}{key}."):
                    yield (key, *path), name
        elif kind == "array":
            for path, name in self.string_leaves(schema.get("items", {}), prefix):
                yield (0, *path), name
        elif kind == "string":
            yield (), prefix.rstrip(".")


def _with(value: Any, path: tuple, poison: str) -> Any:
    if not path:
        return poison
    head, *rest = path
    if isinstance(head, int):
        return [_with(None, tuple(rest), poison)] if rest else [poison]
    value = dict(value or {})
    value[head] = _with(value.get(head), tuple(rest), poison)
    return value


def poisoned_requests(document: Document, operation: dict, path_parameters: dict,
                      poison: str) -> Iterator[Poisoned]:
    parameters = [document.resolve(p) for p in operation.get("parameters", [])]
    query = {p["name"]: document.plain(p.get("schema", {}), p["name"])
             for p in parameters if p["in"] == "query"}
    content = operation.get("requestBody", {}).get("content", {})
    body_schema = content.get("application/json", {}).get("schema")
    body = document.plain(body_schema) if body_schema else None
    for parameter in parameters:
        if document.resolve(parameter.get("schema", {})).get("type") != "string":
            continue
        name = parameter["name"]
        if parameter["in"] == "query":
            yield Poisoned("query", name, path_parameters, query | {name: poison}, body)
        elif parameter["in"] == "path":
            yield Poisoned("path", name, path_parameters | {name: poison}, query, body)
    if body_schema:
        for path, name in document.string_leaves(body_schema):
            yield Poisoned("body", name, path_parameters, query, _with(body, path, poison))
