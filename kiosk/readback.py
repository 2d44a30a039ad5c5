"""The read-back: what the kiosk heard, in one plain breath, before non-emergency guidance.

"You said the pain is between your shoulder blades, 4 out of 10, for 3 days; home care
helped; you know what caused it. No warning signs." Pure: a report in, a sentence out,
every word from the catalogue. It says what was heard, not what the rules made of it,
so the person can correct it, and stays short (``MAX_WORDS``) so they can follow it.
"""

from __future__ import annotations

from kiosk.catalogue import Catalogue
from kiosk.rules import EMERGENCY_FIELDS, decide
from kiosk.symptoms import Answer, Onset, SymptomReport, get_value

MAX_WORDS = 40
"""The read-back with its "Is that right?"."""

_PAIN_FIELDS = {"severe", "more_than_a_week", "severity", "duration_days", "onset", "locations"}


def summary(c: Catalogue, report: SymptomReport) -> str:
    """The read-back sentence(s), without the closing question."""
    say = c.say
    facts = _facts(c, report)
    closing = _closing(c, report)
    budget = MAX_WORDS - _words(say("readback_confirm"))
    while True:
        text = " ".join(
            part for part in (_join_clauses([_pain(c, report), *facts]) + ".", closing) if part
        )
        if _words(text) <= budget or not facts:
            return text
        facts.pop()  # the least telling fact goes first


def _pain(c: Catalogue, report: SymptomReport) -> str:
    say, pain = c.say, report.pain
    if pain.locations:
        places = [c.dialog["locations"][loc.value] for loc in pain.locations[:2]]
        head = say("pain_at", where=_join(places, say("and")))
    else:
        head = say("pain_somewhere")
    parts = [head]
    if pain.severity is not None:
        parts.append(say("score", score=pain.severity))
    elif pain.severe is Answer.yes:
        parts.append(say("severe"))
    elif pain.severe is Answer.no:
        parts.append(say("not_severe"))
    if pain.duration_days is not None:
        parts.append(say("for_days", days=_days(c, pain.duration_days)))
    elif pain.more_than_a_week is not Answer.unknown:
        key = "over_a_week" if pain.more_than_a_week is Answer.yes else "a_week_or_less"
        parts.append(say("for_days", days=say(key)))
    out = ", ".join(parts)
    if pain.onset is Onset.sudden:
        out += "; " + say("came_on_suddenly")
    elif pain.onset is Onset.gradual:
        out += "; " + say("came_on_gradually")
    return out


def _facts(c: Catalogue, report: SymptomReport) -> list[str]:
    """What else was heard, catalogue order first, then other positives by label."""
    table: dict[str, str] = c.dialog.get("facts", {})
    out: list[str] = []
    for key, text in table.items():
        name, value = key.split(".", 1)
        if get_value(report, name) == value:
            out.append(text)
    named = {key.split(".", 1)[0] for key in table}
    for name in decide(report, c).pertinent_positives:
        if name not in named and name not in _PAIN_FIELDS and name not in EMERGENCY_FIELDS:
            out.append(c.say("you_mentioned", item=c.label(name)))
    return out


def _closing(c: Catalogue, report: SymptomReport) -> str:
    decision = decide(report, c)
    if decision.unresolved:
        table: dict[str, str] = c.dialog.get("unsure", {})
        unsure = list(dict.fromkeys(table.get(f, c.label(f)) for f in decision.unresolved))[:3]
        return c.say("unsure_about", items=_join(unsure, c.say("and")))
    if any(get_value(report, f) is Answer.no for f in EMERGENCY_FIELDS):
        return c.say("no_warning_signs")
    return ""


def _days(c: Catalogue, days: int) -> str:
    say = c.say
    if days == 0:
        return say("less_than_a_day")
    if days % 7 == 0 and days >= 14:
        return say("weeks", n=days // 7)
    if days == 7:
        return say("one_week")
    return say("one_day") if days == 1 else say("days", n=days)


def _join(items: list[str], conjunction: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _join_clauses(parts: list[str]) -> str:
    return "; ".join(p for p in parts if p)


def _words(text: str) -> int:
    return len(text.split())
