"""The dialog state machine, driven in-process with events: commands, re-asks, red flags
at any moment, unknowns, read-back and skipping what was already said."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.catalogue import Block, QuestionKind, load
from kiosk.dialog import (
    MAX_CHECKS,
    MAX_REASKS,
    STRUGGLING_AFTER,
    WALK_AWAY_SILENCES,
    Dialog,
)
from kiosk.events import Action, Ending, Finish, Heard, Listen, Priority, Say, Silence, SpeakSlower
from kiosk.rules import Disposition
from kiosk.symptoms import Answer, Injury, Location, get_value
from kiosk.understanding import Understander
from tests.kiosk_process import pick_answer

CAT = load()
SCREENING = [q.id for q in CAT.questions if q.block is Block.screening]


@pytest.fixture(scope="module")
def understander() -> Understander:
    return Understander(CAT)


@pytest.fixture
def dialog(understander: Understander) -> Dialog:
    return Dialog(CAT, understander, date(2026, 11, 18))


def said(actions: list[Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Say)]


def listen_of(actions: list[Action]) -> Listen | None:
    return next((a for a in actions if isinstance(a, Listen)), None)


def finish_of(actions: list[Action]) -> Finish | None:
    return next((a for a in actions if isinstance(a, Finish)), None)


def drive(
    d: Dialog, answers: dict[str, str | list[str]], default: str = "no"
) -> tuple[list[str], Finish]:
    """Answer by question id until the session ends; returns the turns asked and the end."""
    actions = d.start()
    asked: list[str] = []
    used: dict[str, int] = {}
    for _ in range(200):
        end = finish_of(actions)
        if end:
            return asked, end
        listen = listen_of(actions)
        assert listen is not None, actions
        asked.append(listen.turn)
        given = pick_answer(listen.turn, answers, default, used)
        actions = d.handle(Heard(given) if given else Silence())
    raise AssertionError("dialog did not end")


MILD = {
    "open": "my upper back is sore since I slept badly two days ago",
    "severity": "three",
    "onset": "gradually",
    "home_care_helped": "yes",
    "known_cause": "yes",
    "readback": "yes",
}


def test_greeting_has_disclaimer_and_911_then_the_open_question(dialog: Dialog) -> None:
    actions = dialog.start()
    text = " ".join(said(actions))
    assert "not a diagnosis" in text and "911" in text
    assert said(actions)[-1] == CAT.say("open_question")
    assert listen_of(actions) == Listen("open")


GROUPS = [q.id for q in CAT.questions if q.is_group and q.block is Block.screening]


def test_emergency_screening_first_in_groups_of_three(dialog: Dialog) -> None:
    asked, end = drive(dialog, MILD)
    questions = [t for t in asked if t not in ("open", "readback")]
    assert questions[:5] == GROUPS[:5]
    assert questions[0] == "heart_lungs"
    assert all(len(CAT.question(g).members) <= 3 for g in GROUPS)
    assert end.decision is not None and end.decision.disposition is Disposition.self_care


def test_already_said_is_not_asked_again(dialog: Dialog) -> None:
    asked, _ = drive(dialog, {**MILD, "open": "no chest pain, my upper back hurts for three days"})
    assert "chest_pain" not in asked
    assert "duration" not in asked and "location" not in asked


@pytest.mark.parametrize(
    ("turn", "utterance"),
    [
        ("open", "my back hurts and I can't feel my legs"),
        ("heart_lungs", "no, but I can't really feel my legs"),
        ("heart_lungs", "no, but actually my bottom and my private area feel numb"),
        ("belly_fever_injury", "no fever but my chest feels tight"),
        ("severity", "about a six and I can't breathe properly"),
        ("home_care_helped", "yes and now I've lost control of my bladder"),
    ],
)
def test_red_flag_at_any_moment_ends_with_911_at_once(
    dialog: Dialog, turn: str, utterance: str
) -> None:
    answers = {**MILD, turn: utterance}
    actions = dialog.start()
    while True:
        listen = listen_of(actions)
        assert listen is not None, "session ended before the red flag was said"
        if listen.turn == turn:
            break
        actions = dialog.handle(Heard(answers.get(listen.turn, "no")))
    actions = dialog.handle(Heard(utterance))
    first = actions[0]
    assert isinstance(first, Say) and first.priority is Priority.emergency
    assert first.text.startswith("Call 911 now")
    assert listen_of(actions) is None
    end = finish_of(actions)
    assert end and end.decision and end.decision.disposition is Disposition.emergency
    assert dialog.finished


def test_negated_red_flag_does_not_end_the_session(dialog: Dialog) -> None:
    dialog.start()
    actions = dialog.handle(Heard("no chest pain, I don't have any numbness"))
    assert finish_of(actions) is None
    assert dialog.report.symptoms.chest_pain is Answer.no


def test_not_understood_is_asked_more_simply_then_left_unknown(dialog: Dialog) -> None:
    dialog.start()
    actions = dialog.handle(Heard("my upper back hurts"))
    assert listen_of(actions) == Listen("heart_lungs", CAT.question("heart_lungs").kind)
    for _ in range(MAX_REASKS):
        actions = dialog.handle(Heard("purple elephants"))
        assert said(actions) == [CAT.say("not_understood"), CAT.question("heart_lungs").simple]
        assert listen_of(actions).turn == "heart_lungs"
    actions = dialog.handle(Heard("purple elephants"))
    assert said(actions)[0] == CAT.say("moving_on")
    # The group's signs are still open: each is asked on its own, never taken as "no".
    assert listen_of(actions).turn == "chest_pain"
    assert dialog.report.symptoms.chest_pain is Answer.unknown


def test_where_it_hurts_is_asked_again_only_once(dialog: Dialog) -> None:
    """No answer to it changes the guidance; in a loud room it cost three turns."""
    answers = {**MILD, "open": "my back is sore since I slept badly two days ago"}
    actions = dialog.start()
    while listen_of(actions).turn != "location":
        actions = dialog.handle(Heard(pick_answer(listen_of(actions).turn, answers, "no", {})))
    actions = dialog.handle(Heard("purple", spoken=True))
    assert said(actions) == [CAT.say("not_understood"), CAT.question("location").simple]
    actions = dialog.handle(Heard("purple", spoken=True))
    assert said(actions)[0] == CAT.say("moving_on")
    assert listen_of(actions).turn != "location"


def test_a_person_the_kiosk_cannot_make_out_is_asked_each_group_once(
    dialog: Dialog,
) -> None:
    """Two questions in a row given up on: the rest are asked once more at most, and a
    group's signs are not asked one by one. It used to ask every sign of every group
    three times: 50-60 turns, each one another chance to mishear a red flag."""
    asked, end = drive(dialog, {"open": "my upper back hurts"}, default="purple elephants")
    groups = [q.id for q in CAT.questions if q.is_group and q.block is Block.screening]
    assert all(asked.count(g) <= MAX_REASKS + 1 for g in groups)
    assert set(groups) <= set(asked), "every screening group is asked: a red flag can be said"
    assert len(asked) <= 25
    assert end.ending is Ending.guidance and end.decision is not None
    assert end.decision.disposition is Disposition.urgent  # nothing was ruled out
    assert "chest_pain" in end.decision.unresolved


def test_a_red_flag_said_by_someone_hard_to_understand_is_still_heard(dialog: Dialog) -> None:
    answers = {"open": "my upper back hurts", "spinal_cord": "yes, I wet myself"}
    _, end = drive(dialog, answers, default="purple elephants")
    assert end.decision is not None and end.decision.disposition is Disposition.emergency


def test_an_understood_answer_between_failures_keeps_full_questioning(
    dialog: Dialog,
) -> None:
    dialog.start()
    actions = dialog.handle(Heard("my upper back hurts"))
    for _ in range(STRUGGLING_AFTER - 1):  # one short...
        for _ in range(MAX_REASKS + 1):
            actions = dialog.handle(Heard("purple elephants"))
    actions = dialog.handle(Heard("no"))  # ...then an answer: the count starts again
    for _ in range(STRUGGLING_AFTER - 1):
        for _ in range(MAX_REASKS + 1):
            actions = dialog.handle(Heard("purple elephants"))
    assert not dialog.s.struggling
    assert CAT.say("hard_to_understand") not in said(actions)


def test_unknown_emergency_answer_is_never_no(dialog: Dialog) -> None:
    asked, end = drive(dialog, {**MILD, "chest_pain": "I don't know"})
    assert asked.count("chest_pain") == 1, "'I don't know' is an answer, not a failure"
    assert end.decision is not None
    assert end.decision.disposition is Disposition.urgent
    assert "chest_pain" in end.decision.unresolved
    assert CAT.question("chest_pain").watch_for in end.decision.watch_for


def test_watch_for_is_spoken_in_the_guidance(dialog: Dialog) -> None:
    actions = dialog.start()
    spoken: list[str] = []
    used: dict[str, int] = {}
    while not finish_of(actions):
        listen = listen_of(actions)
        answers = {**MILD, "fever": "not sure"}
        actions = dialog.handle(Heard(pick_answer(listen.turn, answers, "no", used)))
        spoken += said(actions)
    assert CAT.question("fever").watch_for in spoken


def test_commands_work_at_any_moment(dialog: Dialog) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    question = CAT.question("heart_lungs").ask

    repeat = dialog.handle(Heard("can you repeat that please"))
    assert said(repeat) == [question] and listen_of(repeat).turn == "heart_lungs"

    help_ = dialog.handle(Heard("help"))
    assert said(help_) == [CAT.say("help"), question]

    slower = dialog.handle(Heard("slower please"))
    assert isinstance(slower[0], SpeakSlower) and said(slower) == [CAT.say("slower"), question]

    again = dialog.handle(Heard("start over"))
    assert said(again)[:2] == [CAT.say("start_over"), CAT.say("greeting")]
    assert listen_of(again) == Listen("open")
    assert dialog.report.pain.locations == []

    stop = dialog.handle(Heard("stop"))
    end = finish_of(stop)
    assert end and end.ending is Ending.stopped and end.decision is None
    assert said(stop) == [CAT.say("stopped")]
    assert dialog.handle(Heard("hello")) == []


def test_repeat_at_the_read_back_repeats_the_summary(dialog: Dialog) -> None:
    actions = dialog.start()
    while listen_of(actions).turn != "readback":
        actions = dialog.handle(Heard(MILD.get(listen_of(actions).turn, "no")))
    summary = said(actions)
    assert dialog.handle(Heard("repeat"))[: len(summary)] == [Say(t) for t in summary]


def test_silence_reasks_then_walk_away(dialog: Dialog) -> None:
    dialog.start()
    first = dialog.handle(Silence())
    assert said(first)[0] == CAT.say("not_heard")
    for _ in range(WALK_AWAY_SILENCES - 2):
        dialog.handle(Silence())
    last = dialog.handle(Silence())
    end = finish_of(last)
    assert end and end.ending is Ending.no_response
    assert said(last) == [CAT.say("no_response")]


def test_read_back_before_guidance_and_corrections(dialog: Dialog) -> None:
    asked, end = drive(dialog, {**MILD, "readback": ["no, it's been two weeks", "yes"]})
    assert asked.count("readback") == 2
    assert dialog.report.pain.duration_days == 14
    assert end.decision and end.decision.disposition is Disposition.doctor
    assert "doctor.over_a_week" in end.decision.rule_ids


def test_a_place_put_right_at_the_read_back_replaces_the_wrong_one(dialog: Dialog) -> None:
    """ "No, it's in my lower back" to "You said the pain is in your upper back": the
    upper back stayed, and both were read back again."""
    drive(dialog, {**MILD, "readback": ["no, it's in my lower back", "yes"]})
    assert dialog.report.pain.locations == [Location.lower_back]


@pytest.mark.parametrize(
    "fix",
    [
        "no, it's between my shoulder blades too",
        "no it's in my lower back as well",
        "it's also in my lower back",
    ],
)
def test_a_place_added_at_the_read_back_is_added(dialog: Dialog, fix: str) -> None:
    """ "No, it's between my shoulder blades too": the upper back was dropped for it."""
    drive(dialog, {**MILD, "readback": [fix, "yes"]})
    assert Location.upper_back in dialog.report.pain.locations
    assert len(dialog.report.pain.locations) == 2


def test_correction_in_a_separate_turn(dialog: Dialog) -> None:
    asked, end = drive(dialog, {**MILD, "readback": ["no", "yes"], "fix": "I do have a cough"})
    assert "fix" in asked
    assert end.decision and "urgent.cough" in end.decision.rule_ids


def test_correction_that_reveals_a_red_flag_is_an_emergency(dialog: Dialog) -> None:
    _, end = drive(dialog, {**MILD, "readback": "no", "fix": "actually my legs are numb"})
    assert end.decision and end.decision.disposition is Disposition.emergency


def test_vague_red_flag_word_is_asked_about_next(dialog: Dialog) -> None:
    dialog.start()
    actions = dialog.handle(Heard("my upper back hurts and something feels numb"))
    assert listen_of(actions).turn == "limb_numbness"
    assert dialog.report.symptoms.limb_numbness is Answer.unknown


def test_vague_other_word_is_asked_first_after_screening(dialog: Dialog) -> None:
    asked, _ = drive(dialog, {**MILD, "open": "my upper back hurts, there's some tingling"})
    history = [t for t in asked if t not in SCREENING and t not in ("open", "readback")]
    assert history[0] == "limb_tingling"


def test_history_stops_once_it_cannot_change_the_outcome(dialog: Dialog) -> None:
    asked, end = drive(dialog, {**MILD, "worsening": "yes"})
    assert end.decision and end.decision.disposition is Disposition.urgent
    # Doctor-level questions could not change an urgent outcome, so they were skipped.
    for q in ("recurring", "interferes_with_life", "smoking", "age_over_65"):
        assert q not in asked


def test_same_events_same_actions(understander: Understander) -> None:
    runs = []
    for _ in range(2):
        d = Dialog(CAT, understander, date(2026, 11, 18))
        actions = d.start()
        for text in ["my upper back hurts", "no", "maybe", "nope", "repeat", "I don't know"]:
            actions += d.handle(Heard(text))
        runs.append(actions)
    assert runs[0] == runs[1]


def test_injury_kind_given_with_the_answer_is_kept(dialog: Dialog) -> None:
    """Regression: the kind of injury in the answer to the injury question crashed."""
    actions = dialog.start()
    while listen_of(actions).turn != "belly_fever_injury":
        actions = dialog.handle(
            Heard({"open": "my upper back hurts"}.get(listen_of(actions).turn, "no"))
        )
    end = finish_of(dialog.handle(Heard("yeah, I got rear ended last week")))
    assert end and end.decision and "emergency.injury" in end.decision.rule_ids
    assert dialog.report.pain.injury is Injury.car_accident


# --- openings, groups and the read-back (issue: a conversation people finish) ----------------


@pytest.mark.parametrize(
    "opening", ["my back hurts", "back pain", "sore back", "it's my back", "hi, um, my back hurts"]
)
def test_any_description_of_back_pain_is_an_opening(dialog: Dialog, opening: str) -> None:
    dialog.start()
    actions = dialog.handle(Heard(opening))
    assert CAT.say("not_understood") not in said(actions)
    assert listen_of(actions).turn == "heart_lungs"


def test_an_opening_with_nothing_about_pain_is_asked_again_helpfully(dialog: Dialog) -> None:
    dialog.start()
    actions = dialog.handle(Heard("hello"))
    assert said(actions) == [CAT.say("not_understood"), CAT.say("open_simple")]
    assert listen_of(actions).turn == "open"


def test_a_plain_yes_to_a_group_of_emergency_signs_is_an_emergency(dialog: Dialog) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    actions = dialog.handle(Heard("yes"))
    first = actions[0]
    assert isinstance(first, Say) and first.priority is Priority.emergency
    end = finish_of(actions)
    assert end and end.decision and "emergency.unspecified_sign" in end.decision.rule_ids


def test_a_yes_to_a_mixed_group_asks_which(dialog: Dialog) -> None:
    asked, end = drive(
        dialog, {**MILD, "course": "yes", "worsening": "no", "recurring": "yes, on and off"}
    )
    at = asked.index("course")
    assert asked[at + 1 : at + 3] == ["worsening", "recurring"]
    assert "interferes_with_life" not in asked  # it could no longer change the outcome
    assert end.decision and end.decision.disposition is Disposition.doctor


def test_no_to_a_group_settles_every_sign_in_it(dialog: Dialog) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    dialog.handle(Heard("no, none of that"))
    s = dialog.report.symptoms
    assert s.chest_pain is s.shortness_of_breath is s.pain_spreads_to_arm_jaw_or_neck is Answer.no


def test_a_group_answer_about_one_sign_leaves_the_others_to_ask(dialog: Dialog) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    actions = dialog.handle(Heard("I don't have chest pain"))
    assert dialog.report.symptoms.chest_pain is Answer.no
    assert listen_of(actions).turn == "shortness_of_breath"


def test_a_correction_at_the_read_back_is_applied_once_and_read_back(dialog: Dialog) -> None:
    """Regression: the correction was applied, then the kiosk asked "What should I change?"
    as if nothing had changed (it re-applied mentions already applied)."""
    actions = dialog.start()
    while listen_of(actions).turn != "readback":
        actions = dialog.handle(Heard(MILD.get(listen_of(actions).turn, "no")))
    actions = dialog.handle(Heard("no, I do have a cough"))
    assert said(actions)[0] == CAT.say("readback_fixed")
    assert CAT.say("readback_fix") not in said(actions)
    assert listen_of(actions).turn == "readback"
    assert dialog.report.symptoms.cough is Answer.yes
    end = finish_of(dialog.handle(Heard("yes")))
    assert end and end.decision and "urgent.cough" in end.decision.rule_ids


def test_the_disclaimer_is_said_once(dialog: Dialog) -> None:
    actions = dialog.start()
    spoken = said(actions)
    while not finish_of(actions):
        actions = dialog.handle(Heard(MILD.get(listen_of(actions).turn, "no")))
        spoken += said(actions)
    assert sum("not a diagnosis" in line for line in spoken) == 1
    assert "talk to the pharmacist or a doctor" in spoken[-1]


# --- a spoken "stop" is confirmed (issue: a misheard word never ends a session) -----------


@pytest.mark.parametrize("command", ["stop", "start over"])
def test_a_spoken_session_ending_command_is_confirmed(dialog: Dialog, command: str) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    actions = dialog.handle(Heard(command, spoken=True))
    key = "confirm_stop" if command == "stop" else "confirm_start_over"
    assert said(actions) == [CAT.say(key)]
    assert listen_of(actions) == Listen("confirm", QuestionKind.yes_no)
    assert finish_of(actions) is None


def test_yes_carries_the_spoken_stop_out(dialog: Dialog) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts", spoken=True))
    dialog.handle(Heard("stop", spoken=True))
    end = finish_of(dialog.handle(Heard("yes", spoken=True)))
    assert end and end.ending is Ending.stopped


@pytest.mark.parametrize("reply", ["no", "purple elephants", ""])
def test_anything_but_yes_carries_on_with_the_same_question(dialog: Dialog, reply: str) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    dialog.handle(Heard("stop", spoken=True))
    actions = dialog.handle(Heard(reply, spoken=True) if reply else Silence())
    assert said(actions) == [CAT.say("carry_on"), CAT.question("heart_lungs").ask]
    assert listen_of(actions).turn == "heart_lungs"
    actions = dialog.handle(Heard("no"))
    assert listen_of(actions).turn == "collapse"


def test_a_red_flag_while_confirming_is_an_emergency(dialog: Dialog) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    dialog.handle(Heard("stop", spoken=True))
    actions = dialog.handle(Heard("no I can't breathe", spoken=True))
    assert isinstance(actions[0], Say) and actions[0].priority is Priority.emergency


def test_a_typed_stop_is_not_asked_again(dialog: Dialog) -> None:
    dialog.start()
    end = finish_of(dialog.handle(Heard("stop")))
    assert end and end.ending is Ending.stopped


# --- a red flag heard by voice alone is checked once (issue: red flags must be earned) -----


def _at_severity(dialog: Dialog) -> None:
    actions = dialog.start()
    while listen_of(actions).turn != "severity":
        actions = dialog.handle(
            Heard({"open": "my upper back hurts"}.get(listen_of(actions).turn, "no"))
        )


def test_a_spoken_red_flag_without_a_second_check_is_confirmed(dialog: Dialog) -> None:
    _at_severity(dialog)
    actions = dialog.handle(Heard("about a six and I can't breathe", spoken=True))
    assert said(actions) == [CAT.say("check_red_flag", what=CAT.label("shortness_of_breath"))]
    assert listen_of(actions) == Listen("check", QuestionKind.yes_no)
    assert dialog.report.symptoms.shortness_of_breath is not Answer.yes  # held aside
    end = finish_of(dialog.handle(Heard("yes", spoken=True)))
    assert end and end.decision and end.decision.disposition is Disposition.emergency
    assert "emergency.breathing" in end.decision.rule_ids


def test_a_red_flag_both_checks_agree_on_is_911_at_once(dialog: Dialog) -> None:
    _at_severity(dialog)
    actions = dialog.handle(Heard("I can't breathe", spoken=True, second="i can't breathe"))
    assert isinstance(actions[0], Say) and actions[0].priority is Priority.emergency


@pytest.mark.parametrize(
    "second",
    [
        "about a six and i can breathe",  # the other decode heard no red flag
        "about a six and i fainted",  # a different one: nothing agreed on
        "",  # no second opinion to be had
    ],
)
def test_a_red_flag_the_second_decode_does_not_share_is_confirmed(
    dialog: Dialog, second: str
) -> None:
    _at_severity(dialog)
    heard = Heard("about a six and I can't breathe", spoken=True, second=second)
    assert not dialog.red_flag_in(heard)  # a partial like this is not acted on yet
    assert dialog.red_flag_in(heard.text)  # though it does carry a red flag
    assert listen_of(dialog.handle(heard)) == Listen("check", QuestionKind.yes_no)


def _at_heart_lungs(dialog: Dialog) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    assert dialog.s.turn == "heart_lungs"


def test_a_sign_both_decodes_heard_in_words_is_911_at_once(dialog: Dialog) -> None:
    _at_heart_lungs(dialog)
    heard = Heard("yes my chest hurts", spoken=True, second="yes my chest hurts")
    actions = dialog.handle(heard)
    assert isinstance(actions[0], Say) and actions[0].priority is Priority.emergency


def test_a_red_flag_the_other_decode_only_hints_at_is_checked(dialog: Dialog) -> None:
    """ "no, my chest is fine" heard as "no my chest is tight"; the other decode, "oh my
    chest is i've", has only the vague word: a check, not 911 at once."""
    _at_heart_lungs(dialog)
    actions = dialog.handle(
        Heard("no my chest is tight", spoken=True, second="oh my chest is i've")
    )
    assert listen_of(actions) == Listen("check", QuestionKind.yes_no)
    assert finish_of(dialog.handle(Heard("no", spoken=True, second="no"))) is None


