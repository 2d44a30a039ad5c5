"""Which question comes next, as a pure function of the report and what was asked."""

from __future__ import annotations

from kiosk.catalogue import Block, load
from kiosk.question_choice import could_change, is_open, next_question
from kiosk.symptoms import Answer, SymptomReport, with_value

CAT = load()
GROUPS = [q.id for q in CAT.questions if q.is_group and q.block is Block.screening]


def report(**fields: object) -> SymptomReport:
    r = SymptomReport()
    for name, value in fields.items():
        r = with_value(r, name, value)
    return r


def test_screening_groups_come_first() -> None:
    asked: list[str] = []
    r = SymptomReport()
    for expected in GROUPS[:5]:
        q = next_question(CAT, r, asked)
        assert q is not None and q.id == expected
        asked.append(q.id)
        for m in q.members:
            r = with_value(r, m, Answer.no)


def test_a_sign_is_asked_on_its_own_only_after_its_group_left_it_open() -> None:
    q = next_question(CAT, SymptomReport(), ["heart_lungs"])
    assert q is not None and q.id == "chest_pain"
    q = next_question(CAT, report(chest_pain=Answer.no), ["heart_lungs", "chest_pain"])
    assert q is not None and q.id == "shortness_of_breath"


def test_a_vague_red_flag_word_jumps_the_queue() -> None:
    q = next_question(CAT, SymptomReport(), [], follow_up=["limb_numbness"])
    assert q is not None and q.id == "limb_numbness"


def test_a_vague_other_word_waits_for_screening() -> None:
    q = next_question(CAT, SymptomReport(), [], follow_up=["limb_tingling"])
    assert q is not None and q.id == "heart_lungs"


def test_onset_is_asked_only_when_the_pain_is_severe() -> None:
    onset = CAT.question("onset")
    assert not could_change(onset, report(severity=3))
    assert could_change(onset, report(severity=8))


def test_history_stops_when_no_answer_could_change_the_outcome() -> None:
    unresolved = SymptomReport()  # every warning sign unknown: urgent already
    assert not could_change(CAT.question("course"), unresolved)
    assert not could_change(CAT.question("course"), report(cough=Answer.yes))


def test_a_group_is_open_while_any_sign_in_it_is() -> None:
    heart = CAT.question("heart_lungs")
    assert is_open(heart, report(chest_pain=Answer.no))
    closed = report(
        chest_pain=Answer.no,
        shortness_of_breath=Answer.no,
        pain_spreads_to_arm_jaw_or_neck=Answer.no,
    )
    assert not is_open(heart, closed)


def test_groups_hold_at_most_three_yes_no_signs_asked_again_on_their_own() -> None:
    for q in CAT.questions:
        if q.is_group:
            assert 1 < len(q.members) <= 3
            for m in q.members:
                single = CAT.question_for(m)
                assert single is not None and not single.is_group
