"""Running under systemd: the notify protocol (sdnotify). READY when the kiosk can
listen, WATCHDOG pings from the voice loop itself, so a hung audio loop stops pinging
and systemd restarts the service. Outside systemd (no NOTIFY_SOCKET) it does nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from sdnotify import SystemdNotifier


class Service:
    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        self._notifier = SystemdNotifier() if env.get("NOTIFY_SOCKET") else None
        usec = int(env.get("WATCHDOG_USEC", "0") or 0)
        # Ping at half the watchdog interval, as sd_watchdog_enabled(3) advises.
        self.interval = usec / 2_000_000 if usec else None
        self._last = 0.0

    def ready(self) -> None:
        self._send("READY=1\nSTATUS=Listening")

    def alive(self) -> None:
        """Called often from the loop; pings the watchdog when one is due."""
        if self.interval is None:
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def _send(self, state: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(state)
