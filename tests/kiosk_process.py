"""Drive the real ``kiosk chat --json`` process, answering each question by its id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TODAY = "2026-11-18"  # a Wednesday: "since Monday" is two days


@dataclass
class Transcript:
    events: list[dict[str, Any]] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    @property
    def end(self) -> dict[str, Any]:
        return self.events[-1]

    @property
    def said(self) -> list[str]:
        return [e["text"] for e in self.events if e["event"] == "say"]

    def said_after_last_listen(self) -> list[str]:
        last = max((i for i, e in enumerate(self.events) if e["event"] == "listen"), default=-1)
        return [e["text"] for e in self.events[last + 1 :] if e["event"] == "say"]


def kiosk_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kiosk.cli", *args]


def broken_vosk_model(folder: Path) -> Path:
    """A folder shaped like a Vosk model whose files are garbage: Vosk fails to load it."""
    model = folder / "broken-model"
    (model / "conf").mkdir(parents=True)
    (model / "conf" / "model.conf").write_text("--garbage\n")
    (model / "am").mkdir()
    (model / "am" / "final.mdl").write_bytes(b"not a model")
    return model


def pick_answer(
    turn: str, answers: dict[str, str | list[str]], default: str, used: dict[str, int]
) -> str:
    """What the person says when ``turn`` is asked: its own answer, or for a group
    question ("Any of these: ...?") what they would say about each of its signs, in one
    breath ("nope. yeah, I get out of breath")."""
    from kiosk.catalogue import load

    if turn in answers or turn in _TURNS:
        return _next_answer(turn, answers, default, used)
    members = [m for m in load().question(turn).members if m in answers]
    if not members:
        return default
    said = [_next_answer(m, answers, default, used) for m in members]
    return ". ".join(dict.fromkeys(said))


def _next_answer(
    key: str, answers: dict[str, str | list[str]], default: str, used: dict[str, int]
) -> str:
    given = answers.get(key, default)
    if isinstance(given, list):
        n = used.get(key, 0)
        used[key] = n + 1
        given = given[min(n, len(given) - 1)]
    return given


_TURNS = ("open", "readback", "fix")


def converse(
    answers: dict[str, str | list[str]],
    default: str = "no",
    extra_args: tuple[str, ...] = (),
    timeout: float = 60,
    line_for: Callable[[str], str] = str,
) -> Transcript:
    """Run one session. ``answers`` maps a question id ("open", "readback", "chest_pain",
    ...) to what the person says; a list gives successive answers when it is asked again.
    Unlisted questions get ``default``. ``line_for`` turns an answer into the stdin line
    (with ``--wav``: the path of a recording of it)."""
    proc = subprocess.Popen(
        kiosk_command("chat", "--json", "--today", TODAY, *extra_args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ},
    )
    assert proc.stdin and proc.stdout
    t = Transcript()
    used: dict[str, int] = {}
    try:
        for line in proc.stdout:
            event = json.loads(line)
            t.events.append(event)
            if event["event"] == "listen":
                q = event["question"]
                t.asked.append(q)
                given = pick_answer(q, answers, default, used)
                proc.stdin.write(line_for(given) + "\n")
                proc.stdin.flush()
            if event["event"] == "end":
                break
        proc.stdin.close()
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return t


def run_lines(
    lines: list[str], extra_args: tuple[str, ...] = (), timeout: float = 60
) -> Transcript:
    """Feed fixed lines in order, whatever is asked (EOF after the last)."""
    out = subprocess.run(
        kiosk_command("chat", "--json", "--today", TODAY, *extra_args),
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
    )
    t = Transcript([json.loads(x) for x in out.stdout.splitlines()])
    t.asked = [e["question"] for e in t.events if e["event"] == "listen"]
    return t
