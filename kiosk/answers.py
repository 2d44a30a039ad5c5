"""What an utterance does to the report: typed field updates, decided without state.

Two sources: the *answer* to the question asked (``read_answer``), and *mentions* said in
passing, in any turn (``mention_updates``). Both return ``Update`` values; ``apply`` puts
them into a report. Pure: the dialog owns the state, these only decide.

Safety rules kept here:

* a "yes" already in the report stays: a later "no" or a vaguer word does not undo it;
* "no" with a vague word of the question's own symptom ("no, but it's a bit numb") is
  not an answer: the question is asked again, more simply;
* "I don't know" leaves a field unknown, which the rules never read as "no".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.catalogue import Question, QuestionKind
from kiosk.rules import ALARMING_WHEN_NO, ALARMING_WHEN_YES, EMERGENCY_FIELDS, emergency_on_its_own
from kiosk.symptoms import Answer, Injury, Location, Onset, SymptomReport, get_value, with_value
from kiosk.understanding import Mention, Understanding

UNSPECIFIED_SIGN = "emergency_sign_unspecified"

SHORT_ANSWER = 12
"""A vague word of the question's own symptom is an answer ("it's more like a
pressure") only in a reply this short; in a long story it is asked about instead."""


@dataclass(frozen=True)
class Update:
    """Set one report field. ``override`` lets a correction replace what was there."""

    field: str
    value: object
    override: bool = False


@dataclass(frozen=True)
class Reading:
    """What was said in passing: updates, and vague words to ask about next."""

    updates: tuple[Update, ...]
    follow_up: tuple[str, ...]


_EMPTY = (Answer.unknown, Onset.unknown, None, [])


def is_empty(value: object) -> bool:
    return any(value is e or value == e for e in _EMPTY)


# --- applying -------------------------------------------------------------------------


def apply(report: SymptomReport, updates: Iterable[Update]) -> SymptomReport:
    """The report with the updates in, keeping what must be kept (see module doc)."""
    for u in updates:
        current = get_value(report, u.field)
        value = u.value
        if u.field == "locations":
            merged = list(dict.fromkeys([*current, *value]))  # type: ignore[misc]
            value = value if u.override and value else merged
        elif not u.override and _kept(u.field, current):
            continue
        if value == current:
            continue
        report = with_value(report, u.field, value)
    return report


def _kept(name: str, current: object) -> bool:
    """Whether a value stays unless corrected: a "yes" (a red flag already heard stays),
    and an onset, score or duration already given."""
    if isinstance(current, Answer):
        return current is Answer.yes
    return name in ("onset", "severity", "duration_days") and not is_empty(current)


# --- mentions said in passing ---------------------------------------------------------------


def mention_updates(u: Understanding, skip: Iterable[str] = (), override: bool = False) -> Reading:
    """Every mention and number in the utterance, except clear mentions of the fields in
    ``skip`` (the question's own, read by ``read_answer``)."""
    skipped = set(skip)
    updates: list[Update] = []
    follow: list[str] = []
    places: list[Location] = []
    for m in u.mentions:
        vague = not m.definite or m.value == Answer.unknown
        if m.field in skipped and not vague:
            continue
        if m.field == "locations":
            places.append(Location(m.value))
        elif m.field == "onset":
            updates.append(Update("onset", Onset(m.value), override))
        elif m.field == "injury":
            updates.append(Update("injury", Injury(m.value), True))
        elif vague:
            # Too vague to act on ("numb", "maybe some numbness"): ask about it next,
            # unless the answer to the question asked settles it.
            if m.value != Answer.no:
                follow.append(m.field)
        else:
            updates.append(Update(m.field, Answer(m.value), override))
    # one update: a correction ("no, it's in my lower back") replaces them all, one that
    # adds ("...too") joins them
    if places:
        updates.append(Update("locations", places, override and not u.adding))
    if u.severity is not None and "severity" not in skipped:
        updates.append(Update("severity", u.severity, override))
    if u.duration_days is not None and "duration_days" not in skipped:
        updates.append(Update("duration_days", u.duration_days, override))
    return Reading(tuple(updates), tuple(dict.fromkeys(follow)))


def volunteered(reading: Reading) -> tuple[str, ...]:
    """Signs a reading answers in passing in the way that asks for more care (a cough's
    "yes", a known cause's "no"), other than emergency signs (those have their own
    check before "Call 911", in kiosk.dialog). A reassuring answer ("I think from
    sitting at my desk": a known cause) is taken as said, so it is not asked again."""
    return tuple(
        u.field
        for u in reading.updates
        if u.field not in EMERGENCY_FIELDS
        and (
            (u.value is Answer.yes and u.field in ALARMING_WHEN_YES)
            or (u.value is Answer.no and u.field in ALARMING_WHEN_NO)
        )
    )


