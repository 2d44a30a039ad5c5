"""The read-back as a pure function: plain, grammatical, at most 40 words, and it says
what was heard."""

from __future__ import annotations

import pytest

from kiosk.catalogue import load
from kiosk.readback import MAX_WORDS, summary
from kiosk.rules import EMERGENCY_FIELDS
from kiosk.symptoms import Answer, Location, Onset, SymptomReport, get_value, with_value

CAT = load()


def report(**fields: object) -> SymptomReport:
    r = SymptomReport()
    for name, value in fields.items():
        r = with_value(r, name, value)
    return r


def all_no(**fields: object) -> SymptomReport:
    signs = [f for f in EMERGENCY_FIELDS if isinstance(get_value(SymptomReport(), f), Answer)]
    r = report(**{f: Answer.no for f in signs if f != "severe"})
    r = with_value(r, "emergency_sign_unspecified", Answer.unknown)
    for name, value in fields.items():
        r = with_value(r, name, value)
    return r


def test_the_issue_example() -> None:
    r = all_no(
        locations=[Location.between_shoulder_blades],
        severity=4,
        duration_days=3,
        home_care_helped=Answer.yes,
        known_cause=Answer.yes,
    )
    assert summary(CAT, r) == (
        "You said the pain is between your shoulder blades, 4 out of 10, for 3 days; "
        "home care helped; you know what caused it. No warning signs."
    )


def test_nothing_known_is_still_a_sentence() -> None:
    assert summary(CAT, SymptomReport()).startswith("You said you have back pain.")


def test_unresolved_signs_are_named() -> None:
    r = all_no(chest_pain=Answer.unknown, severity=3)
    assert summary(CAT, r).endswith("You weren't sure about chest pain.")
    vague = summary(CAT, all_no())  # no score, no onset: said plainly, not as labels
    assert vague.endswith("You weren't sure about how it started and how bad the pain is.")


def test_a_yes_no_answer_instead_of_a_figure() -> None:
    r = all_no(severe=Answer.no, more_than_a_week=Answer.yes, onset=Onset.gradual)
    assert "not severe, for more than a week; it came on slowly." in summary(CAT, r)


@pytest.mark.parametrize("days", [0, 1, 7, 14, 10])
def test_durations_read_naturally(days: int) -> None:
    text = summary(CAT, all_no(duration_days=days))
    assert {0: "less than a day", 1: "1 day", 7: "1 week", 14: "2 weeks", 10: "10 days"}[
        days
    ] in text


def test_never_over_forty_words_with_the_question() -> None:
    """Everything at once: the least telling facts are dropped, the warning signs stay."""
    r = all_no(
        locations=[Location.upper_back, Location.between_shoulder_blades, Location.ribs],
        severity=5,
        duration_days=21,
        onset=Onset.gradual,
        home_care_helped=Answer.no,
        known_cause=Answer.no,
        worsening=Answer.yes,
        recurring=Answer.yes,
        interferes_with_life=Answer.yes,
        limb_tingling=Answer.yes,
        cough=Answer.yes,
        cancer_history=Answer.yes,
        chills=Answer.yes,
    )
    text = summary(CAT, r)
    assert len(f"{text} {CAT.say('readback_confirm')}".split()) <= MAX_WORDS
    assert text.endswith("No warning signs.")
    assert "home care hasn't helped" in text  # catalogue order: the first facts stay


def test_no_garbled_joins() -> None:
    """Regression: "You have pain in your between your shoulder blades and shoulders",
    "You also told me about whether home care helped and a known cause"."""
    r = all_no(locations=[Location.between_shoulder_blades, Location.shoulders], severity=2)
    text = summary(CAT, r)
    assert "your between" not in text and "whether" not in text
    assert "between your shoulder blades and in your shoulders" in text
