"""Per-turn recognition grammars, derived from the one language catalogue.

For each listen turn the recognizer is limited to what fits the question — yes/no
phrases, numbers and durations, pain scores, the question's own symptom phrases — and
*always* every red-flag phrase and every command, so a red flag is heard whatever was
asked. The open question and corrections use free recognition (``None``).

Both recognizers turn these phrase lists into a small n-gram language model (Vosk does
it itself from the JSON list; pocketsphinx gets an ARPA model built from the same
list), so phrases combine: "no but i can't feel my legs" is reachable although no single
phrase says it.
"""

from __future__ import annotations

from kiosk.catalogue import Catalogue, QuestionKind, expand
from kiosk.rules import EMERGENCY_FIELDS

FREE_TURNS = ("open", "fix")
YES_NO_TURNS = ("confirm", "check")
"""Confirmations ("did you mention chest pain?"): yes/no words only, so a "no" cannot be
heard as a red-flag phrase (and a misheard word cannot start another alarm)."""


def _phrases(group: tuple[str, ...] | list[str]) -> list[str]:
    return [p for phrase in group for p in expand(phrase)]


def _field_phrases(c: Catalogue, fields: set[str]) -> list[str]:
    out: list[str] = []
    for (name, _value), sets in c.mentions.sets.items():
        if name in fields:
            # Not the `near` word pairs: they are how the understanding reads free
            # phrasing; as grammar entries they only add paths to mishear along
            # (measured: "I have a fever" became "i haven't fever").
            out += _phrases([*sets.names, *sets.statements, *sets.hints])
    return out


def _always(c: Catalogue) -> tuple[str, ...]:
    """What every turn listens for: red flags, commands, and the answer words."""
    red_flags = set(EMERGENCY_FIELDS) | {"injury"}
    out = _field_phrases(c, red_flags)
    for group in c.commands.phrases().values():
        out += [t.format(command=p) for t in c.grammar.command for p in _phrases(group)]
    out += list(c.commands.politeness)
    out += _phrases([*c.answers.yes, *c.answers.no, *c.answers.unknown, *c.answers.corrections])
    out += _phrases(c.answers.greetings)
    out += _phrases([*c.negation.determiners, *c.negation.following_for_names])
    return tuple(out)


def _kind_phrases(c: Catalogue, turn: str, kind: QuestionKind) -> list[str]:
    numbers = [*c.numbers.words, *c.numbers.quantities]
    scores = c.numbers.words[:11]
    if kind is QuestionKind.severity:  # 0-10 only: "a few" is not a score
        said = [t.format(n=n) for t in c.grammar.severity for n in scores]
        return [*scores, *c.severity.homophones, *said, *c.severity.words]
    if kind is QuestionKind.duration:
        said = []
        for t in c.grammar.duration:
            if "{weekday}" in t:
                said += [t.format(weekday=day) for day in c.durations.weekdays]
            else:
                amounts = [*c.numbers.words, *c.numbers.quantities]
                said += [t.format(n=n, unit=u) for n in amounts for u in c.durations.units]
        return [*numbers, *said, *c.durations.phrases]
    if kind is QuestionKind.location:
        return _field_phrases(c, {"locations"})
    if kind is QuestionKind.onset:
        return _field_phrases(c, {"onset"})
    if turn == "readback":  # yes/no, or a correction in the same breath
        return [*numbers, *c.severity.words, *c.durations.phrases]
    return _field_phrases(c, set(c.question(turn).fields))


class Grammars:
    """The phrase list for each listen turn, built once per catalogue."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.c = catalogue
        self._always = _always(catalogue)
        self._built: dict[tuple[str, QuestionKind], tuple[str, ...]] = {}

    def for_turn(
        self, turn: str, kind: QuestionKind | None, free: bool = True
    ) -> tuple[str, ...] | None:
        """The phrases to recognize for one listen turn, or None for free recognition.

        ``free`` says whether the engine does free recognition well; when it does not
        (pocketsphinx's general model is weak), open turns get every phrase the
        catalogue knows instead: nothing else could be understood anyway.
        """
        if kind is None or turn in FREE_TURNS:
            return None if free else self.everything()
        key = (turn, kind)
        if key not in self._built and turn in YES_NO_TURNS:
            a = self.c.answers
            phrases = _phrases([*a.yes, *a.no, *a.unknown])
        elif key not in self._built:
            phrases = [*self._always, *_kind_phrases(self.c, turn, kind)]
        if key not in self._built:
            likely = _phrases(self.c.grammar.likely) if kind is QuestionKind.yes_no else []
            extra = likely * (self.c.grammar.likely_weight - 1)
            self._built[key] = (*dict.fromkeys([*likely, *phrases]), *extra)
        return self._built[key]

    def everything(self) -> tuple[str, ...]:
        """Every phrase in the catalogue, for open turns on engines without free speech."""
        if ("*", QuestionKind.yes_no) not in self._built:
            phrases = list(self._always)
            phrases += _field_phrases(self.c, {name for name, _ in self.c.mentions.sets})
            for kind in (QuestionKind.severity, QuestionKind.duration):
                phrases += _kind_phrases(self.c, kind.value, kind)
            self._built[("*", QuestionKind.yes_no)] = tuple(dict.fromkeys(phrases))
        return self._built[("*", QuestionKind.yes_no)]

    def every_turn(self) -> list[tuple[str, QuestionKind]]:
        """Every grammar-restricted turn the dialog can produce (for start-up checks)."""
        turns = [(q.id, q.kind) for q in self.c.questions]
        extra = [(t, QuestionKind.yes_no) for t in ("readback", "confirm", "check")]
        return [*turns, *extra]


def vocabulary(phrases: tuple[str, ...] | list[str]) -> set[str]:
    return {word for phrase in phrases for word in phrase.split()}
