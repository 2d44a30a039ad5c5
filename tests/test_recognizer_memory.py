"""Memory per listen turn: a kiosk runs for weeks, one turn after another, so nothing
may be lost per turn. glibc's count of heap bytes in use (mallinfo2) is exact and does
not depend on machine load, unlike timings or RSS."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import pytest

from kiosk.recognizer import SAMPLE_RATE, PocketsphinxEngine


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def heap_in_use() -> int:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return int(info.uordblks + info.hblkhd)


@pytest.mark.skipif(
    platform.system() != "Linux" or not hasattr(ctypes.CDLL(None), "mallinfo2"),
    reason="needs glibc 2.33+ (mallinfo2)",
)
def test_listen_turns_do_not_leak() -> None:
    """Regression: pocketsphinx 5.1.1's Endpointer never frees its C buffers, and each
    listen turn made one: 39 KB lost per turn, ~0.1 MB per session in the soak test."""
    engine = PocketsphinxEngine()
    phrases = ("yes", "no", "i have chest pain")
    quiet = bytes(SAMPLE_RATE * 2 // 5)  # 0.2 s

    def turns(n: int) -> None:
        for _ in range(n):
            recognition = engine.start(phrases)
            recognition.accept(quiet)
            recognition.finish()

    turns(50)  # warm up: the grammar's search is built once
    before = heap_in_use()
    turns(300)
    lost_per_turn = (heap_in_use() - before) / 300
    assert lost_per_turn < 2_000, f"{lost_per_turn:.0f} bytes lost per listen turn"


@pytest.mark.skipif(
    platform.system() != "Linux" or not hasattr(ctypes.CDLL(None), "mallinfo2"),
    reason="needs glibc 2.33+ (mallinfo2)",
)
def test_each_question_grammar_costs_little_memory() -> None:
    """pocketsphinx keeps every question's grammar search, each sized by the decoder's
    dictionary: with the wheel's whole dictionary (134,000 words) that was 16 MB of heap
    per question, ~400 MB once a kiosk had asked every kind of question. Grammars now
    run on a decoder holding only the catalogue's words."""
    from kiosk.catalogue import load
    from kiosk.grammar import Grammars

    cat = load()
    grammars = Grammars(cat)
    engine = PocketsphinxEngine()
    # one question of each grammar (yes/no questions share one)
    kinds = list({grammars.for_turn(q.id, q.kind): q for q in cat.questions})
    assert len(kinds) >= 4
    engine.start(kinds[0]).abandon()  # warm up
    before = heap_in_use()
    for phrases in kinds[1:]:
        engine.start(phrases).abandon()
    per_question = (heap_in_use() - before) / (len(kinds) - 1)
    assert per_question < 4_000_000, f"{per_question / 1e6:.1f} MB of heap per question"
