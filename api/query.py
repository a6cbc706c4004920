"""Query strings, read for validation by a *Query serializer."""

from rest_framework.request import Request


def query_data(request: Request) -> dict:
    """The query string as plain values, to validate with a *Query serializer. Given the QueryDict
    itself, DRF reads an empty optional parameter (`?date=`) as absent, as for an HTML form, and
    quietly uses the default; as plain values it is refused like a bad value in a JSON body."""
    return request.query_params.dict()
