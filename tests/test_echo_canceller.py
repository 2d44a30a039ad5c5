"""The echo canceller on real audio: the kiosk's own voice (pyttsx3, as it speaks) comes
back through the stand-in room's echo (tests/room.py), a patient talks over it, and the
real recognizer listens to what the canceller leaves. Nothing is mocked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kiosk.audio import read_wav, to_recognizer_rate
from kiosk.catalogue import QuestionKind, load
from kiosk.echo_canceller import EchoCanceller, availability
from kiosk.grammar import Grammars
from kiosk.recognizer import SAMPLE_RATE, PocketsphinxEngine, transcribe
from kiosk.speech import Voice
from kiosk.understanding import Understander
from tests.room import Echo, mix
from tests.synth import Voice as Patient
from tests.synth import available, say

CAT = load()
FRAME = SAMPLE_RATE // 100 * 2  # 10 ms of 16-bit samples


@pytest.fixture(scope="module")
def kiosk_voice() -> bytes:
    """The kiosk asking its questions: 10+ seconds of its own voice."""
    voice = Voice(rate=170, spoken=CAT.spoken)
    try:
        lines = [CAT.say("greeting"), CAT.say("open_question"), CAT.question("fever").ask]
        clips = [voice.render(t) for t in lines]
    finally:
        voice.close()
    return b"".join(to_recognizer_rate(c.samples, c.rate).tobytes() for c in clips)


def cancel(mic: bytes, played: bytes) -> bytes:
    aec = EchoCanceller()
    played = played.ljust(len(mic), b"\0")
    return b"".join(
        aec.process(mic[i : i + FRAME], played[i : i + FRAME])
        for i in range(0, len(mic) - len(mic) % FRAME, FRAME)
    )


def rms(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    return float(np.sqrt(np.mean(x**2))) if x.size else 0.0


def floor(n: int) -> bytes:
    return np.random.default_rng(1).normal(0, 30, n // 2).astype(np.int16).tobytes()


@pytest.mark.parametrize("delay", [0.02, 0.05, 0.08])
def test_the_kiosks_voice_is_taken_out_of_the_microphone(kiosk_voice: bytes, delay: float) -> None:
    echo = Echo(delay=delay, gain_db=-6)
    mic = mix(echo.of(kiosk_voice), floor(len(kiosk_voice)))[: len(kiosk_voice)]
    out = cancel(mic, kiosk_voice)
    after = slice(3 * SAMPLE_RATE * 2, len(out))  # once it has found the echo path
    erle = 20 * np.log10(rms(mic[after]) / max(rms(out[after]), 1.0))
    assert erle >= 15, f"{erle:.1f} dB"
    # and what is left is heard as nothing, whatever the question's grammar
    grammars = Grammars(CAT)
    phrases = grammars.for_turn("fever", QuestionKind.yes_no, free=False)
    assert transcribe(PocketsphinxEngine(), phrases, out[after]).text == ""


@pytest.mark.skipif(not available("flite"), reason="needs flite")
def test_a_red_flag_said_over_the_kiosks_voice_is_heard(kiosk_voice: bytes, tmp_path: Path) -> None:
    """What barge-in rests on: "I can't breathe" said while the kiosk talks, 6 dB
    under its echo (the loudspeaker is nearer the microphone than the person), is a red
    flag once the echo is taken out; without the canceller it is not heard."""
    words = read_wav(say("I can't breathe", Patient("flite", "slt"), tmp_path / "p.wav"))
    at = 9 * SAMPLE_RATE * 2  # once the canceller has heard the kiosk for a while
    echo = Echo(delay=0.05, gain_db=-6).of(kiosk_voice)
    scale = rms(echo[at : at + len(words)]) / max(rms(words), 1.0) / 2  # -6 dB
    person = (np.frombuffer(words, dtype=np.int16) * scale).astype(np.int16).tobytes()
    mic = mix(echo, bytes(at) + person, floor(len(kiosk_voice)))[: len(kiosk_voice)]
    turn = CAT.question("fever")
    phrases = Grammars(CAT).for_turn(turn.id, turn.kind, free=False)
    engine = PocketsphinxEngine()
    around = slice(at - 6400, at + len(person) + 6400)
    heard = transcribe(engine, phrases, cancel(mic, kiosk_voice)[around])
    u = Understander(CAT)
    assert breathless(u, heard.text), heard
    assert not breathless(u, transcribe(engine, phrases, mic[around]).text)


def breathless(u: Understander, text: str) -> bool:
    said = u(text, expecting=QuestionKind.yes_no).mentions
    return any(m.field == "shortness_of_breath" and m.value == "yes" for m in said)


def test_the_canceller_is_available_here() -> None:
    assert availability() == ""  # libspeexdsp1 is installed: barge-in is on


def test_it_says_when_it_has_learnt_the_room(kiosk_voice: bytes) -> None:
    """The voice loop listens over the kiosk's voice only once the canceller has learnt
    the echo's path (before that, what it leaves comes out as words); a person talking
    over the kiosk later does not unlearn it."""
    aec = EchoCanceller()
    mic = mix(Echo(delay=0.05, gain_db=-10).of(kiosk_voice), floor(len(kiosk_voice)))
    settled_at = None
    for i in range(0, len(kiosk_voice) - FRAME, FRAME):
        aec.process(mic[i : i + FRAME], kiosk_voice[i : i + FRAME])
        if aec.settled and settled_at is None:
            settled_at = i / 2 / SAMPLE_RATE
    assert settled_at is not None and 1.0 < settled_at < 8.0
    loud = np.random.default_rng(2).normal(0, 8000, SAMPLE_RATE * 4).astype(np.int16).tobytes()
    for i in range(0, len(loud), FRAME):  # someone loud over the kiosk's voice
        aec.process(loud[i : i + FRAME], kiosk_voice[i : i + FRAME])
    assert aec.settled


def test_it_has_not_learnt_a_room_it_has_not_heard() -> None:
    aec = EchoCanceller()
    silence = bytes(SAMPLE_RATE * 2)
    aec.process(silence, silence)
    assert not aec.settled


def test_a_microphone_that_hardly_hears_the_loudspeaker_is_settled_at_once(
    kiosk_voice: bytes,
) -> None:
    """No echo to learn (a headset, a loudspeaker far off): what comes out while the
    kiosk talks is the room's faint noise, far under what it plays."""
    aec = EchoCanceller()
    mic = floor(len(kiosk_voice))
    two_seconds = 2 * SAMPLE_RATE * 2
    for i in range(0, two_seconds * 3, FRAME):
        aec.process(mic[i : i + FRAME], kiosk_voice[i : i + FRAME])
    assert aec.settled