@pytest.mark.parametrize("word", ["yes", "yah"])
def test_a_bare_yes_to_emergency_signs_is_checked_once(dialog: Dialog, word: str) -> None:
    """In babble a short "no" came out as "yah" from both decodes (a self-care patient
    told to call 911): a bare yes-word is one short check from the emergency guidance."""
    _at_heart_lungs(dialog)
    actions = dialog.handle(Heard(word, spoken=True, second=word))
    assert listen_of(actions) == Listen("check", QuestionKind.yes_no)
    end = finish_of(dialog.handle(Heard("yes", spoken=True, second="yes")))
    assert end and end.decision and end.decision.disposition is Disposition.emergency


def test_a_red_flag_carried_by_a_word_that_sounds_like_an_everyday_one_is_checked(
    dialog: Dialog,
) -> None:
    """ "I slept on it wrong" came out of both decodes as "i slipped" (a fall): two
    self-care patients of one tune voice were sent to 911. Heard, it is checked first;
    typed, it is a fall."""
    dialog.start()
    heard = "my upper back since yesterday i slipped"
    actions = dialog.handle(Heard(heard, spoken=True, second="that i slipped yesterday"))
    assert listen_of(actions) == Listen("check", QuestionKind.yes_no)
    actions = dialog.handle(Heard("no", spoken=True, second="no"))
    assert finish_of(actions) is None and dialog.report.pain.after_injury is not Answer.yes
    typed = Dialog(CAT, dialog.understand, dialog.today)
    typed.start()
    actions = typed.handle(Heard(heard))
    assert isinstance(actions[0], Say) and actions[0].priority is Priority.emergency


