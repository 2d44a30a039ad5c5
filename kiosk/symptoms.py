"""The structured symptom report: what the kiosk learns, the same for every front end.

Every answer has three states. ``unknown`` is the default and is never read as
``no``: the rules treat an unknown red flag as "could not be ruled out".
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Answer(StrEnum):
    yes = "yes"
    no = "no"
    unknown = "unknown"


class Onset(StrEnum):
    sudden = "sudden"
    gradual = "gradual"
    unknown = "unknown"


class Injury(StrEnum):
    fall = "fall"
    sports = "sports"
    car_accident = "car_accident"
    other = "other"


class Location(StrEnum):
    neck_base = "neck_base"
    upper_back = "upper_back"
    between_shoulder_blades = "between_shoulder_blades"
    middle_back = "middle_back"
    lower_back = "lower_back"
    shoulders = "shoulders"
    ribs = "ribs"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


class Pain(_Strict):
    """The pain itself: where, how it began, how long, how bad."""

    locations: list[Location] = Field(default_factory=list, description="Where the pain is.")
    onset: Onset = Field(default=Onset.unknown, description="Did it start suddenly or gradually?")
    after_injury: Answer = Field(
        default=Answer.unknown, description="Did it start after a fall, sports injury or accident?"
    )
    injury: Injury | None = Field(default=None, description="Which injury, when known.")
    duration_days: Annotated[int, Field(ge=0, le=36500)] | None = Field(
        default=None, description="How long it has lasted, in days, when a figure was given."
    )
    more_than_a_week: Answer = Field(
        default=Answer.unknown,
        description="Lasted more than 7 days. Derived from duration_days when that is known; "
        "set on its own when the person only answered the yes/no form of the question.",
    )
    recurring: Answer = Field(default=Answer.unknown, description="Does it keep coming back?")
    severity: Annotated[int, Field(ge=0, le=10)] | None = Field(
        default=None, description="Pain score, 0 (none) to 10 (worst imaginable)."
    )
    severe: Answer = Field(
        default=Answer.unknown,
        description="Severe (7 or more out of 10). Derived from severity when a score is known.",
    )
    worsening: Answer = Field(default=Answer.unknown, description="Getting worse or changing?")
    home_care_helped: Answer = Field(
        default=Answer.unknown,
        description="Have home care or over-the-counter medicine helped? unknown if not tried.",
    )
    interferes_with_life: Answer = Field(
        default=Answer.unknown, description="Does it interfere with sleep, work or daily life?"
    )
    known_cause: Answer = Field(
        default=Answer.unknown,
        description="Can the person name a cause (lifting, posture, sleeping awkwardly)?",
    )

    @model_validator(mode="after")
    def _derive(self) -> Pain:
        # A figure, when given, decides the yes/no forms; the yes/no forms are only
        # there for people who could not give a figure.
        if self.duration_days is not None:
            more = Answer.yes if self.duration_days > 7 else Answer.no
            if self.more_than_a_week != more:
                object.__setattr__(self, "more_than_a_week", more)
        if self.severity is not None:
            severe = Answer.yes if self.severity >= SEVERE_SCORE else Answer.no
            if self.severe != severe:
                object.__setattr__(self, "severe", severe)
        if self.injury is not None and self.after_injury != Answer.yes:
            object.__setattr__(self, "after_injury", Answer.yes)
        return self


SEVERE_SCORE = 7
"""Numeric rating scale convention: 7-10 is severe."""

VERY_SEVERE_SCORE = 8
"""The issue's 'very severe (8-10)' band for the urgent rule."""


