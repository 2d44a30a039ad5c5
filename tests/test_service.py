"""Running under systemd: the unit verifies and is hardened, and the kiosk speaks the
notify protocol (READY once it can listen, then periodic WATCHDOG pings) — tested with
a real notify socket and the real voice loop on file-backed ALSA devices."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.alsa_files import write_config
from tests.kiosk_process import kiosk_command

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "kiosk.service"


def installed_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's kiosk, as install.sh would."""
    kiosk = Path(sys.executable).parent / "kiosk"
    unit = tmp_path / "kiosk.service"
    unit.write_text(UNIT.read_text().replace("/opt/kiosk/.venv/bin/kiosk", str(kiosk)))
    return unit


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_unit_verifies(tmp_path: Path) -> None:
    out = subprocess.run(
        ["systemd-analyze", "verify", str(installed_unit(tmp_path))],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and out.stderr.strip() == "", out.stderr


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_unit_is_hardened(tmp_path: Path) -> None:
    out = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(installed_unit(tmp_path))],
        capture_output=True,
        text=True,
    )
    score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", out.stdout).group(1))
    assert score <= 2.0, out.stdout[-2000:]
    text = UNIT.read_text()
    assert not re.search(r"^PrivateDevices=yes", text, re.M)  # it would hide /dev/snd
    assert "DeviceAllow=char-alsa rw" in text and "Type=notify" in text


def test_unit_never_stops_restarting() -> None:
    """Regression: with a start limit (10 in 5 minutes), a microphone unplugged for more
    than about a minute made systemd give up, and the kiosk stayed down after it was
    plugged back in. Every start without a device exits 1 (test_doctor_and_recovery)."""
    text = UNIT.read_text()
    assert re.search(r"^Restart=(on-failure|always)$", text, re.M)
    assert re.search(r"^StartLimitIntervalSec=0$", text, re.M)
    assert not re.search(r"^StartLimitBurst=", text, re.M)
    restart_sec = float(re.search(r"^RestartSec=(\d+)", text, re.M).group(1))
    assert 2 <= restart_sec <= 30


@pytest.mark.skipif(not Path("/usr/share/alsa/alsa.conf").exists(), reason="no ALSA config")
def test_ready_then_periodic_watchdog(tmp_path: Path) -> None:
    mic = tmp_path / "mic.raw"
    mic.write_bytes(bytes(44100 * 2 * 3))  # a quiet room
    conf = write_config(tmp_path, mic, tmp_path / "speaker.raw")
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(30)
    env = {
        **os.environ,
        "ALSA_CONFIG_PATH": str(conf),
        "NOTIFY_SOCKET": address,
        "WATCHDOG_USEC": "400000",  # ping every 0.2 s
    }
    proc = subprocess.Popen(
        kiosk_command("run", "--engine", "pocketsphinx"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        messages: list[tuple[float, str]] = []
        deadline = None
        while deadline is None or time.monotonic() < deadline:
            data = sock.recv(4096).decode()
            messages.append((time.monotonic(), data))
            if "READY=1" in data:
                deadline = time.monotonic() + 2.0
        states = [m for _, m in messages]
        assert states[0].startswith("READY=1"), states[:3]
        pings = [t for t, m in messages if m == "WATCHDOG=1"]
        assert len(pings) >= 5, states
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert max(gaps) < 0.4, gaps  # never a missed interval while idle
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        sock.close()