def test_a_score_heard_as_a_look_alike_word_is_read_as_the_score(dialog: Dialog) -> None:
    """A British "about a four" came out as "about a full", again and again, and the
    severity stayed unknown (urgent for self-care patients). Typed, it is not a score."""
    _at_severity(dialog)
    actions = dialog.handle(Heard("about a full", spoken=True))
    assert dialog.report.pain.severity == 4 and listen_of(actions).turn != "severity"
    typed = Dialog(CAT, dialog.understand, dialog.today)
    _at_severity(typed)
    typed.handle(Heard("about a full"))
    assert typed.report.pain.severity is None


def test_a_score_heard_as_a_red_flag_is_checked_and_a_no_keeps_the_score(dialog: Dialog) -> None:
    """ "about a four" heard as "about a fall" by both decodes: "did you mention a fall?"
    "no": the score is four, and the question is not asked again."""
    _at_severity(dialog)
    actions = dialog.handle(Heard("about a fall", spoken=True, second="about a fall"))
    assert listen_of(actions) == Listen("check", QuestionKind.yes_no)
    actions = dialog.handle(Heard("no", spoken=True, second="no"))
    assert dialog.report.pain.severity == 4
    assert dialog.report.pain.after_injury is not Answer.yes
    assert listen_of(actions).turn != "severity"


