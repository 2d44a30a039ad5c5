"""Waking up on purpose: was what the idle kiosk heard said *to* it?

A pharmacy floor is never quiet. The idle kiosk used to start a session on anything it
recognized, and pocketsphinx, limited to the catalogue's phrases, makes small talk into
catalogue phrases ("did you find the shampoo" as "soiled the bed coughing..."): in the
issue's trial, 20 sessions in five minutes of chatter, 19 ending in "Call 911" said to
nobody (bench/chatter_bench.py on that code: 2 in five minutes, both "Call 911"). The
independent, free-vocabulary decode of the same audio makes small talk into small talk,
so what it heard is what says whether someone is talking to the kiosk.

A session starts when the free decode is

* a call for the kiosk's attention or talk of one's own back pain (answers.toml
  [wake]), with little else in the same breath: "hi, how are you doing" is one customer
  greeting another;

or when a red flag is heard. A red flag both decodes carry starts the session with the
emergency guidance at once, as it would in any turn. One only the grammar's decode
carries starts the session with its check ("I heard that ... Is that right?") when the
free decode is addressed to the kiosk or carries a red flag of its own, or when the
grammar's decode is that red flag and little else and the free decode names the same
sign at least vaguely or calls for the kiosk ("my chest feels tight" / "my chest the
old site"; "i can't walk" / "help i can love it"); otherwise it is small talk made into
a catalogue phrase ("i've fainted going during laborer" / "i think it's going to rain
later"), and nothing happens -- unless the same red flag, said the same compact way,
was what the kiosk let go the utterance before: someone in distress who is not
answered says it again, and small talk seldom makes the same red flag twice running.
Pure: the caller hands in both decodes, the dialog's own red-flag test, the
understanding and what it let go last (``let_go``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from functools import cache

from kiosk.catalogue import Catalogue, WakeWords, expand
from kiosk.events import Heard
from kiosk.rules import EMERGENCY_FIELDS
from kiosk.symptoms import Answer
from kiosk.understanding import Understanding

CHATTY = 6
"""An utterance whose free decode has more than this many words nothing was made of is
someone in the middle of a conversation, red flag or not ("...i only opt to have a fall
last winter but he's been fighting is helping at all", 30 words of small talk): the
idle kiosk lets it go, unless it calls for the kiosk ("excuse me ... i fell off a
ladder"), and then any red flag in it is checked before it is acted on. Checked
without a call, such chatter went on into the check and its "it is" (a "yes") ended in
"Call 911". In a session the same two decodes act at once: there the person is known
to be answering."""

COMPACT = 1
"""A red flag heard by the grammar's decode alone is taken as said to the kiosk (and
checked) only if at most this many of its words are unplaced: a person telling the
kiosk "my chest feels tight" comes out as just that; small talk forced into the
catalogue's phrases comes out as a red flag among fragments. On 20 minutes of tune
chatter, 3 of 134 utterances were a red flag with at most one unplaced word, and none of
them had the same sign in the free decode."""


SCRAP = 2
"""At most this many words in each decode: a scrap of the room's babble the endpointer
let through between two sayings of a red flag, in a pharmacy's noise ("month" / "life";
bench/wake_bench.py). It does not break the "said again" chain (``let_go``)."""


class Wake(StrEnum):
    stay_idle = "stay_idle"
    """Not said to the kiosk: it goes on listening, and nothing is recorded."""
    greet = "greet"
    """Someone addressed it: a session starts with the greeting."""
    red_flag = "red_flag"
    """A red flag: the session starts with it (at once, or with its check)."""


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _as_words(groups: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """Every phrase of the groups as a word sequence, longest first (so "hello there" is
    taken whole before "hello")."""
    plain = {tuple(_words(p)) for group in groups for x in group for p in expand(x)}
    return tuple(sorted(plain, key=len, reverse=True))


@cache
def _calls(words: WakeWords) -> tuple[tuple[str, ...], ...]:
    return _as_words((words.calls,))


@cache
def _calls_and_pain(words: WakeWords) -> tuple[tuple[str, ...], ...]:
    return _as_words((words.calls, words.own_pain))


def _found(phrases: tuple[tuple[str, ...], ...], said: list[str]) -> list[range]:
    """Where in ``said`` each of the phrases occurs (word positions)."""
    return [
        range(i, i + len(p))
        for p in phrases
        for i in range(len(said) - len(p) + 1)
        if tuple(said[i : i + len(p)]) == p
    ]


def calls(words: WakeWords, text: str) -> bool:
    """Does the utterance call for the kiosk anywhere in it ("hello", "excuse me")?"""
    return bool(_found(_calls(words), _words(text)))


def addressed(words: WakeWords, text: str) -> bool:
    """Is this a call for the kiosk's attention or talk of one's own back pain, with at
    most ``words.other_words`` other words besides small ones?"""
    said = _words(text)
    found = _found(_calls_and_pain(words), said)
    if not found:
        return False
    covered = {i for where in found for i in where}
    small = set(words.small_words)
    others = [w for i, w in enumerate(said) if i not in covered and w not in small]
    return len(others) <= words.other_words


def _signs(u: Understanding, definite: bool) -> set[str]:
    return {
        m.field
        for m in u.mentions
        if m.value == Answer.yes and m.field in EMERGENCY_FIELDS and (m.definite or not definite)
    }


def same_sign(grammar: Understanding, free: Understanding) -> bool:
    """Does the free decode name the grammar decode's red flag, if only vaguely ("my
    chest feels tight" / "my chest feels type")?"""
    return bool(_signs(grammar, definite=True) & _signs(free, definite=False))


