"""The question flow as a state machine: ``start()``, then ``handle(event)`` until ``Finish``.

No I/O and no clock (the date is handed in). Text and voice front ends drive the same
object. What is decided elsewhere, as pure functions with their own tests: what an
utterance does to the report (``kiosk.answers``), which question comes next
(``kiosk.question_choice``), what the read-back says (``kiosk.readback``) and the
disposition (``kiosk.rules``). What is left here is the turn-by-turn bookkeeping:

* every utterance, in any turn, is searched for symptom mentions; a red flag ends the
  questioning at once with the emergency guidance, before commands or read-backs;
* an answer that is not understood is asked again in a simpler yes/no form at most
  twice, then left *unknown*, which the rules never read as "no";
* a correction at the read-back is applied once, then read back for confirmation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from kiosk.answers import (
    UNSPECIFIED_SIGN,
    Reading,
    Update,
    apply,
    mention_updates,
    read_answer,
    unshared,
    volunteered,
)
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
from kiosk.question_choice import could_change, next_question
from kiosk.readback import summary
from kiosk.rules import EMERGENCY_FIELDS, Disposition, decide, fired
from kiosk.symptoms import Answer, SymptomReport, get_value
from kiosk.understanding import Understander, Understanding

MAX_REASKS = 2
"""An answer not understood is asked again (more simply) at most this many times."""

MAX_CHECKS = 2
"""Checks of one red flag answered "no" before hearing it again counts as misheard."""

WALK_AWAY_SILENCES = 4
"""Consecutive silences after which the person is taken to have walked away."""

STRUGGLING_AFTER = 2
"""Questions in a row left unanswered after their re-asks before the kiosk takes it
that it cannot make this person out (an accent its recognizer does not know, a loud
room): from then on each question is asked once more at most, and a group's signs are
not asked one by one. Such a person used to be asked 50-60 questions (every sign of
every group, three times each), each one another chance to mishear a red flag. Every
group is still asked, so a red flag they say is still heard; what stays unanswered
keeps the guidance at least urgent."""

LOST_WORDS = 3
"""A spoken "no" followed by at least this many words nothing was made of is, on an
emergency question, a "no, but ..." whose "but" was lost (see ``Dialog._lost_but``).
On one tune voice's 15 dB traces a plain "no" was followed by this many in 2 of 260
answers, both heard as "no" by the other decode too. On two tune voices' traces (15 dB,
about 700 answers to emergency questions) the rule, with denials of the sign itself,
takes 8 answers as not understood, and all 8 were a red flag after "no, but" or
"uh huh": none was a plain "no"."""

MAX_FIXES = 2
"""Rounds of read-back correction before the guidance is given anyway."""


class Turn(StrEnum):
    open = "open"
    readback = "readback"
    fix = "fix"
    confirm = "confirm"
    check = "check"


CONFIRMED = {Command.stop: "confirm_stop", Command.start_over: "confirm_start_over"}
"""Commands that end or restart the session: confirmed when they were heard by voice."""


@dataclass
class _State:
    report: SymptomReport = field(default_factory=SymptomReport)
    turn: str = Turn.open
    tries: int = 0
    asked: list[str] = field(default_factory=list)
    follow_up: list[str] = field(default_factory=list)
    last_prompt: list[str] = field(default_factory=list)
    silences: int = 0
    given_up: int = 0
    """Questions in a row moved on from without an answer."""
    unanswered: list[str] = field(default_factory=list)
    """Questions moved on from without an answer."""
    struggling: bool = False
    """The kiosk cannot make this person out: fewer re-asks, no sign-by-sign questions."""
    fixes: int = 0
    said_screening_intro: bool = False
    done: bool = False
    pending: Command | None = None
    """A spoken stop/start over awaiting "yes"; ``resume`` is the turn it interrupted."""
    resume: str = Turn.open
    resume_prompt: list[str] = field(default_factory=list)
    flagged: SymptomReport | None = None
    """The report as it would be if a red flag heard by voice alone is confirmed."""
    flagged_words: str = ""
    """What was heard that raised it (memory only, for the session)."""
    checked: list[str] = field(default_factory=list)
    """Signs already checked once: heard again, they are taken as confirmed (two
    hearings agree), so nobody is asked twice."""
    denied: list[str] = field(default_factory=list)
    """Red flags (a field, or "turn:<id>" for one without a yes/no field) whose check
    the person answered "no", once per "no": heard again, they are checked again, and
    after a second "no" the answer is taken as misheard. "A sign heard again counts as
    confirmed" used to override their "no": "about a four" heard as "about a fall"
    twice sent a self-care patient to 911."""
    checked_turns: list[str] = field(default_factory=list)
    """Turns a check was asked from: a red flag that is no yes/no field ("sudden" and
    "severe") heard again there is confirmed the same way. Without this the kiosk
    asked the check and the question again and again (60 turns in the benchmark)."""


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
        if self.s.turn == Turn.confirm:
            return self._after_confirm(event)
        if self.s.turn == Turn.check:
            return self._after_check(event)
        if event.spoken and event.second and self._answer_matters():
            q = self._current_question()
            assert q is not None
            mine, other = self._side(event.text), self._side(event.second)
            if mine is Answer.no and other is Answer.yes:
                return self._not_understood(q, heard=True)  # the two decodes disagree
            if mine is None and other is Answer.yes:
                # Only the independent decode made it out: a weak "yes", so checked.
                event = Heard(event.second, spoken=True, second=event.text)
        saved = copy.deepcopy(self.s)
        actions = self._handle(event)
        if event.spoken and _is_emergency(actions):
            new = _new_red_flags(saved.report, self.s.report)
            if self._agrees(saved, new, event.second) and not self._vague(saved, event, new):
                return actions
            keys = new or [f"turn:{saved.turn}"]
            if all(saved.denied.count(k) >= MAX_CHECKS for k in keys):
                return self._misheard(saved)  # "no" to its check, twice: not what was said
            first = (
                any(f not in saved.checked for f in new)
                if new
                else (saved.turn not in saved.checked_turns)
            )
            if first or any(k in saved.denied for k in keys):
                return self._check(saved, event.text)
            # checked before, the check not denied (not understood), and heard again
        return actions

    def _agrees(self, saved: _State, new: list[str], second: str) -> bool:
        """Does the independent decode, read at the same moment, raise one of the same
        red flags, in words of its own? Two decodes agreeing is what lets a spoken red
        flag act at once. A vague word in the other decode is no agreement: "no, my
        chest is fine" heard as "no my chest is tight", the other decode "oh my chest
        is i've", sent a self-care patient to 911 without a check."""
        if not second.strip():
            return False
        mine = self.s
        self.s = copy.deepcopy(saved)
        try:
            actions = self._handle(Heard(second))
            other = _new_red_flags(saved.report, self.s.report)
        finally:
            self.s = mine
        said = self._read(second, saved.turn).mentions
        worded = {m.field for m in said if m.definite and m.value == Answer.yes}
        return _is_emergency(actions) and bool(set(new) & set(other) & worded)

    def _vague(self, saved: _State, event: Heard, new: list[str]) -> bool:
        """Was the red flag carried by no whole red-flag phrase: a bare yes-word, or a
        vague word of it ("breathing")? Typed, either is a fair "yes" to the sign's own
        question; heard, it is the likeliest thing for babble to make of a short "no"
        ("no" heard as "yah" and "ya know" by both decodes; "no, I'm breathing fine" as
        "i'm breathing"), so it is checked first, never acted on at once. So is one
        carried only by a word that sounds like an everyday one ("slept" heard as
        "slipped": the catalogue's ``sounds_like``)."""

        def definite(text: str) -> bool:
            u = self._read(text, saved.turn)
            return any(m.definite for m in u.mentions if m.field in new)

        everyday = self._everyday(event.text, saved.turn)
        return not definite(event.text) or (everyday is not None and not definite(everyday))

    def _everyday(self, text: str, turn: str) -> str | None:
        """The utterance with look-alike words read as the everyday ones they are often
        made of, at this turn (the catalogue's ``sounds_like``); None if it has none."""
        q = self._question_at(turn)
        return self.c.understanding.everyday(text, q.kind if q else None)

    def _read(self, text: str, turn: str) -> Understanding:
        """Understand what was said as an answer at ``turn``."""
        q = self._question_at(turn)
        correcting = turn in (Turn.readback, Turn.fix)
        return self.understand(
            text, expecting=q.kind if q else None, today=self.today, correction=correcting
        )

    def _handle(self, event: Heard) -> list[Action]:
        correcting = self.s.turn in (Turn.readback, Turn.fix)
        u = self._read(event.text, self.s.turn)
        if event.spoken and self._lost_but(u, event.second):
            # not understood: asked again, more simply; and what that "no" denied goes
            # with it ("none of up into my jaw" was "uh huh, up into my jaw")
            kept = tuple(m for m in u.mentions if m.value != Answer.no)
            u = replace(u, answer=None, mentions=kept)
        if event.spoken:
            u = self._or_everyday(u)
        before = self.s.report
        reading = self._in_passing(u, override=correcting)
        if event.spoken:  # signs said in passing count when both decodes heard them
            reading = unshared(reading, self._read(event.second, self.s.turn))
        self.s.report = apply(self.s.report, reading.updates)
        self._queue_follow_ups(reading.follow_up)
        if self._emergency_fired():
            return self._emergency()
        if u.command in CONFIRMED and event.spoken:
            return self._confirm(u.command)
        if u.command is not None:
            return self._command(u.command)
        changed = self.s.report != before
        after: dict[str, Callable[[Understanding, bool], list[Action]]] = {
            Turn.open: self._after_open,
            Turn.readback: self._after_readback,
            Turn.fix: self._after_fix,
        }
        return after.get(self.s.turn, self._after_answer)(u, changed)

    def wants_second(self, text: str) -> bool:
        """Does this final result need the independent decode of the same audio? When it
        carries a red flag, and when it answers an emergency sign's question or a check:
        there a "yes" heard as "no" is the error that costs a life. And when it says
        "yes" to a sign in passing: that is taken only if both decodes heard it."""
        matters = self.s.turn == Turn.check or self._answer_matters()
        return matters or self.red_flag_in(text) or self._volunteers(text)

    def _volunteers(self, text: str) -> bool:
        """Does the utterance say "yes" to a sign in passing (see ``unshared``)?"""
        return bool(volunteered(self._in_passing(self._read(text, self.s.turn))))

    def _in_passing(self, u: Understanding, override: bool = False) -> Reading:
        """What an utterance says besides the answer to the question asked."""
        q = self._current_question()
        return mention_updates(u, skip=q.fields if q else (), override=override)

    def _or_everyday(self, u: Understanding) -> Understanding:
        """A spoken answer that answers nothing, read with its look-alike words as the
        everyday ones: at "how bad, 0 to 10?" a British "about a four" came out as
        "about a full" again and again, and the pain's severity stayed unknown."""
        q = self._current_question()
        everyday = self._everyday(u.text, self.s.turn)
        if q is None or everyday is None or read_answer(q, u, self.s.tries > 0) is not None:
            return u
        alike = self._read(everyday, self.s.turn)
        if not set(u.mentions) <= set(alike.mentions):
            return u  # "about a fall" may be a fall: that goes through its check
        return alike if read_answer(q, alike, self.s.tries > 0) is not None else u

    def _lost_but(self, u: Understanding, second: str) -> bool:
        """Is this "no" to an emergency question the start of a "no, but ..." whose rest
        was lost? "No chest pain, but I can't catch my breath" was heard as "no get a
        hold my can't catch my really i both foot stay on so", and the leading "no"
        ended an emergency in "self care". Unless the other decode heard a "no" too, it
        is not taken: an unknown answer to an emergency question is never "no". The "no"
        may be a denial of the sign itself ("haven't into my jaw sometimes" was "uh huh,
        up into my jaw sometimes")."""
        if u.unplaced < LOST_WORDS or not self._answer_matters() or not self._denies(u):
            return False
        return not self._denies(self._read(second, self.s.turn))

    def _denies(self, u: Understanding) -> bool:
        """Does the utterance say "no" to the question asked, in a word or of its sign?"""
        q = self._current_question()
        asked = q.fields if q else ()
        return u.answer is Answer.no or any(
            m.value == Answer.no for m in u.mentions if m.field in asked
        )

    def _answer_matters(self) -> bool:
        q = self._current_question()
        if q is None or q.kind is not QuestionKind.yes_no:
            return False
        return any(f in EMERGENCY_FIELDS for f in q.fields)

    def _side(self, text: str) -> Answer | None:
        """Which way an utterance answers the question asked: yes (a "yes", or a red
        flag of any kind), no, or neither."""
        if self.red_flag_in(text):
            return Answer.yes
        u = self._read(text, self.s.turn)
        return u.answer if u.answer in (Answer.yes, Answer.no) else None

    def red_flag_in(self, text: str | Heard) -> bool:
        """Would hearing this now end the session with the emergency guidance?

        Asked of partial recognition results, so the kiosk can act before the person
        has finished the sentence: plain text says whether it carries a red flag at
        all; a spoken ``Heard`` with its second opinion says whether it would act at
        once. Changes nothing: it tries on a copy of the state.
        """
        event = text if isinstance(text, Heard) else Heard(text)
        if self.s.done or not event.text.strip():
            return False
        saved = copy.deepcopy(self.s)
        try:
            actions = self.handle(event)
        finally:
            self.s = saved
        return _is_emergency(actions)

    # --- the transitions ----------------------------------------------------------------------

    def _after_open(self, u: Understanding, changed: bool) -> list[Action]:
        understood = u.about_pain or changed or bool(u.mentions)
        if not understood and self.s.tries < 1:
            return self._reask_open(heard=True)
        return self._next()

    def _after_answer(self, u: Understanding, changed: bool) -> list[Action]:
        q = self._current_question()
        assert q is not None
        updates = read_answer(q, u, simple=self.s.tries > 0)
        if updates is None:
            return self._not_understood(q, heard=True)
        self.s.report = apply(self.s.report, updates)
        self.s.given_up = 0
        if self._emergency_fired():
            return self._emergency()
        return self._next()

    def _after_readback(self, u: Understanding, changed: bool) -> list[Action]:
        if changed:  # "no, I do have a cough": applied once, then read back
            return self._readback(fixed=True)
        if u.answer is Answer.yes:
            return self._guidance()
        if u.answer is Answer.no:
            self.s.turn, self.s.tries = Turn.fix, 0
            return self._prompt([self.c.say("readback_fix")], Listen(Turn.fix))
        if self.s.tries < 1:
            self.s.tries += 1
            return self._prompt(
                [self.c.say("not_understood"), self.c.say("readback_confirm")],
                Listen(Turn.readback, QuestionKind.yes_no),
            )
        return self._guidance()

    def _after_fix(self, u: Understanding, changed: bool) -> list[Action]:
        if changed:
            return self._readback(fixed=True)
        return [Say(self.c.say("readback_unclear")), *self._guidance()]

    def _confirm(self, command: Command) -> list[Action]:
        self.s.pending = command
        self.s.resume, self.s.resume_prompt = self.s.turn, self.s.last_prompt
        self.s.turn = Turn.confirm
        return self._prompt(
            [self.c.say(CONFIRMED[command])], Listen(Turn.confirm, QuestionKind.yes_no)
        )

    def _after_confirm(self, event: Heard) -> list[Action]:
        """Yes (or the command again) carries it out; anything else carries on, so a
        misheard word never ends a session without guidance. Red flags still count."""
        u = self.understand(event.text, expecting=QuestionKind.yes_no, today=self.today)
        self.s.report = apply(self.s.report, mention_updates(u).updates)
        if self._emergency_fired():
            return self._emergency()
        command, self.s.pending = self.s.pending, None
        if u.answer is Answer.yes or (command is not None and u.command is command):
            assert command is not None
            return self._command(command)
        return self._carry_on()

    # --- a red flag heard by voice alone ---------------------------------------------------------

    def _check(self, saved: _State, heard: str) -> list[Action]:
        """One short question before "Call 911": the tentative red flag is held aside."""
        flagged, self.s = self.s.report, saved
        self.s.flagged, self.s.flagged_words = flagged, heard
        self.s.resume, self.s.resume_prompt = saved.turn, saved.last_prompt
        q = self._current_question()
        self.s.done, self.s.turn = False, Turn.check
        new = _new_red_flags(saved.report, flagged)
        self.s.checked += [f for f in new if f not in self.s.checked]
        self.s.checked_turns.append(self.s.resume)
        if new == [UNSPECIFIED_SIGN] and q is not None:
            line = self.c.say("check_group", question=q.ask)
        else:
            what = self.c.label(new[0]) if new else self.c.label(UNSPECIFIED_SIGN)
            line = self.c.say("check_red_flag", what=what)
        return self._prompt([line], Listen(Turn.check, QuestionKind.yes_no))

    def _after_check(self, event: Heard) -> list[Action]:
        """Yes: the emergency guidance. No: back to where we were. Anything else: the
        sign's own question, whose unknown answer keeps the safety rule (urgent)."""
        u = self.understand(event.text, expecting=QuestionKind.yes_no, today=self.today)
        flagged = self.s.flagged  # the state itself is the one before that utterance
        assert flagged is not None
        new = _new_red_flags(self.s.report, flagged)
        if event.second and u.answer in (Answer.yes, Answer.no):
            other = self.understand(event.second, expecting=QuestionKind.yes_no, today=self.today)
            if {u.answer, other.answer} == {Answer.yes, Answer.no}:
                # The two decodes disagree: neither is taken; the sign's own question
                # comes next, and an answer that stays unknown keeps it at least urgent.
                u = Understanding(text="")
        if u.answer is Answer.yes:
            self.s.report = flagged
            return self._emergency()
        self.s.flagged = None
        self.s.report = apply(self.s.report, mention_updates(u).updates)
        if self._emergency_fired():  # another red flag, said while answering the check
            return self._emergency()
        if u.answer is Answer.no:
            self.s.denied += new or [f"turn:{self.s.resume}"]
            return self._everyday_answer() or self._carry_on()
        return self._ask_about(new)

    def _everyday_answer(self) -> list[Action] | None:
        """After "no" to "did you mention a fall?", what was heard ("about a fall", at
        "how bad, 0 to 10?") read with its look-alike words as the everyday ones ("about
        a four"): the answer to the question it interrupted, if it is one."""
        q = self._question_at(self.s.resume)
        everyday = self._everyday(self.s.flagged_words, self.s.resume)
        if q is None or everyday is None:
            return None
        updates = read_answer(q, self._read(everyday, self.s.resume), simple=self.s.tries > 0)
        if not updates:
            return None
        self.s.turn = self.s.resume
        self.s.report = apply(self.s.report, updates)
        if self._emergency_fired():
            return self._emergency()
        return [Say(self.c.say("carry_on")), *self._next()]

    def _misheard(self, saved: _State) -> list[Action]:
        """The answer, read as not understood: back to the state before it."""
        self.s = saved
        q = self._current_question()
        if q is not None:
            return self._not_understood(q, heard=True)
        if self.s.turn == Turn.open:
            return self._reask_open(heard=True) if self.s.tries < 1 else self._next()
        if self.s.turn == Turn.fix:
            return self._after_fix(Understanding(text=""), changed=False)
        return self._guidance()

    def _ask_about(self, fields: list[str]) -> list[Action]:
        """Ask the flagged signs' own questions next, then the interrupted one again."""
        names = [f for f in fields if f != UNSPECIFIED_SIGN]
        if not names and self.s.resume not in set(Turn):  # a "yes" to a group: each sign
            names = list(self.c.question(self.s.resume).members)
        # What was heard puts any earlier "no" in doubt: the sign is open again.
        self.s.report = apply(self.s.report, [Update(n, Answer.unknown, True) for n in names])
        again = [q.id for n in names if (q := self.c.question_for(n)) is not None]
        self.s.asked = [a for a in self.s.asked if a not in again and a != self.s.resume]
        self.s.follow_up = [
            q.id for n in names if (q := self.c.question_for(n)) is not None
        ] + self.s.follow_up
        return [Say(self.c.say("carry_on")), *self._next()]

    def _carry_on(self) -> list[Action]:
        self.s.turn, self.s.last_prompt = self.s.resume, self.s.resume_prompt
        again = [Say(t) for t in self.s.last_prompt]
        return [Say(self.c.say("carry_on")), *again, self._relisten()]

    # --- asking -------------------------------------------------------------------------------

    def _ask_open(self) -> list[Action]:
        self.s.turn, self.s.tries = Turn.open, 0
        return self._prompt([self.c.say("open_question")], Listen(Turn.open))

    def _reask_open(self, heard: bool) -> list[Action]:
        self.s.tries += 1
        lead = self.c.say("not_understood" if heard else "not_heard")
        return self._prompt([lead, self.c.say("open_simple")], Listen(Turn.open))

    def _next(self) -> list[Action]:
        q = next_question(self.c, self.s.report, self.s.asked, self.s.follow_up)
        if q is None:
            return self._readback()
        if q.id in self.s.follow_up:
            self.s.follow_up.remove(q.id)
        self.s.turn, self.s.tries = q.id, 0
        self.s.asked.append(q.id)
        lead: list[str] = []
        if q.block is Block.screening and not self.s.said_screening_intro:
            self.s.said_screening_intro = True
            lead.append(self.c.say("screening_intro"))
        return self._prompt([*lead, q.ask], Listen(q.id, q.kind))

    def _queue_follow_ups(self, fields: tuple[str, ...]) -> None:
        for name in fields:
            q = self.c.question_for(name)
            if q and q.id not in self.s.asked and q.id not in self.s.follow_up:
                self.s.follow_up.append(q.id)

    def _not_understood(self, q: Question, heard: bool) -> list[Action]:
        # A question no answer could change the guidance with (where the pain is: for
        # the read-back) is asked again once: in a loud room it cost three turns a time.
        light = self.s.struggling or not could_change(q, self.s.report)
        if self.s.tries >= (1 if light else MAX_REASKS):
            # Left unknown, never "no": the rules and the guidance take it from here.
            self.s.given_up += 1
            self.s.unanswered.append(q.id)
            lead = [self.c.say("moving_on")]
            if self.s.given_up >= STRUGGLING_AFTER and not self.s.struggling:
                self.s.struggling = True
                lead = [self.c.say("hard_to_understand")]
            if self.s.struggling:  # signs of groups left unanswered stay unknown
                groups = [self.c.question(g) for g in self.s.unanswered]
                signs = [self.c.question_for(m) for g in groups for m in g.members]
                self.s.asked += [sign.id for sign in signs if sign and sign.id not in self.s.asked]
            return [*(Say(t) for t in lead), *self._next()]
        self.s.tries += 1
        lead = self.c.say("not_understood" if heard else "not_heard")
        return self._prompt([lead, q.simple], Listen(q.id, q.kind))

    def _silence(self) -> list[Action]:
        self.s.silences += 1
        if self.s.silences >= self.walk_away_silences:
            self.s.done = True
            # A sign heard but never confirmed or denied: say what to do about it.
            doubted = [self.c.watch_for(f) for f in self.s.checked if self._still_open(f)]
            lines = [self.c.say("no_response"), *dict.fromkeys(w for w in doubted if w)]
            return [*(Say(t) for t in lines), Finish(Ending.no_response, self.s.report)]
        if self.s.turn == Turn.confirm:
            self.s.pending = None
            return self._carry_on()
        if self.s.turn == Turn.check:
            return self._after_check(Heard(""))
        if self.s.turn == Turn.open:
            if self.s.tries < MAX_REASKS:
                return self._reask_open(heard=False)
            return [Say(self.c.say("moving_on")), *self._next()]
        if self.s.turn == Turn.readback:
            return self._guidance()
        if self.s.turn == Turn.fix:
            return self._after_fix(Understanding(text=""), changed=False)
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
        return self._question_at(self.s.turn)

    def _question_at(self, turn: str) -> Question | None:
        """The catalogue question a turn asks; None for the dialog's own turns."""
        return None if turn in set(Turn) else self.c.question(turn)

    def _relisten(self) -> Listen:
        q = self._current_question()
        yes_no = self.s.turn in (Turn.readback, Turn.confirm, Turn.check)
        kind = q.kind if q else (QuestionKind.yes_no if yes_no else None)
        return Listen(self.s.turn, kind)

    def _still_open(self, name: str) -> bool:
        return get_value(self.s.report, name) is not Answer.no

    def _emergency_fired(self) -> bool:
        return any(r.level is Disposition.emergency for r in fired(self.s.report))

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
        body = [summary(self.c, self.s.report), self.c.say("readback_confirm")]
        lead = [self.c.say("readback_fixed")] if fixed else []
        return self._prompt([*lead, *body], Listen(Turn.readback, QuestionKind.yes_no), body)

    def _guidance(self) -> list[Action]:
        if self._emergency_fired():
            return self._emergency()
        self.s.done = True
        decision = decide(self.s.report, self.c)
        lines = [decision.guidance]
        if decision.watch_for:
            lines += [self.c.guidance.unknown["intro"], *decision.watch_for]
        # The disclaimer was said in the greeting; "goodbye" says where to turn if worried.
        lines += [decision.safety_net, self.c.say("goodbye")]
        return [*(Say(t) for t in lines), Finish(Ending.guidance, self.s.report, decision)]


def _is_emergency(actions: list[Action]) -> bool:
    return any(isinstance(a, Say) and a.priority is Priority.emergency for a in actions)


def _new_red_flags(before: SymptomReport, after: SymptomReport) -> list[str]:
    """Emergency signs that became "yes" between two reports."""
    return [
        f
        for f in EMERGENCY_FIELDS
        if get_value(after, f) is Answer.yes and get_value(before, f) is not Answer.yes
    ]
