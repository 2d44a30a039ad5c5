"""A stand-in for the sound card that keeps time like a real room.

This machine has no microphone, so the room is a recording: one continuous timeline of
16 kHz PCM. The kiosk hears the timeline from "now" whenever it listens, and while it
talks the room's clock runs on by the length of what it said, so anything the person
said meanwhile is lost, exactly as with the real half-duplex kiosk. After the recording
the room is quiet (faint noise, never digital silence).

The real PortAudio path is tested through ALSA file devices (test_alsa_kiosk.py); this
stand-in is for long, multi-turn scenarios the file devices cannot pace.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from kiosk.audio import clip16, to_recognizer_rate
from kiosk.catalogue import load
from kiosk.echo_canceller import EchoCanceller
from kiosk.recognizer import SAMPLE_RATE, Engine, PocketsphinxEngine
from kiosk.speech import Voice
from kiosk.understanding import Understander
from kiosk.voice import VoiceKiosk

BLOCK_BYTES = int(SAMPLE_RATE * 0.1) * 2


class RoomClosed(RuntimeError):
    """The test's time limit for the room ran out: the kiosk did not finish in time."""


def seconds(pcm: bytes) -> float:
    return len(pcm) / 2 / SAMPLE_RATE


def quiet(duration: float, level: float = 30.0, seed: int = 0) -> bytes:
    """Faint room noise (a quiet pharmacy, not digital silence)."""
    rng = np.random.default_rng(seed)
    return _pcm(rng.normal(0, level, int(SAMPLE_RATE * duration)))


def _pcm(x: np.ndarray) -> bytes:
    return clip16(x).tobytes()


def gain(pcm: bytes, db: float) -> bytes:
    """Louder or quieter by ``db``; louder speech clips at full scale, as a mic would."""
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    return _pcm(x * 10 ** (db / 20))


def mix(*tracks: bytes) -> bytes:
    """Tracks played at once (the longest sets the length)."""
    arrays = [np.frombuffer(t, dtype=np.int16).astype(np.float64) for t in tracks]
    out = np.zeros(max(a.size for a in arrays))
    for a in arrays:
        out[: a.size] += a
    return _pcm(out)


@dataclass(frozen=True)
class Echo:
    """How the room gives the kiosk's own voice back to its microphone: the direct path
    after ``delay`` seconds (loudspeaker to microphone, plus the sound card's buffers)
    at ``gain_db``, and a little reverberation (a decaying noise tail of ``rt60``
    seconds, ``reverb_db`` below the direct path)."""

    delay: float = 0.05
    gain_db: float = -10.0
    rt60: float = 0.3
    reverb_db: float = -12.0
    seed: int = 0

    def response(self) -> np.ndarray:
        """The impulse response at 16 kHz."""
        n = int(SAMPLE_RATE * (self.delay + self.rt60))
        h = np.zeros(n)
        start = int(SAMPLE_RATE * self.delay)
        h[start] = 10 ** (self.gain_db / 20)
        tail = np.arange(n - start) / SAMPLE_RATE
        decay = 10 ** (-3 * tail / self.rt60)  # -60 dB at rt60
        noise = np.random.default_rng(self.seed).normal(0, 1, n - start)
        reverb = noise * decay / np.sqrt(np.sum((noise * decay) ** 2) or 1.0)
        h[start:] += reverb * 10 ** ((self.gain_db + self.reverb_db) / 20)
        return h

    def of(self, pcm: bytes) -> bytes:
        """What the microphone hears of ``pcm`` (16 kHz), from the moment it is played."""
        x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
        return _pcm(np.convolve(x, self.response()))


