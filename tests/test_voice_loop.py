"""The voice loop with real speech in and out: flite speaks the patient's answers,
pocketsphinx hears them, pyttsx3 speaks the kiosk's side.

The sound devices are stand-ins here (this machine has no sound card): a microphone
that plays prepared recordings, one per listen turn, and a loudspeaker that records
what it was given. The real PortAudio path is exercised in test_alsa_kiosk.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from kiosk.audio import read_wav
from kiosk.catalogue import load
from kiosk.dialog import Dialog
from kiosk.events import Heard, Listen, Silence
from kiosk.recognizer import SAMPLE_RATE, PocketsphinxEngine
from kiosk.rules import Disposition
from kiosk.speech import Voice
from kiosk.understanding import Understander
from kiosk.voice import ListenSettings, VoiceKiosk
from tests.synth import Voice as PatientVoice
from tests.synth import available, say

pytestmark = pytest.mark.skipif(not available("flite"), reason="flite is not installed")

CAT = load()
PATIENT = PatientVoice("flite", "slt")
BLOCK = int(SAMPLE_RATE * 0.1) * 2


@dataclass
class ScriptedMicrophone:
    """Stand-in for the sound card: each listen turn hears the next recording, then
    quiet room noise."""

    turns: list[bytes]
    log: list[str]
    delivered: list[int] = field(default_factory=list)

    def blocks(self, stop_after: float) -> Iterator[bytes]:
        pcm = self.turns.pop(0) if self.turns else b""
        rng = np.random.default_rng(len(self.delivered))
        noise = rng.normal(0, 30, int(SAMPLE_RATE * stop_after)).astype(np.int16).tobytes()
        data = pcm + noise
        self.log.append("mic open")
        count = 0
        try:
            for i in range(0, len(data), BLOCK):
                count += 1
                yield data[i : i + BLOCK]
        finally:
            self.delivered.append(count)
            self.log.append("mic closed")


@dataclass
class RecordingLoudspeaker:
    log: list[str]
    played: list[np.ndarray] = field(default_factory=list)

    def play(self, samples: np.ndarray, rate: int) -> None:
        self.log.append("play")
        self.played.append(samples)


@pytest.fixture(scope="module")
def parts() -> tuple[Understander, PocketsphinxEngine, Voice]:
    return Understander(CAT), PocketsphinxEngine(), Voice(rate=170, spoken=CAT.spoken)


def kiosk_with(
    parts, answers: list[str], tmp_path: Path, **settings
) -> tuple[VoiceKiosk, ScriptedMicrophone, RecordingLoudspeaker, list[str]]:
    understander, engine, voice = parts
    log: list[str] = []
    turns = [read_wav(say(a, PATIENT, tmp_path / f"a{i}.wav")) for i, a in enumerate(answers)]
    mic = ScriptedMicrophone(turns, log)
    speaker = RecordingLoudspeaker(log)
    kiosk = VoiceKiosk(
        CAT,
        understander,
        engine,
        mic,
        speaker,
        voice,  # type: ignore[arg-type]
        ListenSettings(**settings),
        today=lambda: date(2026, 11, 18),
    )
    return kiosk, mic, speaker, log


def test_spoken_session_red_flag_mid_answer(parts, tmp_path: Path) -> None:
    kiosk, _, speaker, log = kiosk_with(
        parts,
        ["my upper back hurts", "no", "no, but I can't really feel my legs", "yes"],
        tmp_path,
    )
    end = kiosk.session()
    assert end and end.decision and end.decision.disposition is Disposition.emergency
    emergency = kiosk.voice.render(end.decision.guidance).samples
    # Said twice, back to back, as the last thing.
    assert all(np.array_equal(p, emergency) for p in speaker.played[-2:])
    assert not np.array_equal(speaker.played[-3], emergency)
    # Half-duplex: the microphone is never open while the kiosk talks.
    opened = False
    for entry in log:
        if entry == "mic open":
            opened = True
        elif entry == "mic closed":
            opened = False
        else:
            assert not opened, "played while the microphone was open"


def test_red_flag_acted_on_before_the_sentence_ends(parts, tmp_path: Path) -> None:
    """Both decodes hear the red flag mid-sentence: no need to wait for the rest."""
    long_answer = (
        "I have chest pain and I can't breathe and then I went to the shops and I bought "
        "some bread and some milk and I came home and I sat down for a while"
    )
    kiosk, mic, _, _ = kiosk_with(parts, [long_answer], tmp_path)
    dialog = Dialog(CAT, kiosk.understander, date(2026, 11, 18))
    dialog.start()
    event = kiosk.listen(Listen("open"), dialog)
    assert isinstance(event, Heard)
    speech_blocks = len(read_wav(tmp_path / "a0.wav")) // BLOCK
    assert mic.delivered[0] < speech_blocks, "waited for the end of the sentence"
    assert dialog.red_flag_in(event.text)


def test_answers_to_emergency_questions_come_with_the_other_decode(parts, tmp_path: Path) -> None:
    """The dialog compares the two decodes of a "no" to an emergency question (a "yes"
    heard as "no" is the costly error); other answers do not pay for the second decode."""
    kiosk, _, _, _ = kiosk_with(parts, ["my upper back hurts", "no", "about a four"], tmp_path)
    dialog = Dialog(CAT, kiosk.understander, date(2026, 11, 18))
    listen = dialog.start()[-1]
    assert isinstance(listen, Listen)
    dialog.handle(kiosk.listen(listen, dialog))
    assert dialog.s.turn == "heart_lungs"
    event = kiosk.listen(Listen("heart_lungs"), dialog)
    assert isinstance(event, Heard) and event.text == "no" and "no" in event.second.split()
    dialog.s.turn = "severity"  # straight to a question without red flags
    event = kiosk.listen(Listen("severity"), dialog)
    assert isinstance(event, Heard) and "four" in event.text and event.second == ""


def test_no_speech_is_silence_after_the_timeout(parts, tmp_path: Path) -> None:
    kiosk, mic, _, _ = kiosk_with(parts, [], tmp_path, no_speech_timeout=2.0)
    dialog = Dialog(CAT, kiosk.understander, date(2026, 11, 18))
    dialog.start()
    assert isinstance(kiosk.listen(Listen("chest_pain"), dialog), Silence)
    assert mic.delivered[0] == pytest.approx(20, abs=2)  # 2 s of 0.1 s blocks


def test_wake_words_with_a_red_flag_skip_the_greeting(parts, tmp_path: Path) -> None:
    kiosk, _, speaker, _ = kiosk_with(parts, ["yes"], tmp_path)
    end = kiosk.session(Heard("help i can't breathe", spoken=True))
    assert end and end.decision and end.decision.disposition is Disposition.emergency
    # No greeting: the one check ("did you mention trouble breathing?"), then the
    # emergency guidance, twice, and nothing else.
    assert len(speaker.played) == 3


def test_slower_makes_the_voice_slower(parts, tmp_path: Path) -> None:
    understander, engine, _ = parts
    voice = Voice(rate=170, spoken=CAT.spoken)
    log: list[str] = []
    answers = ["my upper back hurts", "slower please"]
    turns = [read_wav(say(a, PATIENT, tmp_path / f"s{i}.wav")) for i, a in enumerate(answers)]
    kiosk = VoiceKiosk(
        CAT,
        understander,
        engine,
        ScriptedMicrophone(turns, log),
        RecordingLoudspeaker(log),  # type: ignore[arg-type]
        voice,
        ListenSettings(no_speech_timeout=1.0),
        today=lambda: date(2026, 11, 18),
    )
    kiosk.session()
    assert voice.rate < 170
