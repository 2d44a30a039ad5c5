"""The shared red-flag rules: a symptom report in, a triage decision out.

Pure and deterministic: no I/O, no audio, no clock. Every rule cites the seed articles
in ``../shared/seeds/`` it comes from. Where the seeds disagree, the more urgent reading
wins, and the rule's ``note`` says so.

An unknown answer is never read as "no". A red-flag rule that could still fire if its
unknown answers turned out to be "yes" is *unresolved*, and an unresolved red flag makes
the decision at least ``urgent`` (rule ``urgent.unresolved_red_flag``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict

from kiosk.catalogue import Catalogue
from kiosk.symptoms import (
    VERY_SEVERE_SCORE,
    Answer,
    Onset,
    RiskFactors,
    SymptomReport,
    get_value,
    with_value,
)

# The seed articles (../shared/seeds/), cited by file name.
S000 = "000_ea817b0397be0777.txt"  # "When should I worry about upper back pain?"
S001 = "001_94627edd36207f26.txt"  # "13 Causes of Upper Back Pain" (Verywell Health)
S002 = "002_d0e36a57e538fd1c.txt"  # Cleveland Clinic, upper back pain
S003 = "003_704e2e220c29c7c5.txt"  # "What is Upper Back Pain?"
S004 = "004_2d4387e77d3f2c9d.txt"  # "How do You Treat Severe Upper Back Pain?"
NICE_NG234 = "NICE NG234 (spinal metastases and metastatic spinal cord compression)"

ACUTE_DAYS = 42
"""Pain up to six weeks old counts as acute (the usual definition for back pain)."""


class Disposition(StrEnum):
    emergency = "emergency"
    urgent = "urgent"
    doctor = "doctor"
    self_care = "self_care"

    @property
    def rank(self) -> int:
        return _RANK[self]


class _Rank(IntEnum):
    self_care = 0
    doctor = 1
    urgent = 2
    emergency = 3


_RANK = {d: _Rank[d.value].value for d in Disposition}


@dataclass(frozen=True)
class Rule:
    id: str
    level: Disposition
    fields: tuple[str, ...]
    """The report fields the rule reads: its pertinent positives and negatives."""
    seeds: tuple[str, ...]
    test: Callable[[SymptomReport], bool]
    note: str = ""


def _yes(*names: str) -> Callable[[SymptomReport], bool]:
    return lambda r: any(get_value(r, n) is Answer.yes for n in names)


def _severe(r: SymptomReport) -> bool:
    return r.pain.severe is Answer.yes


def _very_severe(r: SymptomReport) -> bool:
    if r.pain.severity is not None:
        return r.pain.severity >= VERY_SEVERE_SCORE
    # Only the yes/no form was answered ("severe, 7 or more"): the more urgent reading.
    return r.pain.severe is Answer.yes


def _acute(r: SymptomReport) -> bool:
    if r.pain.duration_days is not None:
        return r.pain.duration_days <= ACUTE_DAYS
    return True  # unknown duration: the more urgent reading


_RISK_FACTORS = tuple(RiskFactors.model_fields)


RULES: tuple[Rule, ...] = (
    # --- emergency: call 911 now -------------------------------------------------------
    Rule(
        "emergency.bladder_bowel",
        Disposition.emergency,
        ("bladder_bowel_problems",),
        (S000, S001, S002),
        _yes("bladder_bowel_problems"),
    ),
    Rule(
        "emergency.saddle_numbness",
        Disposition.emergency,
        ("saddle_numbness",),
        (S001, S002),
        _yes("saddle_numbness"),
    ),
    Rule(
        "emergency.legs_loss_of_feeling",
        Disposition.emergency,
        ("legs_loss_of_feeling",),
        (S001, S000),
        _yes("legs_loss_of_feeling"),
    ),
    Rule(
        "emergency.limb_numbness",
        Disposition.emergency,
        ("limb_numbness",),
        (S000, S001),
        _yes("limb_numbness"),
        note="S000 lists arm/leg numbness as an emergency sign but also numbness in the arms "
        "or hands under 'seek medical care'; S001 lists leg numbness under 'see a "
        "healthcare provider'. The more urgent reading wins: emergency.",
    ),
    Rule(
        "emergency.limb_weakness",
        Disposition.emergency,
        ("limb_weakness",),
        (S000, S001),
        _yes("limb_weakness"),
        note="S000 lists it as an emergency; S001 under 'see a healthcare provider'. "
        "The more urgent reading wins.",
    ),
    Rule(
        "emergency.walking_standing",
        Disposition.emergency,
        ("trouble_walking_or_standing",),
        (S000, S001),
        _yes("trouble_walking_or_standing"),
    ),
    Rule(
        "emergency.chest_pain",
        Disposition.emergency,
        ("chest_pain",),
        (S002, S001),
        _yes("chest_pain"),
    ),
    Rule(
        "emergency.breathing",
        Disposition.emergency,
        ("shortness_of_breath",),
        (S002, S000, S003),
        _yes("shortness_of_breath"),
        note="S002: trouble breathing is an emergency (call 911). S000 says 'seek medical "
        "care' and S003 'contact your doctor'. The more urgent reading wins.",
    ),
    Rule(
        "emergency.heart_attack_signs",
        Disposition.emergency,
        ("pain_spreads_to_arm_jaw_or_neck", "cold_sweat"),
        (S002,),
        _yes("pain_spreads_to_arm_jaw_or_neck", "cold_sweat"),
        note="S002 points to the signs of a heart attack; these are the common ones.",
    ),
    Rule(
        "emergency.coughing_blood",
        Disposition.emergency,
        ("coughing_blood",),
        (S002,),
        _yes("coughing_blood"),
        note="S002 points to the signs of a pulmonary embolism; coughing up blood is one.",
    ),
    Rule(
        "emergency.abdominal",
        Disposition.emergency,
        ("abdominal_pain",),
        (S001, S000),
        _yes("abdominal_pain"),
        note="S001: back pain radiating to the abdomen is an emergency. S000 lists abdominal "
        "pain under 'seek medical care'. A person cannot tell the two apart, so the "
        "more urgent reading wins.",
    ),
    Rule(
        "emergency.sudden_severe",
        Disposition.emergency,
        ("onset", "severe", "severity"),
        (S000, S001),
        lambda r: r.pain.onset is Onset.sudden and _severe(r),
    ),
    Rule(
        "emergency.injury",
        Disposition.emergency,
        ("after_injury",),
        (S001, S000),
        _yes("after_injury"),
    ),
    Rule(
        "emergency.osteoporosis_acute",
        Disposition.emergency,
        ("osteoporosis", "duration_days"),
        (S001,),
        lambda r: r.risk_factors.osteoporosis is Answer.yes and _acute(r),
    ),
    Rule("emergency.fainting", Disposition.emergency, ("fainting",), (S001,), _yes("fainting")),
    Rule(
        "emergency.unspecified_sign",
        Disposition.emergency,
        ("emergency_sign_unspecified",),
        (S000, S001, S002),
        _yes("emergency_sign_unspecified"),
        note="The kiosk asks about up to three emergency signs in one question; each is an "
        "emergency on its own in the seeds, so a yes is an emergency whichever it is.",
    ),
    Rule(
        "emergency.fever",
        Disposition.emergency,
        ("fever",),
        (S000, S001),
        _yes("fever"),
        note="S000: 'fever and upper back pain' is an emergency; S001 lists fever under "
        "'see a healthcare provider'. The more urgent reading wins.",
    ),
    # --- urgent: medical care today ----------------------------------------------------
    Rule(
        "urgent.tingling",
        Disposition.urgent,
        ("limb_tingling",),
        (S000, S001, S003),
        _yes("limb_tingling"),
    ),
    Rule("urgent.chills", Disposition.urgent, ("chills",), (S000,), _yes("chills")),
    Rule(
        "urgent.weight_loss",
        Disposition.urgent,
        ("weight_loss",),
        (S000, S001),
        _yes("weight_loss"),
    ),
    Rule("urgent.cough", Disposition.urgent, ("cough",), (S000,), _yes("cough")),
    Rule(
        "urgent.very_severe",
        Disposition.urgent,
        ("severity", "severe", "onset"),
        (S000, S004),
        lambda r: r.pain.onset is not Onset.sudden and _very_severe(r),
    ),
    Rule(
        "urgent.worsening",
        Disposition.urgent,
        ("worsening",),
        (S000, S001),
        _yes("worsening"),
        note="S001 says 'see a healthcare provider' for worsening pain; S000 asks for "
        "prompt care. The more urgent reading wins.",
    ),
    Rule(
        "urgent.hard_to_move",
        Disposition.urgent,
        ("hard_to_move_back",),
        (S000,),
        _yes("hard_to_move_back"),
    ),
    Rule(
        "urgent.balance",
        Disposition.urgent,
        ("balance_problems",),
        (S003, S001),
        _yes("balance_problems"),
    ),
    Rule(
        "urgent.recent_illness",
        Disposition.urgent,
        ("recent_illness",),
        (S003,),
        _yes("recent_illness"),
    ),
    Rule(
        "urgent.cancer_history",
        Disposition.urgent,
        ("cancer_history",),
        (S001, NICE_NG234),
        _yes("cancer_history"),
        note="S001 names cancer spreading to the spine as a cause; NICE guidance on spinal "
        "cord compression asks for same-day assessment of new thoracic pain in people "
        "with cancer.",
    ),
    # --- doctor: an appointment in the next few days -----------------------------------
    Rule(
        "doctor.over_a_week",
        Disposition.doctor,
        ("more_than_a_week", "duration_days"),
        (S000, S001, S003),
        _yes("more_than_a_week"),
        note="S000 says more than a week; S001 and S003 say two weeks. The more urgent "
        "reading wins: one week.",
    ),
    Rule("doctor.recurring", Disposition.doctor, ("recurring",), (S000,), _yes("recurring")),
    Rule(
        "doctor.interferes",
        Disposition.doctor,
        ("interferes_with_life",),
        (S000,),
        _yes("interferes_with_life"),
    ),
    Rule(
        "doctor.home_care_failed",
        Disposition.doctor,
        ("home_care_helped",),
        (S000, S001, S003),
        lambda r: r.pain.home_care_helped is Answer.no,
    ),
    Rule(
        "doctor.no_known_cause",
        Disposition.doctor,
        ("known_cause",),
        (S000,),
        lambda r: r.pain.known_cause is Answer.no,
    ),
    Rule("doctor.severe", Disposition.doctor, ("severe", "severity"), (S004,), _severe),
    Rule(
        "doctor.risk_factor",
        Disposition.doctor,
        (*_RISK_FACTORS, "recurring", "worsening"),
        (S000,),
        lambda r: _yes(*_RISK_FACTORS)(r) and _yes("recurring", "worsening")(r),
    ),
)

UNRESOLVED_RULE = Rule(
    "urgent.unresolved_red_flag",
    Disposition.urgent,
    (),
    (S000, S001, S002),
    lambda r: bool(unresolved_red_flags(r)),
    note="Clinical safety rule of this project: an unknown answer to an emergency question "
    "is never treated as 'no'. The seeds' red flags could not be ruled out.",
)

ALL_RULES = (*RULES, UNRESOLVED_RULE)

EMERGENCY_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(f for rule in RULES if rule.level is Disposition.emergency for f in rule.fields)
)


def _alarming_when(value: Answer) -> frozenset[str]:
    """Fields whose ``value`` fires a rule that the opposite answer does not (a cough's
    "yes"; a known cause's "no")."""
    other = Answer.no if value is Answer.yes else Answer.yes
    base, out = SymptomReport(), set()
    for rule in RULES:
        for name in rule.fields:
            if isinstance(get_value(base, name), Answer) and (
                rule.test(with_value(base, name, value))
                and not rule.test(with_value(base, name, other))
            ):
                out.add(name)
    return frozenset(out)


ALARMING_WHEN_YES = _alarming_when(Answer.yes)
ALARMING_WHEN_NO = _alarming_when(Answer.no)
"""Home care that did not help, no known cause: their "no" asks for more care."""


NEVER_ASKED = frozenset({"emergency_sign_unspecified"})
"""Fields no question asks: set only by a "yes" to a group of emergency signs, whose
members are asked (and stay unresolved) on their own."""


def worst_case(report: SymptomReport) -> SymptomReport:
    """The report with every unknown answer replaced by its most alarming value."""
    data = report.model_dump()
    for section in ("symptoms", "risk_factors"):
        for name, value in data[section].items():
            if value is Answer.unknown and name not in NEVER_ASKED:
                data[section][name] = Answer.yes
    pain = data["pain"]
    for name in ("after_injury", "severe"):
        if pain[name] is Answer.unknown:
            pain[name] = Answer.yes
    if pain["onset"] is Onset.unknown:
        pain["onset"] = Onset.sudden
    return SymptomReport.model_validate(data)


def unresolved_red_flags(report: SymptomReport) -> list[str]:
    """Emergency rules that did not fire but would if unknown answers were 'yes'.

    Returns the unknown fields those rules read, in rule order.
    """
    worst = worst_case(report)
    fields: list[str] = []
    for rule in RULES:
        if rule.level is not Disposition.emergency or rule.test(report):
            continue
        if rule.test(worst):
            for name in rule.fields:
                if get_value(report, name) != get_value(worst, name) and name not in fields:
                    fields.append(name)
    return fields


class Firing(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    level: Disposition
    reason: str
    seeds: tuple[str, ...]
    note: str = ""


class Decision(BaseModel):
    """What the rules decided, and why. Serialised as the ``kiosk triage`` output."""

    model_config = ConfigDict(frozen=True)
    disposition: Disposition
    rules: tuple[Firing, ...]
    pertinent_positives: tuple[str, ...]
    pertinent_negatives: tuple[str, ...]
    unresolved: tuple[str, ...]
    guidance: str
    safety_net: str
    watch_for: tuple[str, ...]
    disclaimer: str

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.rules)


def fired(report: SymptomReport) -> list[Rule]:
    """Every rule that fires on the report, most urgent first."""
    hits = [rule for rule in ALL_RULES if rule.test(report)]
    return sorted(hits, key=lambda rule: -rule.level.rank)


def disposition(report: SymptomReport) -> Disposition:
    hits = fired(report)
    return hits[0].level if hits else Disposition.self_care


def decide(report: SymptomReport, catalogue: Catalogue) -> Decision:
    """Run every rule and assemble the guidance to speak (texts from the catalogue)."""
    texts = catalogue.guidance
    hits = fired(report)
    level = hits[0].level if hits else Disposition.self_care
    firings = tuple(
        Firing(id=r.id, level=r.level, reason=texts.reasons[r.id], seeds=r.seeds, note=r.note)
        for r in hits
    )
    read = dict.fromkeys(f for rule in ALL_RULES for f in rule.fields)
    positives = tuple(n for n in read if get_value(report, n) is Answer.yes)
    negatives = tuple(n for n in EMERGENCY_FIELDS if get_value(report, n) is Answer.no)
    unresolved = tuple(unresolved_red_flags(report))
    reason = firings[0].reason if firings else ""
    words = texts.disposition[level.value]
    return Decision(
        disposition=level,
        rules=firings,
        pertinent_positives=positives,
        pertinent_negatives=negatives,
        unresolved=unresolved,
        guidance=words.guidance.format(reason=reason).strip(),
        safety_net=words.safety_net,
        watch_for=tuple(dict.fromkeys(w for n in unresolved if (w := catalogue.watch_for(n)))),
        disclaimer=texts.disclaimer,
    )


def emergency_on_its_own(name: str) -> bool:
    """Whether a "yes" to this field alone is an emergency, whatever else is known.

    A group question whose members all are makes a plain "yes" an emergency.
    """
    try:
        report = with_value(SymptomReport(), name, Answer.yes)
    except (KeyError, ValueError):
        return False
    return any(r.level is Disposition.emergency and r.test(report) for r in RULES)
