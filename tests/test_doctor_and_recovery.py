"""`kiosk doctor` and recovering from device faults, through the real PortAudio/ALSA
path with file-backed devices (and no devices at all)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alsa_files import FifoMicrophone, raw_from_wav, write_config
from tests.kiosk_process import broken_vosk_model, kiosk_command
from tests.synth import Voice, available, say

pytestmark = pytest.mark.skipif(
    not Path("/usr/share/alsa/alsa.conf").exists(), reason="needs ALSA's configuration"
)
ROOT = Path(__file__).resolve().parent.parent


def run(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        kiosk_command(*args),
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


SYSTEM = {"ALSA_CONFIG_PATH": "/usr/share/alsa/alsa.conf"}


def no_devices(tmp_path: Path) -> dict[str, str]:
    """The system's own ALSA setup on a machine with no sound card: as if unplugged."""
    if run(["devices"], SYSTEM).returncode == 0:
        pytest.skip("this machine has a sound card")
    return SYSTEM


def file_devices(tmp_path: Path, mic: bytes) -> tuple[dict[str, str], Path]:
    raw = tmp_path / "mic.raw"
    raw.write_bytes(mic)
    speaker = tmp_path / "speaker.raw"
    return {"ALSA_CONFIG_PATH": str(write_config(tmp_path, raw, speaker))}, speaker


def test_doctor_reports_missing_devices_with_what_to_do(tmp_path: Path) -> None:
    out = run(["doctor"], no_devices(tmp_path))
    assert out.returncode == 1
    assert "Traceback" not in out.stdout + out.stderr
    assert "BAD  devices: no sound devices found" in out.stdout
    assert "what to do: plug in the USB microphone" in out.stdout
    assert "OK   text-to-speech" in out.stdout


def test_doctor_json_flags_a_dead_microphone(tmp_path: Path) -> None:
    env, _ = file_devices(tmp_path, bytes(44100 * 2 * 2))  # digital silence: a muted mic
    out = run(["doctor", "--json"], env)
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    assert out.returncode == 1
    assert not checks["microphone"]["ok"] and "dead or muted" in checks["microphone"]["found"]
    assert checks["config"]["ok"] and checks["speech model"]["ok"]


@pytest.mark.skipif(not available("flite"), reason="flite is not installed")
def test_doctor_all_well(tmp_path: Path) -> None:
    speech = raw_from_wav(
        say("testing one two three", Voice("flite", "slt"), tmp_path / "t.wav"), tmp_path / "t.raw"
    )
    env, speaker = file_devices(tmp_path, speech.read_bytes())
    config = tmp_path / "kiosk.toml"
    config.write_text("")  # barge-in is on by default (README, "Barge-in")
    out = run(["--config", str(config), "doctor"], env)
    assert out.returncode == 0, out.stdout
    assert "OK   microphone: input level" in out.stdout
    assert "OK   barge-in: on: the kiosk listens while it speaks" in out.stdout
    assert speaker.stat().st_size > 44100  # the test sentence was played


def test_doctor_says_why_barge_in_is_off(tmp_path: Path) -> None:
    env, _ = file_devices(tmp_path, bytes(44100 * 2 * 2))
    config = tmp_path / "kiosk.toml"
    config.write_text("barge_in = false\n")
    out = run(["--config", str(config), "doctor"], env)
    assert "OK   barge-in: half-duplex, speech over the kiosk's voice is not heard" in out.stdout
    assert "(barge_in = false in the config)" in out.stdout


def test_doctor_says_when_the_devices_cannot_play_and_record_at_once(tmp_path: Path) -> None:
    env, _ = file_devices(tmp_path, bytes(44100 * 2 * 2))
    config = tmp_path / "kiosk.toml"
    config.write_text('barge_in = true\noutput_device = "99"\n')  # no device to play on
    out = run(["--config", str(config), "doctor"], env)
    assert "OK   barge-in: half-duplex" in out.stdout


def test_doctor_reports_a_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "kiosk.toml"
    bad.write_text("volume = 3\n")
    out = run(["--config", str(bad), "doctor"], no_devices(tmp_path))
    assert out.returncode == 1
    assert out.stdout.startswith("BAD  config: config key 'volume'")


@pytest.mark.skipif(not available("flite"), reason="flite is not installed")
def test_microphone_gone_then_back(tmp_path: Path) -> None:
    """Unplugged: a clean non-zero exit with one clear line (systemd restarts the
    service). Plugged back in: the restarted kiosk holds a session to the end."""
    gone = run(["run", "--engine", "pocketsphinx", "--sessions", "1"], no_devices(tmp_path))
    assert gone.returncode == 1
    assert "Traceback" not in gone.stderr
    assert gone.stderr.strip().splitlines()[-1].startswith("kiosk run: no microphone")

    answer = say("I have chest pain", Voice("flite", "slt"), tmp_path / "p.wav")
    env, _ = file_devices(tmp_path, raw_from_wav(answer, tmp_path / "p.raw").read_bytes())
    back = run(
        ["run", "--engine", "pocketsphinx", "--sessions", "1"],
        {**env, "KIOSK_STATE_DIR": str(tmp_path / "state")},
    )
    assert back.returncode == 0, back.stderr
    assert "session ended: guidance, disposition emergency" in back.stderr


@contextlib.contextmanager
def fifo_devices(
    tmp_path: Path, audio: bytes, then: str, pace: bool = False
) -> Iterator[dict[str, str]]:
    """The environment for a kiosk whose microphone is a FifoMicrophone."""
    mic = FifoMicrophone(tmp_path / "mic.fifo", audio, then, pace=pace)
    conf = write_config(tmp_path, mic.path, tmp_path / "speaker.raw")
    try:
        yield {"ALSA_CONFIG_PATH": str(conf), "KIOSK_STATE_DIR": str(tmp_path / "state")}
    finally:
        mic.close()


