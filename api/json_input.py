"""JSON bodies: how deep they may nest, and that their values hold the JSON types the schema gives.

Depth. Python's json module parses nested arrays and objects by recursion, so a body such as
`[[[[...]]]]` 100,000 deep raises RecursionError (not the ValueError DRF turns into a parse error),
and one a few hundred deep would still recurse through every serializer and error formatter after
it. The deepest body the API takes is two levels (a case's patient or screening), so 32 is
generous.

Types. DRF on its own is lenient: it reads 12 as "12" for a text field, "12" as 12 for a number and
1 or "yes" as true, so a client's mistake (a reason sent as a number, a count sent as text) would
be saved as something it did not mean, and the schema would not say what the API takes."""

from collections.abc import Mapping

from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class JsonTooDeep(ParseError):
    default_code = "invalid_json"
    default_detail = f"The JSON body nests arrays or objects more than {MAX_DEPTH} levels deep."


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than MAX_DEPTH (`invalid_json`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise JsonTooDeep() from None
        if nested_deeper_than(data, MAX_DEPTH):
            raise JsonTooDeep()
        return data


def nested_deeper_than(data, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels ([] is one level); by a loop, not
    recursion, for the same reason as above."""
    containers = (dict, list)
    stack = [(data, 1)] if isinstance(data, containers) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, containers))
    return False


# Field class, the Python types json.loads gives for it, the message; the first match wins.
JSON_TYPES = [
    (serializers.BooleanField, (bool,), "Must be true or false."),
    (serializers.IntegerField, (int,), "Must be a whole number."),
    (serializers.FloatField, (int, float), "Must be a number."),
    (serializers.ChoiceField, (str,), "Must be one of the choices, as a string."),
    (serializers.CharField, (str,), "Must be a string."),
    (serializers.DateField, (str,), "Must be a date as a string, YYYY-MM-DD."),
    (serializers.DateTimeField, (str,), "Must be a date and time as a string (ISO 8601)."),
]


def json_type_error(field: serializers.Field, value) -> str | None:
    """Why `value` is not of the JSON type `field` takes, or None (None itself is left to the
    field, which knows whether it allows null)."""
    if value is None:
        return None
    if isinstance(field, serializers.ListField):
        items = value if isinstance(value, list) else []
        return next(filter(None, (json_type_error(field.child, item) for item in items)), None)
    for kind, types, message in JSON_TYPES:
        if isinstance(field, kind):
            wrong_bool = isinstance(value, bool) and bool not in types
            return message if wrong_bool or not isinstance(value, types) else None
    return None


class JsonInput(serializers.Serializer):
    """An object of a JSON body (nested objects too): values of the wrong JSON type are refused
    (`invalid`, the field named) before DRF would convert them."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {
                name: [message]
                for name, field in self.fields.items()
                if name in data and (message := json_type_error(field, data[name]))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
