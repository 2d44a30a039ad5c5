"""Soak: 200 consecutive sessions through the voice loop (real recognizer, real
understanding and dialog, real text-to-speech), with memory flat and nothing about one
person carried into the next session.

The microphone and loudspeaker are stand-ins (no sound card here): the microphone plays
prepared recordings, the loudspeaker counts what it was given. The real PortAudio path
is exercised in test_alsa_kiosk.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from kiosk.audio import read_wav
from kiosk.catalogue import load
from kiosk.events import Ending
from kiosk.recognizer import SAMPLE_RATE, PocketsphinxEngine
from kiosk.rules import Disposition
from kiosk.speech import Voice
from kiosk.symptoms import Answer
from kiosk.understanding import Understander
from kiosk.voice import ListenSettings, VoiceKiosk
from tests.synth import Voice as Patient
from tests.synth import available, say

pytestmark = pytest.mark.skipif(not available("flite"), reason="flite is not installed")

SESSIONS = 200
BLOCK = int(SAMPLE_RATE * 0.1) * 2


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@dataclass
class CyclingMicrophone:
    """Each listen turn hears the next recording of an endless script, then quiet."""

    turns: Iterator[bytes]

    def blocks(self, stop_after: float) -> Iterator[bytes]:
        data = next(self.turns) + bytes(int(SAMPLE_RATE * stop_after) * 2)
        for i in range(0, len(data), BLOCK):
            yield data[i : i + BLOCK]


class CountingLoudspeaker:
    def __init__(self) -> None:
        self.clips = 0

    def play(self, samples: np.ndarray, rate: int) -> None:
        self.clips += 1


def test_two_hundred_sessions(tmp_path: Path) -> None:
    cat = load()
    patient = Patient("flite", "slt")
    wav = {
        t: read_wav(say(t, patient, tmp_path / f"{i}.wav"))
        for i, t in enumerate(
            [
                "I have chest pain",
                "hello",
                "my upper back hurts",
                "stop",
                "yes",
            ]
        )
    }
    silence = b""
    # Per session, what each listen turn hears:
    #   a red flag as the first words, "yes" to the check -> emergency;
    #   "hello", an opening answer, then "stop", "yes" to "do you want to stop?" -> stopped;
    #   "hello", then nothing -> walked away.
    script = [
        [wav["I have chest pain"], wav["yes"]],
        [wav["hello"], wav["my upper back hurts"], wav["stop"], wav["yes"]],
        [wav["hello"], silence, silence, silence],
    ]
    kiosk = VoiceKiosk(
        cat,
        Understander(cat),
        PocketsphinxEngine(),
        CyclingMicrophone(itertools.chain.from_iterable(itertools.cycle(script))),  # type: ignore[arg-type]
        CountingLoudspeaker(),  # type: ignore[arg-type]
        Voice(rate=170, spoken=cat.spoken),
        ListenSettings(no_speech_timeout=1.0),
        today=lambda: date(2026, 11, 18),
        walk_away_silences=3,
    )
    endings = []
    rss_after_warmup = 0.0
    for n in range(SESSIONS):
        first = kiosk.wait_for_someone()
        end = kiosk.session(first)
        assert end is not None
        endings.append(end)
        if n == 20:
            rss_after_warmup = rss_mb()
        if n % 50 == 0:
            print(f"session {n}: RSS {rss_mb():.1f} MB")
    rss_end = rss_mb()

    kinds = [(e.ending, e.decision.disposition if e.decision else None) for e in endings]
    expected = [
        (Ending.guidance, Disposition.emergency),
        (Ending.stopped, None),
        (Ending.no_response, None),
    ]
    assert kinds == list(itertools.islice(itertools.cycle(expected), SESSIONS))
    # No leakage: the session after an emergency starts from an empty report.
    for before, after in itertools.pairwise(endings):
        if before.decision and before.decision.disposition is Disposition.emergency:
            assert after.report.symptoms.chest_pain is Answer.unknown
    print(f"RSS after 20 sessions {rss_after_warmup:.1f} MB, after {SESSIONS}: {rss_end:.1f} MB")
    assert rss_end - rss_after_warmup < 25, (rss_after_warmup, rss_end)
