"""Progress reporting: a live bar on a terminal, one log line every N steps otherwise (CI logs)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from tqdm import tqdm


class Progress:
    """Count steps toward `total`; show a tqdm bar on a TTY, else print every `every` steps."""

    def __init__(self, total: int, description: str, every: int = 50) -> None:
        self.total, self.description, self.every = total, description, max(1, every)
        self.count = 0
        self.started = time.perf_counter()
        self.bar = tqdm(total=total, desc=description, leave=False) if sys.stderr.isatty() else None

    def update(self, steps: int = 1, **status: Any) -> None:
        self.advance_to(self.count + steps, **status)

    def advance_to(self, count: int, **status: Any) -> None:
        """Move to `count` steps done (never back); log each time a multiple of `every` passes."""
        previous, self.count = self.count, max(self.count, count)
        if self.bar is not None:
            self.bar.update(self.count - previous)
            self.bar.set_postfix(status, refresh=False)
        elif self.count // self.every > previous // self.every or (
            self.count >= self.total > previous
        ):
            details = " ".join(f"{k}={_format(v)}" for k, v in status.items())
            elapsed = time.perf_counter() - self.started
            print(
                f"{self.description}: {self.count}/{self.total} ({elapsed:.1f}s) {details}",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def log_bookkeeping(what: str, **facts: Any) -> None:
    """Write a job's bookkeeping (wall times, the device) to its log, not to its outputs: a
    DVC-tracked output holds only what its inputs determine, so that a rerun gives the same bytes
    (docs/operations.md, "Byte-stable outputs")."""
    details = ", ".join(f"{key.replace('_', ' ')} {_format(value)}" for key, value in facts.items())
    print(f"{what}: {details}", file=sys.stderr, flush=True)


def _format(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@contextmanager
def job_log(path: str | Path) -> Iterator[None]:
    """Send a job's progress lines, warnings and any traceback to its log file (a rule's `log:`),
    line by line, so that a running or failed job can be followed there."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", buffering=1) as log, redirect_stderr(log), redirect_stdout(log):
        try:
            yield
        except BaseException:
            import traceback

            traceback.print_exc()
            raise
