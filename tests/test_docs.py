"""The README and the code tell the same story: every rule is documented, the commands
the README gives are the ones CI runs, and the dialog holds no sentence of its own."""

from __future__ import annotations

import ast
from pathlib import Path

from kiosk.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_rule_is_in_the_readme_table() -> None:
    missing = [r.id for r in ALL_RULES if f"`{r.id}`" not in README]
    assert not missing


def test_ci_runs_the_readme_test_command() -> None:
    command = ".venv/bin/python -m pytest"
    assert command in README.split("---")[0]
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_dialog_says_nothing_that_is_not_in_prompts() -> None:
    """Sentences live in prompts/; the dialog only picks them by key."""
    tree = ast.parse((ROOT / "kiosk" / "dialog.py").read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    sentences = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and len(node.value.split()) >= 3
    ]
    assert sentences == []
