"""Planning is pure: facts and rules in, messages out."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from notifications.planning import (
    CaseFacts,
    HeldDrug,
    PlannedMessage,
    RuleSpec,
    hold_day,
    messages_folded,
    plan_messages,
)

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York


def ny(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=NEW_YORK).astimezone(UTC)


def facts(**overrides):
    values = {
        "zone": NEW_YORK,
        "booked_at": NOW,
        "arrival_at": ny(2026, 3, 10, 7, 0),
        "procedure_start": ny(2026, 3, 10, 8, 30),
        "discharge_at": ny(2026, 3, 10, 12, 30),
        "patient_phone": "+12125550100",
        "patient_email": "pat@example.org",
        "preferred_channel": "sms",
        "driver_phone": "+12125550101",
    }
    values.update(overrides)
    return CaseFacts(**values)


def rule(kind="arrival", **overrides):
    values = {"id": 1, "kind": kind, "audience": "patient", "anchor": "procedure_start"}
    values.update(overrides)
    return RuleSpec(**values)


def plan(rules, **fact_overrides):
    return plan_messages(facts(**fact_overrides), rules, NOW)


def test_a_wall_clock_rule_lands_on_the_day_before_in_the_sites_zone():
    (message,) = plan([rule(day_offset=-1, at_time=time(16))])
    assert message.due_at == ny(2026, 3, 9, 16)
    assert (message.channel, message.recipient) == ("sms", "+12125550100")


def test_the_day_before_rule_on_a_dst_change_keeps_the_wall_clock_time():
    # 2026-03-08 is the spring-forward day in New York.
    (message,) = plan(
        [rule(day_offset=-1, at_time=time(16))],
        arrival_at=ny(2026, 3, 9, 7), procedure_start=ny(2026, 3, 9, 8, 30),
        discharge_at=ny(2026, 3, 9, 12, 30),
    )
    assert message.due_at.astimezone(NEW_YORK).time() == time(16)
    assert message.due_at == datetime(2026, 3, 8, 20, 0, tzinfo=UTC)  # EDT, UTC-4


def test_an_offset_rule_counts_real_hours_across_a_dst_change():
    (message,) = plan(
        [rule("infection_check", anchor="discharge", offset_minutes=48 * 60)],
        discharge_at=ny(2026, 3, 7, 13, 0),
    )
    # 48 real hours after 13:00 EST on Saturday is 14:00 EDT on Monday.
    assert message.due_at.astimezone(NEW_YORK).time() == time(14)


def test_a_message_due_in_quiet_hours_waits_until_eight():
    (message,) = plan([rule(anchor="booking")], booked_at=ny(2026, 3, 2, 22, 30))
    assert message.due_at == ny(2026, 3, 3, 8, 0)


def test_an_urgent_message_ignores_quiet_hours():
    (message,) = plan([rule(anchor="booking", urgent=True)], booked_at=ny(2026, 3, 2, 22, 30))
    assert message.due_at == ny(2026, 3, 2, 22, 30)


def test_the_morning_reminder_is_skipped_when_it_would_fall_in_quiet_hours():
    morning = rule("arrival_morning", anchor="arrival", offset_minutes=-120,
                   skip_in_quiet_hours=True)
    assert plan([morning]) == []  # arrival 07:00, reminder 05:00
    late_arrival = plan([morning], arrival_at=ny(2026, 3, 10, 11, 0))
    assert [m.due_at for m in late_arrival] == [ny(2026, 3, 10, 9, 0)]


def test_a_message_whose_time_has_passed_is_sent_now_if_still_useful():
    # Booked at 10:00 for 14:00 today: "the day before at 16:00" has passed.
    (message,) = plan([rule(day_offset=-1, at_time=time(16), send_within_minutes=24 * 60)],
                      arrival_at=ny(2026, 3, 2, 12, 30), procedure_start=ny(2026, 3, 2, 14))
    assert message.due_at == NOW
    assert message.send_by == ny(2026, 3, 2, 14)


def test_a_message_that_can_no_longer_help_is_not_planned():
    bring = rule("what_to_bring", day_offset=-2, at_time=time(10), send_within_minutes=60)
    assert plan([bring], arrival_at=ny(2026, 3, 3, 7), procedure_start=ny(2026, 3, 3, 8, 30)) == []


def test_pre_procedure_messages_must_go_before_the_procedure():
    (message,) = plan([rule(day_offset=0, at_time=time(8), send_within_minutes=600)])
    assert message.send_by == ny(2026, 3, 10, 8, 30)


HOLD = rule("medication_hold", anchor="hold_start", day_offset=-1, at_time=time(18),
            condition="has_held_drug")


def test_one_hold_message_per_hold_day_the_evening_before_it():
    drugs = (HeldDrug(7, "warfarin", date(2026, 3, 5), True), HeldDrug(8, "apixaban",
                                                                        date(2026, 3, 8)))
    messages = plan([HOLD], held_drugs=drugs)
    assert [(m.note, m.due_at) for m in messages] == [
        ("hold:2026-03-05", ny(2026, 3, 4, 18)),
        ("hold:2026-03-08", ny(2026, 3, 7, 18)),
    ]
    assert plan([HOLD]) == []


def test_drugs_that_start_pausing_on_the_same_day_share_one_message():
    drugs = (
        HeldDrug(7, "warfarin", date(2026, 3, 5), True),
        HeldDrug(9, "clopidogrel", date(2026, 3, 5)),
        HeldDrug(8, "apixaban", date(2026, 3, 8)),
    )
    messages = plan([HOLD], held_drugs=drugs)
    assert [(m.note, m.channel) for m in messages] == [
        ("hold:2026-03-05", "sms"), ("hold:2026-03-08", "sms")
    ]
    assert hold_day(messages[0].note) == date(2026, 3, 5)


def test_the_driver_gets_sms_only_and_only_when_named():
    pickup = rule("driver_pickup", audience="driver", anchor="discharge", day_offset=-1,
                  at_time=time(17), condition="has_driver")
    (message,) = plan([pickup])
    assert (message.channel, message.recipient) == ("sms", "+12125550101")
    assert plan([pickup], driver_phone="") == []


def test_the_preferred_channel_comes_first_and_the_other_is_the_fallback():
    (by_email,) = plan([rule()], preferred_channel="email")
    assert by_email.channel == "email"
    (no_email,) = plan([rule()], preferred_channel="email", patient_email="")
    assert no_email.channel == "sms"


def test_an_opted_out_number_gets_email_instead_and_nothing_when_there_is_none():
    opted_out = frozenset({"+12125550100"})
    (message,) = plan([rule()], opted_out_phones=opted_out)
    assert message.channel == "email"
    assert plan([rule()], opted_out_phones=opted_out, patient_email="") == []


def test_a_patient_with_no_phone_or_email_gets_nothing():
    assert plan([rule()], patient_phone="", patient_email="") == []


def message(kind, due, *, channel="sms", recipient="+12125550100", note=""):
    return PlannedMessage(rule_id=1, kind=kind, audience="patient", channel=channel,
                          recipient=recipient, due_at=due, send_by=due, note=note)


FOLDS = {"confirmation": "", "arrival": "", "fasting": "fasting", "medication_hold": "hold",
         "what_to_bring": "bring"}


def test_a_notice_takes_in_what_would_reach_the_same_person_at_the_same_moment():
    notice = message("reschedule_notice", NOW)
    others = [
        message("confirmation", NOW),
        message("arrival", NOW),
        message("medication_hold", NOW, note="hold:2026-03-03"),
        message("aftercare", NOW),  # not something a notice can say
        message("what_to_bring", ny(2026, 3, 2, 16)),  # later: goes at its time
        message("arrival", NOW, channel="email", recipient="pat@example.org"),  # other channel
        message("arrival", NOW, recipient="+12125550199"),  # someone else
    ]
    carrier, left = messages_folded(notice, others, FOLDS)
    assert carrier.note == "hold:2026-03-03"
    assert hold_day(carrier.note) == date(2026, 3, 3)
    assert [(m.kind, m.channel, m.recipient) for m in left] == [
        ("aftercare", "sms", "+12125550100"),
        ("what_to_bring", "sms", "+12125550100"),
        ("arrival", "email", "pat@example.org"),
        ("arrival", "sms", "+12125550199"),
    ]


def test_a_notice_adds_one_sentence_the_most_needed_and_the_rest_go_on_their_own():
    notice = message("reschedule_notice", NOW)
    others = [
        message("what_to_bring", NOW),
        message("medication_hold", NOW, note="hold:2026-03-03"),
        message("fasting", NOW),
        message("arrival", NOW),
    ]
    carrier, left = messages_folded(notice, others, FOLDS)
    assert carrier.note == "fasting"
    assert [(m.kind, m.note) for m in left] == [
        ("what_to_bring", ""), ("medication_hold", "hold:2026-03-03")
    ]


def test_a_notice_with_nothing_at_its_moment_takes_in_nothing():
    notice = message("reschedule_notice", NOW)
    later = [message("confirmation", ny(2026, 3, 3, 8))]
    assert messages_folded(notice, later, FOLDS) == (notice, later)


def test_a_note_that_names_no_hold_day_gives_none():
    assert hold_day("") is None
    assert hold_day("delay:45") is None
    assert hold_day("hold:soon") is None
