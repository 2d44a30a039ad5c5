"""The dialog's protocol: events in, actions out. Tiny typed values, any transport.

Text chat, the JSON-lines protocol and the voice loop all drive the same dialog with
these, so what the kiosk decides never depends on how it hears or speaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from kiosk.catalogue import QuestionKind
from kiosk.rules import Decision
from kiosk.symptoms import SymptomReport

# --- events: what happened ---------------------------------------------------------------


@dataclass(frozen=True)
class Heard:
    """The person said something (typed, or recognized from speech)."""

    text: str
    spoken: bool = False
    """Recognized from speech: a word that ends the session ("stop") is confirmed first,
    since a recognizer can make it out of anything."""
    second: str = ""
    """For speech: what an independent decode of the same audio heard (the recognizer
    without the turn's grammar). A red flag acts at once only when this, read in the
    same moment of the dialog, carries it too; otherwise one short question confirms
    it first."""


@dataclass(frozen=True)
class Silence:
    """Nothing was heard before the listen timeout."""


Event = Heard | Silence


# --- actions: what to do -----------------------------------------------------------------


class Priority(IntEnum):
    """Emergency speech jumps the queue and is never cut off by the person talking."""

    normal = 0
    emergency = 1


@dataclass(frozen=True)
class Say:
    text: str
    priority: Priority = Priority.normal


@dataclass(frozen=True)
class Listen:
    """Wait for the person. ``turn`` names what is asked (a question id, "open",
    "readback", "fix"), so a recognizer can pick a grammar; ``kind`` None means free speech.
    """

    turn: str
    kind: QuestionKind | None = None


@dataclass(frozen=True)
class SpeakSlower:
    """The person asked the kiosk to slow down; text front ends may ignore it."""


class Ending(StrEnum):
    guidance = "guidance"
    stopped = "stopped"
    no_response = "no_response"


@dataclass(frozen=True)
class Finish:
    ending: Ending
    report: SymptomReport
    decision: Decision | None = None


Action = Say | Listen | SpeakSlower | Finish
