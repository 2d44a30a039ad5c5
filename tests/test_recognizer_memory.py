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
