"""The real PortAudio path with no sound card: an ALSA configuration whose default
device reads the microphone from a raw file and writes the loudspeaker to a file
(ALSA's ``file`` plugin over a ``null`` slave). Point ALSA_CONFIG_PATH at it.

The devices run at one fixed rate, as a USB microphone does: a ``plug`` in front of each
file fixes the rate, and PortAudio (which probes with resampling switched off) reports
it as the device's default rate. The kiosk must resample to and from 16 kHz itself.
"""

from __future__ import annotations

import errno
import os
import subprocess
import threading
import time
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
    subprocess.run(["sox", "-R", *args], check=True, capture_output=True)  # -R: repeatable dither


def raw_from_wav(
    wav: Path, raw: Path, lead: float = 1.0, tail: float = 3.0, rate: int = RATE
) -> Path:
    """The WAV as raw device audio, with silence around it."""
    _sox(str(wav), *raw_format(rate), str(raw), "pad", str(lead), str(tail))
    return raw


def wav_from_raw(raw: Path, wav: Path, rate: int = RATE) -> Path:
    _sox(*raw_format(rate), str(raw), str(wav))
    return wav


class FifoMicrophone:
    """A microphone that fails on cue: the ALSA ``file`` plugin reads the microphone
    from a named pipe that this feeds from a thread.

    It delivers ``audio`` (raw device audio), then, as ``then`` says:

    * ``"stall"``: keeps the pipe open and delivers nothing more, like a wedged USB
      microphone (reads block in the driver);
    * ``"unplug"``: removes the pipe once the kiosk closes the stream, so the next open
      fails like an unplugged device;
    * ``"quiet"``: silence from then on, across listen turns, like a room gone quiet.

    ``pace`` delivers it at the device's real rate, as a microphone does (the ``null``
    slave under the file plugin would let the kiosk read a whole recording at once);
    ``rate`` is the device's.

    Each time the kiosk opens the microphone the pipe is reopened, so delivery carries on
    across listen turns where it left off.
    """

    CHUNK = 4410 * 2

    def __init__(
        self, path: Path, audio: bytes, then: str, pace: bool = False, rate: int = RATE
    ) -> None:
        os.mkfifo(path)
        self.path, self.audio, self.then = path, audio, then
        self.pace = self.CHUNK / 2 / rate if pace else 0.0
        self.opens = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)
        self._thread.start()

    def _open(self) -> int | None:
        while not self._stop.is_set():
            try:  # non-blocking, polled: a blocking open could never be cancelled
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as err:
                if err.errno != errno.ENXIO:  # ENXIO: nobody is reading yet
                    raise
                time.sleep(0.01)
                continue
            os.set_blocking(fd, True)
            self.opens += 1
            return fd
        return None

    def _feed(self) -> None:
        fd = self._open()
        sent = 0
        clock = time.monotonic()
        while fd is not None and not self._stop.is_set():
            if sent >= len(self.audio) and self.then != "quiet":
                break
            chunk = self.audio[sent : sent + self.CHUNK] or bytes(self.CHUNK)
            try:
                done = os.write(fd, chunk)
                sent += done if sent < len(self.audio) else 0
            except BrokenPipeError:  # the kiosk closed the stream: wait for the next open
                os.close(fd)
                fd = self._open()
                continue
            if self.pace:
                clock += self.pace * done / self.CHUNK
                time.sleep(max(0.0, clock - time.monotonic()))
        if fd is None:
            return
        if self.then == "stall":
            self._stop.wait()
        else:
            silence = bytes(self.CHUNK)
            try:
                while not self._stop.is_set():
                    os.write(fd, silence)
            except BrokenPipeError:
                self.path.unlink()
        os.close(fd)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
