"""Talking over the kiosk: what it acts on while it is still speaking (barge-in).

While the kiosk speaks, the microphone stays open behind the echo canceller, but only a
few things are worth cutting a sentence for: a red flag, and "stop", "repeat" or
"slower". Anything else said over the kiosk's voice (an early "yes", a cough, what is
left of its own echo) is let go; the question is then asked in full and answered in the
listen turn as always.

What is acted on goes to the dialog as what was said in the turn the kiosk was asking
about, so the previous issue's rules apply unchanged: a red flag both decodes carry is
"Call 911" at once, one only one decode carries is checked first, a spoken "stop" is
confirmed (so a "stop" made of a stray syllable costs one question, "Do you want to
stop?"). Two things are stricter over the kiosk's voice, where what the echo canceller
leaves of the kiosk's own words can be heard as words:

* a red flag must be *worded*: a bare "yes" at a red-flag question, heard over that very
  question, is far likelier the remains of the kiosk's own "... Please say yes or no"
  than an answer to a question not yet finished;
* to cut the kiosk short it must be a sign the kiosk is not naming as it speaks; one
  it is naming is kept and checked if the person says nothing after (``over_voice``);
* it must be said by the person at the kiosk, not the room behind them: an utterance
  far quieter than they have spoken this session (``from_the_room``) cuts nothing, and a
  red flag in it is kept, as a named one is (kiosk/nearness.py; with barge-in on and
  no such rule, babble heard over the kiosk's voice as red flags, "... i fell", cut it
  short and sent every non-emergency patient of a held-out voice to 911).

Pure: the caller hands in both decodes, the dialog's red-flag test and the understanding.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from kiosk.catalogue import Command
from kiosk.events import Heard
from kiosk.rules import EMERGENCY_FIELDS
from kiosk.symptoms import Answer
from kiosk.understanding import Understanding


class Interruption(StrEnum):
    red_flag = "red_flag"
    stop = "stop"
    repeat = "repeat"
    slower = "slower"
    named = "named"
    """A red flag for a sign the kiosk is naming as it speaks: no reason to cut it short
    (it may be its own words coming back), but not lost either. Kept, and checked
    ("Did you mention...?") if the listen turn that follows hears nothing."""
    room = "room"
    """A red flag in a voice far quieter than the person at the kiosk (``from_the_room``):
    kept as a named one is, never cut for."""

    @property
    def cuts(self) -> bool:
        """Does it cut the kiosk short (the others are kept, to check later)?"""
        return self not in (Interruption.named, Interruption.room)


OVER_VOICE = {
    Command.stop: Interruption.stop,
    Command.repeat: Interruption.repeat,
    Command.slower: Interruption.slower,
}
"""The commands worth cutting the kiosk short for; "help" and "start over" wait for the
question to end."""


Reader = Callable[[str], Understanding]


def signs(text: str, read: Reader) -> set[str]:
    """The emergency signs an utterance says "yes" to in words of its own."""
    said = read(text).mentions
    return {m.field for m in said if m.field in EMERGENCY_FIELDS and m.value == Answer.yes}


def named(saying: tuple[str, ...], read: Reader) -> set[str]:
    """The signs the kiosk's own sentences name, whatever they say of them."""
    return {m.field for text in saying for m in read(text).mentions}


def over_voice(
    heard: Heard,
    red_flag_in: Callable[[str], bool],
    read: Reader,
    saying: tuple[str, ...] = (),
    room: bool = False,
) -> tuple[Interruption, Heard] | None:
    """Does what was heard over the kiosk's voice cut it short, why, and what goes to
    the dialog? ``heard.second`` is the other decode of the same audio ("" on an engine
    with only one); ``red_flag_in`` is the dialog's test at this moment, ``read`` the
    understanding with no question in mind, and ``saying`` the sentences the kiosk was
    saying meanwhile; ``room`` says it was heard far quieter than the person at the
    kiosk speaks (kiosk/nearness.py ``from_the_room``): then nothing in it cuts the
    kiosk short, and a red flag in it is ``room``, kept.

    A red flag cuts the kiosk short only for a sign those sentences do not name. What
    is left of the kiosk's own voice after the canceller is its own words, and it asks
    about red flags by name ("call 911 now" came back as "fall off" in both decodes,
    and a session with nobody there ended in "Call 911"). One the kiosk is naming is
    ``named``: kept, to be checked if nothing else is said.

    A red flag only the other decode carries goes to the dialog as that decode's
    reading, checked against the first (as at the idle kiosk): the first decode's words
    would otherwise be taken as an answer."""
    own = named(saying, read)
    kept: Heard | None = None
    for text, other in ((heard.text, heard.second), (heard.second, heard.text)):
        if not text.strip() or not red_flag_in(text) or not signs(text, read):
            continue
        if signs(text, read) - own and not room:
            first = heard if text == heard.text else Heard(text, spoken=True, second=other)
            return Interruption.red_flag, first
        kept = kept or Heard(text, spoken=True)  # no second opinion: always checked
    command = read(heard.text).command
    if command in OVER_VOICE and not room:
        return OVER_VOICE[command], heard
    if kept is None:
        return None
    return (Interruption.room if room else Interruption.named), kept
