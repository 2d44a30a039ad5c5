"""Small talk near the idle kiosk: a timeline of synthesized customers talking to each
other, never to the kiosk. Used by bench/chatter_bench.py (an hour of it) and by
tests/test_chatter.py (a few minutes, with floors in CI).

Conversations of two people taking turns (short gaps, now and then talking over each
other), another conversation further off now and then, quiet stretches between, all on
the faint floor of a quiet room. Everything is seeded: the same minutes sound the same
in every run, so two versions of the kiosk can be compared on the same room.

Lines and voices come in two sets: the tune set, which a change may be tried on, and
the held-out set, never tuned on, whose figure is the one reported. Both include talk
that comes close to the kiosk's words without being addressed to it: someone else's
bad back, a fall last winter, a greeting between customers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.audio import clip16, read_wav
from kiosk.recognizer import SAMPLE_RATE
from tests.pharmacy import said
from tests.synth import Voice

SPEECH_RMS = 2000.0
"""A person talking at the kiosk's microphone from arm's length (flite's own level)."""

FLOOR_RMS = 30.0
"""The quiet room's floor (tests/room.py ``quiet``)."""

TUNE_LINES = [
    "did you find the shampoo you wanted",
    "they moved the vitamins to the back aisle",
    "what time do they close on saturdays",
    "i need to pick up my prescription for my mum",
    "is the car park free after six",
    "my daughter wants the strawberry toothpaste",
    "have you tried the new cough sweets",
    "we are out of milk again at home",
    "the bus was late again this morning",
    "do they sell birthday cards here",
    "oh hi, how are you doing",
    "not bad thanks, and you",
    "my husband has a bad back again, he's been lying on the floor all week",
    "she had a fall last winter and she's been fine since",
    "can you grab a basket",
    "how much were the plasters",
    "i think it's going to rain later",
    "we should get some sun cream for the holiday",
    "did you remember your loyalty card",
    "the pharmacist said ten minutes",
    "these shoes are killing my feet",
    "is that the one with the blue label",
    "i can never find anything in here",
    "shall we get a coffee after this",
]

HELD_OUT_LINES = [
    "have they got any of those hand creams left",
    "i told him to wait in the car",
    "do you know if they do flu jabs here",
    "the kids were up all night with colds",
    "hello, fancy seeing you here",
    "good morning, lovely day isn't it",
    "my dad's been having trouble with his knees",
    "where do they keep the baby wipes",
    "i'm only getting a few bits for the weekend",
    "it was much cheaper at the other shop",
    "her neck was stiff after the long drive",
    "we need more toilet roll as well",
    "i'll pay for these by card",
    "there's a queue at the counter again",
    "did you see the match last night",
    "my sister's coming round for tea",
    "have you got the list",
    "they're doing three for two on the vitamins",
    "he fell off his bike when he was little",
    "i'm just waiting for my repeat prescription",
    "the traffic was terrible on the way in",
    "that's the one i had last time",
    "remind me to get batteries for the remote",
    "are you going to the party on friday",
]

TUNE_VOICES = [
    Voice("flite", "kal"),
    Voice("flite", "rms"),
    Voice("flite", "slt", rate=1.1),
    Voice("espeak-ng", "en-us+m3"),
    Voice("espeak-ng", "en-gb", rate=1.1),
]
HELD_OUT_VOICES = [
    Voice("flite", "awb"),
    Voice("espeak-ng", "en-gb-scotland+f3"),
    Voice("espeak-ng", "en-us+f2", rate=0.95),
    Voice("espeak-ng", "en-029", pitch=40),
]


@dataclass(frozen=True)
class Crowd:
    """Who talks and what about."""

    lines: list[str]
    voices: list[Voice]


TUNE = Crowd(TUNE_LINES, TUNE_VOICES)
HELD_OUT = Crowd(HELD_OUT_LINES, HELD_OUT_VOICES)


def _f(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float64)


def _line(text: str, voice: Voice, folder: Path) -> np.ndarray:
    key = hashlib.sha1(f"chatter|{voice.id}|{text}".encode()).hexdigest()[:16]
    x = _f(read_wav(said(text, voice, folder / f"chatter-{key}.wav", SAMPLE_RATE)))
    return x / (np.sqrt(np.mean(x**2)) or 1.0) * SPEECH_RMS


def _conversation(
    crowd: Crowd, rng: np.random.Generator, folder: Path, level_db: float
) -> np.ndarray:
    """Two people taking turns for a while: gaps of a fraction of a second, sometimes
    starting before the other has finished."""
    a, b = rng.choice(len(crowd.voices), size=2, replace=False)
    parts: list[tuple[int, np.ndarray]] = []
    at = 0
    for turn in range(int(rng.integers(3, 8))):
        voice = crowd.voices[a if turn % 2 == 0 else b]
        x = _line(crowd.lines[int(rng.integers(len(crowd.lines)))], voice, folder)
        parts.append((at, x * 10 ** ((level_db + rng.uniform(-2, 2)) / 20)))
        at += x.size + int(SAMPLE_RATE * rng.uniform(-0.3, 1.2))
        at = max(at, parts[-1][0] + SAMPLE_RATE // 2)
    out = np.zeros(max(s + x.size for s, x in parts))
    for s, x in parts:
        out[s : s + x.size] += x
    return out


def chatter(crowd: Crowd, seconds: float, folder: Path, seed: int = 0) -> bytes:
    """``seconds`` of a pharmacy floor near the kiosk, as 16 kHz 16-bit PCM."""
    rng = np.random.default_rng(seed)
    n = int(SAMPLE_RATE * seconds)
    out = rng.normal(0, FLOOR_RMS, n)
    at = int(SAMPLE_RATE * rng.uniform(1, 5))
    while at < n:
        # people near the kiosk (0 to -10 dB of someone using it), now and then a
        # second conversation further off over the first
        talk = _conversation(crowd, rng, folder, level_db=rng.uniform(-10, 0))
        if rng.random() < 0.3:
            off = _conversation(crowd, rng, folder, level_db=rng.uniform(-20, -12))
            lag = int(SAMPLE_RATE * rng.uniform(0, 4))
            both = np.zeros(max(talk.size, lag + off.size))
            both[: talk.size] += talk
            both[lag : lag + off.size] += off
            talk = both
        end = min(n, at + talk.size)
        out[at:end] += talk[: end - at]
        at = end + int(SAMPLE_RATE * rng.uniform(3, 30))
    return clip16(out).tobytes()
