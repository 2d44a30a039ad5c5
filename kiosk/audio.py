"""Audio in and out: WAV files and sound devices. Adapters only. Everything recorded
leaves here as 16 kHz mono 16-bit PCM, whatever rate and channel count it came in with;
nothing recorded is ever written to disk."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import wave
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

from kiosk.recognizer import SAMPLE_RATE


class AudioFileError(ValueError):
    """A file that is not a readable PCM WAV."""


def clip16(x: np.ndarray) -> np.ndarray:
    """Float samples as 16-bit PCM, clipped at full scale as a sound card would."""
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def to_recognizer_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float or int samples at ``rate`` -> int16 at 16 kHz (soxr resampling)."""
    mono = samples.astype(np.float32)
    if mono.ndim == 2:
        mono = mono.mean(axis=1)
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE)
    return clip16(mono)


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


# --- sound devices (sounddevice / PortAudio) ----------------------------------------------


log = logging.getLogger(__name__)


class DeviceError(RuntimeError):
    """A sound device is missing, or failed while in use."""


class DuplexUnavailable(DeviceError):
    """The devices cannot play and record in one stream: the kiosk stays half-duplex."""


CLOSE_TIMEOUT = 2.0
_stuck = threading.Event()


def stuck() -> bool:
    """True once a stream could not be closed. PortAudio then cannot shut down either
    (its exit handler would block too), so the process must leave with ``os._exit``."""
    return _stuck.is_set()


def _refuse_if_stuck() -> None:
    if stuck():
        raise DeviceError("the sound devices are stuck (a stream could not be closed)")


def _close(stream: object, what: str) -> None:
    """Close ``stream``, giving up after CLOSE_TIMEOUT: when a driver blocks inside a read,
    PortAudio's stop and close wait for it forever (found with a wedged test microphone).
    """

    def close() -> None:
        with contextlib.suppress(Exception):
            stream.close()  # type: ignore[attr-defined]  # aborts an active stream

    closing = threading.Thread(target=close, name=f"close {what}", daemon=True)
    closing.start()
    closing.join(CLOSE_TIMEOUT)
    if closing.is_alive():
        _stuck.set()
        log.error("the %s is stuck: its stream could not be closed", what)


def _sd():  # type: ignore[no-untyped-def]
    """sounddevice, imported late: it needs PortAudio, which text front ends do not."""
    try:
        import sounddevice
    except OSError as err:  # PortAudio library missing
        raise DeviceError(f"PortAudio is not available ({err}); install libportaudio2") from err
    return sounddevice


def list_devices() -> list[dict[str, object]]:
    sd = _sd()
    out = []
    for index, dev in enumerate(sd.query_devices()):
        out.append(
            {
                "index": index,
                "name": dev["name"],
                "inputs": dev["max_input_channels"],
                "outputs": dev["max_output_channels"],
                "rate": dev["default_samplerate"],
            }
        )
    return out


def find_device(spec: str | int | None, kind: str) -> int | None:
    """A device by index, or by (part of) its name; None is the system default."""
    if spec is None or spec == "":
        return None
    sd = _sd()
    if isinstance(spec, int) or str(spec).isdigit():
        return int(spec)
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    for index, dev in enumerate(sd.query_devices()):
        if str(spec).lower() in dev["name"].lower() and dev[key] > 0:
            return index
    raise DeviceError(f"no {kind} device named like {spec!r}; see 'kiosk devices'")


@dataclass
class Microphone:
    """Capture at the device's own rate, delivered as 16 kHz mono PCM blocks.

    The stream is open only while listening: the kiosk is half-duplex, so what the
    microphone picks up while the kiosk talks is never heard as an answer.
    """

    device: int | None = None
    block_seconds: float = 0.1
    overflows: int = 0
    _queue: queue.Queue[bytes] = field(default_factory=lambda: queue.Queue(maxsize=600))

    def blocks(self, stop_after: float) -> Iterator[bytes]:
        """Yield 16 kHz PCM blocks until the caller stops or ``stop_after`` seconds."""
        _refuse_if_stuck()
        sd = _sd()
        try:
            rate = int(sd.query_devices(self.device, "input")["default_samplerate"])
        except Exception as err:  # PortAudioError, or ValueError for a bad index
            raise DeviceError(f"no microphone ({err})") from err
        resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="int16")
        self._queue = queue.Queue(maxsize=600)

        def callback(indata, frames, when, status) -> None:  # type: ignore[no-untyped-def]
            if status.input_overflow:
                self.overflows += 1
            try:
                self._queue.put_nowait(bytes(indata))
            except queue.Full:
                self.overflows += 1

        try:
            stream = sd.RawInputStream(
                samplerate=rate,
                channels=1,
                dtype="int16",
                device=self.device,
                blocksize=int(rate * self.block_seconds),
                callback=callback,
            )
        except Exception as err:
            raise DeviceError(f"cannot open the microphone: {err}") from err
        started = time.monotonic()
        overflows_before = self.overflows
        try:
            stream.start()
        except Exception as err:
            _close(stream, "microphone")
            raise DeviceError(f"cannot start the microphone: {err}") from err
        try:
            while time.monotonic() - started < stop_after:
                try:
                    raw = self._queue.get(timeout=2.0)
                except queue.Empty:
                    raise DeviceError("the microphone delivered no audio for 2 s") from None
                pcm = resampler.resample_chunk(np.frombuffer(raw, dtype=np.int16))
                if pcm.size:
                    yield pcm.astype(np.int16).tobytes()
        finally:
            _close(stream, "microphone")
        if self.overflows > overflows_before:
            log.warning("microphone overflowed %d times", self.overflows - overflows_before)


