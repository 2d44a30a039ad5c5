"""Unit tests for the pure red-flag rules (kiosk.rules): every rule, its edges, decide().

Reports are built from a fully negative baseline (every answer "no", mild short pain with
a known cause that home care helped) with a few fields changed, so each test sees only the
rule it is about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.catalogue import load
from kiosk.rules import (
    ALARMING_WHEN_NO,
    ALARMING_WHEN_YES,
    ALL_RULES,
    EMERGENCY_FIELDS,
    NEVER_ASKED,
    RULES,
    UNRESOLVED_RULE,
    Disposition,
    Rule,
    decide,
    disposition,
    fired,
    unresolved_red_flags,
    worst_case,
)
from kiosk.symptoms import (
    SECTIONS,
    Answer,
    Location,
    RiskFactors,
    SymptomReport,
    Symptoms,
    field_path,
    get_value,
)

SEEDS_DIR = Path("/work/shared/seeds")
SEED_FILES = {p.name for p in SEEDS_DIR.iterdir() if p.is_file()}
CAT = load()

EMERGENCY_RULES = [r for r in RULES if r.level is Disposition.emergency]
RULE_IDS = [r.id for r in RULES]

NEGATIVE_PAIN: dict[str, Any] = {
    "locations": [Location.upper_back.value],
    "onset": "gradual",
    "after_injury": "no",
    "injury": None,
    "duration_days": 3,
    "more_than_a_week": "no",
    "recurring": "no",
    "severity": 3,
    "severe": "no",
    "worsening": "no",
    "home_care_helped": "yes",
    "interferes_with_life": "no",
    "known_cause": "yes",
}


def _negative_data() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "pain": dict(NEGATIVE_PAIN),
        "symptoms": dict.fromkeys(Symptoms.model_fields, "no"),
        "risk_factors": dict.fromkeys(RiskFactors.model_fields, "no"),
    }


def report(**changes: Any) -> SymptomReport:
    """The fully negative report with some fields (by id, any section) changed."""
    data = _negative_data()
    for name, value in changes.items():
        section, field = field_path(name)
        data[section][field] = value
    return SymptomReport.model_validate(data)


def empty_report(**changes: Any) -> SymptomReport:
    """An all-unknown report with some fields changed."""
    data: dict[str, Any] = {"pain": {}, "symptoms": {}, "risk_factors": {}}
    for name, value in changes.items():
        section, field = field_path(name)
        data[section][field] = value
    return SymptomReport.model_validate(data)


def ids(r: SymptomReport) -> list[str]:
    return [rule.id for rule in fired(r)]


def at_least(level: Disposition) -> list[Disposition]:
    return [d for d in Disposition if d.rank >= level.rank]


# --- per-rule cases -------------------------------------------------------------------

# Changes to the negative report that make the rule fire (one or more ways).
FIRES: dict[str, list[dict[str, Any]]] = {
    "emergency.bladder_bowel": [{"bladder_bowel_problems": "yes"}],
    "emergency.saddle_numbness": [{"saddle_numbness": "yes"}],
    "emergency.legs_loss_of_feeling": [{"legs_loss_of_feeling": "yes"}],
    "emergency.limb_numbness": [{"limb_numbness": "yes"}],
    "emergency.limb_weakness": [{"limb_weakness": "yes"}],
    "emergency.walking_standing": [{"trouble_walking_or_standing": "yes"}],
    "emergency.chest_pain": [{"chest_pain": "yes"}],
    "emergency.breathing": [{"shortness_of_breath": "yes"}],
    "emergency.heart_attack_signs": [
        {"pain_spreads_to_arm_jaw_or_neck": "yes"},
        {"cold_sweat": "yes"},
    ],
    "emergency.coughing_blood": [{"coughing_blood": "yes"}],
    "emergency.abdominal": [{"abdominal_pain": "yes"}],
    "emergency.sudden_severe": [
        {"onset": "sudden", "severity": 7},
        {"onset": "sudden", "severity": 10},
        {"onset": "sudden", "severity": None, "severe": "yes"},
    ],
    "emergency.injury": [
        {"after_injury": "yes"},
        {"after_injury": "unknown", "injury": "fall"},
    ],
    "emergency.osteoporosis_acute": [
        {"osteoporosis": "yes", "duration_days": 10},
        {"osteoporosis": "yes", "duration_days": None, "more_than_a_week": "unknown"},
    ],
    "emergency.fainting": [{"fainting": "yes"}],
    "emergency.fever": [{"fever": "yes"}],
    "emergency.unspecified_sign": [{"emergency_sign_unspecified": "yes"}],
    "urgent.tingling": [{"limb_tingling": "yes"}],
    "urgent.chills": [{"chills": "yes"}],
    "urgent.weight_loss": [{"weight_loss": "yes"}],
    "urgent.cough": [{"cough": "yes"}],
    "urgent.very_severe": [
        {"onset": "gradual", "severity": 8},
        {"onset": "gradual", "severity": 10},
        {"onset": "gradual", "severity": None, "severe": "yes"},
    ],
    "urgent.worsening": [{"worsening": "yes"}],
    "urgent.hard_to_move": [{"hard_to_move_back": "yes"}],
    "urgent.balance": [{"balance_problems": "yes"}],
    "urgent.recent_illness": [{"recent_illness": "yes"}],
    "urgent.cancer_history": [{"cancer_history": "yes"}],
    "doctor.over_a_week": [
        {"duration_days": 8},
        {"duration_days": None, "more_than_a_week": "yes"},
    ],
    "doctor.recurring": [{"recurring": "yes"}],
    "doctor.interferes": [{"interferes_with_life": "yes"}],
    "doctor.home_care_failed": [{"home_care_helped": "no"}],
    "doctor.no_known_cause": [{"known_cause": "no"}],
    "doctor.severe": [
        {"severity": 7},
        {"severity": None, "severe": "yes"},
    ],
    "doctor.risk_factor": [
        {"age_over_65": "yes", "recurring": "yes"},
        {"arthritis": "yes", "worsening": "yes"},
    ],
}

# Changes to the negative report that come close but must NOT fire the rule.
DOES_NOT_FIRE: dict[str, list[dict[str, Any]]] = {
    "emergency.unspecified_sign": [{"emergency_sign_unspecified": "unknown"}],
    "emergency.sudden_severe": [
        {"onset": "sudden", "severity": 6},
        {"onset": "gradual", "severity": 9},
        {"onset": "sudden", "severity": None, "severe": "no"},
    ],
    "emergency.osteoporosis_acute": [
        {"osteoporosis": "yes", "duration_days": 200},
        {"osteoporosis": "no", "duration_days": 10},
    ],
    "urgent.very_severe": [
        {"onset": "gradual", "severity": 7},
        {"onset": "sudden", "severity": 9},
        {"onset": "sudden", "severity": None, "severe": "yes"},
        {"onset": "gradual", "severity": None, "severe": "no"},
    ],
    "doctor.over_a_week": [
        {"duration_days": 7},
        {"duration_days": None, "more_than_a_week": "no"},
        {"duration_days": None, "more_than_a_week": "unknown"},
    ],
    "doctor.home_care_failed": [
        {"home_care_helped": "unknown"},
        {"home_care_helped": "yes"},
    ],
    "doctor.no_known_cause": [{"known_cause": "unknown"}],
    "doctor.severe": [{"severity": 6}, {"severity": None, "severe": "no"}],
    "doctor.risk_factor": [
        {"age_over_65": "yes", "recurring": "no", "worsening": "no"},
        {"age_over_65": "no", "recurring": "yes"},
        {"age_over_65": "unknown", "worsening": "yes"},
    ],
}

# For each emergency rule: the changes that leave its red flag unknown, and the field
# that must then be listed as unresolved.
EMERGENCY_UNKNOWN: dict[str, list[tuple[dict[str, Any], str]]] = {
    "emergency.bladder_bowel": [({"bladder_bowel_problems": "unknown"}, "bladder_bowel_problems")],
    "emergency.saddle_numbness": [({"saddle_numbness": "unknown"}, "saddle_numbness")],
    "emergency.legs_loss_of_feeling": [
        ({"legs_loss_of_feeling": "unknown"}, "legs_loss_of_feeling")
    ],
    "emergency.limb_numbness": [({"limb_numbness": "unknown"}, "limb_numbness")],
    "emergency.limb_weakness": [({"limb_weakness": "unknown"}, "limb_weakness")],
    "emergency.walking_standing": [
        ({"trouble_walking_or_standing": "unknown"}, "trouble_walking_or_standing")
    ],
    "emergency.chest_pain": [({"chest_pain": "unknown"}, "chest_pain")],
    "emergency.breathing": [({"shortness_of_breath": "unknown"}, "shortness_of_breath")],
    "emergency.heart_attack_signs": [
        ({"pain_spreads_to_arm_jaw_or_neck": "unknown"}, "pain_spreads_to_arm_jaw_or_neck"),
        ({"cold_sweat": "unknown"}, "cold_sweat"),
    ],
    "emergency.coughing_blood": [({"coughing_blood": "unknown"}, "coughing_blood")],
    "emergency.abdominal": [({"abdominal_pain": "unknown"}, "abdominal_pain")],
    "emergency.sudden_severe": [
        ({"onset": "unknown", "severity": 7}, "onset"),
        ({"onset": "sudden", "severity": None, "severe": "unknown"}, "severe"),
    ],
    "emergency.injury": [({"after_injury": "unknown"}, "after_injury")],
    "emergency.osteoporosis_acute": [
        ({"osteoporosis": "unknown", "duration_days": 10}, "osteoporosis")
    ],
    "emergency.fainting": [({"fainting": "unknown"}, "fainting")],
    "emergency.fever": [({"fever": "unknown"}, "fever")],
}


def _cases(table: dict[str, list[Any]]) -> list[Any]:
    return [
        pytest.param(rule_id, case, id=f"{rule_id}-{i}")
        for rule_id, cases in table.items()
        for i, case in enumerate(cases)
    ]


def _rule(rule_id: str) -> Rule:
    (rule,) = [r for r in ALL_RULES if r.id == rule_id]
    return rule


def test_a_group_yes_left_unknown_is_not_an_unresolved_red_flag() -> None:
    """Nobody is asked "emergency_sign_unspecified": its signs are asked on their own."""
    r = report(emergency_sign_unspecified="unknown")
    assert disposition(r) is Disposition.self_care
    assert unresolved_red_flags(r) == []


def test_every_rule_has_cases() -> None:
    assert set(FIRES) == set(RULE_IDS)
    asked = {r.id for r in EMERGENCY_RULES if not set(r.fields) <= NEVER_ASKED}
    assert set(EMERGENCY_UNKNOWN) == asked
    assert len(RULE_IDS) == len(set(RULE_IDS)), "duplicate rule ids"
    assert UNRESOLVED_RULE.id not in RULE_IDS


@pytest.mark.parametrize(("rule_id", "changes"), _cases(FIRES))
def test_rule_fires(rule_id: str, changes: dict[str, Any]) -> None:
    rule = _rule(rule_id)
    r = report(**changes)
    assert rule.test(r)
    assert rule_id in ids(r)
    assert disposition(r) in at_least(rule.level)
    assert decide(r, CAT).disposition in at_least(rule.level)


@pytest.mark.parametrize(("rule_id", "changes"), _cases(FIRES))
def test_rule_fires_on_otherwise_empty_report(rule_id: str, changes: dict[str, Any]) -> None:
    """Minimal report: only the rule's own answers, everything else unknown."""
    rule = _rule(rule_id)
    changes = {k: v for k, v in changes.items() if v is not None}
    r = empty_report(**changes)
    assert rule_id in ids(r)
    assert disposition(r) in at_least(rule.level)


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_rule_does_not_fire_when_answered_no(rule: Rule) -> None:
    """The negative report has every field the rule reads answered 'no' (or benign)."""
    r = report()
    assert not rule.test(r)
    assert rule.id not in ids(r)


