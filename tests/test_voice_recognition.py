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
from kiosk.grammar import Grammars, vocabulary
from kiosk.recognizer import SAMPLE_RATE, PocketsphinxEngine, transcribe
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
    # "two" alone on flite slt comes out as "do you" since the pharmacy endpointing
    # (0.3 s start window) became the default: not heard, so asked again, never wrong.
    assert right >= len(CLEAN) - (2 if sentence == "two" else 1)


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


def test_an_utterance_the_search_found_no_path_for_is_heard_as_nothing(
    engine: PocketsphinxEngine,
) -> None:
    """Regression: an hour of chatter at the idle kiosk crashed it at the end of one
    utterance: pocketsphinx's seg() is None, not empty, when the search has no result.
    That state is hard to reach from audio on purpose, so it is set up directly on the
    real decoder: an utterance started and ended with nothing decodable in it."""
    recognition = engine.start(GRAMMARS.everything())
    recognition.decoder.start_utt()  # type: ignore[attr-defined]
    recognition._started = True  # as accept() does when the endpointer hears speech
    assert recognition.finish().text == ""


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


def test_second_opinion_hears_what_the_grammar_cannot(
    engine: PocketsphinxEngine, tmp_path: Path
) -> None:
    """The second opinion decodes the same speech without the turn's grammar: words the
    grammar has no phrase for come out as themselves, not as the nearest catalogue
    phrase."""
    pcm = read_wav(say("the car park was full", CLEAN[0], tmp_path / "a.wav"))
    recognition = engine.start(GRAMMARS.for_turn("chest_pain", CAT.question("chest_pain").kind))
    for i in range(0, len(pcm), 3200):
        recognition.accept(pcm[i : i + 3200])
    final = recognition.finish()
    second = recognition.second_opinion()
    assert "car park" in second and "car park" not in final.text, (second, final.text)


def test_second_opinion_in_the_middle_of_a_long_utterance(
    engine: PocketsphinxEngine, tmp_path: Path
) -> None:
    """Regression: a second opinion on several seconds of speech, asked while the person
    was still talking, crashed the decoder (a whole-utterance decode overran
    pocketsphinx's buffers). The turn must go on to its own end."""
    pcm = read_wav(say("the car park was full so I walked", CLEAN[0], tmp_path / "a.wav")) * 6
    recognition = engine.start(GRAMMARS.for_turn("fever", CAT.question("fever").kind))
    opinions = []
    final = None
    for n, i in enumerate(range(0, len(pcm), 3200)):
        hyp = recognition.accept(pcm[i : i + 3200])
        if n % 15 == 14:
            opinions.append(recognition.second_opinion())
        if hyp is not None and hyp.final:
            final = hyp
            break
    final = final or recognition.finish()
    assert final.text and len(opinions) >= 5
    assert opinions[-1].count("car park") >= 3, opinions[-1]


class _Counting:
    """The engine's real free decoder, counting the audio given to it (a spy, not a
    stand-in: every call goes through)."""

    def __init__(self, decoder: object) -> None:
        self.decoder, self.fed = decoder, 0

    def process_raw(self, pcm: bytes, *args: object) -> int:
        self.fed += len(pcm)
        return self.decoder.process_raw(pcm, *args)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.decoder, name)


def test_second_opinions_asked_while_someone_talks_decode_each_moment_once(
    engine: PocketsphinxEngine, tmp_path: Path
) -> None:
    """Asked every second of a long utterance (a red flag in the partials), the second
    opinion decoded all the speech so far each time: in babble, where an utterance
    runs to its 20 s limit, the kiosk fell ever further behind the room. Each moment of
    speech now goes through the free decoder once, however often it is asked; the
    opinion at the end is the whole utterance's."""
    pcm = read_wav(say("the car park was full so I walked", CLEAN[0], tmp_path / "a.wav")) * 4
    free, spy = engine.free, _Counting(engine.free)
    engine.free = spy  # type: ignore[assignment]
    try:
        recognition = engine.start(GRAMMARS.for_turn("fever", CAT.question("fever").kind))
        asks = 0
        for i in range(0, len(pcm), 3200):
            hyp = recognition.accept(pcm[i : i + 3200])
            if hyp is not None and hyp.final:
                break
            if hyp is not None and i % 16000 == 0:
                recognition.second_opinion()
                asks += 1
        else:
            recognition.finish()
        final = recognition.second_opinion()
        speech = len(recognition._speech)
    finally:
        engine.free = free  # type: ignore[assignment]
    assert asks >= 5
    assert spy.fed == speech, (spy.fed / speech, asks)
    assert final.count("car park") >= 3, final
    assert recognition.second_opinion() == final  # kept, not decoded again
    assert spy.fed == speech


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


EVERYDAY_WORDS = [  # not in pocketsphinx's CMU dictionary: given phones in prompts/en/speech.toml
    ("my arms are tingly", "tingly"),
    ("i feel shivery", "shivery"),
    ("i've got a stomachache", "stomachache"),
    ("i took paracetamol", "paracetamol"),
]


