"""Speaking: pyttsx3 (espeak-ng on Linux) renders each sentence to audio, which the
kiosk plays through its own output device. pyttsx3 is never asked to play anything
itself: its Linux driver shells out to ``aplay`` on the default device and cannot say
when playback ended, and the kiosk must know exactly when it stopped talking.

Fixed prompts are rendered once and cached, so no question waits on synthesis.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SLOWER_STEP = 0.8
SYNTH_TIMEOUT = 10.0
MIN_RATE = 90


@dataclass(frozen=True)
class Clip:
    """Rendered speech: mono int16 samples at ``rate`` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


class SpeechError(RuntimeError):
    """Text-to-speech could not be loaded or failed."""


class Voice:
    """Text in, audio out, cached by (text, rate, volume)."""

    def __init__(
        self, rate: int = 150, volume: float = 1.0, spoken: Callable[[str], str] = str
    ) -> None:
        try:
            import pyttsx3

            self._engine = pyttsx3.init()
        except Exception as err:  # the driver raises many kinds of errors
            raise SpeechError(
                f"text-to-speech did not start ({err}); is espeak-ng installed?"
            ) from err
        self.rate = rate
        self.volume = volume
        self.spoken = spoken
        self._cache: dict[tuple[str, int, float], Clip] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="kiosk-tts-")
        self._count = 0
        self._lock = threading.Lock()  # pyttsx3 engines are not thread-safe

    def slower(self) -> None:
        self.rate = max(MIN_RATE, int(self.rate * SLOWER_STEP))

    def render(self, text: str) -> Clip:
        key = (text, self.rate, self.volume)
        clip = self._cache.get(key)
        if clip is None:
            clip = self._synthesize(text)
            self._cache[key] = clip
        return clip

    def prerender(self, texts: list[str]) -> None:
        for text in texts:
            self.render(text)

    def _synthesize(self, text: str) -> Clip:
        with self._lock:
            self._count += 1
            path = Path(self._tmp.name) / f"say{self._count}.wav"
            self._engine.setProperty("rate", self.rate)
            # The espeak driver prints "Audio saved to ..." on stdout, which carries
            # the JSON protocol in some front ends: keep it off.
            with contextlib.redirect_stdout(io.StringIO()):
                self._engine.save_to_file(self.spoken(text), str(path))
                self._engine.runAndWait()
                # pyttsx3's espeak driver can return before the file is written
                # (pyttsx3 #219); wait for it, so the next sentence cannot take over.
                raw, rate = _wait_for_wav(path, timeout=SYNTH_TIMEOUT)
            path.unlink(missing_ok=True)
        if raw is None:
            raise SpeechError(f"text-to-speech produced no audio for {text[:40]!r}")
        samples = np.frombuffer(raw, dtype="<i2")
        if self.volume != 1.0:
            samples = np.clip(samples * self.volume, -32768, 32767).astype(np.int16)
        return Clip(samples.copy(), rate)


def _wait_for_wav(path: Path, timeout: float) -> tuple[bytes | None, int]:
    """The frames of a WAV file once it is completely written (its header counts all
    the data), or None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            size = path.stat().st_size
            with wave.open(str(path), "rb") as w:
                frames = w.getnframes()
                if frames and size >= 44 + frames * w.getsampwidth():
                    return w.readframes(frames), w.getframerate()
        except (OSError, EOFError, wave.Error):
            pass
        time.sleep(0.01)
    return None, 0
