"""A search's answer: a `searchset` Bundle with its total, one page of entries (`_count`, from
`_offset`) and the links to itself and to the next page."""

from urllib.parse import urlencode

from django.http import QueryDict

from api.errors import ApiError

from . import params
from .types import FhirType, Rows

PAGING = ("_count", "_offset")
IGNORED = ("_format", "_pretty")


def rows_searched(fhir_type: FhirType, user, query: QueryDict) -> Rows:
    rows = fhir_type.rows(user)
    for name, texts in query.lists():
        if name in PAGING or name in IGNORED:
            continue
        if name not in fhir_type.search:
            raise ApiError(
                "fhir_unknown_parameter",
                f"{fhir_type.name} has no search parameter “{name[:40]}”; "
                f"it has {', '.join(sorted(fhir_type.search))}.",
                field=name,
            )
        if fhir_type.searched is None:
            for text in texts:
                rows = fhir_type.search[name](rows, name, text)
    return rows if fhir_type.searched is None else fhir_type.searched(user, query)


def page_of(rows: Rows, *, offset: int, count: int) -> tuple[int, list]:
    """The total over the type's querysets and the rows from `offset`, `count` of them."""
    totals = [qs.count() for qs in rows]
    page, skip = [], offset
    for qs, total in zip(rows, totals, strict=True):
        wanted = count - len(page)
        if wanted > 0 and skip < total:
            page += list(qs[skip:skip + wanted])
        skip = max(0, skip - total)
    return sum(totals), page


def search_bundle(request, fhir_type: FhirType, *, base: str) -> tuple[dict, list]:
    """The Bundle for the request's search and the rows it shows."""
    query = request.query_params
    count = params.whole_number(
        "_count", query.get("_count", str(params.DEFAULT_COUNT)), maximum=params.MAX_COUNT
    )
    offset = params.whole_number("_offset", query.get("_offset", "0"), maximum=10**9)
    total, page = page_of(rows_searched(fhir_type, request.user, query), offset=offset, count=count)
    kept = [(name, text) for name, texts in query.lists() if name not in PAGING for text in texts]
    address = f"{base}{fhir_type.name}?"
    links = [{"relation": "self", "url": address + urlencode(
        [*kept, ("_count", count), ("_offset", offset)])}]
    if offset + count < total and count:
        links.append({"relation": "next", "url": address + urlencode(
            [*kept, ("_count", count), ("_offset", offset + count)])})
    entries = []
    for row in page:
        resource = fhir_type.render(row)
        entries.append({
            "fullUrl": f"{base}{fhir_type.name}/{resource['id']}",
            "resource": resource,
            "search": {"mode": "match"},
        })
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    if entries:
        bundle["entry"] = entries
    return bundle, page
