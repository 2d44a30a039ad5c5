"""Partial results: what the recognizer heard while the person was still talking.

A red flag in the partial hypotheses is acted on before the sentence ends once it is
stable (``StablePartial``) and the independent decode already carries it too. One that
decode does not carry waits for the whole sentence, which is usually the better
reading. But the whole sentence can lose it: "I fell off a ladder" over the kiosk's
read-back was "i fell off" in the partials, block after block, and "i feel a full leg are"
in the end, and the session ended in self-care guidance (bench/barge_in_bench.py,
flite rms). A nearer voice restarting the utterance (endpointer.py) drops what came
before it the same way. A red flag heard is never lost for a better reading that lacks
it: it is checked ("Did you mention...?"), as one decode's red flag always is
(``lost_in_final``).

Pure: the caller hands in the dialog's red-flag test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.events import Heard, Silence


@dataclass
class StablePartial:
    """Counts consecutive partial hypotheses that carry a red flag: one alone is often a
    syllable the next block reads differently."""

    needed: int
    streak: int = 0

    def update(self, flagged: bool) -> bool:
        self.streak = self.streak + 1 if flagged else 0
        return self.streak >= self.needed


def lost_in_final(
    final: Heard | Silence, flagged: Heard | None, red_flag_in: Callable[[str], bool]
) -> Heard | Silence:
    """What goes to the dialog at the end of an utterance. ``flagged`` is a red flag
    stable in its partials that was not acted on (the other decode, read with it, did
    not carry it), or None. If the final result carries a red flag of its own, it
    stands; if it lost the partials' one, the partial goes instead, with its own second
    opinion, so the dialog checks it (an extra question, "Did you mention...?", where
    losing it would cost a missed emergency)."""
    if flagged is None:
        return final
    if isinstance(final, Heard) and red_flag_in(final.text):
        return final
    return flagged
