"""Waking up on purpose (kiosk/wake.py): pure, so tested on text pairs. The pairs are
what pocketsphinx made of real synthesized speech near the idle kiosk (tune chatter and
tune voices; bench/chatter_bench.py), grammar decode first, free decode second."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from kiosk.catalogue import load
from kiosk.dialog import Dialog
from kiosk.events import Heard
from kiosk.understanding import Understander, Understanding
from kiosk.wake import Wake, addressed, calls, let_go, wake

CAT = load()
TODAY = date(2026, 11, 18)


@pytest.fixture(scope="module")
def understander() -> Understander:
    return Understander(CAT)


@pytest.fixture
def probe(understander: Understander) -> Dialog:
    d = Dialog(CAT, understander, TODAY)
    d.start()
    return d


def decide(
    probe: Dialog,
    understander: Understander,
    text: str,
    free: str,
    second: str | None = None,
    before: frozenset[str] = frozenset(),
) -> tuple[Wake, Heard]:
    heard = Heard(text, spoken=True, second=free if second is None else second)
    return wake(CAT, heard, free, probe.red_flag_in, reader(understander), before)


def reader(understander: Understander) -> Callable[[str], Understanding]:
    def read(t: str) -> Understanding:
        return understander(t, expecting=None, today=TODAY)

    return read


def kept(
    probe: Dialog,
    understander: Understander,
    text: str,
    free: str,
    before: frozenset[str] = frozenset(),
) -> frozenset[str]:
    """What the idle kiosk remembers of an utterance it let go."""
    heard = Heard(text, spoken=True, second=free)
    return let_go(heard, free, probe.red_flag_in, reader(understander), before)


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "hi there",
        "excuse me",
        "can you help me",
        "oh hello um excuse me",
        "hello my back hurts",
        "excuse me can you help me with my back",
        "my back is killing me",
        "i have pain in my upper back",
    ],
)
def test_a_call_or_talk_of_ones_own_back_is_addressed_to_the_kiosk(text: str) -> None:
    assert addressed(CAT.wake, text)


@pytest.mark.parametrize(
    "text",
    [
        "oh hi how are you doing",  # one customer greeting another
        "hello fancy seeing you here",
        "they moved the vitamins to the back aisle",
        "my husband has a bad back again he's been lying on the floor all week",
        "i think it's going to rain later",
        "did you find the shampoo you wanted",
        "",
    ],
)
def test_small_talk_is_not(text: str) -> None:
    assert not addressed(CAT.wake, text)


def test_a_call_anywhere_in_a_long_utterance_is_found() -> None:
    assert calls(CAT.wake, "so sorry excuse me i was up a ladder and i fell off")
    assert not calls(CAT.wake, "the pharmacy it certainly beats")


def test_someone_saying_hello_is_greeted(probe: Dialog, understander: Understander) -> None:
    # grammar decode heard "nine there"; the free decode heard the greeting
    what, _ = decide(probe, understander, "nine there", "hi there")
    assert what is Wake.greet


def test_a_call_only_the_grammar_made_out_is_not_enough(
    probe: Dialog, understander: Understander
) -> None:
    """The grammar's decode makes calls out of small talk too: a session started on
    chatter runs on chatter. The free decode decides."""
    what, _ = decide(probe, understander, "can you help please", "have you got a raise")
    assert what is Wake.stay_idle


def test_small_talk_the_grammar_made_into_a_red_flag_wakes_nothing(
    probe: Dialog, understander: Understander
) -> None:
    for text, free in [
        ("i've fainted going during laborer", "i think it's going to rain later"),
        ("both arm a six into radiates", "the pharmacy it certainly beats"),
        ("did you really little weak arms", "did you remember your loyalty cards"),
        ("pile up when both last thursday", "how much with lester is"),
    ]:
        assert probe.red_flag_in(text), text  # the grammar's decode alone is alarming
        assert decide(probe, understander, text, free)[0] is Wake.stay_idle, text


def test_a_red_flag_both_decodes_carry_acts_at_once(
    probe: Dialog, understander: Understander
) -> None:
    what, first = decide(probe, understander, "my chest feels tight", "my chest feels tight")
    assert what is Wake.red_flag
    assert probe.red_flag_in(first)  # the session goes straight to "Call 911"


def test_a_red_flag_the_free_decode_names_vaguely_is_checked(
    probe: Dialog, understander: Understander
) -> None:
    what, first = decide(probe, understander, "my chest feels tight", "my chest the old site")
    assert what is Wake.red_flag
    assert probe.red_flag_in(first.text) and not probe.red_flag_in(first)  # checked first


def test_a_red_flag_with_a_call_is_checked(probe: Dialog, understander: Understander) -> None:
    what, first = decide(probe, understander, "i can't walk", "help i can love it")
    assert what is Wake.red_flag and not probe.red_flag_in(first)


def test_a_red_flag_in_the_middle_of_a_conversation_wakes_nothing(
    probe: Dialog, understander: Understander
) -> None:
    chat = (
        "the pharmacy it said the apes well i you have the victim is it unlocked i only"
        " opt to have a fall but he's been fighting is helping at all since the weekend"
    )
    grammar = "so far sit at the nights i wee the tummy have a fall 's weaker"
    assert probe.red_flag_in(Heard(grammar, spoken=True, second=chat))  # both carry it
    assert decide(probe, understander, grammar, chat)[0] is Wake.stay_idle
    # the same with a call for the kiosk in it: checked, not ignored, not acted on
    what, first = decide(probe, understander, grammar, "excuse me " + chat)
    assert what is Wake.red_flag and not probe.red_flag_in(first)


def test_a_red_flag_only_the_free_decode_heard_starts_from_it(
    probe: Dialog, understander: Understander
) -> None:
    what, first = decide(probe, understander, "i can't month", "i can't walk")
    assert what is Wake.red_flag
    assert first.text == "i can't walk" and first.second == "i can't month"


def test_an_engine_whose_own_decode_is_free_checks_a_red_flag(
    probe: Dialog, understander: Understander
) -> None:
    # Vosk at the idle kiosk: one free decode, no second opinion
    what, first = decide(probe, understander, "i can't breathe", "i can't breathe", second="")
    assert what is Wake.red_flag and not probe.red_flag_in(first)
    what, _ = decide(
        probe, understander, "did you find the shampoo", "did you find the shampoo", ""
    )
    assert what is Wake.stay_idle


def test_a_customer_telling_of_a_fall_last_winter_wakes_nothing(
    probe: Dialog, understander: Understander
) -> None:
    """An hour of tune chatter woke the kiosk four times, every time on this line in
    the free decode (the grammar's decode had no red flag), and each session went on
    to "Call 911" on the chatter that followed."""
    grammar = "shoots into fall last when for an shoots been fine to moves"
    for free in [
        "she had a fall last winter and she's been fine since",
        "she had a fall last winter and she's been fine since the bus was late again this morning",
    ]:
        assert decide(probe, understander, grammar, free)[0] is Wake.stay_idle, free


def test_a_customer_telling_of_a_childhood_fall_wakes_nothing(
    probe: Dialog, understander: Understander
) -> None:
    """The held-out crowd's hour (bench/chatter_bench.py, 9046853's run): both false
    sessions, each "Call 911" at once, were this line, the free decode word for word
    with a fall in it: a fall "when he was little" was not read as the past. (A held-out
    line: the figure after this fix, 3acb03b's run, is not clean held-out evidence;
    README.)"""
    grammar = "the fell off is like when the was little"
    free = "he fell off his bike when he was little"
    assert decide(probe, understander, grammar, free)[0] is Wake.stay_idle


def test_a_word_both_decodes_share_is_not_the_sign(
    probe: Dialog, understander: Understander
) -> None:
    """An hour of tune chatter: "my feet keeps going during weaker" / "i think it's
    going to rain later" share "going" (a word of "going numb"), and was checked, which
    started a session on chatter."""
    chat = ("my feet keeps going during weaker", "i think it's going to rain later")
    assert decide(probe, understander, *chat)[0] is Wake.stay_idle


@pytest.mark.parametrize(
    ("text", "free"),
    [
        # bench/wake_bench.py, tune voices, quiet room: the free decode heard neither
        # the sign nor a call, both times
        ("my legs went numb", "my legs lennon"),
        ("i can't walk", "i can love it"),
    ],
)
def test_a_red_flag_said_again_is_checked(
    probe: Dialog, understander: Understander, text: str, free: str
) -> None:
    """Someone in distress the idle kiosk did not answer says it again. The first time
    the red flag is let go (a grammar decode alone is what small talk is made into);
    said the same compact way the very next time, it is checked."""
    assert decide(probe, understander, text, free)[0] is Wake.stay_idle
    before = kept(probe, understander, text, free)
    assert before
    what, first = decide(probe, understander, text, free, before=before)
    assert what is Wake.red_flag
    assert probe.red_flag_in(first.text) and not probe.red_flag_in(first)  # checked first


def test_small_talk_made_into_red_flags_twice_running_wakes_nothing(
    probe: Dialog, understander: Understander
) -> None:
    """Only a compact red flag is remembered, and only the same sign counts again."""
    chat = ("i've fainted going during laborer", "i think it's going to rain later")
    assert kept(probe, understander, *chat) == frozenset()
    assert decide(probe, understander, *chat, before=frozenset({"fainting"}))[0] is Wake.stay_idle
    numb = kept(probe, understander, "my legs went numb", "my legs lennon")
    walk = ("i can't walk", "i can love it")
    assert decide(probe, understander, *walk, before=numb)[0] is Wake.stay_idle
    # nor is a red flag said in the middle of a conversation remembered
    talk = (
        "i can't walk",
        "she said i can walk to the station from here but it is quite a long way",
    )
    assert kept(probe, understander, *talk) == frozenset()


def test_a_scrap_of_babble_between_the_two_sayings_keeps_the_first(
    probe: Dialog, understander: Understander
) -> None:
    """Regression (bench/wake_bench.py, tune voice rms, 15 dB): "I lost control of my
    bladder", said twice, came out compact both times, but the endpointer let a scrap
    of babble through between them ("month" / "life"), which cleared what the first
    saying had left, and the second was let go too."""
    said = ("my lost control of my bladder", "i lost control of my letter if")
    first = kept(probe, understander, *said)
    assert first
    between = kept(probe, understander, "month", "life", before=first)
    assert between == first
    assert decide(probe, understander, *said, before=between)[0] is Wake.red_flag
    # More than a scrap, or talk, is not the same person saying it again.
    assert kept(probe, understander, "move my feet", "i think it's fine", first) == frozenset()
    talk = "she said i can walk to the station from here but it is quite a long way"
    assert kept(probe, understander, "i can't walk", talk, first) == frozenset()
