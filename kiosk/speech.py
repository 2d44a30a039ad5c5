"""Speaking: pyttsx3 (espeak-ng on Linux) renders each sentence to audio, which the
kiosk plays through its own output device. pyttsx3 is never asked to play anything
itself: its Linux driver shells out to ``aplay`` on the default device and cannot say
when playback ended, and the kiosk must know exactly when it stopped talking.

Fixed prompts are rendered once, in the background, and cached, so no question waits
on synthesis. Each sentence is rendered in its own short-lived process: pyttsx3's espeak
driver is asynchronous and, in a long-lived process, can deliver one sentence's audio
as another's (see kiosk/tts_process.py).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import queue
import subprocess
import sys
import threading
import wave
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass

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
    """Text in, audio out. Only the fixed sentences (those pre-rendered) are cached, by
    (text, rate): a person's read-back or guidance is rendered when needed and dropped,
    so the cache does not grow with every session.

    Renders through the process's one text-to-speech worker (see ``_Worker``), in
    priority order: a sentence about to be said goes before background pre-rendering.
    """

    def __init__(
        self, rate: int = 150, volume: float = 1.0, spoken: Callable[[str], str] = str
    ) -> None:
        self.rate = rate
        self.volume = volume
        self.spoken = spoken
        self._cache: dict[tuple[str, int], Clip] = {}
        self._fixed: set[str] = set()
        self._pending: list[tuple[Future[Clip], Future[Clip]]] = []
        """(this voice's future, the worker's job) for each background rendering."""
        self._worker = _Worker.get()

    def slower(self) -> None:
        self.rate = max(MIN_RATE, int(self.rate * SLOWER_STEP))

    def render(self, text: str) -> Clip:
        """The clip for ``text``, rendering it now (ahead of any pre-rendering)."""
        return self._submit(text, NOW)[0].result()

    def prerender(self, texts: list[str]) -> None:
        """Queue ``texts`` for rendering in the background; returns at once. These are
        the fixed sentences: they stay cached."""
        self._fixed.update(texts)
        for text in texts:
            self._pending.append(self._submit(text, LATER))

    def close(self) -> None:
        """Drop this voice's pending pre-rendering (so nothing is mid-synthesis at exit).
        The worker's queued jobs are cancelled too, or it would go on rendering them."""
        for future, job in self._pending:
            job.cancel()
            future.cancel()
        for _, job in self._pending:
            if not job.cancelled():
                job.exception()  # wait for the one in progress
        self._pending.clear()

    def _submit(self, text: str, priority: int) -> tuple[Future[Clip], Future[Clip]]:
        key = (text, self.rate)
        future: Future[Clip] = Future()
        if key in self._cache:
            future.set_result(self._cache[key])
            return future, future
        job = self._worker.submit(self.spoken(text), self.rate, priority)
        job.add_done_callback(lambda done: self._finish(key, done, future))
        return future, job

    def _finish(self, key: tuple[str, int], done: Future[Clip], future: Future[Clip]) -> None:
        if done.cancelled():
            future.cancel()
            return
        # close() may cancel ``future`` at any moment from another thread.
        with contextlib.suppress(InvalidStateError):
            if done.exception() is not None:
                future.set_exception(done.exception())  # type: ignore[arg-type]
                return
            clip = done.result()
            if self.volume != 1.0:
                samples = np.clip(clip.samples * self.volume, -32768, 32767).astype(np.int16)
                clip = Clip(samples, clip.rate)
            if key[0] in self._fixed:
                self._cache[key] = clip
            future.set_result(clip)


class _Worker:
    """The one thread that renders, one sentence at a time, most urgent first."""

    _instance: _Worker | None = None
    _guard = threading.Lock()

    @classmethod
    def get(cls) -> _Worker:
        with cls._guard:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self) -> None:
        self._jobs: queue.PriorityQueue[tuple[int, int, str, int, Future[Clip]]] = (
            queue.PriorityQueue()
        )
        self._seq = itertools.count()
        started: Future[None] = Future()
        thread = threading.Thread(target=self._work, args=(started,), name="tts", daemon=True)
        thread.start()
        try:
            started.result()
        except SpeechError:
            _Worker._instance = None
            raise

    def submit(self, text: str, rate: int, priority: int) -> Future[Clip]:
        future: Future[Clip] = Future()
        self._jobs.put((priority, next(self._seq), text, rate, future))
        return future

    def _work(self, started: Future[None]) -> None:
        try:
            self._synthesize("ok", 150)  # fail at start-up, not mid-conversation
        except SpeechError as err:
            started.set_exception(err)
            return
        started.set_result(None)
        while True:
            _, _, text, rate, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._synthesize_retrying(text, rate))
            except Exception as err:
                future.set_exception(err)

    def _synthesize_retrying(self, text: str, rate: int) -> Clip:
        for attempt in range(SYNTH_ATTEMPTS):
            try:
                return self._synthesize(text, rate)
            except SpeechError:
                if attempt == SYNTH_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _synthesize(text: str, rate: int) -> Clip:
        """One pyttsx3 process per sentence (see kiosk/tts_process.py for why)."""
        try:
            done = subprocess.run(
                [sys.executable, "-m", "kiosk.tts_process", str(rate)],
                input=text.encode(),
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SpeechError(f"text-to-speech did not run: {err}") from err
        if done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            raise SpeechError(f"text-to-speech failed ({why[0]}); is espeak-ng installed?")
        try:
            with wave.open(io.BytesIO(done.stdout), "rb") as w:
                return Clip(
                    np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy(),
                    w.getframerate(),
                )
        except (EOFError, wave.Error) as err:
            raise SpeechError(f"text-to-speech gave unreadable audio: {err}") from err
