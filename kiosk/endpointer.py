"""Where an utterance starts and ends, from per-frame voice activity and loudness.

Pure: the voice-activity decision comes in as a function (pocketsphinx's ``Vad`` in the
kiosk, a list of booleans in the tests), so the rules below are tested on their own.

The algorithm is pocketsphinx's ``Endpointer`` (a sliding window; speech starts when
most of it is voiced and ends when almost none is), with two changes measured on the
spoken benchmark (bench/spoken_bench.py, README "Endpointing"):

* **A shorter window to start than to end.** A 0.6 s window at 90 % needs over half a
  second of voicing before anything counts, so a short "no" or "yep" never started an
  utterance and the turn was heard as silence. Starting uses 0.3 s (pocketsphinx's own
  default); ending keeps the trailing silence from the configuration.
* **The person, not the room.** A voice-activity detector says "speech" for every voice
  in a pharmacy: with other customers talking behind the patient, the utterance never
  ended and every turn ran to the maximum length (20 s), feeding the grammar 20 s of
  someone else's words. Once the utterance has started, a frame much quieter than the
  utterance's loud frames (``drop_db`` below their 90th percentile) counts as
  background, so the turn ends when the person near the microphone stops — after a
  second without their voice (longer than the 0.6 s of silence that ends it in a quiet
  room: in babble, the pause at a comma would otherwise cut the answer in two).
* **A nearer voice starts again.** The other side of that rule: in a pharmacy the room's
  babble starts an utterance before anyone speaks to the kiosk (idle, or over its own
  voice), and it never ends, so the person's words came out of the recognizer inside
  seconds of decoded babble ("fell butt out my arms have cough"). When voiced frames
  ``drop_db`` louder than everything in the utterance so far arrive (after at least
  ``settled`` seconds of it), someone nearer has begun: what came before was the room,
  and the utterance starts again with them (``restarts`` counts it; the recognizer
  drops what it had decoded).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np


def level_db(frame: bytes) -> float:
    """Mean power of a 16-bit frame in dB (re 1 LSB²)."""
    x = np.frombuffer(frame, dtype=np.int16).astype(np.float64)
    return float(10.0 * np.log10(np.mean(x * x) + 1.0)) if x.size else 0.0


def loudness(pcm: bytes, frame_bytes: int = 640) -> float:
    """How loud an utterance (or a word) was: the 90th percentile of its 20 ms frames'
    levels (its loud syllables, not its pauses), in dB as ``level_db``; 0.0 for none."""
    x = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype=np.int16).astype(np.float64)
    if not x.size:
        return 0.0
    n = frame_bytes // 2
    x = np.pad(x, (0, -x.size % n)).reshape(-1, n)  # the last frame padded with silence
    levels = 10.0 * np.log10(np.mean(x * x, axis=1) + 1.0)
    return float(np.percentile(levels, 90))


NEARER = 4
"""Frames of a start window (0.3 s) far louder than the utterance so far that mean
someone nearer began: a synthesized voice 15 dB over babble had runs of 3-8 such frames
in every syllable; the babble itself none."""
LEAD_FRAMES = 5
"""Frames kept from before the first of them when starting again (the soft onset of
the first word)."""


class Endpointer:
    """Frames in, the person's speech out (delayed by the end window, so an utterance
    starts with the audio just before it was detected)."""

    def __init__(
        self,
        is_speech: Callable[[bytes], bool],
        frame_length: float,
        end_window: float,
        start_window: float = 0.3,
        ratio: float = 0.9,
        drop_db: float | None = 12.0,
        background_window: float = 1.0,
        settled: float = 0.5,
    ) -> None:
        self._is_speech = is_speech
        self.frame_length = frame_length
        end_frames = max(1, int(end_window / frame_length + 0.5))
        start_frames = max(1, min(end_frames, int(start_window / frame_length + 0.5)))
        self._start_frames = start_frames
        self._start = int(ratio * start_frames)
        self._end = int((1.0 - ratio) * end_frames + 0.5)
        self._window: deque[tuple[bool, bytes]] = deque(maxlen=end_frames)
        self._drop_db = drop_db
        # The person's own voice (the level rule) must be absent this long to end it:
        # longer than the detector's window, so the pause at a comma or between
        # "nope." and "yeah, I get out of breath" does not cut the answer in two.
        self._person: deque[bool] = deque(
            maxlen=max(end_frames, int(background_window / frame_length + 0.5))
        )
        self._levels: list[float] = []
        self._settled = max(1, int(settled / frame_length + 0.5))
        self._louder: deque[bool] = deque(maxlen=start_frames)
        self.restarts = 0
        """How many times an utterance started again at a nearer voice."""
        self.in_speech = False

    def _voiced(self, frame: bytes) -> tuple[bool, bool]:
        """Voice activity, and whether it is the person's (not quieter voices behind)."""
        if not self._is_speech(frame):
            return False, False
        if not self.in_speech or self._drop_db is None:
            return True, True
        level = level_db(frame)
        loud = np.percentile(self._levels, 90) if self._levels else level
        if level < loud - self._drop_db:
            return True, False  # background: another voice, further away
        nearer = len(self._levels) >= self._settled and level > loud + self._drop_db
        self._louder.append(nearer)
        if not nearer:  # (kept out of the utterance's levels until it starts again)
            self._levels.append(level)
        return True, True

    def _start_again(self) -> None:
        """Someone nearer began (``NEARER`` of the last start window's frames far louder
        than the utterance so far): keep only the audio from just before them."""
        keep = list(self._window)[-(self._start_frames + LEAD_FRAMES) :]
        self._window.clear()
        self._window.extend(keep)
        self._levels = [level_db(pcm) for s, pcm in keep if s]
        self._louder.clear()
        self.restarts += 1

    def _over(self) -> bool:
        if sum(s for s, _ in self._window) < self._end:
            return True  # silence, as the detector hears it
        return self._drop_db is not None and sum(self._person) < self._end

    def process(self, frame: bytes) -> bytes | None:
        """One frame in; a (delayed) frame of speech out, or None outside speech."""
        voiced, person = self._voiced(frame)
        self._window.append((voiced, bytes(frame)))
        self._person.append(person)
        if self.in_speech and sum(self._louder) >= NEARER:
            self._start_again()
        if self.in_speech and self._over():
            self.in_speech = False
            self._levels = []
            if self._drop_db is None:
                return self._window.popleft()[1]
            # With the level rule the window holds the quiet end of the last word
            # ("wea-k"), which the recognizer needs: it all goes out.
            out = b"".join(pcm for _, pcm in self._window)
            self._window.clear()
            return out
        if not self.in_speech:
            recent = list(self._window)[-self._start_frames :]
            if sum(s for s, _ in recent) > self._start:
                self.in_speech = True
                self._levels = [level_db(pcm) for s, pcm in recent if s]
                self._louder.clear()
        return self._window.popleft()[1] if self.in_speech else None

    def end_stream(self, frame: bytes) -> bytes | None:
        """End of input while in speech: the speech still queued, then ``frame``."""
        if not self.in_speech:
            return None
        self.in_speech = False
        out, all_speech = [], True
        while self._window:
            speech, pcm = self._window.popleft()
            if not speech:
                all_speech = False
                break
            out.append(pcm)
        if all_speech:
            out.append(bytes(frame))
        self._window.clear()
        return b"".join(out)
