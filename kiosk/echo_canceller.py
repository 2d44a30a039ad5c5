"""Acoustic echo cancellation: the microphone with the kiosk's own voice taken out, so
that it can listen while it talks (barge-in) without hearing itself.

An adapter over SpeexDSP's echo canceller (libspeexdsp, Debian's ``libspeexdsp1``),
through ctypes: three C calls whose API has not changed since 2008, so no binding
package is worth depending on (the ones on PyPI are unmaintained or need a compiler).
Chosen by measurement against WebRTC's AEC3 (README "Barge-in"): AEC3 takes
out more echo, but its suppressor also takes out the person talking over the kiosk, so
the recognizer heard far fewer of the red flags said over its voice; Speex's linear
filter leaves the person's words whole.

It decides nothing; it only needs, for every microphone block, exactly what the
loudspeaker played over the same stretch of time (silence when nothing played): that
reference lives in memory only. The voice loop (kiosk/voice.py ``say_listening``) runs
every block through it while the kiosk speaks; kiosk/barge_in.py decides what, of what
is left, cuts the kiosk short.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

from kiosk.recognizer import SAMPLE_RATE

FRAME = SAMPLE_RATE // 50
"""Samples per frame the canceller works on (20 ms)."""
TAIL = 0.3
"""Seconds of echo the filter models: the delay from the loudspeaker back into the
microphone (the sound devices' buffers plus the air) and the room's reverberation must
fit in it. Longer converges more slowly."""
_SET_SAMPLING_RATE = 24  # speex_echo.h
# speex_preprocess.h
_SET_DENOISE, _SET_ECHO_SUPPRESS, _SET_ECHO_SUPPRESS_ACTIVE, _SET_ECHO_STATE = 0, 20, 22, 24


SUPPRESS = (-40, -15)
"""The residual echo suppressor (Speex's preprocessor, fed the canceller's echo
estimate): dB taken off what is left of the echo when nobody else is talking, and when
someone is (Speex's own defaults). The linear filter alone leaves enough of the kiosk's
voice, in its first seconds, for the recognizer to make words of it ("it is all")."""


DENOISE = 1
"""Speex applies its residual echo suppression through its noise suppressor's gains:
off, the suppressor did nothing (echo taken out 25-30 dB either way); on, 35-50 dB, and
the red flags said over the kiosk's voice were heard as well as before (README)."""
SETTLED_DB = 10.0
"""Echo taken out (the microphone's level over the canceller's output while the kiosk
talks) at which the canceller has learnt the room. Before that, what it leaves of the
kiosk's voice can come out as words, so the voice loop does not listen over it yet. In
a quiet room it gets far past this within seconds (25-45 dB); in a pharmacy's noise,
which it cannot take out, the measure stays near 10-16 dB (noise 15 dB under speech:
at 20 dB it never settled, and the kiosk never listened over its voice)."""
QUIET_DB = 30.0
"""Or: what comes out while the kiosk talks is this far under what it plays. A
microphone that hardly hears the loudspeaker (a headset, a long way off) has little
echo to take out, and is settled from the start."""
SETTLE_WINDOW = 2.0
"""Seconds of the kiosk talking over which that is judged."""


class EchoCancellerUnavailable(RuntimeError):
    """No echo canceller can run here; the kiosk stays half-duplex."""


def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as err:
        raise EchoCancellerUnavailable(
            f"libspeexdsp is not installed ({err}); apt-get install libspeexdsp1"
        ) from err
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_cancellation.restype = None
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, *[ctypes.c_char_p] * 3]
    lib.speex_echo_state_destroy.restype = None
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_echo_ctl.restype = ctypes.c_int
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_preprocess_state_init.restype = ctypes.c_void_p
    lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_preprocess_ctl.restype = ctypes.c_int
    lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_preprocess_run.restype = ctypes.c_int
    lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.speex_preprocess_state_destroy.restype = None
    lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
    return lib


class EchoCanceller:
    """One per audio stream (its filter is the room's echo path, learnt as the kiosk
    talks); 16 kHz mono 16-bit PCM."""

    def __init__(self, tail: float = TAIL, suppress: tuple[int, int] | None = SUPPRESS) -> None:
        lib = self._lib = _library()
        self._state = lib.speex_echo_state_init(FRAME, int(SAMPLE_RATE * tail))
        self._post = lib.speex_preprocess_state_init(FRAME, SAMPLE_RATE) if suppress else None
        if not self._state or (suppress and not self._post):
            raise EchoCancellerUnavailable("libspeexdsp could not make an echo canceller")
        rate = ctypes.c_int(SAMPLE_RATE)
        lib.speex_echo_ctl(self._state, _SET_SAMPLING_RATE, ctypes.byref(rate))
        if suppress:
            for request, value in [
                (_SET_DENOISE, DENOISE),
                (_SET_ECHO_SUPPRESS, suppress[0]),
                (_SET_ECHO_SUPPRESS_ACTIVE, suppress[1]),
            ]:
                lib.speex_preprocess_ctl(self._post, request, ctypes.byref(ctypes.c_int(value)))
            lib.speex_preprocess_ctl(self._post, _SET_ECHO_STATE, self._state)
        self._mic = bytearray()
        self._played = bytearray()
        self._out = ctypes.create_string_buffer(FRAME * 2)
        self.settled = False
        """Has it learnt the room? Once it has, it stays so: a person talking over the
        kiosk (the very moment to listen) raises the output as echo left would."""
        self._window: list[tuple[float, float, float]] = []

    def process(self, mic: bytes, played: bytes) -> bytes:
        """The microphone with the echo of ``played`` (the same stretch of time: the same
        length) taken out. Works in 20 ms frames: what is left of a block over whole
        frames comes out with the next one."""
        if len(mic) != len(played):
            raise ValueError("the reference must cover exactly the microphone block")
        self._mic += mic
        self._played += played
        size = FRAME * 2
        out = bytearray()
        while len(self._mic) >= size:
            near, far = bytes(self._mic[:size]), bytes(self._played[:size])
            del self._mic[:size], self._played[:size]
            self._lib.speex_echo_cancellation(self._state, near, far, self._out)
            if self._post:
                self._lib.speex_preprocess_run(self._post, self._out)
            out += self._out.raw
            if not self.settled:
                self._judge(near, far, self._out.raw)
        return bytes(out)

    def _judge(self, near: bytes, far: bytes, out: bytes) -> None:
        """Keep count of the echo taken out while the kiosk talks (see ``settled``)."""
        played = _power(far)
        if played < PLAYING:
            return
        self._window.append((_power(near), _power(out), played))
        if len(self._window) * FRAME >= SETTLE_WINDOW * SAMPLE_RATE:
            mic, left, said = (sum(p[i] for p in self._window) + 1.0 for i in range(3))
            taken_out = 10 * math.log10(mic / left)
            under = 10 * math.log10(said / left)  # what is left, under what was played
            self.settled = taken_out >= SETTLED_DB or under >= QUIET_DB
            self._window.clear()


PLAYING = 100.0**2
"""Mean power of a frame in which the kiosk is talking (RMS 100 of 32768)."""


def _power(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    return float(np.mean(x * x))


def availability() -> str:
    """Why the kiosk cannot listen while it speaks, or "" if it can (the canceller
    loads)."""
    try:
        EchoCanceller()
    except EchoCancellerUnavailable as err:
        return f"no echo canceller ({err})"
    return ""
