"""Text front ends: a person typing in a terminal, or the JSON-lines protocol.

JSON-lines contract (stable; other tools depend on it). The kiosk writes one object per
line on stdout:

    {"event": "say", "text": ...}              something the kiosk says
    {"event": "listen", "question": ...}       it waits for one line on stdin
    {"event": "end", "disposition": ..., "red_flags": [...], "report": {...}, ...}

Each stdin line is what the person said; an empty line is silence (nothing heard before
the timeout); end of input ends the session. ``report`` is the symptom report in the
model's own JSON form, which ``kiosk triage`` accepts as it is.

With ``--wav`` each stdin line is instead the path of a WAV file that the recognizer
hears as the person's answer, and the output adds ``{"event": "heard", "text": ...}``
with what was recognized.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO, Any

from kiosk.dialog import Dialog
from kiosk.events import Action, Event, Finish, Heard, Listen, Say, Silence, SpeakSlower
from kiosk.rules import Disposition
from kiosk.symptoms import SymptomReport

INPUT_CLOSED = "input_closed"


def run_session(
    dialog: Dialog,
    hear: Callable[[Listen], Event | None],
    emit: Callable[[Action], None],
) -> Finish | None:
    """Drive one session: emit each action, hear an event at each Listen.

    ``hear`` returns None when input has ended; the session then ends without guidance.
    """
    pending = list(dialog.start())
    while pending:
        action = pending.pop(0)
        emit(action)
        if isinstance(action, Finish):
            return action
        if isinstance(action, Listen):
            event = hear(action)
            if event is None:
                return None
            pending.extend(dialog.handle(event))
    return None


def end_record(finish: Finish | None, report: SymptomReport) -> dict[str, Any]:
    """The ``end`` event: disposition, red flags and the report, as JSON-ready values."""
    decision = finish.decision if finish else None
    return {
        "event": "end",
        "disposition": decision.disposition.value if decision else None,
        "red_flags": [f.id for f in decision.rules if f.level is Disposition.emergency]
        if decision
        else [],
        "rules": list(decision.rule_ids) if decision else [],
        "unresolved": list(decision.unresolved) if decision else [],
        "ended_by": finish.ending.value if finish else INPUT_CLOSED,
        "report": (finish.report if finish else report).model_dump(mode="json"),
    }


Transcriber = Callable[[str, Listen], str]
"""Turns one stdin line (a WAV path) into what was heard, for the turn being listened to."""


def chat_json(
    dialog: Dialog, stdin: IO[str], stdout: IO[str], transcriber: Transcriber | None = None
) -> int:
    def write(obj: dict[str, Any]) -> None:
        stdout.write(json.dumps(obj) + "\n")
        stdout.flush()

    def emit(action: Action) -> None:
        if isinstance(action, Say):
            write({"event": "say", "text": action.text})
        elif isinstance(action, Listen):
            write({"event": "listen", "question": action.turn})

    def hear(listen: Listen) -> Event | None:
        line = stdin.readline()
        if not line:
            return None
        line = line.rstrip("\r\n")
        if transcriber is not None and line.strip():
            line = transcriber(line.strip(), listen)
            write({"event": "heard", "text": line})
        return Heard(line, spoken=transcriber is not None) if line.strip() else Silence()

    finish = run_session(dialog, hear, emit)
    write(end_record(finish, dialog.report))
    return 0


def chat_text(dialog: Dialog, stdin: IO[str], stdout: IO[str]) -> int:
    """For a person at a terminal. An empty line counts as silence, as it would by voice."""

    def emit(action: Action) -> None:
        if isinstance(action, Say):
            stdout.write(f"Kiosk: {action.text}\n")
        elif isinstance(action, SpeakSlower):
            stdout.write("(speaking more slowly)\n")
        stdout.flush()

    def hear(_: Listen) -> Event | None:
        stdout.write("You: ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            stdout.write("\n")
            return None
        return Heard(line.strip()) if line.strip() else Silence()

    finish = run_session(dialog, hear, emit)
    if finish and finish.decision:
        stdout.write(f"\n[disposition: {finish.decision.disposition.value}]\n")
    return 0
