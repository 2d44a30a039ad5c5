"""Audio in and out: WAV files and (later) sound devices. Everything leaves here as
16 kHz mono 16-bit PCM, whatever rate and channel count it came in with."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import soxr

from kiosk.recognizer import SAMPLE_RATE


class AudioFileError(ValueError):
    """A file that is not a readable PCM WAV."""


def to_recognizer_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float or int samples at ``rate`` -> int16 at 16 kHz (soxr resampling)."""
    mono = samples.astype(np.float32)
    if mono.ndim == 2:
        mono = mono.mean(axis=1)
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE)
    return np.clip(np.round(mono), -32768, 32767).astype(np.int16)


def read_wav(path: Path) -> bytes:
    """A WAV file (any rate, mono or stereo, 8/16/32-bit PCM) as 16 kHz mono PCM."""
    try:
        with wave.open(str(path), "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            raw = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error) as err:
        raise AudioFileError(f"cannot read {path} as a WAV file: {err}") from err
    if width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32)
    elif width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128) * 256
    elif width == 4:
        samples = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 65536
    else:
        raise AudioFileError(f"{path}: {width * 8}-bit samples are not supported")
    samples = samples.reshape(-1, channels)
    return to_recognizer_rate(samples, rate).tobytes()
