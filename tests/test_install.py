"""The Raspberry Pi install script, run for real into a throwaway root (no packages,
user or systemctl there): a dry run changes nothing, a second run changes nothing,
staff edits to the config survive, the virtual environment it builds runs the kiosk,
and a failed model download leaves a working kiosk. Most tests pass --no-venv to skip
the half-minute pip install; one module fixture does it for real. On the host itself
only a dry run is tested (it would otherwise add a user and start a service)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def with_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One real install with its virtual environment (pip, from the package index)."""
    root = tmp_path_factory.mktemp("root")
    out = subprocess.run(
        ["bash", str(SCRIPT), "--root", str(root), "--no-model"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return root, out.stdout


def test_virtual_environment_runs_the_installed_kiosk(with_venv: tuple[Path, str]) -> None:
    root, out = with_venv
    assert "doing: create or update" in out
    kiosk = root / "opt/kiosk/.venv/bin/kiosk"
    report = '{"symptoms": {"chest_pain": "yes"}}'
    triage = subprocess.run(
        [str(kiosk), "triage", "-"], input=report, capture_output=True, text=True, timeout=120
    )
    assert triage.returncode == 0, triage.stderr
    assert json.loads(triage.stdout)["disposition"] == "emergency"


def test_virtual_environment_is_not_rebuilt_when_nothing_changed(
    with_venv: tuple[Path, str],
) -> None:
    root, _ = with_venv
    again = subprocess.run(
        ["bash", str(SCRIPT), "--root", str(root), "--no-model"],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    ).stdout
    assert "ok: virtual environment" in again and again.strip().endswith("nothing to do")


def test_model_download_failing_offline_leaves_a_working_kiosk(
    with_venv: tuple[Path, str],
) -> None:
    """No internet (here: a closed local port as the download URL): the script warns,
    carries on, and exits 0; the kiosk runs on the bundled pocketsphinx."""
    root, _ = with_venv
    env = {**os.environ, "KIOSK_VOSK_MODEL_URL": "http://127.0.0.1:9/model.zip"}
    out = subprocess.run(
        ["bash", str(SCRIPT), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "doing: download the speech model" in out.stdout
    assert "warning: no speech model; the kiosk will use pocketsphinx" in out.stderr
    models = subprocess.run(
        [str(root / "opt/kiosk/.venv/bin/kiosk"), "models", "list"],
        capture_output=True,
        text=True,
        env={**env, "KIOSK_MODELS_DIR": str(root / "opt/kiosk/models")},
        timeout=120,
    )
    assert "not installed" in models.stdout, models.stdout


def test_host_dry_run_checks_packages_user_and_service_without_changing_them() -> None:
    """Without --root the script looks at this machine's packages, the kiosk user and
    systemd; a dry run only says what it would do."""
    out = subprocess.run(
        ["bash", str(SCRIPT), "--dry-run", "--no-venv"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith(("ok: packages", "would: apt-get install")) for line in lines)
    assert any(line.startswith(("ok: user kiosk", "would: create user kiosk")) for line in lines)
    assert any(
        line.startswith(("ok: service enabled", "would: enable and (re)start")) for line in lines
    )
    assert not any(line.startswith("doing:") for line in lines)
