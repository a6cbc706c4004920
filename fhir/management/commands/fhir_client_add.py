"""Register a system client of the FHIR interface and print its client id:

    manage.py fhir_client_add --name "Hospital EHR" --site main --site north \\
        --scopes "system/Patient.rs system/Appointment.rs" --jwks-file keys.json
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from fhir.clients import fhir_client_add
from fhir.models import FhirClient
from scheduling.models import Site


def _site(text: str) -> Site:
    match = Q(code=text) | (Q(pk=int(text)) if text.isdigit() else Q(pk__in=[]))
    site = Site.objects.filter(match).first()
    if site is None:
        raise CommandError(f"No site has the code or id {text!r}.")
    return site


class Command(BaseCommand):
    help = "Register a FHIR system client (SMART Backend Services) and print its client id."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--site", action="append", required=True,
                            help="A site's code or id; repeat for more sites.")
        parser.add_argument("--scopes", required=True,
                            help='e.g. "system/Patient.rs system/Appointment.rs"')
        parser.add_argument("--jwks-file", required=True,
                            help="The client's public keys as a JSON Web Key Set.")

    def handle(self, *args, name, site, scopes, jwks_file, **options):
        if FhirClient.objects.filter(name=name).exists():
            raise CommandError(f"A client is named {name!r} already.")
        try:
            with open(jwks_file, encoding="utf-8") as file:
                jwks = json.load(file)
        except (OSError, ValueError) as error:
            raise CommandError(f"The JWKS file cannot be read: {error}") from error
        try:
            client = fhir_client_add(
                name=name, sites=[_site(text) for text in site], scopes=scopes, jwks=jwks
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(client.client_id)
