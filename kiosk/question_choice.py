"""Which question to ask next: a pure function of the report and what was asked.

The order is the catalogue's. Emergency screening (groups of up to three signs first,
then a sign's own question only where the group left it open) is never skipped while a
sign is open. Every other question is asked only while some answer to it could still
change the disposition, so a clear case ends early. Vague words heard in passing ("a
bit numb") are asked about first: red-flag ones before anything else, the rest after
screening.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from kiosk.answers import is_empty
from kiosk.catalogue import Block, Catalogue, Question, QuestionKind
from kiosk.rules import disposition
from kiosk.symptoms import Answer, Onset, SymptomReport, get_value, with_value


def is_open(q: Question, report: SymptomReport) -> bool:
    """Whether the report still lacks this question's answer: any member of a group,
    every field of a single question (a score also settles "severe")."""
    values = [get_value(report, f) for f in q.fields if f != "injury"]
    if q.is_group:
        return any(is_empty(v) for v in values)
    return all(is_empty(v) for v in values)


def could_change(q: Question, report: SymptomReport) -> bool:
    """Would some answer to this question change the disposition?"""
    now = disposition(report)
    if q.is_group:
        open_ = [m for m in q.members if is_empty(get_value(report, m))]
        trials = [_with_all(report, open_, Answer.no)]
        trials += [with_value(report, m, Answer.yes) for m in open_]
        return any(disposition(r) is not now for r in trials)
    candidates: tuple[object, ...] = {
        QuestionKind.yes_no: (Answer.yes, Answer.no),
        QuestionKind.onset: (Onset.sudden, Onset.gradual),
        QuestionKind.severity: (0, 10),
        QuestionKind.duration: (1, 60),
        QuestionKind.location: (),
    }[q.kind]
    return any(disposition(with_value(report, q.field, v)) is not now for v in candidates)


def _with_all(report: SymptomReport, names: Sequence[str], value: Answer) -> SymptomReport:
    for name in names:
        report = with_value(report, name, value)
    return report


def next_question(
    c: Catalogue,
    report: SymptomReport,
    asked: Collection[str],
    follow_up: Sequence[str] = (),
) -> Question | None:
    """The next question, or None when it is time for the read-back.

    ``asked``: ids already asked this session. ``follow_up``: question ids queued by
    vague words, oldest first.
    """
    pending = [
        c.question(qid)
        for qid in dict.fromkeys(follow_up)
        if qid not in asked and is_open(c.question(qid), report)
    ]
    todo = [q for q in c.questions if q.id not in asked and is_open(q, report)]
    todo = [q for q in todo if _group_asked(c, q, asked)]
    screening_left = any(q.block is Block.screening for q in todo)
    for q in pending:
        if q.block is Block.screening or not screening_left:
            return q
    for q in todo:
        if q.block is Block.screening or q.always or could_change(q, report):
            return q
    return None


def _group_asked(c: Catalogue, q: Question, asked: Collection[str]) -> bool:
    """A sign's own question comes only after its group was asked and left it open."""
    group = None if q.is_group else c.group_for(q.field)
    return group is None or group.id in asked
