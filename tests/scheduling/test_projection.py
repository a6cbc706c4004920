"""Projected times of the day's stages (scheduling/board/projection.py), on its own: no database."""

from datetime import UTC, datetime, timedelta

from scheduling.board.projection import StageFacts, stages_project

ROOM, PRE_OP_BAY, RECOVERY_BAY, RECOVERY_BAY_2 = 1, 2, 3, 4
MINUTE = timedelta(minutes=1)


def at(hour, minute=0, day=2):
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def case_stages(case_id, procedure_start, *, first_id, recovery_bay=RECOVERY_BAY):
    """The default vertebroplasty: pre-op 60 in a bay, procedure 60 and cement set 60 in the room
    (then 15 minutes of turnover), recovery 120 in a bay."""
    pre_op = procedure_start - 60 * MINUTE
    cement = procedure_start + 60 * MINUTE
    recovery = cement + 60 * MINUTE
    return [
        StageFacts(first_id, case_id, "pre_op", 0, PRE_OP_BAY, pre_op, procedure_start,
                   procedure_start),
        StageFacts(first_id + 1, case_id, "procedure", 1, ROOM, procedure_start, cement, cement),
        StageFacts(first_id + 2, case_id, "cement_set", 2, ROOM, cement, recovery,
                   recovery + 15 * MINUTE),
        StageFacts(first_id + 3, case_id, "recovery", 3, recovery_bay, recovery,
                   recovery + 120 * MINUTE, recovery + 120 * MINUTE),
    ]


def with_actual(stages, stage_id, *, start=None, end=None):
    return [
        StageFacts(**{**stage.__dict__, "actual_start": start, "actual_end": end})
        if stage.id == stage_id
        else stage
        for stage in stages
    ]


def two_cases_in_one_room():
    """Case 1: procedure 13:00-14:00, cement 14:00-15:00, room free 15:15.

    Case 2: procedure 15:15.
    """
    first = case_stages(1, at(13), first_id=10)
    second = case_stages(2, at(15, 15), first_id=20, recovery_bay=RECOVERY_BAY_2)
    return first + second


def test_a_late_procedure_pushes_its_cement_set_recovery_and_the_next_case_in_the_room():
    stages = two_cases_in_one_room()
    stages = with_actual(stages, 10, start=at(12), end=at(13, 30))  # pre-op ran 30 min over
    stages = with_actual(stages, 11, start=at(13, 40))  # procedure started 40 min late

    projected = stages_project(stages, now=at(13, 50))

    assert 10 not in projected  # finished: nothing to project
    procedure, cement, recovery = projected[11], projected[12], projected[13]
    assert (procedure.start, procedure.end, procedure.started) == (at(13, 40), at(14, 40), True)
    assert (cement.start, cement.end) == (at(14, 40), at(15, 40))
    assert (recovery.start, recovery.end) == (at(15, 40), at(17, 40))
    assert procedure.late
    assert cement.late
    assert recovery.late
    assert recovery.delay == 40 * MINUTE
    # The next case waits for the room: cement set ends 15:40, plus 15 minutes of cleaning.
    next_procedure = projected[21]
    assert (next_procedure.start, next_procedure.end) == (at(15, 55), at(16, 55))
    assert next_procedure.late
    assert next_procedure.delay == 40 * MINUTE
    assert projected[23].start == at(17, 55)  # its recovery
    # Its pre-op is in a free bay: on time.
    assert (projected[20].start, projected[20].late) == (at(14, 15), False)


def test_a_free_room_does_not_delay():
    stages = case_stages(1, at(13), first_id=10)
    stages = with_actual(stages, 10, start=at(12), end=at(13))

    projected = stages_project(stages, now=at(13))

    assert [(p.start, p.end, p.late) for p in projected.values()] == [
        (at(13), at(14), False),
        (at(14), at(15), False),
        (at(15), at(17), False),
    ]


def test_a_stage_a_few_minutes_over_is_not_late():
    stages = case_stages(1, at(13), first_id=10)
    stages = with_actual(stages, 10, start=at(12, 4))

    projected = stages_project(stages, now=at(12, 30))

    assert projected[10].end == at(13, 4)
    assert not projected[10].late
    assert stages_project(stages, now=at(12, 30), late_after_minutes=3)[10].late


def test_an_early_finish_moves_its_own_patient_on_at_once_but_nobody_still_to_come():
    stages = two_cases_in_one_room()
    stages = with_actual(stages, 10, start=at(12), end=at(12, 40))
    stages = with_actual(stages, 11, start=at(13), end=at(13, 30))
    stages = with_actual(stages, 12, start=at(13, 30), end=at(14, 10))

    projected = stages_project(stages, now=at(14, 10))

    # The patient whose cement set ended early goes to their free recovery bay now, not at 15:00.
    assert (projected[13].start, projected[13].end) == (at(14, 10), at(16, 10))
    # The next patient was told to come at their time: their day stays as planned.
    assert projected[20].start == at(14, 15)
    assert projected[21].start == at(15, 15)
    assert not any(p.late for p in projected.values())


def test_a_procedure_ended_early_starts_its_cement_set_at_once():
    stages = case_stages(1, at(13), first_id=10)
    stages = with_actual(stages, 10, start=at(12), end=at(13))
    stages = with_actual(stages, 11, start=at(13), end=at(13, 35))

    projected = stages_project(stages, now=at(13, 36))

    assert (projected[12].start, projected[12].end) == (at(13, 36), at(14, 36))
    assert projected[13].start == at(14, 36)  # recovery follows it, 24 minutes early


def test_a_running_stage_past_its_planned_end_ends_now_at_the_earliest():
    stages = case_stages(1, at(13), first_id=10)
    stages = with_actual(stages, 10, start=at(12))

    projected = stages_project(stages, now=at(13, 25))

    assert projected[10].end == at(13, 25)
    assert projected[10].late
    assert projected[11].start == at(13, 25)


def test_a_stage_not_started_when_it_should_have_is_projected_from_now():
    stages = case_stages(1, at(13), first_id=10)

    projected = stages_project(stages, now=at(12, 20))  # the patient has not arrived

    assert (projected[10].start, projected[10].end) == (at(12, 20), at(13, 20))
    assert projected[11].start == at(13, 20)
    assert projected[11].late


def test_durations_are_kept_in_utc_across_the_spring_dst_change():
    # New York springs forward at 02:00 on 8 March 2026 (07:00 UTC); the procedure starts at
    # 01:30 EST (06:30 UTC) and starts 30 minutes late.
    stages = case_stages(1, at(6, 30, day=8), first_id=10)
    stages = with_actual(stages, 10, start=at(5, 30, day=8), end=at(6, 30, day=8))
    stages = with_actual(stages, 11, start=at(7, day=8))

    projected = stages_project(stages, now=at(7, 10, day=8))

    assert projected[11].end - projected[11].start == timedelta(seconds=3600)
    assert projected[12].start == at(8, day=8)  # 04:00 EDT: an hour after 02:00 EST
    assert all(p.start.utcoffset() == timedelta(0) for p in projected.values())