@pytest.mark.parametrize(("rule_id", "changes"), _cases(DOES_NOT_FIRE))
def test_rule_does_not_fire_near_miss(rule_id: str, changes: dict[str, Any]) -> None:
    r = report(**changes)
    assert not _rule(rule_id).test(r)
    assert rule_id not in ids(r)


@pytest.mark.parametrize(("rule_id", "case"), _cases(EMERGENCY_UNKNOWN))
def test_unknown_red_flag_is_unresolved_not_fired(
    rule_id: str, case: tuple[dict[str, Any], str]
) -> None:
    changes, field = case
    r = report(**changes)
    d = decide(r, CAT)
    assert rule_id not in d.rule_ids, "an unknown answer fired the rule itself"
    assert UNRESOLVED_RULE.id in d.rule_ids
    assert d.disposition is Disposition.urgent
    assert field in d.unresolved
    assert field in unresolved_red_flags(r)
    question = CAT.question_for(field)
    assert question is not None and question.watch_for
    assert question.watch_for in d.watch_for


@pytest.mark.parametrize("rule", EMERGENCY_RULES, ids=[r.id for r in EMERGENCY_RULES])
def test_emergency_rule_answered_no_is_not_unresolved(rule: Rule) -> None:
    r = report()
    assert unresolved_red_flags(r) == []
    for name in rule.fields:
        assert name not in decide(r, CAT).unresolved


