"""The writes of the notifications app. The scheduling services call the first three inside their
own transaction, so a booking and its messages are saved together or not at all."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from scheduling import configuration, pain
from scheduling.errors import SchedulingError
from scheduling.models import NOT_ARRIVED_STATUSES, RELEASED_STATUSES, Case, CaseStatus
from scheduling.pain_models import PainScore

from . import pain_planning, planning
from .dispatch import reminders_withdraw
from .models import (
    OPEN_STATUSES,
    InboundMessage,
    MessageKind,
    Reminder,
    ReminderRule,
    ReminderStatus,
    SmsOptOut,
    running_late_note,
)

# Sent when something happens to the case, not on a schedule planned at booking.
EVENT_KINDS = (
    MessageKind.RESCHEDULE_NOTICE,
    MessageKind.CANCELLATION_NOTICE,
    MessageKind.DRIVER_READY,
    MessageKind.RUNNING_LATE,
    MessageKind.DRIVER_CANCELLATION,
    MessageKind.DRIVER_RESCHEDULE,
)
# Messages that told the patient a time: after a reschedule, they must hear the new one.
TIMED_KINDS = (
    MessageKind.CONFIRMATION,
    MessageKind.WHAT_TO_BRING,
    MessageKind.FASTING,
    MessageKind.ARRIVAL,
    MessageKind.ARRIVAL_MORNING,
    MessageKind.MEDICATION_HOLD,
    MessageKind.DRIVER_PICKUP,
)
DELIVERED_OR_SENT = (ReminderStatus.SENT, ReminderStatus.DELIVERED)
# What a notice of a change takes in, so that a person due other messages at the same moment
# gets one text: "" where the notice already says it (the new date and arrival time), else the
# note for the one sentence its SMS adds, most needed first (a hold message's note is its own,
# "hold:<day>"). The reschedule email always carries all of it. See planning.messages_folded.
NOTICE_FOLDS = {
    MessageKind.RESCHEDULE_NOTICE: {
        MessageKind.CONFIRMATION: "",
        MessageKind.ARRIVAL: "",
        MessageKind.ARRIVAL_MORNING: "",
        MessageKind.FASTING: "fasting",
        MessageKind.MEDICATION_HOLD: "hold",
        MessageKind.WHAT_TO_BRING: "bring",
    },
    MessageKind.DRIVER_RESCHEDULE: {MessageKind.DRIVER_PICKUP: ""},
}
DRIVER_NOTICE_KINDS = (MessageKind.DRIVER_RESCHEDULE, MessageKind.DRIVER_CANCELLATION)


def rule_spec(rule: ReminderRule) -> planning.RuleSpec:
    return planning.RuleSpec(
        id=rule.pk,
        kind=rule.kind,
        audience=rule.audience,
        anchor=rule.anchor,
        offset_minutes=rule.offset_minutes,
        day_offset=rule.day_offset,
        at_time=rule.at_time,
        channel=rule.channel,
        condition=rule.condition,
        urgent=rule.urgent,
        skip_in_quiet_hours=rule.skip_in_quiet_hours,
        send_within_minutes=rule.send_within_minutes,
    )


def case_facts(case: Case, now: datetime) -> planning.CaseFacts:
    patient = case.patient
    phones = [p for p in (patient.phone, case.driver_phone) if p]
    stages = list(case.stages.all())
    return planning.CaseFacts(
        zone=case.site.zone,
        booked_at=now,
        arrival_at=case.arrival_at,
        procedure_start=case.procedure_start,
        discharge_at=max(stage.planned_end for stage in stages) if stages else case.arrival_at,
        patient_phone=patient.phone,
        patient_email=patient.email,
        preferred_channel=patient.preferred_channel,
        driver_phone=case.driver_phone,
        held_drugs=tuple(
            planning.HeldDrug(
                id=held.drug_id,
                code=held.drug.code,
                hold_starts_on=held.hold_starts_on,
                inr_check=held.drug.inr_check,
            )
            for held in case.held_medications.all()
        ),
        opted_out_phones=frozenset(
            SmsOptOut.objects.filter(phone__in=phones).values_list("phone", flat=True)
        ),
        pain_followup_days=pain.followup_days(case.site.pain_followup_days),
    )


def reminders_plan(
    case: Case, *, now: datetime | None = None, just_booked: bool = False
) -> list[Reminder]:
    """Plan every scheduled message of a newly booked or rescheduled case. A case `just_booked`
    in this transaction has answered no pain question yet, and its scores are not read."""
    now = now or timezone.now()
    answered = frozenset() if just_booked else None
    return Reminder.objects.bulk_create(_rows(case, _scheduled_plan(case, now, answered)))


def reminders_replan(case: Case, *, now: datetime | None = None) -> list[Reminder]:
    """After a reschedule: unsent messages lapse and the new date's are planned. A patient told a
    time hears the new one, and a driver we had texted hears of the move (see `_driver_told`),
    each in one text: what would have gone out with the notice is folded into it."""
    now = now or timezone.now()
    told = _lapse_open(case)
    notices = [MessageKind.RESCHEDULE_NOTICE] if told else []
    if _driver_told(case):
        notices.append(MessageKind.DRIVER_RESCHEDULE)
    plan = _with_notices(case, _scheduled_plan(case, now), notices, now)
    return Reminder.objects.bulk_create(_rows(case, plan))


def reminders_cancel(case: Case, *, now: datetime | None = None) -> list[Reminder]:
    """After a cancel or no-show: nothing more goes out but, after a cancel, the notices: to the
    patient if told a time, to the driver if we had texted them."""
    now = now or timezone.now()
    told = _lapse_open(case)
    if case.status != CaseStatus.CANCELLED:
        return []
    rows = _event(case, MessageKind.CANCELLATION_NOTICE, now) if told else []
    if _driver_told(case):
        rows += _event(case, MessageKind.DRIVER_CANCELLATION, now)
    return rows


def inbound_handled(message: InboundMessage, *, now: datetime | None = None) -> None:
    message.handled_at = now or timezone.now()
    message.save(update_fields=["handled_at"])


def reminder_handled(*, reminder: Reminder, by, now: datetime | None = None) -> Reminder:
    """A message that did not reach its recipient, dealt with by the front desk: it leaves the
    "not reached" list (it stays on the case's record as it was)."""
    if reminder.handled_at is None:
        reminder.handled_at = now or timezone.now()
        reminder.handled_by = by
        reminder.save(update_fields=["handled_at", "handled_by"])
    return reminder


def reminders_driver_changed(case: Case, *, now: datetime | None = None) -> list[Reminder]:
    """After the driver is added or changed: messages to an old number lapse, and the driver's
    messages are planned for the new one (none twice for the same number). A notice of a move
    or cancel not yet sent to the old number goes to the new one instead."""
    now = now or timezone.now()
    old = Reminder.objects.filter(case=case, audience="driver").exclude(
        recipient=case.driver_phone
    )
    notices = sorted(set(
        old.filter(
            status__in=OPEN_STATUSES, plan_version=case.plan_version, kind__in=DRIVER_NOTICE_KINDS
        ).values_list("kind", flat=True)
    ))
    reminders_withdraw(old, reason="The driver changed.")
    rules = [
        rule_spec(rule)
        for rule in ReminderRule.objects.filter(active=True, audience="driver").exclude(
            kind__in=EVENT_KINDS
        )
    ]
    plan = planning.plan_messages(case_facts(case, now), rules, now)
    this_plan = Reminder.objects.filter(
        case=case, plan_version=case.plan_version, resend_of__isnull=True
    )
    existing = set(this_plan.values_list("rule_id", "recipient", "channel", "note"))
    # What a notice already planned for this number said (the pickup it took in) is not
    # planned again when the same driver is saved twice.
    said = {
        (kind, recipient)
        for notice, recipient in this_plan.filter(kind__in=DRIVER_NOTICE_KINDS)
        .exclude(status=ReminderStatus.CANCELLED)
        .values_list("kind", "recipient")
        for kind, token in NOTICE_FOLDS.get(notice, {}).items()
        if not token
    }
    rows = [
        row
        for row in _rows(case, _with_notices(case, plan, notices, now))
        if (row.rule_id, row.recipient, row.channel, row.note) not in existing
        and (row.kind, row.recipient) not in said
    ]
    return Reminder.objects.bulk_create(rows)


def reminders_patient_changed(case: Case, *, now: datetime | None = None) -> list[Reminder]:
    """After the patient's details (phone, email, channel, language) or the case's medicines
    were corrected: the patient's messages of this plan are planned again from the record as it
    is now. The time has not moved, so no notice goes out. An unsent message the new plan still
    holds stays as it is; one it no longer holds (an old number, a drug taken off) is withdrawn;
    one withdrawn before and wanted again is planned again; and a message already sent (the
    same rule, and the same hold day for a hold message) is not sent a second time."""
    now = now or timezone.now()
    plan = [message for message in _scheduled_plan(case, now) if message.audience == "patient"]
    wanted = {(m.rule_id, m.recipient, m.channel, m.note): m for m in plan}
    # A notice of a move or a cancel not sent yet still has to go: only the plan is redone.
    this_plan = Reminder.objects.filter(
        case=case, audience="patient", plan_version=case.plan_version, resend_of__isnull=True
    ).exclude(kind__in=EVENT_KINDS)
    existing = {(r.rule_id, r.recipient, r.channel, r.note): r for r in this_plan}
    sent = {(r.rule_id, r.note) for r in existing.values() if r.status in DELIVERED_OR_SENT}
    reminders_withdraw(
        this_plan.filter(pk__in=[r.pk for key, r in existing.items() if key not in wanted]),
        reason="The patient's details or medicines changed before this was sent.",
    )
    again = []
    for key, message in wanted.items():
        row = existing.get(key)
        if row is None or row.status != ReminderStatus.CANCELLED or (key[0], key[3]) in sent:
            continue
        row.status, row.error = ReminderStatus.PLANNED, ""
        row.due_at, row.send_by = message.due_at, message.send_by
        again.append(row)
    Reminder.objects.bulk_update(again, ["status", "error", "due_at", "send_by"])
    new = [
        row
        for row in _rows(case, [m for key, m in wanted.items() if key not in existing])
        if (row.rule_id, row.note) not in sent
    ]
    return [*again, *Reminder.objects.bulk_create(new)]


def driver_pickup_projected(case: Case, *, now: datetime | None = None) -> list[Reminder]:
    """Recovery has started: tell the driver when to come. Once per plan of the case, so an
    undone and restarted recovery does not text the driver twice."""
    if Reminder.objects.filter(
        case=case, kind=MessageKind.DRIVER_READY, plan_version=case.plan_version
    ).exists():
        return []
    return _event(case, MessageKind.DRIVER_READY, now or timezone.now())


def running_late_notify(
    *, case: Case, delay_minutes: int, by=None, now: datetime | None = None
) -> list[Reminder]:
    """The room runs late: tell a patient who has not checked in yet to come `delay_minutes`
    after their planned arrival. Once per delay and plan of the case; a notice for an older
    delay not sent yet lapses. Nothing for a case already checked in, cancelled or done."""
    if case.status not in NOT_ARRIVED_STATUSES or delay_minutes <= 0:
        return []
    note = running_late_note(delay_minutes)
    told = Reminder.objects.filter(
        case=case, kind=MessageKind.RUNNING_LATE, plan_version=case.plan_version
    )
    if told.filter(note=note).exists():
        return []
    reminders_withdraw(told, reason="A newer arrival time replaced this one.")
    rows = _rows(case, _plan(case, MessageKind.RUNNING_LATE, now or timezone.now()))
    for row in rows:
        row.note = note
        row.requested_by = by
    return Reminder.objects.bulk_create(rows)


def reminder_resend(*, reminder: Reminder, by, now: datetime | None = None) -> Reminder:
    """A copy of a message, due now; the original row stays as the record of what happened.
    Refused once the case is cancelled or a no-show: there is nothing left to tell."""
    if reminder.case.status in RELEASED_STATUSES:
        raise SchedulingError("case_not_changeable", "The case is no longer active.")
    now = now or timezone.now()
    return Reminder.objects.create(
        case_id=reminder.case_id,
        rule_id=reminder.rule_id,
        kind=reminder.kind,
        audience=reminder.audience,
        channel=reminder.channel,
        recipient=reminder.recipient,
        drug_id=reminder.drug_id,
        drug_code=reminder.drug_code,
        note=reminder.note,
        plan_version=reminder.plan_version,
        resend_of=reminder,
        requested_by=by,
        due_at=now,
        send_by=now + timedelta(hours=12),
    )


@transaction.atomic
def patient_links_revoke(*, case: Case) -> Case:
    """Every patient link sent for the case stops opening; messages sent from now on carry a new
    one. The change is in the case's audit trail, with who made it."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    locked.link_nonce += 1
    locked.save(update_fields=["link_nonce", "updated_at"])
    case.link_nonce = locked.link_nonce
    return case


def _scheduled_plan(
    case: Case, now: datetime, answered: frozenset[int] | None = None
) -> list[planning.PlannedMessage]:
    rules = configuration.kept(
        ("scheduled_rules",), _scheduled_rules, stamp=configuration.stamp_of(case.site)
    )
    if answered is None:
        answered = frozenset(
            PainScore.objects.filter(case=case).values_list("followup_day", flat=True)
        )
    return pain_planning.plan_with_pain_followups(
        case_facts(case, now), rules, now, answered=answered
    )


def _scheduled_rules() -> list[planning.RuleSpec]:
    """The active rules of the messages planned at booking (kept between bookings until the
    configuration changes: scheduling/configuration.py)."""
    return [
        rule_spec(rule)
        for rule in ReminderRule.objects.filter(active=True).exclude(kind__in=EVENT_KINDS)
    ]


def _with_notices(
    case: Case, plan: list[planning.PlannedMessage], kinds: list[str], now: datetime
) -> list[planning.PlannedMessage]:
    """`plan` with the notices of `kinds` added, each carrying the messages of the plan due at
    its moment to its recipient (see NOTICE_FOLDS)."""
    if not kinds:
        return plan
    rules = {rule.pk: rule for rule in ReminderRule.objects.filter(active=True, kind__in=kinds)}
    notices = planning.plan_messages(
        case_facts(case, now), [rule_spec(rule) for rule in rules.values()], now
    )
    for index, notice in enumerate(notices):
        folds = NOTICE_FOLDS.get(notice.kind, {})
        if notice.channel == "email":
            folds = dict.fromkeys(folds, "")
        elif rules[notice.rule_id].sms_text:
            # An admin's own wording has no sentence for what the standard text adds: only
            # what it already says (the new time) is folded, the rest goes on its own.
            folds = {kind: token for kind, token in folds.items() if not token}
        notices[index], plan = planning.messages_folded(notice, plan, folds)
    return sorted([*plan, *notices], key=lambda message: (message.due_at, message.kind))


def _driver_told(case: Case) -> bool:
    """Whether we had texted the case's driver (about any plan of it). Only then is a driver
    texted about a move or a cancel: a driver the clinic never wrote to knows of the visit from
    the patient, who is told. The notice goes to the driver's number on the case now, so a
    driver changed meanwhile hears it, and not to a number that texted STOP."""
    return bool(case.driver_phone) and Reminder.objects.filter(
        case=case, audience="driver", status__in=DELIVERED_OR_SENT
    ).exists()


def _lapse_open(case: Case) -> bool:
    """Cancel the unsent messages of the case; True if a message with a time already went out."""
    reminders_withdraw(
        Reminder.objects.filter(case=case), reason="The case changed before this was sent."
    )
    return Reminder.objects.filter(
        case=case, kind__in=TIMED_KINDS, status__in=DELIVERED_OR_SENT
    ).exists()


def _event(case: Case, kind: str, now: datetime) -> list[Reminder]:
    return Reminder.objects.bulk_create(_rows(case, _plan(case, kind, now)))


def _plan(case: Case, kind: str, now: datetime) -> list[planning.PlannedMessage]:
    rules = [rule_spec(rule) for rule in ReminderRule.objects.filter(active=True, kind=kind)]
    return planning.plan_messages(case_facts(case, now), rules, now)


def _rows(case: Case, plan: list[planning.PlannedMessage]) -> list[Reminder]:
    return [
        Reminder(
            case=case,
            rule_id=message.rule_id,
            kind=message.kind,
            audience=message.audience,
            channel=message.channel,
            recipient=message.recipient,
            note=message.note,
            plan_version=case.plan_version,
            due_at=message.due_at,
            send_by=message.send_by,
        )
        for message in plan
    ]
