"""Progress lines on stderr: rewritten in place on a terminal, throttled in logs."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, every_seconds: float = 2.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every = every_seconds
        self.last_text = ""
        self.last_time = 0.0

    def update(self, text: str, final: bool = False) -> None:
        if self.tty:
            print(f"\r{text}", end="\n" if final else "", file=sys.stderr, flush=True)
        elif text != self.last_text and (final or time.monotonic() - self.last_time >= self.every):
            print(text, file=sys.stderr, flush=True)
            self.last_time = time.monotonic()
        self.last_text = text