# --- numeric edges --------------------------------------------------------------------

SEVERITY_EDGES = [
    # onset, severity, severe, expected among the three severity rules, disposition
    ("sudden", 6, None, set(), Disposition.self_care),
    ("sudden", 7, None, {"emergency.sudden_severe", "doctor.severe"}, Disposition.emergency),
    ("sudden", 8, None, {"emergency.sudden_severe", "doctor.severe"}, Disposition.emergency),
    ("gradual", 6, None, set(), Disposition.self_care),
    ("gradual", 7, None, {"doctor.severe"}, Disposition.doctor),
    ("gradual", 8, None, {"urgent.very_severe", "doctor.severe"}, Disposition.urgent),
    ("gradual", 10, None, {"urgent.very_severe", "doctor.severe"}, Disposition.urgent),
    ("gradual", None, "yes", {"urgent.very_severe", "doctor.severe"}, Disposition.urgent),
    ("sudden", None, "yes", {"emergency.sudden_severe", "doctor.severe"}, Disposition.emergency),
    ("gradual", None, "no", set(), Disposition.self_care),
]
SEVERITY_RULES = {"emergency.sudden_severe", "urgent.very_severe", "doctor.severe"}


@pytest.mark.parametrize(("onset", "severity", "severe", "expected", "level"), SEVERITY_EDGES)
def test_severity_and_onset_edges(
    onset: str, severity: int | None, severe: str | None, expected: set[str], level: Disposition
) -> None:
    changes: dict[str, Any] = {"onset": onset, "severity": severity}
    if severe is not None:
        changes["severe"] = severe
    r = report(**changes)
    assert set(ids(r)) & SEVERITY_RULES == expected
    assert disposition(r) is level


