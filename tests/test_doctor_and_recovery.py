"""`kiosk doctor` and recovering from device faults, through the real PortAudio/ALSA
path with file-backed devices (and no devices at all)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.alsa_files import raw_from_wav, write_config
from tests.kiosk_process import kiosk_command
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
    out = run(["doctor"], env)
    assert out.returncode == 0, out.stdout
    assert "OK   microphone: input level" in out.stdout
    assert speaker.stat().st_size > 44100  # the test sentence was played


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