def test_a_fall_said_at_the_score_question_is_still_a_fall(dialog: Dialog) -> None:
    _at_severity(dialog)
    dialog.handle(Heard("i had a fall", spoken=True, second="i had a fall"))
    end = finish_of(dialog.handle(Heard("yes", spoken=True, second="yes")))
    assert end and end.decision and end.decision.disposition is Disposition.emergency


def test_a_red_flag_said_in_full_is_not_held_back_by_a_look_alike_word(dialog: Dialog) -> None:
    dialog.start()
    heard = "i slipped and fell down the stairs"
    actions = dialog.handle(Heard(heard, spoken=True, second="i slipped and fell down the stairs"))
    assert isinstance(actions[0], Say) and actions[0].priority is Priority.emergency


def test_a_vague_word_both_decodes_heard_is_checked_not_911(dialog: Dialog) -> None:
    """ "no, I'm breathing fine" in babble came out as "move my breathe", and the second
    decode as "i'm i'm breathing": both carry the vague word "breathing", which typed
    is a fair "yes" to the breathing question, and a self-care patient was sent to 911."""
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    assert listen_of(dialog.handle(Heard("I don't know"))).turn == "chest_pain"
    dialog.handle(Heard("no"))
    assert dialog.s.turn == "shortness_of_breath"
    heard = Heard("move my breathe", spoken=True, second="i'm i'm breathing")
    assert not dialog.red_flag_in(heard)
    actions = dialog.handle(heard)
    assert listen_of(actions) == Listen("check", QuestionKind.yes_no)
    assert finish_of(dialog.handle(Heard("no", spoken=True))) is None


