"""hyperopt's progress callbacks: ``fmin(show_progressbar=callback)``.

A progress callback is called as ``callback(initial=..., total=...)`` and returns a context
manager whose value has ``update(n)`` (and may take a ``postfix``), as in ``hyperopt.progress``.

- ``tqdm_progress_callback``: a tqdm bar. While it is open, ``sys.stdout`` and ``sys.stderr``
  write above the bar (through ``tqdm.write``) instead of through it, so an objective's ``print``
  does not break the bar; both are restored when it closes.
- ``no_progress_callback``: shows nothing.
- ``default_callback``: ``tqdm_progress_callback``.

``fmin(show_progressbar=True)`` (the default) uses sparktune's own display instead, which also
shows running and failed trials and is off where no one watches (see ``sparktune._progress``).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator

from tqdm import tqdm


class _AboveTheBar:
    """A text stream that writes whole lines above live tqdm bars, keeping partial lines."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            tqdm.write(line, file=self._stream)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            tqdm.write(self._pending, file=self._stream)
            self._pending = ""
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno, ...
        return getattr(self._stream, name)


@contextlib.contextmanager
def _streams_above_the_bar() -> Iterator[Any]:
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _AboveTheBar(real_out), _AboveTheBar(real_err)
    try:
        yield real_err
    finally:
        for wrapped in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                wrapped.flush()
        sys.stdout, sys.stderr = real_out, real_err


@contextlib.contextmanager
def tqdm_progress_callback(initial: int, total: int | None) -> Iterator[Any]:
    """A tqdm bar, with stdout and stderr written above it while it is open."""
    with (
        _streams_above_the_bar() as stream,
        tqdm(
            total=total,
            initial=initial,
            file=stream,
            postfix={"best loss": "?"},
            disable=False,
            dynamic_ncols=True,
            unit="trial",
        ) as bar,
    ):
        yield bar


class _NoProgress:
    def update(self, n: int) -> None:
        pass


@contextlib.contextmanager
def no_progress_callback(initial: int, total: int | None) -> Iterator[_NoProgress]:
    """Shows nothing."""
    yield _NoProgress()


default_callback = tqdm_progress_callback

__all__ = ["default_callback", "no_progress_callback", "tqdm_progress_callback"]