class Symptoms(_Strict):
    """Associated symptoms named in the seeds. Field names are the ids used everywhere."""

    bladder_bowel_problems: Answer = Field(
        default=Answer.unknown,
        description="Loss of bladder or bowel control, or problems urinating.",
    )
    saddle_numbness: Answer = Field(
        default=Answer.unknown, description="Numbness in the groin, genital or anal area."
    )
    legs_loss_of_feeling: Answer = Field(
        default=Answer.unknown,
        description="Sudden loss of feeling in one or both legs, or paralysis.",
    )
    limb_numbness: Answer = Field(default=Answer.unknown, description="Numbness in arms or legs.")
    limb_weakness: Answer = Field(default=Answer.unknown, description="Weakness in arms or legs.")
    limb_tingling: Answer = Field(
        default=Answer.unknown, description="Tingling (pins and needles) in arms, hands or legs."
    )
    trouble_walking_or_standing: Answer = Field(
        default=Answer.unknown, description="Unable, or hardly able, to walk or stand."
    )
    balance_problems: Answer = Field(default=Answer.unknown, description="Trouble with balance.")
    chest_pain: Answer = Field(
        default=Answer.unknown, description="Chest pain, pressure or tightness."
    )
    shortness_of_breath: Answer = Field(
        default=Answer.unknown, description="Trouble breathing or shortness of breath."
    )
    pain_spreads_to_arm_jaw_or_neck: Answer = Field(
        default=Answer.unknown, description="Pain spreading to the jaw, neck or arm."
    )
    cold_sweat: Answer = Field(default=Answer.unknown, description="A cold sweat.")
    coughing_blood: Answer = Field(default=Answer.unknown, description="Coughing up blood.")
    cough: Answer = Field(default=Answer.unknown, description="A cough.")
    fever: Answer = Field(default=Answer.unknown, description="Fever.")
    chills: Answer = Field(default=Answer.unknown, description="Chills.")
    weight_loss: Answer = Field(default=Answer.unknown, description="Unexplained weight loss.")
    abdominal_pain: Answer = Field(
        default=Answer.unknown, description="Abdominal pain, or back pain spreading to the belly."
    )
    fainting: Answer = Field(
        default=Answer.unknown, description="Fainting or loss of consciousness."
    )
    hard_to_move_back: Answer = Field(
        default=Answer.unknown,
        description="Difficulty moving the back (turning the neck, bending).",
    )
    emergency_sign_unspecified: Answer = Field(
        default=Answer.unknown,
        description="Yes to a question about several emergency signs at once (e.g. chest "
        "pain, trouble breathing, or pain spreading to the jaw or arm) without saying which.",
    )


class RiskFactors(_Strict):
    """Risk factors named in the seeds."""

    age_over_65: Answer = Field(default=Answer.unknown, description="Older than 65.")
    osteoporosis: Answer = Field(
        default=Answer.unknown,
        description="Osteoporosis or another known fracture risk (e.g. long-term steroids).",
    )
    arthritis: Answer = Field(default=Answer.unknown, description="Arthritis.")
    scoliosis: Answer = Field(
        default=Answer.unknown, description="Scoliosis or another spinal abnormality."
    )
    prior_back_surgery_or_trauma: Answer = Field(
        default=Answer.unknown, description="Earlier back surgery or back injury."
    )
    cancer_history: Answer = Field(default=Answer.unknown, description="Cancer, now or before.")
    strenuous_job: Answer = Field(
        default=Answer.unknown, description="A job with heavy lifting or repetitive bending."
    )
    obesity: Answer = Field(default=Answer.unknown, description="Obesity.")
    smoking: Answer = Field(default=Answer.unknown, description="Smokes.")
    recent_illness: Answer = Field(
        default=Answer.unknown, description="The pain began after a recent illness."
    )


class SymptomReport(_Strict):
    """One person's answers. Serialised with ``model_dump(mode="json")``; the JSON Schema
    is published by ``kiosk schema`` and is the contract with other front ends."""

    schema_version: int = Field(default=1, description="Bumped on incompatible changes.")
    pain: Pain = Field(default_factory=Pain)
    symptoms: Symptoms = Field(default_factory=Symptoms)
    risk_factors: RiskFactors = Field(default_factory=RiskFactors)


SECTIONS: dict[str, type[_Strict]] = {
    "pain": Pain,
    "symptoms": Symptoms,
    "risk_factors": RiskFactors,
}


def field_path(name: str) -> tuple[str, str]:
    """Find which section a field id lives in; ids are unique across sections."""
    for section, model in SECTIONS.items():
        if name in model.model_fields:
            return section, name
    raise KeyError(f"no field {name!r} in the symptom report")


def get_value(report: SymptomReport, name: str) -> object:
    section, field = field_path(name)
    return getattr(getattr(report, section), field)


def with_value(report: SymptomReport, name: str, value: object) -> SymptomReport:
    """Return a copy with one field set (validated), leaving the original untouched."""
    section, field = field_path(name)
    data = report.model_dump()
    data[section][field] = value
    return SymptomReport.model_validate(data)
