"""Contraindication screening asked at booking. Pure: answers in, the reasons that block out."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ScreeningAnswers:
    active_infection: bool
    fracture_painful: bool
    bleeding_disorder: bool
    tumor_in_canal: bool
    cement_allergy: bool
    traumatic: bool
    conservative_treatment_weeks: int
    imaging_on_file: bool

    @classmethod
    def of(cls, record) -> "ScreeningAnswers":
        """The answers as a case (or anything with the same attributes) holds them."""
        return cls(**{name: getattr(record, name) for name in cls.__dataclass_fields__})


def screening_answers(answers: dict | None) -> ScreeningAnswers | None:
    """Answers stored as a dict (a waiting-list entry's), or None unless every one is there."""
    try:
        return ScreeningAnswers(**answers) if answers else None
    except TypeError:
        return None


@dataclass(frozen=True)
class Blocker:
    field: str
    reason: str


def screening_blockers(answers: ScreeningAnswers, *, min_conservative_weeks: int) -> list[Blocker]:
    blockers = []
    if answers.active_infection:
        blockers.append(Blocker("active_infection", "Active infection."))
    if not answers.fracture_painful:
        blockers.append(Blocker("fracture_painful", "The fracture is not painful."))
    if answers.bleeding_disorder:
        blockers.append(Blocker("bleeding_disorder", "Uncontrolled bleeding disorder."))
    if answers.tumor_in_canal:
        blockers.append(Blocker("tumor_in_canal", "Tumour extends into the spinal canal."))
    if answers.cement_allergy:
        blockers.append(Blocker("cement_allergy", "Allergy to bone cement."))
    # A traumatic fracture may be treated at once; otherwise conservative treatment comes first.
    if not answers.traumatic and answers.conservative_treatment_weeks < min_conservative_weeks:
        blockers.append(
            Blocker(
                "conservative_treatment_weeks",
                f"Conservative treatment tried for {answers.conservative_treatment_weeks} weeks; "
                f"{min_conservative_weeks} are required unless the fracture is traumatic.",
            )
        )
    if not answers.imaging_on_file:
        blockers.append(Blocker("imaging_on_file", "Pre-op imaging is not on file."))
    return blockers
