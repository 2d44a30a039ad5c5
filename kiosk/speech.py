"""Speaking: pyttsx3 (espeak-ng on Linux) renders each sentence to audio, which the
kiosk plays through its own output device. pyttsx3 is never asked to play anything
itself: its Linux driver shells out to ``aplay`` on the default device and cannot say
when playback ended, and the kiosk must know exactly when it stopped talking.

Fixed prompts are rendered once and cached, so no question waits on synthesis.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import queue
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SLOWER_STEP = 0.8
SYNTH_ATTEMPTS = 3
NOW, LATER = 0, 1
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
    """Text in, audio out, cached by (text, rate, volume).

    pyttsx3 must stay on the thread that created it, so one worker thread owns it and
    renders in priority order: a sentence the kiosk is about to say goes before the
    background pre-rendering of prompts, so start-up does not wait for the cache.
    """

    def __init__(
        self, rate: int = 150, volume: float = 1.0, spoken: Callable[[str], str] = str
    ) -> None:
        self.rate = rate
        self.volume = volume
        self.spoken = spoken
        self._cache: dict[tuple[str, int, float], Clip] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="kiosk-tts-")
        self._count = 0
        self._jobs: queue.PriorityQueue[tuple[int, int, str, int, Future[Clip]]] = (
            queue.PriorityQueue()
        )
        self._seq = itertools.count()
        started: Future[None] = Future()
        self._worker = threading.Thread(target=self._work, args=(started,), name="tts", daemon=True)
        self._worker.start()
        started.result()  # raises SpeechError if pyttsx3 could not start

    def slower(self) -> None:
        self.rate = max(MIN_RATE, int(self.rate * SLOWER_STEP))

    def render(self, text: str) -> Clip:
        """The clip for ``text``, rendering it now (ahead of any pre-rendering)."""
        return self._submit(text, NOW).result()

    def prerender(self, texts: list[str]) -> None:
        """Queue ``texts`` for rendering in the background; returns at once."""
        for text in texts:
            self._submit(text, LATER)

    def close(self) -> None:
        """Drop pending pre-rendering and stop the worker (quietly, before exit)."""
        while True:
            try:
                *_, future = self._jobs.get_nowait()
                future.cancel()
            except queue.Empty:
                break
        self._jobs.put((LATER + 1, next(self._seq), "", 0, Future()))
        self._worker.join(timeout=5)

    def _submit(self, text: str, priority: int) -> Future[Clip]:
        key = (text, self.rate, self.volume)
        if key in self._cache:
            done: Future[Clip] = Future()
            done.set_result(self._cache[key])
            return done
        future: Future[Clip] = Future()
        self._jobs.put((priority, next(self._seq), text, self.rate, future))
        return future

    def _work(self, started: Future[None]) -> None:
        try:
            import pyttsx3

            self._engine = pyttsx3.init()
        except Exception as err:  # the driver raises many kinds of errors
            started.set_exception(
                SpeechError(f"text-to-speech did not start ({err}); is espeak-ng installed?")
            )
            return
        started.set_result(None)
        while True:
            priority, _, text, rate, future = self._jobs.get()
            if priority > LATER:
                return
            if not future.set_running_or_notify_cancel():
                continue
            key = (text, rate, self.volume)
            try:
                clip = self._cache.get(key) or self._synthesize_retrying(text, rate)
                self._cache[key] = clip
                future.set_result(clip)
            except Exception as err:
                future.set_exception(err)

    def _synthesize_retrying(self, text: str, rate: int) -> Clip:
        """pyttsx3's espeak loop now and then ends before the audio is delivered
        (pyttsx3 #219); a second attempt has always worked."""
        for attempt in range(SYNTH_ATTEMPTS):
            try:
                return self._synthesize(text, rate)
            except SpeechError:
                if attempt == SYNTH_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _synthesize(self, text: str, rate: int) -> Clip:
        """On the worker thread only."""
        self._count += 1
        path = Path(self._tmp.name) / f"say{self._count}.wav"
        self._engine.setProperty("rate", rate)
        # The espeak driver prints "Audio saved to ..." on stdout, which carries the
        # JSON protocol in some front ends: keep it off. (Process-wide, but nothing
        # else prints through sys.stdout: the front ends hold their own stream.)
        with contextlib.redirect_stdout(io.StringIO()):
            self._engine.save_to_file(self.spoken(text), str(path))
            self._engine.runAndWait()
            # pyttsx3's espeak driver can return before the file is written
            # (pyttsx3 #219); wait for it, so the next sentence cannot take over.
            # Synthesis runs at tens of times real time: allow generously for that.
            raw, sample_rate = _wait_for_wav(path, timeout=2.0 + len(text) / 40)
        path.unlink(missing_ok=True)
        if raw is None:
            raise SpeechError(f"text-to-speech produced no audio for {text[:40]!r}")
        samples = np.frombuffer(raw, dtype="<i2")
        if self.volume != 1.0:
            samples = np.clip(samples * self.volume, -32768, 32767).astype(np.int16)
        return Clip(samples.copy(), sample_rate)


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