@pytest.mark.parametrize(("severity", "severe"), [(6, Answer.no), (7, Answer.yes), (8, Answer.yes)])
def test_severe_is_derived_from_score(severity: int, severe: Answer) -> None:
    assert report(severity=severity).pain.severe is severe
    # A score overrides a contradicting yes/no answer.
    assert report(severity=severity, severe="unknown").pain.severe is severe


def test_severe_pain_with_unknown_onset_is_urgent_and_unresolved() -> None:
    r = report(onset="unknown", severity=8)
    d = decide(r, CAT)
    assert "emergency.sudden_severe" not in d.rule_ids
    assert "urgent.very_severe" in d.rule_ids  # unknown onset is not "sudden"
    assert "onset" in d.unresolved
    assert d.disposition is Disposition.urgent


def test_mild_pain_with_unknown_onset_is_not_unresolved() -> None:
    r = report(onset="unknown", severity=3)
    assert "onset" not in unresolved_red_flags(r)
    assert disposition(r) is Disposition.self_care


@pytest.mark.parametrize(("days", "fires"), [(0, False), (7, False), (8, True), (30, True)])
def test_duration_days_edge(days: int, fires: bool) -> None:
    r = report(duration_days=days)
    assert r.pain.more_than_a_week is (Answer.yes if fires else Answer.no)
    assert ("doctor.over_a_week" in ids(r)) is fires
    assert disposition(r) is (Disposition.doctor if fires else Disposition.self_care)


