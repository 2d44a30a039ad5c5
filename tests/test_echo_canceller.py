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
    """What barge-in will rest on: "I can't breathe" said while the kiosk talks, 6 dB
    under its echo (the loudspeaker is nearer the microphone than the person), is a red
    flag once the echo is taken out; without the canceller it is not heard."""
    words = read_wav(say("I can't breathe", Patient("flite", "slt"), tmp_path / "p.wav"))
    at = 5 * SAMPLE_RATE * 2
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


def test_doctor_says_the_kiosk_is_half_duplex() -> None:
    assert availability().startswith("half-duplex")
