"""A proposal as JSON: what the API answers and what a finished plan run keeps. Instants are
written in the site's zone."""

import json

from django.utils import timezone
from rest_framework import serializers
from rest_framework.utils.encoders import JSONEncoder

from .loader import instant
from .proposal import Proposal


class RowSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="case:<id> for a booked case, entry:<id> for the waiting list."
    )
    kind = serializers.CharField()
    fixed = serializers.BooleanField()
    current_start = serializers.DateTimeField(allow_null=True)
    current_room = serializers.CharField()
    proposed_start = serializers.DateTimeField(allow_null=True)
    proposed_room = serializers.CharField()
    moved = serializers.BooleanField()
    reason = serializers.CharField(help_text="Why the case could not be placed, if it was not.")


class ProposalSerializer(serializers.Serializer):
    status = serializers.CharField(
        help_text="optimal, feasible (time limit reached), greedy or closed."
    )
    message = serializers.CharField()
    token = serializers.CharField(help_text="Send to .../plan/apply/ to book this proposal.")
    placed = serializers.IntegerField()
    moves = serializers.IntegerField()
    end_of_day = serializers.DateTimeField(allow_null=True)
    solve_seconds = serializers.FloatField()
    rows = RowSerializer(many=True)
    what_if = serializers.DictField(allow_null=True)


def _at(minutes):
    return instant(minutes) if minutes is not None else None


def proposal_data(proposal: Proposal) -> dict:
    plan = proposal.plan
    what_if = proposal.what_if
    return {
        "status": plan.status,
        "message": plan.message,
        "token": proposal.token,
        "placed": plan.placed,
        "moves": plan.moves,
        "end_of_day": _at(plan.end_of_day),
        "solve_seconds": round(plan.solve_seconds, 3),
        "rows": [
            {name: getattr(row, name) for name in RowSerializer().fields} for row in proposal.rows
        ],
        "what_if": what_if and {
            "name": what_if.name, "title": what_if.title, "more_cases": what_if.more_cases,
            "end_of_day": _at(what_if.end_of_day), "note": what_if.note,
        },
    }


def proposal_json(proposal: Proposal) -> dict:
    """The proposal exactly as the API writes it, as plain JSON values."""
    with timezone.override(proposal.site.zone):
        data = ProposalSerializer(proposal_data(proposal)).data
        return json.loads(json.dumps(data, cls=JSONEncoder))