def test_microphone_that_delivers_nothing_exits_cleanly(tmp_path: Path) -> None:
    """A wedged microphone: it opens, then no audio ever comes (the driver blocks).
    The kiosk says so in one line and exits non-zero for systemd to restart it, rather
    than hanging until the watchdog notices."""
    with fifo_devices(tmp_path, b"", then="stall") as env:
        out = run(["run", "--engine", "pocketsphinx", "--sessions", "1"], env, timeout=60)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        "kiosk run: the microphone delivered no audio for 2 s"
    )


@pytest.mark.skipif(not available("flite"), reason="flite is not installed")
@pytest.mark.parametrize("then", ["stall", "unplug"])
def test_microphone_failing_mid_session_exits_cleanly(tmp_path: Path, then: str) -> None:
    """Someone starts a session; then the microphone wedges, or is unplugged between two
    listen turns. One clear line, exit status 1, no words said in the log."""
    # A call for the kiosk: it wakes on purpose (kiosk/wake.py), and pocketsphinx's free
    # decode makes "my upper back hurts" in this voice into "i had heard that carrots".
    words = say("excuse me", Voice("flite", "slt"), tmp_path / "p.wav")
    audio = raw_from_wav(words, tmp_path / "p.raw", tail=1.5).read_bytes()
    # At the pace of speech: delivered at once, the kiosk's start-up read of the
    # microphone took the first words, and "...hurts" alone ("carried") is not someone
    # speaking to the kiosk.
    with fifo_devices(tmp_path, audio, then, pace=True) as env:
        out = run(["run", "--engine", "pocketsphinx", "--sessions", "1"], env, timeout=90)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert "session started" in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    expected = {
        # Wedged: either no audio comes in the next turn, or (if the driver wedged while
        # the stream was being closed) the close gives up and the next turn says so.
        "stall": (
            "kiosk run: the microphone delivered no audio for 2 s",
            "kiosk run: the sound devices are stuck",
        ),
        "unplug": ("kiosk run: cannot open the microphone",),
    }[then]
    assert last.startswith(expected), out.stderr
    assert "excuse" not in out.stderr  # the words said never reach the log


@pytest.mark.skipif(not available("flite"), reason="flite is not installed")
def test_loudspeaker_that_stops_responding_exits_cleanly(tmp_path: Path) -> None:
    """The loudspeaker's device blocks (here: a named pipe nobody reads, so ALSA's file
    plugin waits forever). The kiosk gives up after the clip's length plus a grace
    period, says so in one line, and exits 1."""
    words = say("my upper back hurts", Voice("flite", "slt"), tmp_path / "p.wav")
    mic = raw_from_wav(words, tmp_path / "mic.raw")
    speaker = tmp_path / "speaker.fifo"
    os.mkfifo(speaker)
    conf = write_config(tmp_path, mic, speaker)
    conf.write_text(conf.read_text().replace(f'"| cat >> {speaker}"', f'"{speaker}"'))
    out = run(
        ["run", "--engine", "pocketsphinx", "--sessions", "1"],
        {"ALSA_CONFIG_PATH": str(conf), "KIOSK_STATE_DIR": str(tmp_path / "state")},
        timeout=90,
    )
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1] == "kiosk run: the loudspeaker stopped responding"


def test_doctor_with_a_wedged_microphone_reports_it_and_exits(tmp_path: Path) -> None:
    with fifo_devices(tmp_path, b"", then="stall") as env:
        out = run(["doctor"], env, timeout=60)
    assert out.returncode == 1
    assert "BAD  microphone: the microphone delivered no audio for 2 s" in out.stdout, out.stdout


def broken_espeak(tmp_path: Path) -> dict[str, str]:
    """A damaged espeak-ng: the library pyttsx3 loads is not a library. The dynamic
    loader finds this one first; nothing else on the machine is touched."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "libespeak-ng.so.1").write_text("not a shared library\n")
    return {"LD_LIBRARY_PATH": str(lib)}


def test_kiosk_run_with_broken_text_to_speech_exits_with_the_cause(tmp_path: Path) -> None:
    env, _ = file_devices(tmp_path, bytes(44100 * 2))
    out = run(["run", "--engine", "pocketsphinx"], {**env, **broken_espeak(tmp_path)})
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("kiosk run: text-to-speech failed"), out.stderr
    assert "espeak-ng" in last and "kiosk: ready" not in out.stderr


def test_doctor_reports_broken_text_to_speech_and_still_tests_the_speaker(
    tmp_path: Path,
) -> None:
    env, speaker = file_devices(tmp_path, bytes(44100 * 2))
    out = run(["doctor"], {**env, **broken_espeak(tmp_path)})
    assert out.returncode == 1
    assert "BAD  text-to-speech: text-to-speech failed" in out.stdout, out.stdout
    assert "what to do: install espeak-ng" in out.stdout
    assert "OK   speaker: played a test tone (text-to-speech is not working)" in out.stdout
    assert speaker.stat().st_size >= 44100 * 2  # one second at the device's rate


def test_kiosk_run_with_a_model_that_does_not_load_exits_with_the_cause(tmp_path: Path) -> None:
    model = broken_vosk_model(tmp_path)
    env, _ = file_devices(tmp_path, bytes(44100 * 2))
    out = run(["run", "--engine", "vosk", "--model", str(model)], env)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert "did not load" in last and "kiosk models download" in last, out.stderr
