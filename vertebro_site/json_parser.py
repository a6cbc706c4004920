"""The API's JSON parser: DRF's, refusing bodies nested deeper than any request needs.

Python's json module parses nested arrays and objects by recursion, so a body such as `[[[[...]]]]`
100,000 deep raises RecursionError (not the ValueError DRF turns into a parse error), and one a
few hundred deep would still recurse through every serializer and error formatter after it. The
deepest body the API takes is two levels (a case's patient or screening), so 32 is generous."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class JsonTooDeep(ParseError):
    default_code = "invalid_json"
    default_detail = f"The JSON body nests arrays or objects more than {MAX_DEPTH} levels deep."


class JSONParser(parsers.JSONParser):
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
