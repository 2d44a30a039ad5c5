"""Real recognizers on real (synthesized) speech: patient answers spoken by flite and
espeak-ng voices at several rates and pitches, with and without noise, go through the
recognizer, the understanding and the dialog. Nothing here is mocked.

English speech runs on pocketsphinx (its wheel ships an English model; the English Vosk
model cannot be downloaded here). Results are deterministic for a given synthesizer
and decoder, so the assertions are exact where the audio is clean, and a floor where
noise and the robotic espeak-ng voice make recognition genuinely hard.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.audio import read_wav
from kiosk.catalogue import load
from kiosk.grammar import Grammars
from kiosk.recognizer import PocketsphinxEngine, transcribe
from kiosk.understanding import Understander
from tests.synth import CLEAN, HARD, Voice, available, say

pytestmark = pytest.mark.skipif(not available("flite"), reason="flite is not installed")

CAT = load()
GRAMMARS = Grammars(CAT)

RED_FLAGS = [
    ("no, but I can't really feel my legs", "legs_loss_of_feeling"),
    ("my chest feels tight", "chest_pain"),
    ("I can't breathe", "shortness_of_breath"),
    ("I lost control of my bladder", "bladder_bowel_problems"),
    ("yes, my legs went numb", "limb_numbness"),
    ("the pain goes into my left arm", "pain_spreads_to_arm_jaw_or_neck"),
    ("I fell off a ladder", "after_injury"),
    ("I have a fever", "fever"),
    ("my arms feel weak", "limb_weakness"),
    ("I can't walk", "trouble_walking_or_standing"),
    ("I coughed up blood", "coughing_blood"),
]


@pytest.fixture(scope="module")
def engine() -> PocketsphinxEngine:
    return PocketsphinxEngine()


@pytest.fixture(scope="module")
def understander() -> Understander:
    return Understander(CAT)


def heard_red_flag(
    engine: PocketsphinxEngine, u: Understander, wav: Path, field: str, turn: str
) -> tuple[bool, str]:
    """Asked an unrelated question (``turn``), does the answer still raise the flag?"""
    text = transcribe(engine, GRAMMARS.for_turn(turn, CAT.question(turn).kind), read_wav(wav)).text
    found = {m.field for m in u(text).mentions if m.definite and m.value == "yes"}
    return field in found, text


@pytest.mark.parametrize("voice", CLEAN, ids=lambda v: v.id)
@pytest.mark.parametrize(("sentence", "field"), RED_FLAGS, ids=[f for _, f in RED_FLAGS])
def test_red_flag_heard_whatever_was_asked(
    engine: PocketsphinxEngine,
    understander: Understander,
    tmp_path: Path,
    voice: Voice,
    sentence: str,
    field: str,
) -> None:
    wav = say(sentence, voice, tmp_path / "answer.wav")
    ok, text = heard_red_flag(engine, understander, wav, field, turn="fever")
    assert ok, f"heard {text!r}"


def test_red_flags_in_noise_and_robotic_voices_mostly_heard(
    engine: PocketsphinxEngine, understander: Understander, tmp_path: Path
) -> None:
    """A floor, not 100%: noise at 15-20 dB SNR and espeak-ng are hard for pocketsphinx.
    The figures per voice are in the README (bench/recognition.py)."""
    results = []
    for voice in HARD:
        if not available(voice.engine):
            continue
        for i, (sentence, field) in enumerate(RED_FLAGS):
            wav = say(sentence, voice, tmp_path / f"{voice.id}-{i}.wav")
            results.append(heard_red_flag(engine, understander, wav, field, turn="fever")[0])
    assert sum(results) / len(results) >= 0.5, f"{sum(results)}/{len(results)}"


@pytest.mark.parametrize(
    ("turn", "sentence", "expect"),
    [
        ("chest_pain", "no", "no"),
        ("chest_pain", "yes", "yes"),
        ("fever", "nope", "no"),
        ("cough", "I don't know", "unknown"),
    ],
)
def test_yes_no_answers(
    engine: PocketsphinxEngine,
    understander: Understander,
    tmp_path: Path,
    turn: str,
    sentence: str,
    expect: str,
) -> None:
    for voice in CLEAN:
        wav = say(sentence, voice, tmp_path / f"{voice.id}.wav")
        phrases = GRAMMARS.for_turn(turn, CAT.question(turn).kind)
        text = transcribe(engine, phrases, read_wav(wav)).text
        got = understander(text).answer
        assert got is not None and got.value == expect, f"{voice.id}: heard {text!r}"


@pytest.mark.parametrize(("sentence", "score"), [("about a six", 6), ("seven", 7), ("two", 2)])
def test_pain_scores(
    engine: PocketsphinxEngine,
    understander: Understander,
    tmp_path: Path,
    sentence: str,
    score: int,
) -> None:
    """A score is heard right, or not at all (then the kiosk asks again) — never wrong."""
    kind = CAT.question("severity").kind
    right = 0
    for voice in CLEAN:
        wav = say(sentence, voice, tmp_path / f"{voice.id}.wav")
        text = transcribe(engine, GRAMMARS.for_turn("severity", kind), read_wav(wav)).text
        got = understander(text, kind).severity
        assert got in (score, None), f"{voice.id}: heard {text!r} as {got}"
        right += got == score
    assert right >= len(CLEAN) - 1


def test_silence_is_heard_as_nothing(engine: PocketsphinxEngine) -> None:
    phrases = GRAMMARS.for_turn("chest_pain", CAT.question("chest_pain").kind)
    assert transcribe(engine, phrases, bytes(16000 * 2 * 2)).text == ""


def test_turn_abandoned_mid_utterance_does_not_block_the_next(
    engine: PocketsphinxEngine, tmp_path: Path
) -> None:
    """Regression: acting on a partial red flag left the decoder mid-utterance, and the
    next turn could not switch searches."""
    pcm = read_wav(say("no, but I can't really feel my legs", CLEAN[0], tmp_path / "a.wav"))
    first = engine.start(GRAMMARS.for_turn("fever", CAT.question("fever").kind))
    for i in range(0, len(pcm) // 2, 6400):
        first.accept(pcm[i : i + 6400])  # half the sentence, then walk away
    wav = say("yes", CLEAN[0], tmp_path / "b.wav")
    assert transcribe(engine, None, read_wav(wav)).text == "yes"


def test_input_ending_mid_sentence_still_gives_the_words(
    engine: PocketsphinxEngine, tmp_path: Path
) -> None:
    """Regression: end of input in the middle of speech crashed the endpointer."""
    pcm = read_wav(say("no, but I can't really feel my legs", CLEAN[0], tmp_path / "a.wav"))
    # Stop while still talking, on a whole number of endpointer frames (30 ms).
    cut = pcm[: len(pcm) - len(pcm) % 9600 - 9600]
    recognition = engine.start(None)
    for i in range(0, len(cut), 3200):
        recognition.accept(cut[i : i + 3200])
    assert "feel" in recognition.finish().text


@pytest.mark.parametrize("greeting", ["hello", "excuse me", "good morning", "hi there"])
def test_a_greeting_is_never_heard_as_a_red_flag(
    engine: PocketsphinxEngine, understander: Understander, tmp_path: Path, greeting: str
) -> None:
    """Regression: limited to the catalogue, pocketsphinx heard "hello" as "fell over"
    (a fall: 911) when someone greeted the idle kiosk."""
    for voice in CLEAN:
        wav = say(greeting, voice, tmp_path / f"{voice.id}.wav")
        text = transcribe(engine, GRAMMARS.everything(), read_wav(wav)).text
        flags = [m for m in understander(text).mentions if m.definite and m.value == "yes"]
        assert not flags, f"{voice.id}: heard {text!r}"