@pytest.mark.parametrize(("answer", "fires"), [("yes", True), ("no", False), ("unknown", False)])
def test_more_than_a_week_yes_no_form(answer: str, fires: bool) -> None:
    r = report(duration_days=None, more_than_a_week=answer)
    assert ("doctor.over_a_week" in ids(r)) is fires


def test_duration_figure_overrides_yes_no_form() -> None:
    assert "doctor.over_a_week" not in ids(report(duration_days=7, more_than_a_week="yes"))
    assert "doctor.over_a_week" in ids(report(duration_days=8, more_than_a_week="no"))


@pytest.mark.parametrize(
    ("days", "level"),
    [
        (10, Disposition.emergency),
        (200, Disposition.doctor),  # over a week, but not acute: not an emergency
        (None, Disposition.emergency),  # unknown duration: the more urgent reading
    ],
)
def test_osteoporosis_and_duration(days: int | None, level: Disposition) -> None:
    changes: dict[str, Any] = {"osteoporosis": "yes", "duration_days": days}
    if days is None:
        changes["more_than_a_week"] = "unknown"
    r = report(**changes)
    assert ("emergency.osteoporosis_acute" in ids(r)) is (level is Disposition.emergency)
    assert disposition(r) is level


def test_osteoporosis_unknown_with_long_pain_is_not_unresolved() -> None:
    r = report(osteoporosis="unknown", duration_days=200)
    assert "osteoporosis" not in unresolved_red_flags(r)
    assert disposition(r) is Disposition.doctor


@pytest.mark.parametrize("factor", list(RiskFactors.model_fields))
@pytest.mark.parametrize("course", ["recurring", "worsening"])
def test_risk_factor_with_recurring_or_worsening(factor: str, course: str) -> None:
    r = report(**{factor: "yes", course: "yes"})
    assert "doctor.risk_factor" in ids(r)
    assert disposition(r) in at_least(Disposition.doctor)


@pytest.mark.parametrize("factor", list(RiskFactors.model_fields))
def test_risk_factor_alone_does_not_fire(factor: str) -> None:
    assert "doctor.risk_factor" not in ids(report(**{factor: "yes"}))


@pytest.mark.parametrize("course", ["recurring", "worsening"])
def test_recurring_or_worsening_without_risk_factor(course: str) -> None:
    assert "doctor.risk_factor" not in ids(report(**{course: "yes"}))


@pytest.mark.parametrize(("answer", "fires"), [("no", True), ("unknown", False), ("yes", False)])
def test_home_care_failed(answer: str, fires: bool) -> None:
    r = report(home_care_helped=answer)
    assert ("doctor.home_care_failed" in ids(r)) is fires
    assert disposition(r) is (Disposition.doctor if fires else Disposition.self_care)


# --- whole reports --------------------------------------------------------------------


def test_fully_negative_report_is_self_care() -> None:
    r = report()
    d = decide(r, CAT)
    assert fired(r) == []
    assert disposition(r) is Disposition.self_care
    assert d.disposition is Disposition.self_care
    assert d.rules == ()
    assert d.unresolved == ()
    assert d.watch_for == ()
    # Its only "yes" answers are the reassuring ones; no red flag is a positive.
    assert set(d.pertinent_positives) == {"home_care_helped", "known_cause"}
    assert d.guidance == CAT.guidance.disposition["self_care"].guidance.strip()
    assert not d.guidance.startswith("Call 911")


