"""The language catalogue: every sentence the kiosk says and every phrase it listens for.

It is loaded once from ``prompts/<language>/*.toml``. The dialog, the understanding and
(later) the recognizers' per-question grammars all read this one object, so a phrase is
added in one place.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kiosk.symptoms import SECTIONS, field_path


class Block(StrEnum):
    screening = "screening"
    history = "history"


class QuestionKind(StrEnum):
    yes_no = "yes_no"
    onset = "onset"
    duration = "duration"
    severity = "severity"
    location = "location"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Question(_Data):
    id: str
    block: Block
    kind: QuestionKind
    ask: str
    simple: str
    field: str = ""
    always: bool = False
    watch_for: str = ""
    unknown_means: str | None = None
    members: tuple[str, ...] = ()
    """For a group ("Any of these: ...?"): the yes/no fields it asks about, at most three."""

    @model_validator(mode="after")
    def _field_defaults_to_id(self) -> Question:
        if self.members:
            if self.field or len(self.members) > 3 or self.kind is not QuestionKind.yes_no:
                raise ValueError(f"group {self.id}: at most three yes/no members, no field")
            for name in self.members:
                field_path(name)
            return self
        if not self.field:
            object.__setattr__(self, "field", self.id)
        field_path(self.field)  # raises on a typo
        return self

    @property
    def is_group(self) -> bool:
        return bool(self.members)

    @property
    def fields(self) -> tuple[str, ...]:
        """The report fields this question settles: its own, and those derived from it."""
        if self.members:
            return self.members
        return (self.field, *_DERIVED.get(self.field, ()))


_DERIVED = {
    "severity": ("severe",),
    "duration_days": ("more_than_a_week",),
    "after_injury": ("injury",),
}


class Near(_Data):
    """A word of ``a`` and a word of ``b`` a few words apart in one clause ("my chest
    is kind of heavy"): how people put a symptom in words no phrase list foresees."""

    a: tuple[str, ...]
    b: tuple[str, ...]

    def phrases(self) -> list[str]:
        """The plain pairs, for recognition grammars."""
        return [f"{x} {y}" for x in self.a for y in self.b]


class PhraseSet(_Data):
    """Phrases for one field (or one value of a field), in three strengths, and word
    pairs (``near``) that count like names."""

    value: str = "yes"
    names: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    near: tuple[Near, ...] = ()


class Mentions(_Data):
    """Phrase sets keyed by (field, value)."""

    sets: dict[tuple[str, str], PhraseSet]


class Answers(_Data):
    yes: tuple[str, ...]
    no: tuple[str, ...]
    unknown: tuple[str, ...]
    corrections: tuple[str, ...]
    greetings: tuple[str, ...]
    pain_talk: tuple[str, ...]
    clause_final: tuple[str, ...]


class WakeWords(_Data):
    """What wakes the idle kiosk (answers.toml [wake]; kiosk/wake.py)."""

    calls: tuple[str, ...]
    own_pain: tuple[str, ...]
    small_words: tuple[str, ...]
    other_words: int = Field(ge=0, le=10)


class Commands(_Data):
    repeat: tuple[str, ...]
    start_over: tuple[str, ...]
    stop: tuple[str, ...]
    help: tuple[str, ...]
    slower: tuple[str, ...]
    politeness: tuple[str, ...]

    def phrases(self) -> dict[str, tuple[str, ...]]:
        return {name: getattr(self, name) for name in Command}


class Command(StrEnum):
    repeat = "repeat"
    start_over = "start_over"
    stop = "stop"
    help = "help"
    slower = "slower"


class UnderstandingWords(_Data):
    fillers: tuple[str, ...]
    clause_starts: tuple[str, ...]
    additions: tuple[str, ...] = ()
    """Words that add a place at the read-back instead of replacing it ("...too")."""
    objects: tuple[str, ...] = ()
    """What one falls off: "my horse" right after a mention starts no clause."""
    determiners: tuple[str, ...] = ()
    """Words that name a thing ("a cliff"): after a mention, a clause may start once
    the thing is named."""
    answer_particles: tuple[str, ...]
    lead_words: tuple[str, ...]
    near_gap: int = Field(ge=0, le=6)
    """At most this many words between the two words of a ``near`` pair."""
    near_stops: tuple[str, ...]
    """Words a pair may not reach across ("but", "not": "my chest is not sore")."""
    spellings: dict[str, str]
    sounds_like: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Per question kind (or "any"): heard word -> the everyday word it is often made
    of (answers.toml)."""

    @field_validator("sounds_like")
    @classmethod
    def _kinds(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        unknown = set(v) - {"any", *QuestionKind}
        if unknown:
            raise ValueError(f"sounds_like: not a question kind: {sorted(unknown)}")
        return v

    def everyday(self, text: str, kind: QuestionKind | None) -> str | None:
        """The heard text with its look-alike words read as the everyday ones they are
        often made of at a question of this kind ("slipped" as "slept"; at the score
        question "fall" as "four"); None if it has none."""
        alike = {
            **self.sounds_like.get("any", {}),
            **(self.sounds_like.get(kind, {}) if kind else {}),
        }
        words = text.lower().split()
        return " ".join(alike.get(w, w) for w in words) if set(words) & set(alike) else None


class Negation(_Data):
    extra_preceding: tuple[str, ...]
    determiners: tuple[str, ...]
    extra_pseudo: tuple[str, ...]
    extra_termination: tuple[str, ...]
    following_for_names: tuple[str, ...]
    window: int = Field(ge=1, le=20)


class Context(_Data):
    """Triggers for mentions about someone else or about the past (see answers.toml)."""

    other_person_preceding: tuple[str, ...]
    other_person_following: tuple[str, ...]
    historical_preceding: tuple[str, ...]
    historical_following: tuple[str, ...]
    lifetime: tuple[str, ...]

    @field_validator("lifetime")
    @classmethod
    def _fields_exist(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            field_path(name)
        return names


class Hedges(_Data):
    preceding: tuple[str, ...]
    following: tuple[str, ...]


class Numbers(_Data):
    words: tuple[str, ...] = Field(min_length=11)
    """Number words, zero first: the first eleven are the pain scores."""
    quantities: dict[str, int]


class GrammarTemplates(_Data):
    command: tuple[str, ...]
    severity: tuple[str, ...]
    duration: tuple[str, ...]
    likely: tuple[str, ...] = ()
    likely_weight: int = Field(default=1, ge=1, le=100)


class Durations(_Data):
    units: dict[str, int]
    phrases: dict[str, int]
    weekdays: tuple[str, ...] = Field(min_length=7, max_length=7)
    half: str


class Severity(_Data):
    out_of: tuple[str, ...]
    said: tuple[str, ...]
    homophones: dict[str, int]
    words: dict[str, int]
    anywhere: tuple[str, ...]

    @field_validator("words")
    @classmethod
    def _in_range(cls, words: dict[str, int]) -> dict[str, int]:
        bad = {w: s for w, s in words.items() if not 0 <= s <= 10}
        if bad:
            raise ValueError(f"pain words must score 0-10: {bad}")
        return words


class DispositionTexts(_Data):
    guidance: str
    safety_net: str


class Guidance(_Data):
    disclaimer: str
    disposition: dict[str, DispositionTexts]
    unknown: dict[str, str]
    reasons: dict[str, str]
    labels: dict[str, str]


class Catalogue(_Data):
    language: str
    questions: tuple[Question, ...]
    mentions: Mentions
    answers: Answers
    wake: WakeWords
    commands: Commands
    understanding: UnderstandingWords
    negation: Negation
    context: Context
    hedges: Hedges
    numbers: Numbers
    grammar: GrammarTemplates
    durations: Durations
    severity: Severity
    dialog: dict[str, Any]
    guidance: Guidance
    pronounce: dict[str, str]
    """Spoken forms for text-to-speech ("911" -> "nine one one")."""
    phones: dict[str, str] = Field(default_factory=dict)
    """How the recognizer hears words its dictionary lacks (ARPAbet)."""

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def say(self, key: str, **values: object) -> str:
        """A dialog sentence by key, with its placeholders filled."""
        text = self.dialog[key]
        return text.format(**values) if values else text

    def spoken(self, text: str) -> str:
        """The text as the voice should say it."""
        for written, said in self.pronounce.items():
            text = re.sub(rf"(?<!\w){re.escape(written)}(?!\w)", said, text)
        return text

    def label(self, field: str) -> str:
        return self.guidance.labels[field]

    def question_for(self, field: str) -> Question | None:
        """The single question that sets a field, derived fields included."""
        for q in self.questions:
            if not q.is_group and field in q.fields:
                return q
        return None

    def group_for(self, field: str) -> Question | None:
        """The group question a field is asked in first, if any."""
        for q in self.questions:
            if field in q.members:
                return q
        return None

    def watch_for(self, field: str) -> str:
        q = self.question_for(field)
        return q.watch_for if q else ""


_TOKEN = re.compile(r"[()\[\]|]|[^\s()\[\]|]+")


def _parse_alternatives(tokens: list[str], pos: int, close: str) -> tuple[list[str], int]:
    """Parse ``seq (| seq)*`` up to ``close``; returns every plain phrase it stands for."""
    options: list[str] = []
    current: list[list[str]] = [[""]]
    while pos < len(tokens):
        tok = tokens[pos]
        if tok in "([":
            inner, pos = _parse_alternatives(tokens, pos + 1, ")" if tok == "(" else "]")
            current.append(inner + ([""] if tok == "[" else []))
        elif tok == "|":
            options += _join_product(current)
            current = [[""]]
            pos += 1
        elif tok == close:
            return options + _join_product(current), pos + 1
        elif tok in ")]":
            raise ValueError(f"unbalanced {tok!r}")
        else:
            current.append([tok])
            pos += 1
    if close:
        raise ValueError(f"missing {close!r}")
    return options + _join_product(current), pos


def _join_product(slots_: list[list[str]]) -> list[str]:
    out = [" ".join(w for w in combo if w) for combo in itertools.product(*slots_)]
    return list(dict.fromkeys(out))


def slots(phrase: str) -> list[list[str]]:
    """Parse the catalogue's phrase syntax into top-level word slots, each a list of the
    plain alternatives it stands for ("" when it is optional).

    ``(a|b)`` is a choice, ``[x]`` or ``[a|b]`` is optional, and groups nest:
    ``(pee|hold my (pee|bladder))``. A malformed phrase raises ValueError at load time.
    """
    tokens = _TOKEN.findall(phrase.lower())
    out: list[list[str]] = []
    pos = 0
    while pos < len(tokens):
        tok = tokens[pos]
        if tok in "([":
            inner, pos = _parse_alternatives(tokens, pos + 1, ")" if tok == "(" else "]")
            out.append(inner + ([""] if tok == "[" else []))
        elif tok in ")]|":
            raise ValueError(f"unexpected {tok!r} in phrase {phrase!r}")
        else:
            out.append([tok])
            pos += 1
    return out


def expand(phrase: str, limit: int = 4096) -> list[str]:
    """Every plain phrase a catalogue phrase stands for (for grammars and tests)."""
    out: list[str] = []
    for combo in itertools.product(*slots(phrase)):
        out.append(" ".join(part for part in combo if part))
        if len(out) > limit:
            raise ValueError(f"phrase expands to more than {limit} variants: {phrase!r}")
    return [p for p in dict.fromkeys(out) if p]


def prompts_dir(language: str = "en") -> Path:
    """Where the catalogue lives: inside the installed package, else the source tree."""
    here = Path(__file__).resolve().parent
    for base in (here / "_prompts", here.parent / "prompts"):
        if (base / language).is_dir():
            return base / language
    raise FileNotFoundError(f"no prompts for language {language!r} next to {here}")


def _read(directory: Path, name: str) -> dict[str, Any]:
    with (directory / f"{name}.toml").open("rb") as f:
        return tomllib.load(f)


def _mention_sets(raw: dict[str, Any]) -> dict[tuple[str, str], PhraseSet]:
    sets: dict[tuple[str, str], PhraseSet] = {}
    for field, table in raw.items():
        field_path(field)  # raises on a typo
        if {"names", "statements", "hints"} & table.keys():
            sets[(field, table.get("value", "yes"))] = PhraseSet(**table)
        else:  # one sub-table per value, e.g. [onset.sudden]
            for value, sub in table.items():
                sets[(field, value)] = PhraseSet(value=value, **sub)
    return sets


@cache
def load(language: str = "en") -> Catalogue:
    """Load and validate the catalogue; a typo in a prompt file fails here, at start-up."""
    d = prompts_dir(language)
    answers = _read(d, "answers")
    catalogue = Catalogue(
        language=language,
        questions=tuple(Question(**q) for q in _read(d, "questions")["question"]),
        mentions=Mentions(sets=_mention_sets(_read(d, "mentions"))),
        answers=Answers(**answers["answers"]),
        wake=WakeWords(**answers["wake"]),
        commands=Commands(**answers["commands"]),
        understanding=UnderstandingWords(**answers["understanding"]),
        negation=Negation(**answers["negation"]),
        context=Context(**answers["context"]),
        hedges=Hedges(**answers["hedges"]),
        numbers=Numbers(**answers["numbers"]),
        grammar=GrammarTemplates(**answers["grammar"]),
        durations=Durations(**answers["durations"]),
        severity=Severity(**answers["severity"]),
        dialog=_read(d, "dialog"),
        guidance=Guidance(**_read(d, "guidance")),
        pronounce=_read(d, "speech")["pronounce"],
        phones=_read(d, "speech").get("phones", {}),
    )
    _check(catalogue)
    return catalogue


def _check(c: Catalogue) -> None:
    """Cross-file consistency: every field has a label, every question is unique."""
    ids = [q.id for q in c.questions]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate question ids in questions.toml")
    every_field = {name for model in SECTIONS.values() for name in model.model_fields}
    missing = sorted(every_field - c.guidance.labels.keys() - {"schema_version"})
    if missing:
        raise ValueError(f"guidance.toml [labels] lacks: {missing}")
    grouped = [name for q in c.questions for name in q.members]
    if len(grouped) != len(set(grouped)):
        raise ValueError("a field is in more than one group in questions.toml")
    for name in grouped:
        if c.question_for(name) is None:
            raise ValueError(f"group member {name} needs its own question too")
    for q in c.questions:
        if q.is_group:
            continue
        if q.block is Block.screening and q.kind is QuestionKind.yes_no and not q.watch_for:
            raise ValueError(f"screening question {q.id} needs a watch_for sentence")
        if q.block is Block.screening and q.unknown_means:
            raise ValueError(f"screening question {q.id}: an unknown red flag is never 'no'")
