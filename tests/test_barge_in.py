"""Talking over the kiosk (barge-in): what it acts on while it speaks (kiosk/barge_in.py,
pure, tested on text pairs), and the whole voice kiosk in the stand-in room with its own
echo coming back (tests/room.py), the real echo canceller, the real recognizer and the
real pyttsx3 voice. Room time is the audio's own clock: delays are counted in it, not
in wall-clock time (bench/barge_in_bench.py adds the compute time)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from kiosk.audio import read_wav
from kiosk.barge_in import Interruption, over_voice
from kiosk.catalogue import load
from kiosk.dialog import Dialog
from kiosk.endpointer import loudness
from kiosk.events import Ending, Finish, Heard, Listen, Say
from kiosk.recognizer import PocketsphinxEngine
from kiosk.rules import Disposition
from kiosk.symptoms import Answer, Location, get_value
from kiosk.understanding import Understander, Understanding
from kiosk.voice import ListenSettings, VoiceKiosk
from tests.room import Echo, Room, kiosk_in, seconds, settle
from tests.synth import Voice, available, say

CAT = load()
TODAY = date(2026, 11, 18)

pytestmark = pytest.mark.skipif(not available("flite"), reason="flite is not installed")


# --- what cuts the kiosk short (pure) ------------------------------------------------------


@pytest.fixture(scope="module")
def understander() -> Understander:
    return Understander(CAT)


def at_turn(understander: Understander, *answers: str) -> Dialog:
    """A dialog asking its next question after these typed answers."""
    d = Dialog(CAT, understander, TODAY)
    d.start()
    for a in answers:
        d.handle(Heard(a))
    return d


def cut(
    d: Dialog, understander: Understander, text: str, second: str
) -> tuple[Interruption, Heard] | None:
    def read(t: str) -> Understanding:
        return understander(t, expecting=None, today=TODAY)

    return over_voice(Heard(text, spoken=True, second=second), d.red_flag_in, read)


def test_a_red_flag_cuts_the_kiosk_short(understander: Understander) -> None:
    d = at_turn(understander)
    got = cut(d, understander, "i can't breathe", "i can't breathe")
    assert got is not None and got[0] is Interruption.red_flag
    assert d.red_flag_in(got[1])  # both decodes: the dialog acts at once


def test_a_red_flag_one_decode_carries_is_handed_on_for_its_check(
    understander: Understander,
) -> None:
    d = at_turn(understander)
    got = cut(d, understander, "i can't breathe", "like a dream")
    assert got is not None and got[0] is Interruption.red_flag
    assert d.red_flag_in(got[1].text) and not d.red_flag_in(got[1])  # checked first


def test_a_red_flag_only_the_other_decode_heard_goes_on_as_that_decode(
    understander: Understander,
) -> None:
    d = at_turn(understander)
    got = cut(d, understander, "a few three", "i can't breathe")
    assert got is not None and got[0] is Interruption.red_flag
    assert got[1] == Heard("i can't breathe", spoken=True, second="a few three")


def test_a_denied_sign_does_not_cut_the_kiosk_short(understander: Understander) -> None:
    d = at_turn(understander)
    assert cut(d, understander, "no chest pain", "no chest pain") is None


def test_a_bare_yes_over_a_red_flag_question_is_not_taken_as_its_answer(
    understander: Understander,
) -> None:
    d = at_turn(understander, "my upper back hurts")
    for _ in range(30):  # on to the first question a "yes" to is a red flag
        if d.red_flag_in("yes"):
            break
        d.handle(Heard("no"))
    assert d.red_flag_in("yes")  # after the question, a red flag (checked, if spoken)
    assert cut(d, understander, "yes", "yes") is None  # over it: let go


def test_a_sign_the_kiosk_is_naming_as_it_speaks_is_its_own_echo(
    understander: Understander,
) -> None:
    """What the canceller leaves of the kiosk's voice is its own words, and it asks
    about red flags by name: a sign it is naming does not cut it short, but is kept (to
    be checked, never acted on at once, if nothing else is said). Another sign said over
    the same question cuts it short."""
    d = at_turn(understander)
    asking = (CAT.question("belly_fever_injury").ask,)

    def read(t: str) -> Understanding:
        return understander(t, expecting=None, today=TODAY)

    heard = Heard("i had a fall", spoken=True, second="i had a fall")
    assert over_voice(heard, d.red_flag_in, read) is not None
    kept = over_voice(heard, d.red_flag_in, read, asking)
    assert kept == (Interruption.named, Heard("i had a fall", spoken=True))
    assert d.red_flag_in(kept[1].text) and not d.red_flag_in(kept[1])  # checked first
    other = Heard("i can't breathe", spoken=True, second="i can't breathe")
    assert over_voice(other, d.red_flag_in, read, asking) is not None


@pytest.mark.parametrize(
    ("text", "second", "expected"),
    [
        ("stop", "stop", Interruption.stop),
        ("repeat that", "repeat that please", Interruption.repeat),
        ("slow down", "slow down", Interruption.slower),
        ("what", "", Interruption.repeat),  # an engine with one decode (Vosk)
        ("stop", "stuff", Interruption.stop),  # confirmed by the dialog, as any "stop"
    ],
)
def test_stop_repeat_and_slower_cut_the_kiosk_short(
    understander: Understander, text: str, second: str, expected: Interruption
) -> None:
    got = cut(at_turn(understander), understander, text, second)
    assert got is not None and got[0] is expected


@pytest.mark.parametrize(
    ("text", "second"),
    [
        ("what about my back", "what about my back"),  # not a command: a sentence
        ("start over", "start over"),  # waits for the question to end
        ("help", "help"),
        ("yes", "yes"),  # an early answer: asked in full, answered in the listen turn
    ],
)
def test_anything_else_over_the_kiosks_voice_is_let_go(
    understander: Understander, text: str, second: str
) -> None:
    assert cut(at_turn(understander), understander, text, second) is None


@pytest.mark.parametrize(
    ("text", "second"),
    [("i can't breathe", "i can't breathe"), ("stop", "stop"), ("what", "")],
)
def test_nothing_the_room_says_over_the_kiosk_cuts_it_short(
    understander: Understander, text: str, second: str
) -> None:
    """The room's babble over the kiosk's voice came out as red flags ("... i fell")
    and cut it short, sending non-emergency patients to 911; and as "what" (repeat).
    Far quieter than the person: nothing cuts; a red flag is kept, as a named one is,
    to be checked if the person says nothing after."""
    d = at_turn(understander)

    def read(t: str) -> Understanding:
        return understander(t, expecting=None, today=TODAY)

    got = over_voice(Heard(text, spoken=True, second=second), d.red_flag_in, read, room=True)
    if d.red_flag_in(text):
        assert got == (Interruption.room, Heard(text, spoken=True))
        assert not got[0].cuts
    else:
        assert got is None


# --- the whole kiosk in a room that answers back -------------------------------------------

ECHO = Echo(delay=0.05, gain_db=-10)


SLT = Voice("flite", "slt")


def patient(text: str, tmp: Path, voice: Voice = SLT) -> bytes:
    return read_wav(say(text, voice, tmp / f"{len(list(tmp.iterdir()))}.wav"))


def kiosk(room: Room, barge_in: bool = True) -> VoiceKiosk:
    """The kiosk in the room, on for a while (its echo canceller settled); room time 0
    is now the start of its session."""
    k = kiosk_in(room, barge_in=barge_in, settings=ListenSettings(no_speech_timeout=3.0))
    if barge_in:
        placed = list(room._placed)  # what the person will say, at session times
        settle(k, room)
        room.position, room._placed = 0, placed  # and the kiosk's echo is long gone
    return k


def run(room: Room, k: VoiceKiosk) -> Finish:
    try:
        end = k.session()
    finally:
        k.voice.close()
    assert end is not None
    return end


def test_a_red_flag_said_over_the_greeting_stops_it_and_calls_911(tmp_path: Path) -> None:
    words = patient("I can't breathe", tmp_path)
    room = Room(echo=ECHO, limit=120)
    room.say_at(2.0, words)
    room.replies = [patient("yes", tmp_path)]  # to its check, if it asks one
    k = kiosk(room)
    end = run(room, k)
    assert end.decision is not None and end.decision.disposition is Disposition.emergency
    greeting, answer = room.plays[0], room.plays[1]
    assert greeting[1] < 5.0  # cut short: the greeting alone is over 7 s
    assert 0 < answer[0] - (2.0 + seconds(words)) < 1.0  # and answered within a second


@pytest.mark.parametrize(("under_db", "cut"), [(0.0, True), (20.0, False)])
def test_over_the_greeting_a_red_flag_in_a_far_voice_is_the_rooms(
    tmp_path: Path, under_db: float, cut: bool
) -> None:
    """Someone across the pharmacy ("I can't breathe", 20 dB under the patient who woke
    the kiosk) does not cut the greeting short; the patient, at their own level, does.
    The greeting was cut short by the far voice before the rule (kiosk/barge_in.py
    ``from_the_room``)."""
    hello = patient("hello", tmp_path)
    words = np.frombuffer(patient("I can't breathe", tmp_path), dtype=np.int16)
    far = (words * 10 ** (-under_db / 20)).astype(np.int16).tobytes()
    room = Room(echo=ECHO, limit=200)
    room.say_at(2.0, far)
    room.replies = [patient("my upper back hurts", tmp_path)]  # then nothing more
    k = kiosk(room)
    k.woken_at = loudness(hello)
    end = run(room, k)
    greeting = k.voice.render(CAT.say("greeting")).seconds
    assert (room.plays[0][1] < greeting - 0.5) is cut
    emergency = end.decision is not None and end.decision.disposition is Disposition.emergency
    assert emergency is cut


def test_half_duplex_the_same_red_flag_is_lost(tmp_path: Path) -> None:
    """The case above without barge-in: said over the greeting, it is never heard (the
    test above fails on the half-duplex kiosk)."""
    words = patient("I can't breathe", tmp_path)
    room = Room(echo=ECHO, limit=120)
    room.say_at(2.0, words)
    end = run(room, kiosk(room, barge_in=False))
    assert end.ending is Ending.no_response


def test_a_red_flag_begun_over_a_questions_last_words_is_heard_whole(tmp_path: Path) -> None:
    """Begun 0.4 s before the kiosk falls silent: the utterance goes on into the listen
    turn rather than being cut in two."""
    words = patient("I coughed up blood", tmp_path)
    room = Room(echo=ECHO, limit=120)
    k = kiosk(room)
    greeting = k.voice.render(CAT.say("greeting")).seconds
    question = k.voice.render(CAT.say("open_question")).seconds
    at = greeting + room.margin + question - 0.4
    room.say_at(at, words)
    room.replies = [b"", patient("yes", tmp_path)]  # nothing more; "yes" to its check
    end = run(room, k)
    assert end.decision is not None and end.decision.disposition is Disposition.emergency
    assert room.plays[1][1] == pytest.approx(question, abs=0.01)  # the question was whole
    assert get_value(end.report, "coughing_blood") is Answer.yes


def test_stop_over_a_question_asks_to_confirm_then_stops(tmp_path: Path) -> None:
    room = Room(echo=ECHO, limit=120)
    k = kiosk(room)
    greeting = k.voice.render(CAT.say("greeting")).seconds
    question = k.voice.render(CAT.say("open_question")).seconds
    room.say_at(greeting + room.margin + 0.7, patient("stop", tmp_path))
    room.replies = [patient("yes", tmp_path)]
    end = run(room, k)
    assert end.ending is Ending.stopped
    assert room.plays[1][1] < question - 0.5  # the open question was cut short


def test_the_emergency_guidance_is_never_cut_short(tmp_path: Path) -> None:
    """Someone talking over "Call 911" (the person in distress, or a companion asking
    what it said): both sayings play in full."""
    words = patient("I can't breathe", tmp_path)
    chatter = patient("what did it say? what? stop, stop, repeat that please", tmp_path)
    room = Room(echo=ECHO, limit=120)
    room.say_at(2.0, words)
    k = kiosk(room)
    for at in (4.0, 7.0, 10.0, 13.0, 16.0, 19.0):
        room.say_at(at, chatter)
    end = run(room, k)
    assert end.decision is not None
    guidance = k.voice.render(end.decision.guidance)
    assert end.decision.disposition is Disposition.emergency
    assert [round(p[1], 2) for p in room.plays[-2:]] == [round(guidance.seconds, 2)] * 2


def test_a_red_flag_over_the_question_that_names_it_is_checked_after(tmp_path: Path) -> None:
    """ "I can't breathe" over "Any chest pain, trouble breathing...?": the question goes
    on (that sign is in it: it could be the kiosk's own words coming back), and when
    nothing more is said, the kiosk checks it ("did you mention...?") and, on "yes",
    gives the emergency guidance."""
    room = Room(echo=ECHO, limit=200)
    k = kiosk(room)
    d = Dialog(CAT, k.understander, TODAY)
    d.start()
    actions = d.handle(Heard("my upper back hurts"))
    question = next(a for a in actions if isinstance(a, Say) and "breathing" in a.text)
    before = [a for a in actions[: actions.index(question)] if isinstance(a, Say)]
    start = sum(k.voice.render(a.text).seconds + room.margin for a in before)
    room.say_at(start + 1.0, patient("I can't breathe", tmp_path))
    room.replies = [b"", patient("yes", tmp_path)]  # nothing after the question; "yes"
    try:
        end = k.converse(d, actions)
    finally:
        k.voice.close()
    assert end is not None and end.decision is not None
    assert end.decision.disposition is Disposition.emergency
    length = k.voice.render(question.text).seconds
    assert any(abs(p[1] - length) < 0.01 for p in room.plays)  # said in full


def test_an_early_answer_over_a_question_is_let_go(tmp_path: Path) -> None:
    """A "yes" said over the open question neither cuts it short nor is taken as an
    answer: the question plays in full and its listen turn hears nothing."""
    room = Room(echo=ECHO, limit=300)
    k = kiosk(room)
    greeting = k.voice.render(CAT.say("greeting")).seconds
    question = k.voice.render(CAT.say("open_question")).seconds
    room.say_at(greeting + room.margin + 0.8, patient("yes", tmp_path))
    end = run(room, k)
    assert end.ending is Ending.no_response
    assert [round(p[1], 2) for p in room.plays[:2]] == [round(greeting, 2), round(question, 2)]


def test_an_answer_begun_over_the_question_and_going_on_is_the_answer(tmp_path: Path) -> None:
    """Begun over the open question's last words and going on well into its listen
    turn, the patient's answer is their answer. It used to be judged as something said
    over the kiosk's voice, and let go: in a pharmacy's babble an utterance is nearly
    always under way when the kiosk falls silent, so the answers said into it were lost
    turn after turn (bench/spoken_bench.py --kiosk barge-in)."""
    words = patient("my upper back has been aching since Monday", tmp_path)
    room = Room(echo=ECHO, limit=200)
    k = kiosk(room)
    greeting = k.voice.render(CAT.say("greeting")).seconds
    question = k.voice.render(CAT.say("open_question")).seconds
    room.say_at(greeting + room.margin + question - 0.4, words)
    end = run(room, k)  # nothing more is said
    assert Location.upper_back in end.report.pain.locations


def up_to_the_breathing_question(k: VoiceKiosk) -> tuple[Dialog, Say, Listen]:
    """A session told "my upper back hurts", its sentences said up to the question about
    breathing: that question, and the listen turn after it, are the test's."""
    d = Dialog(CAT, k.understander, TODAY)
    d.start()
    actions = d.handle(Heard("my upper back hurts"))
    question = next(a for a in actions if isinstance(a, Say) and "breathing" in a.text)
    listen = next(a for a in actions[actions.index(question) :] if isinstance(a, Listen))
    for a in actions[: actions.index(question)]:
        if isinstance(a, Say):
            k.say(a)
    return d, question, listen


@pytest.mark.parametrize("reply_delay", [0.3, 0.6])
def test_the_rooms_talk_going_on_as_the_kiosk_falls_silent_does_not_take_the_answer(
    tmp_path: Path, reply_delay: float
) -> None:
    """Someone across the pharmacy (20 dB under the patient) talking over a question's
    last words and on past them; the patient answers "no" shortly after the question.
    Their "no" is the answer. The room's utterance used to be carried into the listen
    turn, the "no" inside it, and judged as something said over the kiosk's voice: let go,
    the "no" with it, and the turn heard nothing (bench/spoken_bench.py --kiosk barge-in,
    15 dB babble: every carried utterance at the end of a question was the room's, and
    the answers lost in them became checks)."""
    hello = patient("hello", tmp_path)
    far = np.frombuffer(patient("what time do they close on saturdays", tmp_path), np.int16)
    far_pcm = (far * 10 ** (-20 / 20)).astype(np.int16).tobytes()
    room = Room(echo=ECHO, limit=200)
    k = kiosk(room)
    k.person = [loudness(hello)]
    d, question, listen = up_to_the_breathing_question(k)
    length = k.voice.render(question.text).seconds
    end = room.now + length + room.margin
    room.say_at(end - seconds(far_pcm) + 0.8, far_pcm)  # on 0.8 s past the question
    room.say_at(end + reply_delay, patient("no", tmp_path))
    try:
        over = k.say(question, d, listen)
        event = k.listen(listen, d, over.ongoing)
    finally:
        k.voice.close()
    assert over.cut is None
    assert isinstance(event, Heard) and event.text in ("no", "nope"), event


def test_a_red_flag_begun_over_a_questions_last_words_in_the_rooms_talk_is_heard_whole(
    tmp_path: Path,
) -> None:
    """As above, with someone across the pharmacy (20 dB under the patient) talking all
    the while: the room's talk is not carried into the turn, but the patient's red flag,
    begun in it 0.4 s before the kiosk falls silent, is."""
    hello = patient("hello", tmp_path)
    far = np.frombuffer(
        patient("did you find the shampoo you wanted. they moved the vitamins", tmp_path),
        np.int16,
    )
    far_pcm = (far * 10 ** (-20 / 20)).astype(np.int16).tobytes()
    words = patient("I coughed up blood", tmp_path)
    room = Room(echo=ECHO, limit=120)
    k = kiosk(room)
    k.woken_at = loudness(hello)
    greeting = k.voice.render(CAT.say("greeting")).seconds
    question = k.voice.render(CAT.say("open_question")).seconds
    at = greeting + room.margin + question - 0.4
    room.say_at(at - seconds(far_pcm) + 1.0, far_pcm)  # from well before, on past the end
    room.say_at(at, words)
    room.replies = [b"", patient("yes", tmp_path)]  # nothing more; "yes" to its check
    end = run(room, k)
    assert end.decision is not None and end.decision.disposition is Disposition.emergency
    assert get_value(end.report, "coughing_blood") is Answer.yes


def test_a_sentence_said_over_the_rooms_talk_leaves_the_recognizer_as_it_was(
    tmp_path: Path,
) -> None:
    """While the kiosk speaks, the recognizer hears what the echo canceller leaves of the
    room, and pocketsphinx's running cepstral mean adapts to it; the listen turn then
    meets the raw microphone with that mean. With barge-in on, held-out awb's "no" after
    a question was heard as "no" 33 times in 166 in babble, half-duplex 59 in 144 (the
    same sessions): "move", "to", "feel". So, unless the person's utterance goes on into
    the turn, what was heard over a sentence leaves the recognizer as it found it."""
    hello = patient("hello", tmp_path)
    far = np.frombuffer(
        patient("did you find the shampoo you wanted. they moved the vitamins", tmp_path),
        np.int16,
    )
    far_pcm = (far * 10 ** (-15 / 20)).astype(np.int16).tobytes()
    room = Room(echo=ECHO, limit=120)
    k = kiosk(room)
    k.person = [loudness(hello)]
    d, question, listen = up_to_the_breathing_question(k)
    engine = k.engine
    assert isinstance(engine, PocketsphinxEngine)
    means = (engine.decoder.get_cmn(False), engine.free.get_cmn(False))
    room.say_at(room.now + 0.3, far_pcm)  # over the question, done before it ends
    assert seconds(far_pcm) + 0.3 < k.voice.render(question.text).seconds
    try:
        over = k.say(question, d, listen)
    finally:
        k.voice.close()
    assert over.cut is None and over.ongoing is None
    after = (engine.decoder.get_cmn(False), engine.free.get_cmn(False))
    assert after == means