def test_empty_report_is_urgent_never_self_care() -> None:
    r = SymptomReport()
    d = decide(r, CAT)
    assert d.disposition is Disposition.urgent
    assert d.disposition is not Disposition.self_care
    assert d.rule_ids == (UNRESOLVED_RULE.id,)
    every_flag = {f for cases in EMERGENCY_UNKNOWN.values() for _, f in cases}
    assert every_flag <= set(d.unresolved)
    assert len(d.watch_for) >= len(EMERGENCY_UNKNOWN)
    assert all(d.watch_for)
    assert d.pertinent_positives == ()
    assert d.pertinent_negatives == ()


def test_worst_case_only_replaces_unknowns() -> None:
    r = report(chest_pain="unknown", onset="unknown")
    w = worst_case(r)
    assert w.symptoms.chest_pain is Answer.yes
    assert w.pain.onset.value == "sudden"
    assert w.symptoms.fever is Answer.no
    assert w.pain.severity == 3 and w.pain.severe is Answer.no


# --- decide() -------------------------------------------------------------------------


@pytest.mark.parametrize("rule", EMERGENCY_RULES, ids=[r.id for r in EMERGENCY_RULES])
def test_emergency_guidance_says_call_911_first(rule: Rule) -> None:
    d = decide(report(**FIRES[rule.id][0]), CAT)
    assert d.disposition is Disposition.emergency
    assert d.guidance.startswith("Call 911 now")
    assert CAT.guidance.reasons[d.rules[0].id] in d.guidance


@pytest.mark.parametrize("level", [Disposition.urgent, Disposition.doctor])
def test_non_emergency_guidance_does_not_say_call_911_now(level: Disposition) -> None:
    rule = next(r for r in RULES if r.level is level)
    d = decide(report(**FIRES[rule.id][0]), CAT)
    assert d.disposition is level
    assert not d.guidance.startswith("Call 911")
    assert CAT.guidance.reasons[rule.id] in d.guidance


def _check_firing_citations(rule_id: str, d_rules: tuple[Any, ...]) -> None:
    (firing,) = [f for f in d_rules if f.id == rule_id]
    assert firing.reason.strip()
    assert firing.reason == CAT.guidance.reasons[rule_id]
    assert any(s in SEED_FILES for s in firing.seeds), firing.seeds
    for s in firing.seeds:
        assert s in SEED_FILES or s.startswith("NICE"), s


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_fired_rule_has_reason_and_real_seed(rule: Rule) -> None:
    d = decide(report(**FIRES[rule.id][0]), CAT)
    assert rule.id in d.rule_ids
    for f in d.rules:
        _check_firing_citations(f.id, d.rules)
        assert f.level is _rule(f.id).level


def test_unresolved_rule_has_reason_and_real_seed() -> None:
    d = decide(SymptomReport(), CAT)
    _check_firing_citations(UNRESOLVED_RULE.id, d.rules)


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.id for r in ALL_RULES])
def test_rule_seeds_exist(rule: Rule) -> None:
    assert rule.seeds
    assert any(s in SEED_FILES for s in rule.seeds)
    for s in rule.seeds:
        assert s in SEED_FILES or s.startswith("NICE"), f"{rule.id} cites unknown {s!r}"


def test_every_rule_has_a_catalogue_reason() -> None:
    reasons = load().guidance.reasons
    for rule in ALL_RULES:
        assert rule.id in reasons, rule.id
        assert reasons[rule.id].strip(), rule.id


def test_rule_fields_are_report_fields() -> None:
    every = {n for model in SECTIONS.values() for n in model.model_fields}
    for rule in ALL_RULES:
        assert set(rule.fields) <= every, rule.id