@dataclass
class Loudspeaker:
    """Plays clips and returns only when playback has physically finished."""

    device: int | None = None
    margin: float = 0.25
    """Extra quiet time after playback before the microphone opens (room echo)."""

    grace: float = 3.0
    """Seconds beyond the clip's length before a playback that has not finished counts
    as a stuck loudspeaker."""

    def play(self, samples: np.ndarray, rate: int) -> None:
        _refuse_if_stuck()
        sd = _sd()
        try:
            out_rate = int(sd.query_devices(self.device, "output")["default_samplerate"])
        except Exception as err:
            raise DeviceError(f"no loudspeaker ({err})") from err
        data = samples.astype(np.float32)
        if out_rate != rate:
            data = soxr.resample(data, rate, out_rate)
        data = clip16(data)
        failed: list[Exception] = []

        def playback() -> None:
            try:
                sd.play(data, samplerate=out_rate, device=self.device, blocking=True)
            except Exception as err:
                failed.append(err)

        # In a thread with a time limit: a wedged output device blocks PortAudio's open or
        # write forever, and the kiosk must say so and exit rather than hang.
        worker = threading.Thread(target=playback, name="loudspeaker", daemon=True)
        worker.start()
        worker.join(len(data) / out_rate + self.grace)
        if worker.is_alive():
            _stuck.set()
            raise DeviceError("the loudspeaker stopped responding")
        if failed:
            raise DeviceError(f"the loudspeaker failed: {failed[0]}") from failed[0]
        time.sleep(self.margin)


@dataclass
class Duplex:
    """The loudspeaker playing while the microphone listens, for barge-in: one
    full-duplex stream, so each microphone block comes with exactly what was written to
    the loudspeaker in the same callback, the echo canceller's reference (memory only).
    The canceller finds the delay between the two (the devices' buffers and the air)
    itself. Both devices run at the microphone's own rate; blocks leave at 16 kHz."""

    input_device: int | None = None
    output_device: int | None = None
    block_seconds: float = 0.1
    margin: float = 0.25
    """Listening goes on this long after the clip, as the half-duplex loudspeaker waits."""
    grace: float = 3.0
    """Seconds for the devices to open before they count as stuck."""
    overflows: int = 0

    def play_listening(
        self, samples: np.ndarray, rate: int
    ) -> Generator[tuple[bytes, bytes], None, None]:
        """Play ``samples``, yielding (microphone, played) 16 kHz blocks as they come; closing
        the generator stops playback at once (the person talked over the kiosk)."""
        _refuse_if_stuck()
        sd = _sd()
        try:
            dev_rate = int(sd.query_devices(self.input_device, "input")["default_samplerate"])
            # only looked up here: a wedged device blocks when opened (_open has a limit)
            sd.query_devices(self.output_device, "output")
        except Exception as err:
            raise DuplexUnavailable(f"cannot play and listen at once ({err})") from err
        data = samples.astype(np.float32)
        if rate != dev_rate:
            data = soxr.resample(data, rate, dev_rate)
        out = clip16(data)
        out = np.concatenate([out, np.zeros(int(dev_rate * self.margin), dtype=np.int16)])
        blocks: queue.Queue[tuple[bytes, bytes]] = queue.Queue(maxsize=600)
        sent = 0

        def callback(indata, outdata, frames, when, status) -> None:  # type: ignore[no-untyped-def]
            nonlocal sent
            if status.input_overflow:
                self.overflows += 1
            chunk = out[sent : sent + frames].tobytes()
            outdata[: len(chunk)] = chunk
            outdata[len(chunk) :] = bytes(len(outdata) - len(chunk))
            sent += frames
            try:
                blocks.put_nowait((bytes(indata), bytes(outdata)))
            except queue.Full:
                self.overflows += 1

        stream = self._open(sd, dev_rate, callback)
        mic_rate = soxr.ResampleStream(dev_rate, SAMPLE_RATE, 1, dtype="int16")
        ref_rate = soxr.ResampleStream(dev_rate, SAMPLE_RATE, 1, dtype="int16")
        taken = 0
        try:
            while taken < len(out):
                try:
                    mic, played = blocks.get(timeout=2.0)
                except queue.Empty:
                    raise DeviceError(
                        "the microphone delivered no audio for 2 s (while the kiosk spoke)"
                    ) from None
                taken += len(mic) // 2
                heard = mic_rate.resample_chunk(np.frombuffer(mic, dtype=np.int16))
                said = ref_rate.resample_chunk(np.frombuffer(played, dtype=np.int16))
                if heard.size:
                    yield heard.astype(np.int16).tobytes(), said.astype(np.int16).tobytes()
        finally:
            _close(stream, "loudspeaker")

    def _open(self, sd, rate: int, callback) -> object:  # type: ignore[no-untyped-def]
        """The started stream. In a thread with a time limit, as the loudspeaker plays: a
        wedged output device blocks PortAudio's open forever."""
        opened: list[object] = []
        failed: list[Exception] = []

        def open_and_start() -> None:
            try:
                stream = sd.RawStream(
                    samplerate=rate,
                    channels=1,
                    dtype="int16",
                    device=(self.input_device, self.output_device),
                    blocksize=int(rate * self.block_seconds),
                    callback=callback,
                )
            except Exception as err:
                failed.append(DuplexUnavailable(f"cannot play and listen at once: {err}"))
                return
            try:
                stream.start()
            except Exception as err:
                _close(stream, "loudspeaker")
                failed.append(DeviceError(f"cannot start playing and listening: {err}"))
                return
            opened.append(stream)

        worker = threading.Thread(target=open_and_start, name="duplex open", daemon=True)
        worker.start()
        worker.join(self.grace)
        if worker.is_alive():
            _stuck.set()
            raise DeviceError("the loudspeaker stopped responding")
        if failed:
            raise failed[0]
        return opened[0]