def test_typed_a_vague_word_of_the_sign_is_still_a_yes(dialog: Dialog) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    dialog.handle(Heard("I don't know"))
    dialog.handle(Heard("no"))
    end = finish_of(dialog.handle(Heard("breathing")))
    assert end and end.decision and end.decision.disposition is Disposition.emergency


def test_no_to_the_check_goes_back_to_the_question(dialog: Dialog) -> None:
    _at_severity(dialog)
    dialog.handle(Heard("about a six and I can't breathe", spoken=True))
    actions = dialog.handle(Heard("no", spoken=True))
    assert said(actions) == [CAT.say("carry_on"), CAT.question("severity").ask]
    assert listen_of(actions).turn == "severity"
    assert dialog.report.pain.severity is None  # the misheard answer is dropped whole


@pytest.mark.parametrize("reply", ["purple elephants", ""])
def test_an_unclear_check_asks_the_signs_own_question(dialog: Dialog, reply: str) -> None:
    _at_severity(dialog)
    dialog.handle(Heard("about a six and I can't breathe", spoken=True))
    actions = dialog.handle(Heard(reply, spoken=True) if reply else Silence())
    assert listen_of(actions).turn == "shortness_of_breath"
    actions = dialog.handle(Heard("I don't know", spoken=True))
    assert listen_of(actions).turn == "severity"  # the interrupted question, again
    used: dict[str, int] = {}
    while not finish_of(actions):
        turn = listen_of(actions).turn
        actions = dialog.handle(Heard(pick_answer(turn, {**MILD, "severity": "six"}, "no", used)))
    end = finish_of(actions)
    # Unknown stays unknown: never "no", so at least urgent.
    assert end.decision and end.decision.disposition is Disposition.urgent
    assert "shortness_of_breath" in end.decision.unresolved


