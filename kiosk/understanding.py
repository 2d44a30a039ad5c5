"""Understanding what people say: text in, answers, commands and symptom mentions out.

Pure: no I/O beyond reading the catalogue it is given. Built on well-kept libraries:
spaCy's tokenizer and rule-based ``SpanRuler`` find the catalogue's phrases (with filler
words allowed inside them), negspacy's NegEx decides which mentions are negated or
hedged, and text2num turns number words into digits. What is ours is the catalogue,
and the few choices that keep a red flag from being negated by mistake:

* a determiner ("no", "without") negates noun phrases only, never a statement with its
  own verb: "no, I can't feel my legs" stays a red flag;
* a negation reaches only a few words ahead and stops at a new clause: "I don't have a
  fever my legs are numb" keeps the numbness;
* a mention that is hedged ("maybe some numbness") is *unknown*, and the dialog asks;
* a mention about someone else ("my mother had cancer") is dropped, and one about the
  past ("numbness years ago, not now") counts only for lifelong facts such as cancer:
  dropping never answers "no", so the question is still asked;
* a yes/no word counts only at the start of a clause ("no, ...", "well yes"), so the
  "right" of "my right arm" and the "wrong" of "slept wrong" are not answers.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import spacy
from negspacy.negation import Negex
from negspacy.termsets import termset
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from text_to_num import alpha2digit

from kiosk.catalogue import Catalogue, Command, Near, QuestionKind, UnderstandingWords, slots
from kiosk.symptoms import Answer

SPANS = "sc"

ANSWER_REACH = 8
"""A yes or no counts only this many words into an utterance (or right after "actually",
"wait"): people answer first. Deep in a long story, "so I have to..." is no answer."""


class Strength(StrEnum):
    name = "name"
    statement = "statement"
    hint = "hint"


_MENTION = {s.value for s in Strength}


@dataclass(frozen=True)
class Mention:
    """One thing the person said about one field of the report."""

    field: str
    value: str
    """For yes/no fields: "yes", "no" (negated) or "unknown" (hedged)."""
    strength: Strength

    @property
    def definite(self) -> bool:
        return self.strength is not Strength.hint


@dataclass(frozen=True)
class Understanding:
    text: str
    command: Command | None = None
    answer: Answer | None = None
    mentions: tuple[Mention, ...] = field(default_factory=tuple)
    severity: int | None = None
    duration_days: int | None = None
    about_pain: bool = False
    """Whether it talks about pain at all ("my back hurts"): an opening that does is
    understood even when it names nothing the report has a field for."""
    unplaced: int = 0
    """Words nothing was made of: not part of an answer, a mention, a command or a
    filler. A misheard "no, but ..." shows as a "no" followed by many of them."""
    adding: bool = False
    """It adds to what was said ("...too", "as well"): a place given at the read-back
    joins the others instead of replacing them."""

    @property
    def empty(self) -> bool:
        return not self.text.strip()

    def about(self, field_name: str) -> list[Mention]:
        return [m for m in self.mentions if m.field == field_name]


# --- negation ---------------------------------------------------------------------------


@Language.factory(
    "kiosk_negex",
    default_config={
        "neg_termset": termset("en_clinical").get_patterns(),
        "extension_name": "negex",
        "span_keys": [SPANS],
        "window": 4,
    },
)
def _make_negex(
    nlp: Language,
    name: str,
    neg_termset: dict[str, list[str]],
    extension_name: str,
    span_keys: list[str],
    window: int,
) -> WindowedNegex:
    return WindowedNegex(
        nlp, name, neg_termset, extension_name=extension_name, span_keys=span_keys, window=window
    )


class WindowedNegex(Negex):
    """NegEx with the original algorithm's short scope: a trigger reaches ``window`` words.

    negspacy lets a trigger reach the end of the sentence; speech has no full stops, so
    "no fever and then my legs went numb" would lose the numbness.
    """

    def __init__(self, *args: Any, window: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.window = window

    def _apply_negation(self, span: Span, sub_preceding: list, sub_following: list) -> None:
        before = [
            m for m in sub_preceding if m[2] <= span.start and span.start - m[2] <= self.window
        ]
        after = [m for m in sub_following if m[1] >= span.end and m[1] - span.end <= self.window]
        super()._apply_negation(span, before, after)


# --- clauses ----------------------------------------------------------------------------

_PUNCT = {".", ",", ";", "!", "?", ":", "-", "--"}


@dataclass
class ClauseSplitter:
    """Marks where a new clause starts, so a negation cannot reach across it.

    A clause starts after punctuation, and at a clause word ("my", "i", "it") that follows
    a mention, an answer ("not really"), an answer word or "and", unless it sits in the
    middle of a mention ("numbness in *my* legs"). Recognizers give no punctuation, so
    these are the only clause marks speech has.
    """

    clause_starts: frozenset[str]
    after: frozenset[str]
    objects: frozenset[str] = frozenset()
    """Things fallen off: "fell off | my horse | years ago" is one clause."""
    determiners: frozenset[str] = frozenset()
    """"fell off | a cliff | my legs went numb": a clause may start after a thing named
    right after a mention, listed object or not."""

    def __call__(self, doc: Doc) -> Doc:
        inside: set[int] = set()
        ends: set[int] = set()
        joined: set[int] = set()  # "fell off | my horse": what was fallen off
        for span in doc.spans.get(SPANS, []):
            if span.id_ in _MENTION:
                inside.update(range(span.start + 1, span.end))
                ends.add(span.end)
                if span.end + 1 < len(doc) and doc[span.end + 1].lower_ in self.objects:
                    joined.add(span.end)
                    ends.add(span.end + 2)  # "fell off the ladder | my legs went numb"
                if span.end < len(doc) and doc[span.end].lower_ in self.determiners:
                    # "didn't fall off a cliff | my legs went numb": the "didn't" reached
                    # the numbness (a red flag lost) for things not among the objects
                    ends.update((span.end + 2, span.end + 3))
            elif span.id_ == "answer":  # "not really | my bottom feels numb"
                ends.add(span.end)
                if span.label_ == "answer=no":
                    # ...and for a "no", one word on: recognizers turn "no, but I've
                    # had trouble peeing" into "no that i've had trouble peeing", and
                    # the "no" must not reach the red flag (spoken benchmark,
                    # e_peeing_unprompted). Not for "not sure if my legs are numb".
                    ends.add(span.end + 1)
        for i, token in enumerate(doc):
            if i == 0:
                token.is_sent_start = True
                continue
            prev = doc[i - 1].lower_
            token.is_sent_start = prev in _PUNCT or (
                token.lower_ in self.clause_starts
                and i not in inside
                and (i in ends or prev in self.after)
                and i not in joined
            )
        return doc


@Language.factory(
    "kiosk_clauses",
    default_config={"clause_starts": [], "after": [], "objects": [], "determiners": []},
)
def _make_clauses(
    nlp: Language,
    name: str,
    clause_starts: list[str],
    after: list[str],
    objects: list[str],
    determiners: list[str],
) -> ClauseSplitter:
    first = frozenset(nlp.tokenizer(w)[0].lower_ for w in clause_starts)
    return ClauseSplitter(first, frozenset(after), frozenset(objects), frozenset(determiners))


# --- the pipeline -----------------------------------------------------------------------

_CONTEXT_PASSES = ("neg_any", "neg_verbal", "hedged", "other_person", "historical")

for _ext in _CONTEXT_PASSES:
    if not Span.has_extension(_ext):
        Span.set_extension(_ext, default=False)


def _tokens(nlp: Language, phrase: str) -> list[str]:
    return [t.lower_ for t in nlp.tokenizer(phrase)]


def _patterns(nlp: Language, phrase: str, fillers: list[str]) -> list[list[dict[str, Any]]]:
    """Token patterns for one catalogue phrase, filler words allowed between its words.

    Slots whose alternatives are single words become one token test (``IN``), so a
    phrase with many choices stays a handful of patterns; the rest are expanded.
    """
    gap = {"LOWER": {"IN": fillers}, "OP": "{0,2}"}
    simple: list[dict[str, Any] | None] = []
    complex_slots: list[list[list[str]]] = []
    for alternatives in slots(phrase):
        tokenised = [_tokens(nlp, alt) if alt else [] for alt in alternatives]
        if all(len(t) <= 1 for t in tokenised):
            words = sorted({t[0] for t in tokenised if t})
            token: dict[str, Any] = {"LOWER": {"IN": words}}
            if any(not t for t in tokenised):
                token["OP"] = "?"
            simple.append(token)
            complex_slots.append([])
        else:
            simple.append(None)
            complex_slots.append(tokenised)
    choices = [c if c else [[]] for c in complex_slots]
    out: list[list[dict[str, Any]]] = []
    for combo in itertools.product(*choices):
        pattern: list[dict[str, Any]] = []
        for token, words in zip(simple, combo, strict=True):
            pieces = [token] if token is not None else [{"LOWER": w} for w in words]
            for piece in pieces:
                if pattern and fillers:
                    pattern.append(gap)
                pattern.append(piece)
        if pattern:
            out.append(pattern)
    return out


def _near_patterns(nlp: Language, near: Near, words: UnderstandingWords) -> list[list[dict]]:
    """Either word order, a few ordinary words between, none of them a stop word."""
    stops = sorted({t for w in words.near_stops for t in _tokens(nlp, w)})
    gap = {"IS_PUNCT": False, "LOWER": {"NOT_IN": stops}, "OP": f"{{0,{words.near_gap}}}"}
    a = {"LOWER": {"IN": sorted({t for w in near.a for t in _tokens(nlp, w)})}}
    b = {"LOWER": {"IN": sorted({t for w in near.b for t in _tokens(nlp, w)})}}
    return [[a, gap, b], [b, gap, a]]


def build_pipeline(c: Catalogue) -> Language:
    """spaCy pipeline: tokenizer, phrase ruler, clause splitter, three NegEx passes."""
    nlp = spacy.blank("en")
    filler_words = sorted({t for f in c.understanding.fillers for t in _tokens(nlp, f)})
    patterns: list[dict[str, Any]] = []

    def add(label: str, kind: str, phrase: str, gaps: list[str]) -> None:
        for pattern in _patterns(nlp, phrase, gaps):
            patterns.append({"label": label, "id": kind, "pattern": pattern})

    for (fname, value), phrases in c.mentions.sets.items():
        for strength, group in (
            (Strength.name, phrases.names),
            (Strength.statement, phrases.statements),
            (Strength.hint, phrases.hints),
        ):
            gaps = filler_words if strength is not Strength.hint else []
            for phrase in group:
                add(f"{fname}={value}", strength.value, phrase, gaps)
        for near in phrases.near:
            for pattern in _near_patterns(nlp, near, c.understanding):
                patterns.append({"label": f"{fname}={value}", "id": "name", "pattern": pattern})
    for answer in Answer:
        for phrase in getattr(c.answers, answer.value):
            add(f"answer={answer.value}", "answer", phrase, [])
    for phrase in c.answers.corrections:
        add("correction", "correction", phrase, [])
    for phrase in c.answers.pain_talk:
        add("pain_talk", "pain_talk", phrase, [])
    for command, group in c.commands.phrases().items():
        for phrase in group:
            add(f"command={command}", "command", phrase, [])
    ruler = nlp.add_pipe("span_ruler", config={"spans_key": SPANS, "overwrite": False})
    ruler.add_patterns(patterns)

    nlp.add_pipe(
        "kiosk_clauses",
        config={
            "clause_starts": list(c.understanding.clause_starts),
            "after": sorted({t for w in c.understanding.answer_particles for t in _tokens(nlp, w)}),
            "objects": list(c.understanding.objects),
            "determiners": list(c.understanding.determiners),
        },
    )

    base = termset("en_clinical").get_patterns()
    neg = c.negation
    termination = [*base["termination"], *neg.extra_termination]
    pseudo = [*base["pseudo_negations"], *neg.extra_pseudo]
    preceding = [*base["preceding_negations"], *neg.extra_preceding]
    verbal = [t for t in preceding if t not in set(neg.determiners)]
    for name, pre, fol, pse in (
        ("neg_any", preceding, [*base["following_negations"], *neg.following_for_names], pseudo),
        ("neg_verbal", verbal, base["following_negations"], pseudo),
        ("hedged", list(c.hedges.preceding), list(c.hedges.following), []),
        (
            "other_person",
            list(c.context.other_person_preceding),
            list(c.context.other_person_following),
            [],
        ),
        (
            "historical",
            list(c.context.historical_preceding),
            list(c.context.historical_following),
            [],
        ),
    ):
        nlp.add_pipe(
            "kiosk_negex",
            name=name,
            config={
                "neg_termset": {
                    "pseudo_negations": sorted(set(pse)),
                    "preceding_negations": sorted(set(pre)),
                    "following_negations": sorted(set(fol)),
                    "termination": sorted(set(termination)),
                },
                "extension_name": name,
                "window": neg.window,
            },
        )
    return nlp


# --- numbers ----------------------------------------------------------------------------


def _digits(text: str) -> str:
    """Number words to digits ("seven out of ten" -> "7 out of 10")."""
    return alpha2digit(text, "en", threshold=0)


def _longest_phrase(text: str, table: dict[str, int] | list[str]) -> str | None:
    hits = [p for p in table if re.search(rf"\b{re.escape(p)}\b", text)]
    return max(hits, key=len) if hits else None


class Understander:
    """Understands one utterance at a time; build once (the pipeline takes ~0.1 s)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.c = catalogue
        self.nlp = build_pipeline(catalogue)
        self._politeness = {t for w in catalogue.commands.politeness for t in _tokens(self.nlp, w)}
        self._clause_final = set(catalogue.answers.clause_final)
        self._trailing_words = {
            t
            for w in (
                *catalogue.understanding.answer_particles,
                *catalogue.answers.corrections,
                *catalogue.commands.politeness,
            )
            for t in _tokens(self.nlp, w)
        }
        self._lead_words = {
            t
            for w in (
                *catalogue.understanding.answer_particles,
                *catalogue.understanding.lead_words,
                *catalogue.understanding.fillers,
                *catalogue.answers.corrections,
                *catalogue.answers.greetings,
                *catalogue.commands.politeness,
            )
            for t in _tokens(self.nlp, w)
        }
        units = "|".join(sorted(map(re.escape, catalogue.durations.units), key=len, reverse=True))
        qty = "|".join(sorted(map(re.escape, catalogue.numbers.quantities), key=len, reverse=True))
        self._duration = re.compile(
            rf"\b(\d+(?:\.\d+)?|{qty})\s+({units})\b(\s+{re.escape(catalogue.durations.half)})?"
        )
        out_of = "|".join(re.escape(o) for o in catalogue.severity.out_of)
        self._score_out_of = re.compile(rf"\b(\d+(?:\.\d+)?)\s*(?:{out_of}|/\s*10)\b")
        # "about a six", "it's like a four": the grammar's score templates, as said.
        said = [
            t
            for t in (*catalogue.grammar.severity, *catalogue.severity.said)
            if t != "{n}" and "out of" not in t
        ]
        self._score_said = re.compile(
            "|".join(
                r"\b" + re.escape(t).replace(r"\{n\}", r"(\d+(?:\s+or\s+\d+)?)") + r"\b"
                for t in sorted(said, key=len, reverse=True)
            )
        )
        adds = "|".join(re.escape(w) for w in catalogue.understanding.additions) or "(?!)"
        self._additions = re.compile(rf"\b(?:{adds})\b")
        self._day_or_two = re.compile(rf"\b(?:a|an|one|1)\s+({units})\s+or\s+(\d+)\b")

    def __call__(
        self,
        text: str,
        expecting: QuestionKind | None = None,
        today: date | None = None,
        correction: bool = False,
    ) -> Understanding:
        """Understand one utterance.

        ``expecting`` is the kind of question asked (None: the open question, or a
        correction when ``correction`` is set). Bare numbers and vague time words
        ("this morning") are only read where that kind of answer was asked for, so
        "no, but I coughed up blood this morning" does not become the pain's duration.
        """
        clean = _normalise(text, self.c.understanding.spellings)
        if not clean:
            return Understanding(text=text)
        doc = self.nlp(clean)
        spans = list(doc.spans[SPANS])
        digits = _digits(clean)
        open_answer = expecting is None
        duration, rest = self._duration_days(
            clean, digits, today, loose=open_answer or expecting is QuestionKind.duration
        )
        return Understanding(
            text=text,
            command=self._command(doc, spans),
            answer=self._answer(doc, spans),
            mentions=tuple(self._mentions(spans)),
            about_pain=any(s.id_ == "pain_talk" for s in spans),
            unplaced=self._unplaced(doc, spans),
            severity=self._severity(
                clean,
                rest,
                bare=expecting is QuestionKind.severity or correction,
                words=expecting is QuestionKind.severity or (open_answer and not correction),
            ),
            duration_days=duration,
            adding=bool(self._additions.search(clean)),
        )

    def _unplaced(self, doc: Doc, spans: list[Span]) -> int:
        placed = {i for s in spans for i in range(s.start, s.end)}
        small = self._lead_words | self._trailing_words
        return sum(1 for t in doc if t.i not in placed and not t.is_punct and t.lower_ not in small)

    # Mentions ----------------------------------------------------------------------------

    def _mentions(self, spans: list[Span]) -> list[Mention]:
        found = [s for s in spans if s.id_ in _MENTION]
        definite = [s for s in found if s.id_ != Strength.hint]
        kept: list[Span] = []
        for s in found:
            if s.id_ == Strength.hint and any(_overlap(s, d) for d in definite):
                continue  # "numb" inside "my legs went numb"
            if s.id_ != Strength.hint and any(
                d is not s and _field(d) == _field(s) and _contains(d, s) and len(d) > len(s)
                for d in definite
            ):
                continue  # a shorter phrase of the same field inside a longer one
            kept.append(s)
        mentions: list[Mention] = []
        lifetime = set(self.c.context.lifetime)
        for s in kept:
            fname, value = s.label_.split("=", 1)
            if s._.other_person:
                continue  # someone else's: the question is still asked
            strength = Strength(s.id_)
            negated = s._.neg_verbal if strength is Strength.statement else s._.neg_any
            if value in (Answer.yes, Answer.no):
                if s._.hedged:
                    value = Answer.unknown.value
                elif negated:
                    value = Answer.no.value if value == Answer.yes else Answer.yes.value
            elif negated or s._.hedged:
                continue  # "not suddenly", "maybe my upper back": no value to set
            if s._.historical and value != Answer.no and fname not in lifetime:
                continue  # over ("numbness years ago"): the question is still asked
            mention = Mention(fname, value, strength)
            if mention not in mentions:
                mentions.append(mention)
        return mentions

    # Answers and commands ------------------------------------------------------------

    def _answer(self, doc: Doc, spans: list[Span]) -> Answer | None:
        mention_spans = [s for s in spans if s.id_ in _MENTION]
        answers = filter_spans([s for s in spans if s.id_ == "answer"])
        corrections = [s for s in spans if s.id_ == "correction"]
        usable = []
        for a in answers:
            if not self._leads_clause(doc, a):
                continue  # the "right" of "my right arm", the "wrong" of "slept wrong"
            if a.start > ANSWER_REACH and not any(c.end == a.start for c in corrections):
                continue  # an answer comes first: "...so i have" at the end of a ramble
            if a.text in self._clause_final and not self._ends_clause(doc, a, spans):
                continue  # "I have to walk from the station" is no "I have"
            if any(_overlap(a, m) for m in mention_spans if m.id_ != Strength.hint):
                continue  # the "no" of "no feeling in my legs"
            if any(m.start == a.end and m.id_ != Strength.statement for m in mention_spans):
                continue  # determiner "no" of "no chest pain": the mention carries it
            if a.label_ == "answer=no" and any(
                0 <= m.start - a.end <= 2
                and not any(doc[i].is_sent_start for i in range(a.end, m.start + 1))
                and (m._.neg_any or m._.neg_verbal)
                for m in mention_spans
            ):
                continue  # "I don't have chest pain" says no to chest pain, not to all
            usable.append(a)
        if not usable:
            return None
        chosen = usable[0]
        later = [a for a in usable if any(chosen.end <= c.end <= a.start for c in corrections)]
        if later:
            chosen = later[-1]
        return Answer(chosen.label_.split("=", 1)[1])

    def _ends_clause(self, doc: Doc, span: Span, spans: list[Span]) -> bool:
        """Whether only small words, or a mention the answer is about, follow the span
        in its clause ("I do, a bit"; "I have, chest pain")."""
        i = span.end
        while i < len(doc) and not doc[i].is_sent_start:
            t = doc[i]
            if t.is_punct:
                return True
            if t.lower_ not in self._trailing_words:
                return False
            i += 1
        return True

    def _leads_clause(self, doc: Doc, span: Span) -> bool:
        """Whether only small words ("well", "um", "oh", "no") come before the span in
        its clause."""
        i = span.start
        while i > 0 and not doc[i].is_sent_start:
            i -= 1
            if doc[i].lower_ not in self._lead_words and not doc[i].is_punct:
                return False
        return True

    def _command(self, doc: Doc, spans: list[Span]) -> Command | None:
        commands = filter_spans([s for s in spans if s.id_ == "command"])
        if not commands:
            return None
        covered = {i for s in commands for i in range(s.start, s.end)}
        rest = [
            t
            for t in doc
            if t.i not in covered and not t.is_punct and t.lower_ not in self._politeness
        ]
        if rest:
            return None  # "it won't stop hurting" is not the stop command
        return Command(commands[0].label_.split("=", 1)[1])

    # Numbers -----------------------------------------------------------------------------

    def _severity(self, clean: str, digits: str, bare: bool, words: bool) -> int | None:
        """A pain score: "N out of ten" anywhere; a bare number or a pain word only where
        a score was asked for; "unbearable" and the like anywhere."""
        sev = self.c.severity
        match = self._score_out_of.search(digits)
        if match:
            return _score(match.group(1))
        if bare or words:
            said = self._score_said.search(digits)
            if said:
                return _score(_higher(next(g for g in said.groups() if g)))
        if bare:
            number = re.search(r"\b(\d+(?:\.\d+)?(?:\s+or\s+\d+)?)\b", digits)
            if number and _score(_higher(number.group(1))) is not None:
                return _score(_higher(number.group(1)))
            spoken = clean.split()
            if len(spoken) <= 3:
                for w in spoken:
                    if w in sev.homophones:
                        return sev.homophones[w]
        if words:
            word = _longest_phrase(clean, sev.words)
            if word:
                return sev.words[word]
        word = _longest_phrase(clean, list(sev.anywhere))
        return sev.words[word] if word else None

    def _duration_days(
        self, clean: str, digits: str, today: date | None, loose: bool
    ) -> tuple[int | None, str]:
        """Days, and the text left for reading a score ("five days" is not a five).

        "N days/weeks" counts anywhere; weekdays and time words only when ``loose``.
        """
        d = self.c.durations
        either = self._day_or_two.search(digits)  # "a day or two": the longer
        if either:
            days = int(either.group(2)) * d.units[either.group(1)]
            return days, digits[: either.start()] + digits[either.end() :]
        match = self._duration.search(digits)
        if match:
            amount, unit, half = match.groups()
            count = float(amount) if amount[0].isdigit() else self.c.numbers.quantities[amount]
            days = (count + (0.5 if half else 0)) * d.units[unit]
            return round(days), digits[: match.start()] + digits[match.end() :]
        if not loose:
            return None, digits
        if today is not None:
            for i, day in enumerate(d.weekdays):
                if re.search(rf"\b{day}\b", clean):
                    return (today.weekday() - i) % 7 or 7, digits
        phrase = _longest_phrase(clean, d.phrases)
        return (d.phrases[phrase] if phrase else None), digits


def _higher(raw: str) -> str:
    """ "4 or 5" -> "5": where a person gives a range, the worse end counts."""
    return raw.split()[-1]


def _score(raw: str) -> int | None:
    value = round(float(raw))
    return value if 0 <= value <= 10 else None


def _field(span: Span) -> str:
    return span.label_.split("=", 1)[0]


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _contains(outer: Span, inner: Span) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def _normalise(text: str, spellings: dict[str, str]) -> str:
    """Lower case, plain apostrophes, and the apostrophe-less spellings people type."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)  # "uh-huh", "mm-hmm", "mid-back"
    return " ".join(spellings.get(w, w) for w in text.split())
