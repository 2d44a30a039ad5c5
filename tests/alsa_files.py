"""The real PortAudio path with no sound card: an ALSA configuration whose default
device reads the microphone from a raw file and writes the loudspeaker to a file
(ALSA's ``file`` plugin over a ``null`` slave). Point ALSA_CONFIG_PATH at it."""

from __future__ import annotations

import subprocess
from pathlib import Path

RATE = 44_100  # the default device's rate: the kiosk must resample to 16 kHz

SYSTEM_CONF = Path("/usr/share/alsa/alsa.conf")


def write_config(folder: Path, mic_raw: Path, speaker_raw: Path) -> Path:
    conf = folder / "asound.conf"
    ours = f"""
pcm.!default {{
    type asym
    playback.pcm "kiosk_speaker"
    capture.pcm "kiosk_mic"
}}
pcm.kiosk_mic {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{mic_raw}"
    format "raw"
}}
pcm.kiosk_speaker {{
    type file
    slave.pcm "null"
    # Through a pipe, so every stream the kiosk opens appends: the file holds all it
    # said (the plugin would otherwise overwrite the file on each open).
    file "| cat >> {speaker_raw}"
    format "raw"
}}
"""
    # ALSA_CONFIG_PATH replaces the system configuration, so it must come first.
    conf.write_text(SYSTEM_CONF.read_text() + ours)
    return conf


RAW = ["-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed", "-t", "raw"]
"""sox's description of the devices' raw format: S16_LE mono at RATE."""


def _sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


def raw_from_wav(wav: Path, raw: Path, lead: float = 1.0, tail: float = 3.0) -> Path:
    """The WAV as raw device audio, with silence around it."""
    _sox(str(wav), *RAW, str(raw), "pad", str(lead), str(tail))
    return raw


def wav_from_raw(raw: Path, wav: Path) -> Path:
    _sox(*RAW, str(raw), str(wav))
    return wav