def test_a_weak_yes_to_a_group_of_emergency_signs_repeats_the_group(dialog: Dialog) -> None:
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    actions = dialog.handle(Heard("yes", spoken=True))
    assert said(actions) == [CAT.say("check_group", question=CAT.question("heart_lungs").ask)]
    actions = dialog.handle(Heard("hmm", spoken=True))
    assert listen_of(actions).turn == "chest_pain"  # each sign on its own


def test_a_no_the_other_decode_heard_as_yes_is_asked_again(dialog: Dialog) -> None:
    """A Scottish "yes" came out of the question's grammar as "all good" (a "no"): two
    decodes that disagree on an emergency question mean it was not understood."""
    _at_heart_lungs(dialog)
    assert dialog.wants_second("all good")
    actions = dialog.handle(Heard("all good", spoken=True, second="yes"))
    assert said(actions) == [CAT.say("not_understood"), CAT.question("heart_lungs").simple]
    assert dialog.report.symptoms.chest_pain is not Answer.no


def test_a_no_the_other_decode_did_not_contradict_is_a_no(dialog: Dialog) -> None:
    _at_heart_lungs(dialog)
    actions = dialog.handle(Heard("no", spoken=True, second="two"))
    assert listen_of(actions).turn != "heart_lungs"
    assert dialog.report.symptoms.chest_pain is Answer.no


LOST_BUT = "no get a hold my can't catch my really i both foot stay on so"
"""Said "no chest pain, but I can't catch my breath when I go up the stairs" (held-out
voice, 15 dB): only the leading "no" came through, and it ended "self care"."""


