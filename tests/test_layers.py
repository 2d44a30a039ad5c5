"""The clinical core stays pure: import-linter checks the contract in pyproject.toml
(no audio, recognizer, speech, CLI, storage or subprocess imports, direct or indirect)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_core_imports_nothing_of_the_shell() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout
