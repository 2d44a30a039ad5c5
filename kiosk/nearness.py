"""Who said it: the person at the kiosk, or the room behind them.

The person stands at the kiosk and speaks to it; the pharmacy's other voices are
further off and far quieter. Pure: loudness comes in as numbers (dB, as
kiosk/endpointer.py ``loudness`` measures an utterance or a word), and how loud the
person is comes from what they said this session (the utterance that woke the kiosk,
then their answers).

Measured in the stand-in pharmacy (babble 15 dB under the patient; tune voices, flite
slt and babble A, bench/barge_in_bench.py and the whole kiosk of bench/spoken_bench.py):
the patient's answers, and red flags said over the kiosk's voice, came out 75-81 dB;
the babble heard over the kiosk's voice 54-59 dB, and babble words the recognizer
joined to a patient's short answer 54-64 dB ("no" 81, "feet" 59; "no" 81, "if" 61).

Its uses (kiosk/voice.py): words heard ``ROOM_DB`` or more under the person are left out of what
they said, beside words at their level (an utterance with nothing at their level is
kept whole: it may be them, quieter than before, and a rule that dropped it could leave
a soft-spoken person unheard to the end of the session); a whole utterance that far
under them does not end a listen turn, but is set aside and is what the turn heard only
if they say nothing else (in babble the turn opens on the room's talk); over the kiosk's
voice, such an utterance cuts nothing short (kiosk/barge_in.py), nor is it carried into
the listen turn when the kiosk falls silent.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

ROOM_DB = 10.0
"""How much quieter than the person something said is when it is the room's: over
twice the spread of the patient's own words measured (75-81 dB), and the room's loudest
(64 dB) still 5 dB beyond it. A patient whispering a red flag far under their own voice,
over the kiosk's, does not cut it short: the red flag is kept, and checked if they say
nothing after (half-duplex, it was never heard at all)."""


def room_level(person: Sequence[float]) -> float | None:
    """Quieter than this is the room's, for a person heard at ``person`` dB so far
    (their typical level, the median: one answer that was the room's, decoded while
    they said nothing, does not move it). None while nothing was heard from them."""
    return statistics.median(person) - ROOM_DB if person else None


def from_the_room(loudness: float, person: Sequence[float]) -> bool:
    """Was it said far quieter than the person at the kiosk speaks? Then it is
    someone further off. Unknown (nothing heard from them yet): not."""
    level = room_level(person)
    return level is not None and loudness < level
