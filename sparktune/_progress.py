"""Live progress for fmin, and ``verbose``'s effect on sparktune's log output.

The display shows trials done out of the total, how many run now, how many failed and the best
loss. It is on by default where a person watches: a terminal (stderr is a TTY) or a notebook
(IPython kernel, Databricks); elsewhere (CI logs, files, pipes) it stays off. The environment
variable ``SPARKTUNE_PROGRESS`` forces it (``1``/``on``) or turns it off (``0``/``off``).

``show_progressbar`` keeps hyperopt's meaning: ``True`` (default), ``False``, or a callable
``progress_callback(initial=..., total=...)`` returning a context manager whose value has
``update(n)`` (and may take a ``postfix`` string), as ``hyperopt.progress`` defines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any, Callable, Iterator

_LOGGER = "sparktune"


def in_notebook() -> bool:
    """True inside a Jupyter/IPython kernel or a Databricks notebook."""
    if os.environ.get("DATABRICKS_RUNTIME_VERSION") and "IPython" in sys.modules:
        return True
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - an odd IPython: no notebook
        return False
    return shell is not None and hasattr(shell, "kernel")


def display_wanted() -> bool:
    """Whether a person is likely watching (see the module docstring)."""
    env = os.environ.get("SPARKTUNE_PROGRESS", "").strip().lower()
    if env in ("1", "on", "true", "yes"):
        return True
    if env in ("0", "off", "false", "no"):
        return False
    if in_notebook():
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


def _postfix(running: int, failed: int, best: float | None) -> str:
    parts = [f"running={running}"]
    if failed:
        parts.append(f"failed={failed}")
    parts.append("best loss=" + ("?" if best is None else f"{best:.6g}"))
    return ", ".join(parts)


class _NoBar:
    def show(self, done: int, *, running: int, failed: int, best: float | None) -> None:
        pass

    def close(self) -> None:
        pass


class _TqdmBar:
    def __init__(self, total: int | None, initial: int) -> None:
        if in_notebook():
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm
        self._bar = tqdm(total=total, initial=initial, dynamic_ncols=True, unit="trial", file=sys.stderr, disable=False)
        self._bar.set_postfix_str(_postfix(0, 0, None), refresh=False)
        self._done = initial

    def show(self, done: int, *, running: int, failed: int, best: float | None) -> None:
        self._bar.set_postfix_str(_postfix(running, failed, best), refresh=False)
        self._bar.update(max(0, done - self._done))
        self._done = max(done, self._done)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


class _CallbackBar:
    """A hyperopt progress callback: a context manager factory whose value has ``update(n)``."""

    def __init__(self, callback: Callable[..., Any], total: int | None, initial: int) -> None:
        self._cm = callback(initial=initial, total=total)
        self._ctx = self._cm.__enter__()
        self._done = initial

    def show(self, done: int, *, running: int, failed: int, best: float | None) -> None:
        if best is not None:
            with contextlib.suppress(AttributeError):
                self._ctx.postfix = f"best loss: {best}"
        if done > self._done:
            self._ctx.update(done - self._done)
            self._done = done

    def close(self) -> None:
        self._cm.__exit__(None, None, None)


def progress_bar(show: bool | Callable[..., Any], *, total: int | None, initial: int) -> Any:
    """A display with ``show(done, running=, failed=, best=)`` and ``close()``.

    ``show`` is fmin's ``show_progressbar``: a callable is hyperopt's progress callback and is
    always used; ``True`` gives a tqdm bar where a person watches (``display_wanted``).
    """
    if callable(show):
        return _CallbackBar(show, total, initial)
    if not show or not display_wanted():
        return _NoBar()
    return _TqdmBar(total, initial)


@contextlib.contextmanager
def verbosity(verbose: Any) -> Iterator[None]:
    """``fmin(verbose=...)``: what sparktune logs during the call.

    ``False``/``0``: warnings and errors only (and no progress display). ``True``/``1``
    (default): also sparktune's INFO lines (resumed trials, why a run stopped, hyperopt's
    "Total Trials: ..." summary) when the application has not set a level for the ``sparktune``
    logger; they go to stderr if logging is not configured at all. ``2`` or more: DEBUG too.
    A level the application set on the ``sparktune`` logger is left alone.
    """
    logger = logging.getLogger(_LOGGER)
    level = int(verbose) if isinstance(verbose, (bool, int)) else (1 if verbose else 0)
    if logger.level != logging.NOTSET:
        yield
        return
    wanted = logging.WARNING if level <= 0 else (logging.INFO if level == 1 else logging.DEBUG)
    handler: logging.Handler | None = None
    if level > 0 and not logging.getLogger().handlers and not logger.handlers:
        handler = _TqdmSafeHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s sparktune: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(wanted)
    try:
        yield
    finally:
        logger.setLevel(logging.NOTSET)
        if handler is not None:
            logger.removeHandler(handler)


class _TqdmSafeHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to stderr above a live tqdm bar instead of through it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never fail the run
            self.handleError(record)


__all__ = ["display_wanted", "in_notebook", "progress_bar", "verbosity"]