def test_a_no_that_goes_on_with_words_nothing_was_made_of_is_asked_again(
    dialog: Dialog,
) -> None:
    _at_heart_lungs(dialog)
    actions = dialog.handle(Heard(LOST_BUT, spoken=True, second="you'll just a ball python"))
    assert said(actions) == [CAT.say("not_understood"), CAT.question("heart_lungs").simple]
    assert dialog.report.symptoms.shortness_of_breath is not Answer.no


def test_a_red_flag_denied_only_by_a_lost_no_is_asked_again(dialog: Dialog) -> None:
    """Said "uh huh, up into my jaw sometimes" (held-out voice, clean): heard "none of up
    into my jaw sometimes", the other decode "but don't bump into my job sometimes".
    The "none of" that denied the jaw was the misheard "uh huh"; taking it ended a
    heart-attack sign in "see a doctor"."""
    _at_heart_lungs(dialog)
    heard = Heard(
        "none of up into my jaw sometimes",
        spoken=True,
        second="but don't bump into my job sometimes",
    )
    actions = dialog.handle(heard)
    assert said(actions) == [CAT.say("not_understood"), CAT.question("heart_lungs").simple]
    assert dialog.report.symptoms.pain_spreads_to_arm_jaw_or_neck is not Answer.no


def test_a_red_flag_denied_by_a_lost_negation_is_asked_again(dialog: Dialog) -> None:
    """The same answer on a tune voice (flite slt, 15 dB): heard "haven't into my jaw
    sometimes", the other decode "and i just i i". The "haven't" that denied the jaw
    was the misheard "uh huh"; nothing but that word said "no"."""
    _at_heart_lungs(dialog)
    heard = Heard("haven't into my jaw sometimes", spoken=True, second="and i just i i")
    actions = dialog.handle(heard)
    assert said(actions) == [CAT.say("not_understood"), CAT.question("heart_lungs").simple]
    assert dialog.report.symptoms.pain_spreads_to_arm_jaw_or_neck is not Answer.no


@pytest.mark.parametrize(
    ("text", "second", "spoken"),
    [
        (LOST_BUT, "no i can't", True),  # the other decode heard the "no" too
        (LOST_BUT, "", False),  # typed: taken as written
        ("no not really no i don't think so", "", True),  # every word understood
    ],
)
def test_a_no_with_nothing_lost_is_a_no(
    dialog: Dialog, text: str, second: str, spoken: bool
) -> None:
    _at_heart_lungs(dialog)
    actions = dialog.handle(Heard(text, spoken=spoken, second=second))
    assert listen_of(actions).turn != "heart_lungs"
    assert dialog.report.symptoms.shortness_of_breath is Answer.no


def test_a_yes_only_the_other_decode_made_out_is_checked(dialog: Dialog) -> None:
    """The grammar heard "moves" for "yes"; the free decode heard "yes": a weak yes, so
    one short check, then the emergency guidance on a yes."""
    _at_heart_lungs(dialog)
    actions = dialog.handle(Heard("moves", spoken=True, second="yes"))
    assert listen_of(actions) == Listen("check", QuestionKind.yes_no)
    end = finish_of(dialog.handle(Heard("yes", spoken=True)))
    assert end and end.decision and end.decision.disposition is Disposition.emergency


def test_a_check_answer_the_decodes_disagree_on_asks_the_sign(dialog: Dialog) -> None:
    """ "yes" to "did you mention...?" came out of the yes/no grammar as "no chance"."""
    _at_severity(dialog)
    dialog.handle(Heard("about a six and I can't breathe", spoken=True))
    assert dialog.wants_second("no chance")
    actions = dialog.handle(Heard("no chance", spoken=True, second="yes"))
    assert listen_of(actions).turn == "shortness_of_breath"


def test_questions_without_red_flags_need_no_second_decode(dialog: Dialog) -> None:
    _at_severity(dialog)
    assert not dialog.wants_second("about a six")
    assert dialog.wants_second("about a six and I can't breathe")


def test_a_sign_in_passing_only_one_decode_heard_is_asked_about(dialog: Dialog) -> None:
    """Babble in the grammar came out as "no i cough": a cough nobody mentioned made
    self-care patients urgent and skipped the questions that would have shown it."""
    _at_severity(dialog)
    assert dialog.wants_second("about a four i cough")
    actions = dialog.handle(Heard("about a four i cough", spoken=True, second="about a four"))
    assert dialog.report.symptoms.cough is Answer.unknown
    assert dialog.report.pain.severity == 4
    asked = []
    while not finish_of(actions):
        asked.append(listen_of(actions).turn)
        actions = dialog.handle(Heard({"readback": "yes"}.get(asked[-1], "no")))
    assert "cough" in asked
    end = finish_of(actions)
    assert end and end.decision and end.decision.disposition is not Disposition.urgent


@pytest.mark.parametrize(
    ("turn", "text", "second", "field"),
    [
        # tune voice espeak-ng en-gb-x-rp, 15 dB: "nope. nah" to the chest/breath/arm
        # group heard as "no help": home care had failed, for a self-care patient
        ("heart_lungs", "no help", "they do help", "home_care_helped"),
        # tune voice flite slt: "... since the weekend, I pulled something at the gym"
        # heard as "... tummy can't i pulled sunday neck stand": no known cause
        ("open", "five turn back thing tummy can't i pulled sunday neck stand", "", "known_cause"),
    ],
)
def test_a_no_in_passing_that_asks_for_more_care_needs_both_decodes(
    dialog: Dialog, turn: str, text: str, second: str, field: str
) -> None:
    dialog.start()
    if turn != "open":
        dialog.handle(Heard("my upper back hurts"))
    assert dialog.s.turn == turn
    assert dialog.wants_second(text)
    dialog.handle(Heard(text, spoken=True, second=second))
    assert get_value(dialog.report, field) is Answer.unknown


