"""The Raspberry Pi install script, run for real into a throwaway root (no packages,
user or systemctl there; --no-venv skips the minute-long pip install): a dry run
changes nothing, a second run changes nothing, staff edits to the config survive."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.kiosk_process import kiosk_command

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "systemd" / "install.sh"


def install(root: Path, *flags: str) -> str:
    out = subprocess.run(
        ["bash", str(SCRIPT), "--root", str(root), "--no-venv", *flags],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    out = install(tmp_path, "--dry-run")
    assert "would: install" in out and "doing:" not in out
    assert tree(tmp_path) == {}


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    first = install(tmp_path)
    assert "doing: install" in first
    before = tree(tmp_path)
    assert "etc/systemd/system/kiosk.service" in before
    assert "opt/kiosk/kiosk/dialog.py" in before
    second = install(tmp_path)
    assert second.strip().endswith("nothing to do")
    assert "doing:" not in second
    assert tree(tmp_path) == before


def test_written_config_is_valid(tmp_path: Path) -> None:
    install(tmp_path)
    shown = subprocess.run(
        kiosk_command("--config", str(tmp_path / "etc/kiosk/kiosk.toml"), "config", "show"),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert shown.returncode == 0, shown.stderr
    assert 'engine = "auto"' in shown.stdout


def test_staff_edits_survive_and_updates_arrive(tmp_path: Path) -> None:
    install(tmp_path)
    config = tmp_path / "etc/kiosk/kiosk.toml"
    config.write_text('engine = "pocketsphinx"\n')
    copied = tmp_path / "opt/kiosk/prompts/en/dialog.toml"
    copied.write_text("stale")
    out = install(tmp_path)
    assert config.read_text() == 'engine = "pocketsphinx"\n'
    assert "doing: copy 1 changed file(s)" in out
    assert copied.read_bytes() == (ROOT / "prompts/en/dialog.toml").read_bytes()