def test_pertinent_positives_and_negatives() -> None:
    r = report(chest_pain="yes", fever="unknown", cough="yes", recurring="yes")
    d = decide(r, CAT)
    assert {"chest_pain", "cough", "recurring"} <= set(d.pertinent_positives)
    for name in d.pertinent_positives:
        assert get_value(r, name) is Answer.yes, name
    for name in d.pertinent_negatives:
        assert get_value(r, name) is Answer.no, name
    # Every emergency question answered "no" is a pertinent negative.
    assert "shortness_of_breath" in d.pertinent_negatives
    assert "bladder_bowel_problems" in d.pertinent_negatives
    assert "chest_pain" not in d.pertinent_negatives
    assert "fever" not in d.pertinent_negatives
    assert "fever" not in d.pertinent_positives
    assert "fever" in d.unresolved


def test_pertinent_negatives_of_negative_report_cover_every_emergency_question() -> None:
    r = report()
    d = decide(r, CAT)
    no_fields = {n for n in EMERGENCY_FIELDS if get_value(r, n) is Answer.no}
    every_flag = {f for cases in EMERGENCY_UNKNOWN.values() for _, f in cases} - {"onset"}
    assert every_flag <= no_fields
    assert set(d.pertinent_negatives) == no_fields


def test_decision_is_deterministic() -> None:
    changes = {"chest_pain": "yes", "cough": "yes", "fever": "unknown", "recurring": "yes"}
    a = decide(report(**changes), CAT)
    b = decide(report(**changes), CAT)
    assert a == b
    assert a.model_dump_json() == b.model_dump_json()
    c = decide(SymptomReport.model_validate_json(report(**changes).model_dump_json()), CAT)
    assert a == c


def test_rules_sorted_most_urgent_first() -> None:
    r = report(
        recurring="yes",  # doctor
        cough="yes",  # urgent
        known_cause="no",  # doctor
        fever="yes",  # emergency
        chills="yes",  # urgent
        chest_pain="unknown",  # urgent (unresolved)
    )
    d = decide(r, CAT)
    ranks = [f.level.rank for f in d.rules]
    assert ranks == sorted(ranks, reverse=True)
    assert {f.level for f in d.rules} == {
        Disposition.emergency,
        Disposition.urgent,
        Disposition.doctor,
    }
    assert d.rules[0].level is d.disposition is Disposition.emergency
    assert [r.id for r in fired(r)] == list(d.rule_ids)


def test_all_yes_report_fires_every_yes_rule_in_order() -> None:
    data = _negative_data()
    for section in ("symptoms", "risk_factors"):
        data[section] = {k: "yes" for k in data[section]}
    data["pain"].update(
        onset="sudden",
        after_injury="yes",
        severity=9,
        duration_days=5,
        recurring="yes",
        worsening="yes",
        interferes_with_life="yes",
        home_care_helped="no",
        known_cause="no",
    )
    r = SymptomReport.model_validate(data)
    got = ids(r)
    expected = set(RULE_IDS) - {"urgent.very_severe", "doctor.over_a_week"}
    assert set(got) == expected
    ranks = [_rule(i).level.rank for i in got]
    assert ranks == sorted(ranks, reverse=True)


def test_alarming_when_yes_is_every_sign_whose_yes_asks_for_more_care() -> None:
    """Derived from the rules, so a new rule's signs join it without a list to keep.
    A known cause (its "no" asks for more care) and home care helping are not in it:
    said in passing, they are taken as said."""
    assert {"chest_pain", "cough", "coughing_blood", "fever", "after_injury"} <= ALARMING_WHEN_YES
    assert "known_cause" not in ALARMING_WHEN_YES
    assert "home_care_helped" not in ALARMING_WHEN_YES
    for name in ALARMING_WHEN_YES:
        assert any(name in rule.fields for rule in RULES), name


def test_alarming_when_no_is_home_care_and_a_known_cause() -> None:
    """Their "no" asks for more care (S000, S001, S003): said in passing by voice, it
    needs both decodes, as a cough's "yes" does."""
    assert {"home_care_helped", "known_cause"} == ALARMING_WHEN_NO
    assert not ALARMING_WHEN_NO & ALARMING_WHEN_YES
