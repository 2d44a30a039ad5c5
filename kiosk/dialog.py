"""The question flow as a state machine: ``start()``, then ``handle(event)`` until ``Finish``.

No I/O and no clock (the date is handed in). Text and voice front ends drive the same
object. The safety rules live here and in ``kiosk.rules``:

* every answer, to any question, is searched for symptom mentions; a red flag ends the
  questioning at once with the emergency guidance, before commands or read-backs;
* emergency screening comes first, one symptom per question, and is never skipped;
  the rest is asked only while an answer could still change the disposition;
* an answer that is not understood is asked again in a simpler yes/no form at most
  twice, then left *unknown*, which the rules never read as "no".
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from kiosk.catalogue import Block, Catalogue, Command, Question, QuestionKind
from kiosk.events import (
    Action,
    Ending,
    Event,
    Finish,
    Heard,
    Listen,
    Priority,
    Say,
    Silence,
    SpeakSlower,
)
from kiosk.rules import EMERGENCY_FIELDS, Disposition, decide, disposition, fired
from kiosk.symptoms import Answer, Injury, Location, Onset, SymptomReport, get_value, with_value
from kiosk.understanding import Mention, Understander, Understanding

MAX_REASKS = 2
"""An answer not understood is asked again (more simply) at most this many times."""

WALK_AWAY_SILENCES = 4
"""Consecutive silences after which the person is taken to have walked away."""

MAX_FIXES = 2
"""Rounds of read-back correction before the guidance is given anyway."""


class Turn(StrEnum):
    open = "open"
    readback = "readback"
    fix = "fix"


@dataclass
class _State:
    report: SymptomReport = field(default_factory=SymptomReport)
    turn: str = Turn.open
    tries: int = 0
    asked: set[str] = field(default_factory=set)
    follow_up: list[str] = field(default_factory=list)
    last_prompt: list[str] = field(default_factory=list)
    silences: int = 0
    fixes: int = 0
    said_screening_intro: bool = False
    said_history_intro: bool = False
    done: bool = False


class Dialog:
    """One kiosk session. Deterministic: the same events give the same actions."""

    def __init__(
        self,
        catalogue: Catalogue,
        understander: Understander,
        today: date,
        walk_away_silences: int = WALK_AWAY_SILENCES,
    ) -> None:
        self.c = catalogue
        self.understand = understander
        self.today = today
        self.walk_away_silences = walk_away_silences
        self.s = _State()

    @property
    def report(self) -> SymptomReport:
        return self.s.report

    @property
    def finished(self) -> bool:
        return self.s.done

    # --- entry points -------------------------------------------------------------------

    def start(self) -> list[Action]:
        self.s = _State()
        return [Say(self.c.say("greeting")), *self._ask_open()]

    def handle(self, event: Event) -> list[Action]:
        if self.s.done:
            return []
        if isinstance(event, Silence) or (isinstance(event, Heard) and not event.text.strip()):
            return self._silence()
        assert isinstance(event, Heard)
        self.s.silences = 0
        q = self._current_question()
        u = self.understand(
            event.text,
            expecting=q.kind if q else None,
            today=self.today,
            correction=self.s.turn in (Turn.readback, Turn.fix),
        )

        fixing = self.s.turn == Turn.fix
        changed = self._apply_mentions(u, current=q, override=fixing)
        if self._emergency_fired():
            return self._emergency()
        if u.command is not None:
            return self._command(u.command)
        if self.s.turn == Turn.open:
            return self._after_open(u)
        if self.s.turn == Turn.readback:
            return self._after_readback(u)
        if fixing:
            return self._after_fix(changed)
        assert q is not None
        return self._after_answer(q, u)

    def red_flag_in(self, text: str) -> bool:
        """Would hearing ``text`` now end the session with the emergency guidance?

        Asked of partial recognition results, so the kiosk can act before the person
        has finished the sentence. Changes nothing: it tries on a copy of the state.
        """
        if self.s.done or not text.strip():
            return False
        saved = copy.deepcopy(self.s)
        try:
            actions = self.handle(Heard(text))
        finally:
            self.s = saved
        return any(isinstance(a, Say) and a.priority is Priority.emergency for a in actions)

    # --- applying what was heard ------------------------------------------------------------

    def _apply_mentions(self, u: Understanding, current: Question | None, override: bool) -> bool:
        """Put every mention into the report; returns whether anything changed."""
        before = self.s.report
        own = current.field if current else None
        for m in u.mentions:
            if m.field == own:
                continue  # answers to the current question are read in _after_answer
            self._apply(m, override)
        self._apply_numbers(u, override=override, skip=set(current.fields) if current else set())
        return self.s.report != before

    def _apply(self, m: Mention, override: bool) -> None:
        value = get_value(self.s.report, m.field)
        if m.field == "locations":
            loc = Location(m.value)
            if loc not in value:  # type: ignore[operator]
                self._set("locations", [*value, loc])  # type: ignore[misc]
            return
        if m.field == "onset":
            if value is Onset.unknown or override:
                self._set("onset", Onset(m.value))
            return
        if m.field == "injury":
            self._set("injury", Injury(m.value))
            return
        if not m.definite or m.value == Answer.unknown:
            # Too vague to act on ("numb", "maybe some numbness"): ask about it next.
            if m.value != Answer.no and value is Answer.unknown:
                self._queue_follow_up(m.field)
            return
        answer = Answer(m.value)
        if answer is Answer.yes or value is Answer.unknown or override:
            self._set(m.field, answer)

    def _apply_numbers(
        self, u: Understanding, override: bool, skip: set[str] | None = None
    ) -> None:
        """Scores and durations said in passing ("it's been two weeks", "eight out of ten")."""
        pain, skip = self.s.report.pain, skip or set()
        if (
            u.severity is not None
            and "severity" not in skip
            and (pain.severity is None or override)
        ):
            self._set("severity", u.severity)
        if (
            u.duration_days is not None
            and "duration_days" not in skip
            and (pain.duration_days is None or override)
        ):
            self._set("duration_days", u.duration_days)

    def _set(self, name: str, value: object) -> None:
        self.s.report = with_value(self.s.report, name, value)

    def _queue_follow_up(self, name: str) -> None:
        q = self.c.question_for(name)
        if q and q.id not in self.s.asked and q.id not in self.s.follow_up:
            self.s.follow_up.append(q.id)

    def _emergency_fired(self) -> bool:
        return any(r.level is Disposition.emergency for r in fired(self.s.report))

    # --- turns ------------------------------------------------------------------------------

    def _after_open(self, u: Understanding) -> list[Action]:
        understood = u.mentions or u.severity is not None or u.duration_days is not None
        if not understood and u.answer is None and self.s.tries < 1:
            return self._reask_open(heard=True)
        self.s.said_screening_intro = True
        return [Say(self.c.say("screening_intro")), *self._next()]

    def _after_answer(self, q: Question, u: Understanding) -> list[Action]:
        value = self._read_answer(q, u)
        if value is None:
            return self._not_understood(q, heard=True)
        self._record(q, value)
        if self._emergency_fired():
            return self._emergency()
        return self._next()

    def _read_answer(self, q: Question, u: Understanding) -> object | None:
        """The value the answer gives the question's field, or None if not understood."""
        simple = self.s.tries > 0
        own = [m for m in u.mentions if m.field == q.field]
        if q.kind is QuestionKind.yes_no:
            return self._yes_no(q, own, u.answer)
        if q.kind is QuestionKind.onset:
            onsets = [Onset(m.value) for m in own]
            if onsets:
                return onsets[0]
            return {
                Answer.yes: Onset.sudden,
                Answer.no: Onset.gradual,
                Answer.unknown: Onset.unknown,
            }.get(u.answer)  # type: ignore[arg-type]
        if q.kind in (QuestionKind.severity, QuestionKind.duration):
            number = u.severity if q.kind is QuestionKind.severity else u.duration_days
            if number is not None:
                return number
            if u.answer is Answer.unknown or (simple and u.answer is not None):
                return (q.fields[1], u.answer)  # the yes/no form: "severe", "more_than_a_week"
            return None
        if q.kind is QuestionKind.location:
            locations = [Location(m.value) for m in own]
            if locations:
                return locations
            return [] if u.answer is Answer.unknown else None
        raise AssertionError(q.kind)

    @staticmethod
    def _yes_no(q: Question, own: list[Mention], answer: Answer | None) -> Answer | None:
        """A clear mention decides; then the spoken yes/no; a vague word only when
        nothing else was said, and never against the spoken answer (then: ask again)."""
        definite = {Answer(m.value) for m in own if m.definite}
        for value in (Answer.yes, Answer.no, Answer.unknown):
            if value in definite:
                return value
        vague = {Answer(m.value) for m in own if not m.definite}
        if answer is not None:
            if answer is Answer.no and Answer.yes in vague:
                return None  # "no, but it's a bit numb": ask again, more simply
            if answer is Answer.unknown and q.unknown_means:
                return Answer(q.unknown_means)
            return answer
        for value in (Answer.yes, Answer.no, Answer.unknown):
            if value in vague:
                return value
        return None

    def _record(self, q: Question, value: object) -> None:
        if isinstance(value, tuple):  # the yes/no form of a numeric question
            name, answer = value
            self._set(name, answer)
        elif q.kind is QuestionKind.location:
            merged = list(dict.fromkeys([*self.s.report.pain.locations, *value]))  # type: ignore[misc]
            self._set("locations", merged)
        else:
            current = get_value(self.s.report, q.field)
            # A red flag already heard stays: a later "no" does not undo it.
            if not (current is Answer.yes and value is not Answer.yes):
                self._set(q.field, value)

    def _after_readback(self, u: Understanding) -> list[Action]:
        if u.answer is Answer.yes:
            return self._guidance()
        changed = self._apply_correction(u)
        if changed:
            return self._readback(fixed=True)
        if u.answer is Answer.no:
            self.s.turn = Turn.fix
            self.s.tries = 0
            return self._prompt([self.c.say("readback_fix")], Listen(Turn.fix))
        if self.s.tries < 1:
            self.s.tries += 1
            return self._prompt(
                [self.c.say("not_understood"), self.c.say("readback_confirm")],
                Listen(Turn.readback, QuestionKind.yes_no),
            )
        return self._guidance()

    def _apply_correction(self, u: Understanding) -> bool:
        """A correction in the same breath as the "no" ("no, it's been two weeks")."""
        before = self.s.report
        for m in u.mentions:
            self._apply(m, override=True)
        self._apply_numbers(u, override=True)
        return self.s.report != before

    def _after_fix(self, changed: bool) -> list[Action]:
        if changed:
            return self._readback(fixed=True)
        return [Say(self.c.say("readback_unclear")), *self._guidance()]

    # --- asking -------------------------------------------------------------------------------

    def _ask_open(self) -> list[Action]:
        self.s.turn, self.s.tries = Turn.open, 0
        return self._prompt([self.c.say("open_question")], Listen(Turn.open))

    def _reask_open(self, heard: bool) -> list[Action]:
        self.s.tries += 1
        lead = self.c.say("not_understood" if heard else "not_heard")
        return self._prompt([lead, self.c.say("open_simple")], Listen(Turn.open))

    def _next(self) -> list[Action]:
        q = self._pick()
        if q is None:
            return self._readback()
        self.s.turn, self.s.tries = q.id, 0
        self.s.asked.add(q.id)
        lead: list[str] = []
        if q.block is Block.screening and not self.s.said_screening_intro:
            self.s.said_screening_intro = True
            lead.append(self.c.say("screening_intro"))
        if q.block is Block.history and not self.s.said_history_intro:
            self.s.said_history_intro = True
            lead.append(self.c.say("history_intro"))
        return self._prompt([*lead, q.ask], Listen(q.id, q.kind))

    def _pick(self) -> Question | None:
        """Vague mentions first (red flags before anything else), then catalogue order."""
        self.s.follow_up = [
            qid
            for qid in self.s.follow_up
            if qid not in self.s.asked and self._open(self.c.question(qid))
        ]
        todo = [q for q in self.c.questions if q.id not in self.s.asked and self._open(q)]
        screening_left = any(q.block is Block.screening for q in todo)
        for qid in self.s.follow_up:
            q = self.c.question(qid)
            if q.block is Block.screening or not screening_left:
                self.s.follow_up.remove(qid)
                return q
        for q in todo:
            if q.block is Block.screening or q.always or self._could_change(q):
                return q
        return None

    def _open(self, q: Question) -> bool:
        """Whether the report still lacks this question's answer."""
        return all(
            get_value(self.s.report, f) in (Answer.unknown, Onset.unknown, None, [])
            for f in q.fields
            if f != "injury"
        )

    def _could_change(self, q: Question) -> bool:
        """Would any answer to this question change the disposition?"""
        now = disposition(self.s.report)
        candidates: tuple[object, ...] = {
            QuestionKind.yes_no: (Answer.yes, Answer.no),
            QuestionKind.onset: (Onset.sudden, Onset.gradual),
            QuestionKind.severity: (0, 10),
            QuestionKind.duration: (1, 60),
            QuestionKind.location: (),
        }[q.kind]
        return any(
            disposition(with_value(self.s.report, q.field, v)) is not now for v in candidates
        )

    def _not_understood(self, q: Question, heard: bool) -> list[Action]:
        if self.s.tries >= MAX_REASKS:
            # Left unknown, never "no": the rules and the guidance take it from here.
            self.s.asked.add(q.id)
            return [Say(self.c.say("moving_on")), *self._next()]
        self.s.tries += 1
        lead = self.c.say("not_understood" if heard else "not_heard")
        return self._prompt([lead, q.simple], Listen(q.id, q.kind))

    def _silence(self) -> list[Action]:
        self.s.silences += 1
        if self.s.silences >= self.walk_away_silences:
            self.s.done = True
            return [Say(self.c.say("no_response")), Finish(Ending.no_response, self.s.report)]
        if self.s.turn == Turn.open:
            if self.s.tries < MAX_REASKS:
                return self._reask_open(heard=False)
            return [Say(self.c.say("moving_on")), *self._next()]
        if self.s.turn == Turn.readback:
            return self._guidance()
        if self.s.turn == Turn.fix:
            return self._after_fix(changed=False)
        q = self._current_question()
        assert q is not None
        return self._not_understood(q, heard=False)

    def _prompt(
        self, lines: list[str], listen: Listen, repeat: list[str] | None = None
    ) -> list[Action]:
        """Say the lines and listen; "repeat" says ``repeat`` (default: the last line)."""
        self.s.last_prompt = repeat if repeat is not None else lines[-1:]
        return [*(Say(t) for t in lines), listen]

    def _current_question(self) -> Question | None:
        if self.s.turn in (Turn.open, Turn.readback, Turn.fix):
            return None
        return self.c.question(self.s.turn)

    def _relisten(self) -> Listen:
        q = self._current_question()
        kind = q.kind if q else (QuestionKind.yes_no if self.s.turn == Turn.readback else None)
        return Listen(self.s.turn, kind)

    # --- commands -----------------------------------------------------------------------------

    def _command(self, command: Command) -> list[Action]:
        if command is Command.stop:
            self.s.done = True
            return [Say(self.c.say("stopped")), Finish(Ending.stopped, self.s.report)]
        if command is Command.start_over:
            return [Say(self.c.say("start_over")), *self.start()]
        again = [Say(t) for t in self.s.last_prompt] or [Say(self.c.say("repeat_nothing"))]
        if command is Command.repeat:
            return [*again, self._relisten()]
        if command is Command.slower:
            return [SpeakSlower(), Say(self.c.say("slower")), *again, self._relisten()]
        return [Say(self.c.say("help")), *again, self._relisten()]  # help

    # --- endings --------------------------------------------------------------------------------

    def _emergency(self) -> list[Action]:
        """At once: no read-back, no further question."""
        self.s.done = True
        decision = decide(self.s.report, self.c)
        return [
            Say(decision.guidance, Priority.emergency),
            Finish(Ending.guidance, self.s.report, decision),
        ]

    def _readback(self, fixed: bool = False) -> list[Action]:
        if self._emergency_fired():  # a correction can reveal a red flag
            return self._emergency()
        if self.s.fixes >= MAX_FIXES:
            return self._guidance()
        if fixed:
            self.s.fixes += 1
        self.s.turn, self.s.tries = Turn.readback, 0
        body = [self.c.say("readback_intro"), *self._summary(), self.c.say("readback_confirm")]
        lead = [self.c.say("readback_fixed")] if fixed else []
        return self._prompt([*lead, *body], Listen(Turn.readback, QuestionKind.yes_no), body)

    def _summary(self) -> list[str]:
        """One or two sentences: the pain, then anything else that matters."""
        r, say = self.s.report, self.c.say
        pain = r.pain
        if pain.locations:
            names = [self.c.dialog["locations"][loc.value] for loc in pain.locations]
            parts = [say("pain_in", locations=_join(names, say("and")))]
        else:
            parts = [say("pain_unplaced")]
        if pain.duration_days is not None:
            parts.append(say("for_days", days=self._days(pain.duration_days)))
        elif pain.more_than_a_week is not Answer.unknown:
            key = "over_a_week" if pain.more_than_a_week is Answer.yes else "a_week_or_less"
            parts.append(say("for_days", days=say(key)))
        if pain.severity is not None:
            parts.append(say("score", score=pain.severity))
        elif pain.severe is Answer.yes:
            parts.append(say("severe_no_score"))
        if pain.onset is Onset.sudden:
            parts.append(say("came_on_suddenly"))
        elif pain.onset is Onset.gradual:
            parts.append(say("came_on_gradually"))
        sentences = [" ".join(parts) + "."]
        decision = decide(r, self.c)
        skip = {"severe", "more_than_a_week", "severity", "duration_days", "onset"}
        items = [self.c.label(f) for f in decision.pertinent_positives if f not in skip]
        if items:
            sentences.append(say("you_mentioned", items=_join(items, say("and"))))
        if decision.unresolved:
            unsure = [self.c.label(f) for f in decision.unresolved]
            sentences.append(say("unsure_about", items=_join(unsure, say("and"))))
        elif any(get_value(r, f) is Answer.no for f in EMERGENCY_FIELDS):
            sentences.append(say("no_warning_signs"))
        return sentences

    def _days(self, days: int) -> str:
        say = self.c.say
        if days == 0:
            return say("less_than_a_day")
        if days % 7 == 0 and days >= 14:
            return say("weeks", n=days // 7)
        if days == 7:
            return say("one_week")
        return say("one_day") if days == 1 else say("days", n=days)

    def _guidance(self) -> list[Action]:
        if self._emergency_fired():
            return self._emergency()
        self.s.done = True
        decision = decide(self.s.report, self.c)
        lines = [decision.guidance]
        if decision.watch_for:
            lines += [self.c.guidance.unknown["intro"], *decision.watch_for]
        lines += [decision.safety_net, decision.disclaimer, self.c.say("goodbye")]
        return [*(Say(t) for t in lines), Finish(Ending.guidance, self.s.report, decision)]


def _join(items: list[str], conjunction: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