def _talk(free: str, read: Callable[[str], Understanding]) -> bool:
    """Someone in the middle of a conversation (``CHATTY``)."""
    return read(free).unplaced > CHATTY


def _compact_signs(text: str, read: Callable[[str], Understanding]) -> set[str]:
    """The red flags of a grammar decode that is a red flag and little else."""
    grammar = read(text)
    return _signs(grammar, definite=True) if grammar.unplaced <= COMPACT else set()


def _scrap(heard: Heard, free: str) -> bool:
    """A word or two of the room's babble, in both decodes ("month" / "life")."""
    return max(len(_words(heard.text)), len(_words(free))) <= SCRAP


def let_go(
    heard: Heard,
    free: str,
    red_flag_in: Callable[[str | Heard], bool],
    read: Callable[[str], Understanding],
    before: frozenset[str] = frozenset(),
) -> frozenset[str]:
    """What to remember of an utterance the idle kiosk let go: the red flags its
    grammar decode made out compactly ("i can't breathe" / free "like a three"), for
    ``wake`` to check if the next utterance says them again; nothing for talk. A scrap
    of babble between the two sayings keeps what was remembered ``before`` it."""
    if _talk(free, read):
        return frozenset()
    if red_flag_in(heard.text) and (signs := _compact_signs(heard.text, read)):
        return frozenset(signs)
    return before if _scrap(heard, free) else frozenset()


def _compact_and_near(
    c: Catalogue, text: str, free: str, read: Callable[[str], Understanding]
) -> bool:
    """A red flag and little else ("i can't walk"), with its sign or a call for the
    kiosk in the free decode ("help i can love it")."""
    grammar = read(text)
    if grammar.unplaced > COMPACT:
        return False
    return calls(c.wake, free) or same_sign(grammar, read(free))


def wake(
    c: Catalogue,
    heard: Heard,
    free: str,
    red_flag_in: Callable[[str | Heard], bool],
    read: Callable[[str], Understanding],
    before: frozenset[str] = frozenset(),
) -> tuple[Wake, Heard]:
    """What the idle kiosk does about an utterance, and the utterance the session starts
    with. ``heard`` is the recognizer's result with its second opinion (if any); ``free``
    is the free-vocabulary decode of the same audio (``heard.text`` itself on an engine
    whose own decode is free); ``red_flag_in`` is the dialog's test and ``read`` the
    understanding, both as at the start of a session; ``before`` is what ``let_go``
    kept of the utterance just before, if it was let go."""
    words = c.wake
    talk = _talk(free, read)
    if talk and not calls(words, free):
        return Wake.stay_idle, heard  # someone in the middle of a conversation
    if red_flag_in(heard):  # both decodes carry it: acted on at once, as in any turn
        return Wake.red_flag, Heard(heard.text, spoken=True) if talk else heard
    to_me = addressed(words, free)
    free_flag = free != heard.text and red_flag_in(free)
    if red_flag_in(heard.text) and (
        to_me
        or free_flag
        or _compact_and_near(c, heard.text, free, read)
        or before & _compact_signs(heard.text, read)  # said again
    ):
        return Wake.red_flag, heard  # the session checks it first
    if free_flag:
        # only the free decode heard a red flag: the session starts from that reading,
        # and checks it against the grammar's
        return Wake.red_flag, Heard(free, spoken=True, second=heard.text)
    # Only the free decode's reading counts here: the grammar's decode of small talk
    # can be a call ("can you help please" for "have you got a raise"), and a session
    # started on chatter runs on chatter (README). Someone not heard says it again.
    return (Wake.greet if to_me else Wake.stay_idle), heard
