"""Acoustic echo cancellation: the microphone with the kiosk's own voice taken out, so
that it can listen while it talks (barge-in) without hearing itself.

An adapter over WebRTC's AEC3 through pywebrtc-audio (chosen by measurement, README
"Echo cancellation": the one binding with wheels for the Pi's aarch64 and Python 3.11,
22-34 dB of echo removed within seconds, delays up to 300 ms found by itself, speech
with no echo left alone). It decides nothing; it only needs, for every microphone block,
exactly what the loudspeaker played over the same stretch of time (silence when
nothing played): that reference lives in memory only.

Not yet in the listen loop: the kiosk is still half-duplex (README, issue 10), and
``kiosk doctor`` says so.
"""

from __future__ import annotations

import numpy as np

from kiosk.recognizer import SAMPLE_RATE


class EchoCancellerUnavailable(RuntimeError):
    """No echo canceller can run here; the kiosk stays half-duplex."""


class EchoCanceller:
    """One per audio thread (AEC3 is not thread-safe); 16 kHz mono 16-bit PCM."""

    def __init__(self) -> None:
        try:
            from pywebrtc_audio import EchoCanceller as Aec3
        except ImportError as err:
            raise EchoCancellerUnavailable(f"pywebrtc-audio is not installed ({err})") from err
        self._aec = Aec3(sample_rate=SAMPLE_RATE, num_channels=1, stream_delay_ms=0)

    def process(self, mic: bytes, played: bytes) -> bytes:
        """The microphone block with the echo of ``played`` (the same length, the same
        stretch of time) removed. About 8 ms later than the input (AEC3's buffering)."""
        near = np.frombuffer(mic, dtype=np.int16)
        far = np.frombuffer(played, dtype=np.int16)
        if far.size != near.size:
            raise ValueError("the reference must cover exactly the microphone block")
        out = self._aec.process(near, far)
        return np.asarray(out, dtype=np.int16).tobytes()


def availability() -> str:
    """What ``kiosk doctor`` says about barge-in."""
    try:
        EchoCanceller()
    except EchoCancellerUnavailable as err:
        return f"half-duplex: no echo canceller ({err})"
    return (
        "half-duplex: the echo canceller (WebRTC AEC3) loads, but listening while "
        "speaking is not built yet; speech over the kiosk's voice is not heard"
    )
