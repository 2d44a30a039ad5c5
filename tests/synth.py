"""Patient voices for the audio tests: real speech synthesizers, several voices, rates
and pitches, with and without background noise. Nothing is mocked: these WAVs go
through the real recognizers."""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Voice:
    engine: str  # "flite" or "espeak-ng"
    name: str
    rate: float = 1.0  # >1 is faster
    pitch: int | None = None
    noise_snr_db: float | None = None

    @property
    def id(self) -> str:
        noise = f"-snr{self.noise_snr_db:g}" if self.noise_snr_db is not None else ""
        pitch = f"-p{self.pitch}" if self.pitch else ""
        return f"{self.engine}-{self.name}-r{self.rate:g}{pitch}{noise}"


# CMU's flite voices are close enough to natural speech for pocketsphinx's acoustic
# model; espeak-ng (the kiosk's own voice, via pyttsx3) is harder for it.
PATIENTS = [
    Voice("flite", "slt"),
    Voice("flite", "rms", rate=0.85),
    Voice("flite", "slt", rate=1.2, pitch=140),
    Voice("flite", "awb", rate=1.15),  # Scottish accent, fast: hard
    Voice("flite", "slt", pitch=210, noise_snr_db=20),
    Voice("flite", "rms", noise_snr_db=15),
]
CLEAN = PATIENTS[:3]
"""Clear speech: every red flag must be heard."""
HARD = [
    *PATIENTS[3:],
    Voice("espeak-ng", "en-us"),
    Voice("espeak-ng", "en-us+m3", rate=0.8),
]
"""Accent, noise, robotic voices: a floor, with the figures in the README."""


def available(engine: str) -> bool:
    return shutil.which(engine) is not None


def say(text: str, voice: Voice, path: Path) -> Path:
    """Synthesize ``text`` into ``path`` (16-bit WAV at the synthesizer's own rate)."""
    if voice.engine == "flite":
        cmd = ["flite", "-voice", voice.name, "--setf", f"duration_stretch={1 / voice.rate:.3f}"]
        if voice.pitch:
            cmd += ["--setf", f"int_f0_target_mean={voice.pitch}"]
        cmd += ["-t", text, "-o", str(path)]
    else:
        cmd = ["espeak-ng", "-v", voice.name, "-s", str(int(160 * voice.rate)), "-w", str(path)]
        if voice.pitch:
            cmd += ["-p", str(voice.pitch)]
        cmd += [text]
    subprocess.run(cmd, check=True, capture_output=True)
    if voice.noise_snr_db is not None:
        add_noise(path, voice.noise_snr_db)
    return path


def add_noise(path: Path, snr_db: float, seed: int = 7) -> None:
    """Mix in white noise at the given signal-to-noise ratio (deterministic)."""
    with wave.open(str(path), "rb") as w:
        params = w.getparams()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    power = np.mean(x**2) if x.size else 0.0
    noise = np.random.default_rng(seed).normal(0, np.sqrt(power / 10 ** (snr_db / 10)), x.size)
    y = np.clip(x + noise, -32768, 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setparams(params)
        w.writeframes(y.tobytes())
