"""What an answer does to the report, as typed field updates."""

from __future__ import annotations

import pytest

from kiosk.answers import UNSPECIFIED_SIGN, Update, apply, mention_updates, read_answer
from kiosk.catalogue import load
from kiosk.symptoms import Answer, Onset, SymptomReport
from kiosk.understanding import Understander

CAT = load()


@pytest.fixture(scope="module")
def u() -> Understander:
    return Understander(CAT)


def test_no_to_a_group_is_no_to_each_sign(u: Understander) -> None:
    q = CAT.question("heart_lungs")
    assert read_answer(q, u("no, none of that")) == [Update(m, Answer.no) for m in q.members]


def test_yes_to_an_emergency_group_is_an_unspecified_sign(u: Understander) -> None:
    assert read_answer(CAT.question("collapse"), u("yes")) == [Update(UNSPECIFIED_SIGN, Answer.yes)]


def test_yes_to_a_mixed_group_leaves_its_signs_to_ask(u: Understander) -> None:
    assert read_answer(CAT.question("course"), u("yes")) == []


def test_a_named_sign_takes_its_own_value(u: Understander) -> None:
    updates = read_answer(CAT.question("nerves"), u("yes, my legs feel weak"))
    assert updates == [Update("limb_weakness", Answer.yes)]


def test_no_with_a_vague_word_of_the_question_is_asked_again(u: Understander) -> None:
    assert read_answer(CAT.question("limb_numbness"), u("no, but it's a bit numb")) is None


def test_restating_the_symptom_is_yes(u: Understander) -> None:
    q = CAT.question("chest_pain")
    assert read_answer(q, u("it's more like a pressure")) == [Update("chest_pain", Answer.yes)]


@pytest.mark.parametrize("reply", ["yes", "absolutely", "no"])
def test_a_bare_yes_or_no_answers_only_the_simple_onset_question(
    u: Understander, reply: str
) -> None:
    """ "Suddenly, or slowly?" has no yes or no answer; "slowly" heard as "absolutely"
    used to read as a sudden onset."""
    q = CAT.question("onset")
    assert read_answer(q, u(reply)) is None
    expected = Onset.gradual if reply == "no" else Onset.sudden
    assert read_answer(q, u(reply), simple=True) == [Update("onset", expected)]


def test_unknown_cause_means_no_known_cause(u: Understander) -> None:
    q = CAT.question("known_cause")
    assert read_answer(q, u("no idea")) == [Update("known_cause", Answer.no)]


def test_a_red_flag_already_heard_stays(u: Understander) -> None:
    r = apply(SymptomReport(), [Update("chest_pain", Answer.yes)])
    assert apply(r, [Update("chest_pain", Answer.no)]).symptoms.chest_pain is Answer.yes
    fixed = apply(r, [Update("chest_pain", Answer.no, override=True)])
    assert fixed.symptoms.chest_pain is Answer.no


def test_mentions_in_passing_and_vague_words(u: Understander) -> None:
    reading = mention_updates(u("my upper back, three days, something feels numb"))
    assert Update("duration_days", 3) in reading.updates
    assert reading.follow_up == ("limb_numbness",)


def test_the_injury_kind_is_not_a_yes_no_answer(u: Understander) -> None:
    """Regression (found by the phrasing corpus): the kind of injury crashed the yes/no
    reading of the injury question."""
    q = CAT.question("after_injury")
    assert read_answer(q, u("I fell off a ladder")) == [Update("after_injury", Answer.yes)]