@dataclass
class Room:
    """Microphone and loudspeaker in one: the kiosk listens to it and talks into it.

    ``background`` runs from the moment the test starts (noise, someone talking on and
    on); each of ``replies`` is said by the person once the kiosk has asked its next
    question, i.e. shortly after the microphone opens for the next listen turn.
    """

    background: bytes = b""
    replies: list[bytes] = field(default_factory=list)
    reply_delay: float = 0.6
    mic_gain_db: float = 0.0
    """The microphone's gain: everything it hears, louder or quieter (clipping if loud)."""
    limit: float = 600.0
    """Room seconds after which :class:`RoomClosed` is raised, so no test can hang."""
    margin: float = 0.25
    """The real loudspeaker's quiet margin after playback."""
    echo: Echo | None = None
    """The kiosk's own voice coming back into the microphone (None: a dead room)."""
    position: int = 0
    turns: list[tuple[float, float]] = field(default_factory=list)
    """(room time the microphone opened, seconds it listened) for every listen turn."""
    played: list[np.ndarray] = field(default_factory=list)
    plays: list[tuple[float, float]] = field(default_factory=list)
    """(room time, seconds) of every clip as it was actually played: a clip cut short
    by the person talking over it (barge-in) is as long as it got."""
    _placed: list[tuple[int, bytes]] = field(default_factory=list)

    @property
    def now(self) -> float:
        return self.position / 2 / SAMPLE_RATE

    def _audio(self, start: int, length: int) -> bytes:
        chunk = self.background[start : start + length]
        if len(chunk) < length:  # past the recording: the quiet room
            chunk += quiet((length - len(chunk)) / 2 / SAMPLE_RATE, seed=start)
        tracks = [chunk]
        for at, pcm in self._placed:
            part = pcm[max(0, start - at) : max(0, start + length - at)]
            if part and at < start + length:
                lead = max(0, at - start)
                tracks.append(bytes(lead) + part[: length - lead])
        return mix(*tracks) if len(tracks) > 1 else chunk

    def forget_before(self, at: float) -> None:
        """Drop what was said and echoed before room time ``at`` (over many sessions it
        only slows the mixing down)."""
        cut = int(at * SAMPLE_RATE) * 2
        self._placed = [(p, pcm) for p, pcm in self._placed if p + len(pcm) > cut]

    def say_at(self, at: float, pcm: bytes) -> None:
        """Someone says ``pcm`` at room time ``at`` (over the kiosk's voice, perhaps)."""
        self._placed.append((int(at * SAMPLE_RATE) * 2, pcm))

    def blocks(self, stop_after: float) -> Iterator[bytes]:
        opened = self.now
        if self.replies:
            at = self.position + int(self.reply_delay * SAMPLE_RATE) * 2
            self._placed.append((at, self.replies.pop(0)))
        try:
            while self.now - opened < stop_after:
                if self.now > self.limit:
                    raise RoomClosed(f"still listening after {self.limit:g} s of room time")
                block = self._audio(self.position, BLOCK_BYTES)
                if self.mic_gain_db:
                    block = gain(block, self.mic_gain_db)
                self.position += BLOCK_BYTES
                yield block
        finally:
            self.turns.append((opened, self.now - opened))

    def play(self, samples: np.ndarray, rate: int) -> None:
        self.played.append(samples)
        self.plays.append((self.now, len(samples) / rate))
        if self.echo is not None:
            self._placed.append(
                (self.position, self.echo.of(to_recognizer_rate(samples, rate).tobytes()))
            )
        self.position += int((len(samples) / rate + self.margin) * SAMPLE_RATE) * 2
        if self.now > self.limit:
            raise RoomClosed(f"still talking after {self.limit:g} s of room time")

    def play_listening(
        self, samples: np.ndarray, rate: int
    ) -> Generator[tuple[bytes, bytes], None, None]:
        """Play while the microphone listens (the real one: kiosk/audio.py ``Duplex``):
        each block of the room, the kiosk's own echo in it, comes with the block of the
        clip played meanwhile. Closed early, the clip stops there, and so does its echo.
        """
        self.played.append(samples)
        pcm = to_recognizer_rate(samples, rate).tobytes()
        started, at = self.now, self.position
        echo = (at, self.echo.of(pcm)) if self.echo is not None else None
        if echo is not None:
            self._placed.append(echo)
        total = len(pcm) + int(self.margin * SAMPLE_RATE) * 2
        done = 0
        try:
            while done < total:
                if self.now > self.limit:
                    raise RoomClosed(f"still talking after {self.limit:g} s of room time")
                block = self._audio(self.position, BLOCK_BYTES)
                if self.mic_gain_db:
                    block = gain(block, self.mic_gain_db)
                reference = pcm[done : done + BLOCK_BYTES].ljust(BLOCK_BYTES, b"\0")
                self.position += BLOCK_BYTES
                done += BLOCK_BYTES
                yield block, reference
        finally:
            played = min(done, len(pcm))
            self.plays.append((started, seconds(pcm[:played])))
            if played < len(pcm) and echo is not None and self.echo is not None:
                self._placed.remove(echo)
                if played:
                    self._placed.append((at, self.echo.of(pcm[:played])))


def settle(kiosk: VoiceKiosk, room: Room, lines: int = 4) -> None:
    """A kiosk that has been on a while: its echo canceller has heard its own voice come
    back through this room (nobody there) and has found the echo's path. Fresh, it takes
    some seconds to settle, and the kiosk does not listen over its voice meanwhile
    (README "Barge-in"): that is the first greeting after boot, not the kiosk's day."""
    assert kiosk.canceller is not None
    c = kiosk.c
    for text in [c.say("greeting"), *(q.ask for q in c.questions[:lines])]:
        clip = kiosk.voice.render(text)
        for mic, played in room.play_listening(clip.samples, clip.rate):
            kiosk.canceller.process(mic, played)
    room.plays.clear()
    room.played.clear()


def kiosk_in(
    room: Room, engine: Engine | None = None, barge_in: bool = False, **options: Any
) -> VoiceKiosk:
    """The whole voice kiosk with this room for microphone and loudspeaker: the real
    recognizer (pocketsphinx unless given), the real pyttsx3 voice, a fixed date; with
    ``barge_in``, listening while it talks through the real echo canceller.
    ``options`` go to VoiceKiosk (``settings``, ``on_finish``, ...)."""
    c = load()
    if barge_in:
        options["barge_in"] = (room, EchoCanceller())
    return VoiceKiosk(
        c,
        Understander(c),
        engine or PocketsphinxEngine(),
        room,  # type: ignore[arg-type]
        room,  # type: ignore[arg-type]
        Voice(rate=170, spoken=c.spoken),
        today=lambda: date(2026, 11, 18),
        **options,
    )