def test_a_reassuring_answer_in_passing_is_taken_as_said(dialog: Dialog) -> None:
    """A known cause said in the opening is not asked again (it asks for less care,
    not more), even when only one decode heard it."""
    dialog.start()
    dialog.handle(Heard("my upper back is sore from sitting at my desk", spoken=True))
    assert dialog.report.pain.known_cause is Answer.yes


@pytest.mark.parametrize(("second", "spoken"), [("about a four i have a cough", True), ("", False)])
def test_a_sign_in_passing_both_decodes_heard_or_typed_is_taken(
    dialog: Dialog, second: str, spoken: bool
) -> None:
    _at_severity(dialog)
    dialog.handle(Heard("about a four i cough", spoken=spoken, second=second))
    assert dialog.report.symptoms.cough is Answer.yes


def test_typed_red_flags_are_not_checked(dialog: Dialog) -> None:
    _at_severity(dialog)
    actions = dialog.handle(Heard("about a six and I can't breathe"))
    assert isinstance(actions[0], Say) and actions[0].priority is Priority.emergency


def test_a_sign_heard_again_after_its_check_is_taken_as_confirmed(dialog: Dialog) -> None:
    """Two hearings agree: nobody is asked "did you mention...?" twice."""
    _at_severity(dialog)
    dialog.handle(Heard("about a six and I can't breathe", spoken=True))
    dialog.handle(Heard("hmm", spoken=True))  # unclear: the sign's own question
    actions = dialog.handle(Heard("yes I can't breathe", spoken=True))
    assert isinstance(actions[0], Say) and actions[0].priority is Priority.emergency


def test_walking_away_after_a_doubted_red_flag_says_what_to_watch_for(dialog: Dialog) -> None:
    _at_severity(dialog)
    actions = dialog.handle(Heard("about a six and I can't breathe", spoken=True))
    spoken: list[str] = []
    while not finish_of(actions):
        actions = dialog.handle(Silence())
        spoken += said(actions)
    assert finish_of(actions).ending is Ending.no_response
    assert CAT.question("shortness_of_breath").watch_for in spoken


def test_confirmations_listen_for_yes_and_no_only() -> None:
    """A "no" to "did you mention chest pain?" cannot be heard as a red-flag phrase."""
    from kiosk.grammar import Grammars

    grammars = Grammars(CAT)
    for turn in ("check", "confirm"):
        phrases = set(grammars.for_turn(turn, QuestionKind.yes_no) or ())
        assert {"yes", "no", "nope", "i don't know"} <= phrases
        assert not phrases & set(grammars.for_turn("severity", QuestionKind.severity) or ()) - (
            set(CAT.answers.yes)
            | set(CAT.answers.no)
            | set(CAT.answers.unknown)
            | set(CAT.grammar.likely)  # the everyday answers, weighted at both
        )
        assert "i can't breathe" not in phrases and "chest pain" not in phrases


def _at_onset_severe(dialog: Dialog) -> list[Action]:
    actions = dialog.start()
    actions = dialog.handle(Heard("my upper back hurts, it's a nine out of ten"))
    while listen_of(actions).turn != "onset":
        actions = dialog.handle(Heard("no"))
    return actions


def test_a_red_flag_denied_at_its_check_twice_is_taken_as_misheard(dialog: Dialog) -> None:
    """A "no" to the check used to be overridden when the recognizer heard the same
    fragment again ("about a four" as "about a fall", twice): 911 for a self-care
    patient. Now it is checked once more, and after a second "no" the answer is read
    as not understood. Sudden and severe (no yes/no field of its own) used to be
    checked again and again instead (60 turns in the benchmark)."""
    _at_onset_severe(dialog)
    for _ in range(MAX_CHECKS):
        assert listen_of(dialog.handle(Heard("suddenly", spoken=True))).turn == "check"
        assert listen_of(dialog.handle(Heard("no", spoken=True))).turn == "onset"
    actions = dialog.handle(Heard("suddenly", spoken=True))
    assert finish_of(actions) is None
    assert said(actions) == [CAT.say("not_understood"), CAT.question("onset").simple]
    for _ in range(MAX_REASKS + 1):  # bounded: re-asks, then on to the next question
        actions = dialog.handle(Heard("suddenly", spoken=True))
    assert finish_of(actions) is None and listen_of(actions).turn != "onset"


def test_a_yes_to_a_second_check_is_911(dialog: Dialog) -> None:
    """A true red flag whose first check answer was misheard as "no" still earns 911."""
    _at_onset_severe(dialog)
    dialog.handle(Heard("suddenly", spoken=True))
    dialog.handle(Heard("no", spoken=True))
    assert listen_of(dialog.handle(Heard("suddenly", spoken=True))).turn == "check"
    end = finish_of(dialog.handle(Heard("yes", spoken=True)))
    assert end and end.decision and end.decision.disposition is Disposition.emergency
