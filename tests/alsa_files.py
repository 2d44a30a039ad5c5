"""The real PortAudio path with no sound card: an ALSA configuration whose default
device reads the microphone from a raw file and writes the loudspeaker to a file
(ALSA's ``file`` plugin over a ``null`` slave). Point ALSA_CONFIG_PATH at it.

The devices run at one fixed rate, as a USB microphone does: a ``plug`` in front of each
file fixes the rate, and PortAudio (which probes with resampling switched off) reports
it as the device's default rate. The kiosk must resample to and from 16 kHz itself.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

RATE = 44_100
"""The devices' rate unless a test asks for another (48 kHz is the other common one)."""

SYSTEM_CONF = Path("/usr/share/alsa/alsa.conf")


def write_config(folder: Path, mic_raw: Path, speaker_raw: Path, rate: int = RATE) -> Path:
    conf = folder / "asound.conf"
    ours = f"""
pcm.!default {{
    type asym
    playback.pcm "kiosk_speaker"
    capture.pcm "kiosk_mic"
}}
pcm.kiosk_mic {{
    type plug
    slave {{ pcm "kiosk_mic_file" rate {rate} }}
}}
pcm.kiosk_mic_file {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{mic_raw}"
    format "raw"
}}
pcm.kiosk_speaker {{
    type plug
    slave {{ pcm "kiosk_speaker_file" rate {rate} }}
}}
pcm.kiosk_speaker_file {{
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


def raw_format(rate: int = RATE) -> list[str]:
    """sox's description of the devices' raw format: S16_LE mono at ``rate``."""
    return ["-r", str(rate), "-c", "1", "-b", "16", "-e", "signed", "-t", "raw"]


def _sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


def raw_from_wav(
    wav: Path, raw: Path, lead: float = 1.0, tail: float = 3.0, rate: int = RATE
) -> Path:
    """The WAV as raw device audio, with silence around it."""
    _sox(str(wav), *raw_format(rate), str(raw), "pad", str(lead), str(tail))
    return raw


def wav_from_raw(raw: Path, wav: Path, rate: int = RATE) -> Path:
    _sox(*raw_format(rate), str(raw), str(wav))
    return wav
