"""Plan the best day at a site: print the proposal beside the current plan, and apply it."""

from datetime import date

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from scheduling.errors import SchedulingError
from scheduling.models import Site
from scheduling.plan.loader import instant
from scheduling.plan.proposal import plan_apply, plan_propose
from scheduling.plan.whatif import WHAT_IFS
from scheduling.timing import local_hm


class Command(BaseCommand):
    help = "Propose (and with --apply, book) the best plan of a day at a site."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--site", required=True, help="The site's code.")
        parser.add_argument("--date", required=True, type=date.fromisoformat)
        parser.add_argument("--waiting-list", action="store_true",
                            help="Also place waiting-list patients whose window includes the day.")
        parser.add_argument("--apply", action="store_true", help="Book the proposal.")
        parser.add_argument("--time-limit", type=float, default=10.0, help="Seconds (default 10).")
        parser.add_argument("--allow-move-told", action="store_true",
                            help="Cases already told their arrival time may be moved too.")
        parser.add_argument("--what-if", choices=sorted(WHAT_IFS))
        parser.add_argument("--user", default=None,
                            help="Username the changes are made as (default: the first superuser).")

    def handle(self, *args, **options) -> None:
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise CommandError(f"No site has the code {options['site']!r}.")
        try:
            proposal = plan_propose(
                site=site, day=options["date"], waiting_list=options["waiting_list"],
                allow_move_told=options["allow_move_told"], time_limit=options["time_limit"],
                what_if=options["what_if"],
            )
        except SchedulingError as error:
            raise CommandError(error.detail) from error
        self._print(proposal)
        if options["apply"]:
            user = self._user(options["user"])
            try:
                changed = plan_apply(site=site, day=options["date"], token=proposal.token, by=user)
            except SchedulingError as error:
                raise CommandError(error.detail) from error
            applied = f"Applied: {len(changed)} case(s) booked or moved."
            self.stdout.write(self.style.SUCCESS(applied))

    def _user(self, username):
        users = User.objects.filter(username=username) if username else User.objects.filter(
            is_superuser=True).order_by("pk")
        user = users.first()
        if user is None:
            raise CommandError("Give --user: the changes are recorded against a staff member.")
        return user

    def _print(self, proposal) -> None:
        zone = proposal.site.zone
        plan = proposal.plan

        def hm(when):
            return local_hm(when, zone) if when else "-"

        self.stdout.write(f"{proposal.site.code} {proposal.day}: {plan.status}. {plan.message}")
        width = max([len(row.current_room) for row in proposal.rows]
                    + [len(row.proposed_room) for row in proposal.rows] + [4])
        self.stdout.write(
            f"{'case':<14}{'now':>7} {'room':<{width}}{'proposed':>9} {'room':<{width}} note")
        for row in proposal.rows:
            note = "fixed" if row.fixed else ("moved" if row.moved else "")
            if row.kind == "new":
                note = "new" if row.proposed_start else f"not placed: {row.reason}"
            self.stdout.write(
                f"{row.key:<14}{hm(row.current_start):>7} {row.current_room:<{width}}"
                f"{hm(row.proposed_start):>9} {row.proposed_room:<{width}} {note}".rstrip()
            )
        end = plan.end_of_day
        self.stdout.write(
            f"placed {plan.placed}, moved {plan.moves}, not placed {len(plan.unplaced)}, "
            f"end of day {hm(_at(proposal.current_end))} now, {hm(_at(end))} proposed, "
            f"solved in {plan.solve_seconds:.2f} s"
        )
        if proposal.what_if:
            w = proposal.what_if
            self.stdout.write(
                f"what if: {w.title}: {w.more_cases:+d} case(s), end of day "
                f"{hm(_at(w.end_of_day))} (now {hm(_at(w.base_end_of_day))}). {w.note}".rstrip()
            )


def _at(minutes):
    return instant(minutes) if minutes is not None else None
