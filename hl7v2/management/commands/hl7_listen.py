"""manage.py hl7_listen: take in ADT patient updates from the hospital's interface engine over
MLLP (hl7v2.listener), until SIGTERM. Run exactly one (deploy/systemd/vertebro-hl7.service)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hl7v2.listener import address_parse, listener_run


class Command(BaseCommand):
    help = "Listen for HL7 v2 ADT A08/A31 patient updates over MLLP until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument(
            "--address",
            default=None,
            help=f"host:port to listen on (default: HL7_LISTEN, now {settings.HL7_LISTEN}).",
        )

    def handle(self, *args, address=None, **options):
        address = address or settings.HL7_LISTEN
        try:
            address_parse(address)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        listener_run(address)