def test_words_missing_from_the_dictionary_are_heard_once_learned(tmp_path: Path) -> None:
    engine = PocketsphinxEngine()
    words = [w for _, w in EVERYDAY_WORDS]
    assert engine.missing_words(words) == set(words)  # the bug: left out of every grammar
    engine.learn(CAT.phones)
    phrases = GRAMMARS.everything()
    assert not engine.missing_words(vocabulary(phrases))
    for n, (sentence, word) in enumerate(EVERYDAY_WORDS):
        wav = say(sentence, CLEAN[0], tmp_path / f"answer{n}.wav")
        text = transcribe(engine, phrases, read_wav(wav)).text
        assert word in text.split(), f"heard {text!r}"


@pytest.mark.skipif(not available("espeak-ng"), reason="espeak-ng is not installed")
def test_a_british_no_is_heard_as_no(tmp_path: Path) -> None:
    """The dictionary knows only the American "no" (N OW): a British voice's "no" came
    out as "do" on a yes/no question even in a quiet room, and as "moves" or "clue" in
    babble, so every question was re-asked and never answered."""
    engine = PocketsphinxEngine()
    engine.learn(CAT.phones)
    phrases = GRAMMARS.for_turn("heart_lungs", CAT.question("heart_lungs").kind)
    wav = say("no", Voice("espeak-ng", "en-gb-x-rp", rate=0.9, pitch=35), tmp_path / "no.wav")
    assert transcribe(engine, phrases, read_wav(wav)).text == "no"


def test_each_person_is_heard_the_same_whoever_came_before(tmp_path: Path) -> None:
    """pocketsphinx adapts its cepstral mean utterance by utterance; carried from one
    person to the next, the last person's voice decided how the next was heard (a
    "yes" in babble came out as "goes" after a loud talker), and whole benchmark sessions
    changed with the order they ran in (a CI floor failed under one test order)."""
    import numpy as np

    from tests.pharmacy import Noise

    engine = PocketsphinxEngine()
    engine.learn(CAT.phones)
    grammar = GRAMMARS.for_turn("chest_pain", CAT.question("chest_pain").kind, free=False)
    yes = np.frombuffer(
        read_wav(say("yes", Voice("flite", "rms"), tmp_path / "yes.wav")), np.int16
    ).astype(np.float64)
    room = Noise("A", tmp_path)
    answer = (yes + room.take(yes.size, np.sqrt(np.mean(yes**2) / 10))).astype(np.int16).tobytes()

    def heard() -> tuple[str, tuple[float, ...], str]:
        recognition = engine.start(grammar)
        data = answer + bytes(SAMPLE_RATE * 2)
        for i in range(0, len(data), 3200):
            if (hyp := recognition.accept(data[i : i + 3200])) is not None and hyp.final:
                break
        else:
            hyp = recognition.finish()
        return hyp.text, tuple(w.conf for w in hyp.words), recognition.second_opinion()

    engine.new_person()
    first = heard()
    # Someone else before: louder, another voice, another room.
    other = read_wav(
        say("my upper back hurts and I can't sleep", Voice("flite", "slt"), tmp_path / "o.wav")
    )
    x = np.frombuffer(other, np.int16).astype(np.float64)
    loud = (x * 4 + room.take(x.size, 3000)).clip(-32768, 32767).astype(np.int16).tobytes()
    transcribe(engine, None, loud)
    transcribe(engine, grammar, loud)
    engine.new_person()
    assert heard() == first


def test_the_second_opinion_is_the_same_whoever_came_before(tmp_path: Path) -> None:
    """The free decoder behind the second opinion kept more than its cepstral mean
    from one utterance to the next: the same recording decoded twice, the mean reset in
    between, gave "i have heard that has since yesterday" and then "i have had that had
    since yesterday" (tests/test_pharmacy.py found it in whole sessions). Each person
    now starts from a freshly loaded model, words the catalogue taught it included."""
    import numpy as np

    engine = PocketsphinxEngine()
    engine.learn(CAT.phones)
    rng = np.random.default_rng(3)
    answers = []
    for i, text in enumerate(["my upper back hurts since yesterday", "about a four", "tingly"]):
        x = np.frombuffer(
            read_wav(say(text, Voice("flite", "slt"), tmp_path / f"{i}.wav")), np.int16
        )
        noisy = x + rng.normal(0, 400, x.size)
        answers.append(noisy.clip(-32000, 32000).astype(np.int16).tobytes())
    engine.new_person()
    first = [engine._free_decode(a) for a in answers]
    for _ in range(3):
        for a in answers:
            engine._free_decode(a)
    engine.new_person()
    assert [engine._free_decode(a) for a in answers] == first
    assert engine.missing_words(["tingly"]) == set()