def unshared(reading: Reading, other: Understanding) -> Reading:
    """A spoken reading whose volunteered signs the other decode of the same speech does
    not also hear: those are asked about (follow-ups), not taken. In a grammar full of
    catalogue phrases babble comes out as catalogue phrases: a "no" in a noisy pharmacy
    was heard as "no i cough", and a cough nobody mentioned made self-care patients
    urgent and skipped the questions that would have shown it (21 of 31 wrongly urgent
    tune sessions in the spoken benchmark)."""
    shared = {(m.field, m.value) for m in other.mentions}
    said = {u.field: u.value for u in reading.updates}
    doubted = {f for f in volunteered(reading) if (f, said[f]) not in shared}
    if not doubted:
        return reading
    kept = tuple(u for u in reading.updates if u.field not in doubted)
    return Reading(kept, tuple(dict.fromkeys([*reading.follow_up, *sorted(doubted)])))


# --- the answer to the question asked -------------------------------------------------------


def read_answer(q: Question, u: Understanding, simple: bool = False) -> list[Update] | None:
    """The updates an answer gives the question's own fields; None if not understood.

    ``simple`` is set when the question was asked again in its yes/no form.
    """
    asked = q.members or (q.field,)  # not derived fields: "injury" is no yes/no
    short = len(u.text.split()) <= SHORT_ANSWER
    own = [m for m in u.mentions if m.field in asked and (m.definite or short)]
    if q.kind is QuestionKind.yes_no:
        if q.is_group:
            return _group(q, own, u.answer)
        value = _yes_no(q, own, u.answer)
        return None if value is None else [Update(q.field, value)]
    if q.kind is QuestionKind.onset:
        onsets = [Onset(m.value) for m in own]
        if onsets:
            return [Update("onset", onsets[0])]
        if u.answer is Answer.unknown:
            return []
        # A bare yes or no answers only the simple form ("Did the pain start suddenly?").
        # To "suddenly, or slowly?" it says neither; heard, it was babble ("slowly"
        # came out as "absolutely", a yes-word, which read as "sudden").
        by_answer = {Answer.yes: Onset.sudden, Answer.no: Onset.gradual}
        return [Update("onset", by_answer[u.answer])] if simple and u.answer in by_answer else None
    if q.kind in (QuestionKind.severity, QuestionKind.duration):
        number = u.severity if q.kind is QuestionKind.severity else u.duration_days
        if number is not None:
            return [Update(q.field, number)]
        if u.answer is Answer.unknown:
            return []
        if simple and u.answer is not None:  # the yes/no form: "severe", "more_than_a_week"
            return [Update(q.fields[1], u.answer)]
        return None
    if q.kind is QuestionKind.location:
        locations = [Location(m.value) for m in own]
        if locations:
            return [Update("locations", locations)]
        return [] if u.answer is Answer.unknown else None
    raise AssertionError(q.kind)


def _yes_no(q: Question, own: list[Mention], answer: Answer | None) -> Answer | None:
    """A clear mention decides; then the spoken yes/no; a vague word of the question's
    own symptom counts as "yes" when nothing else was said ("it's more like a pressure"),
    and never against the spoken answer (then: ask again)."""
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


def _group(q: Question, own: list[Mention], answer: Answer | None) -> list[Update] | None:
    """An answer to "Any of these: a, b or c?".

    Members named clearly take their own value. "No" settles the rest. "Yes" with no
    member named is an emergency when every member is one on its own; otherwise the
    members stay open and are asked one by one. "I don't know" leaves them open too.
    """
    values: dict[str, Answer] = {}
    for name in q.members:
        mine = [m for m in own if m.field == name]
        if not mine:
            continue
        value = _yes_no(q, mine, answer)
        if value is None:
            return None  # "no, but a bit numb": ask again, more simply
        if any(m.definite for m in mine) or answer is None or value is answer:
            values[name] = value
    if answer is Answer.no:
        values.update({n: Answer.no for n in q.members if n not in values})
    elif answer is Answer.yes and Answer.yes not in values.values():
        if all(emergency_on_its_own(n) for n in q.members):
            values[UNSPECIFIED_SIGN] = Answer.yes
    elif answer is None and not values:
        return None
    return [Update(name, value) for name, value in values.items()]
