"""Progress display for fmin: a tqdm bar when tqdm is installed, otherwise nothing."""

from __future__ import annotations

from typing import Any, Callable


class _NoBar:
    def update(self, n: int, best: float | None) -> None:
        pass

    def close(self) -> None:
        pass


class _TqdmBar:
    def __init__(self, total: int | None, initial: int) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, initial=initial, dynamic_ncols=True, unit="trial")

    def update(self, n: int, best: float | None) -> None:
        if best is not None:
            self._bar.set_postfix_str(f"best loss: {best:.6g}", refresh=False)
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


def progress_bar(show: bool | Callable[..., Any], *, total: int | None, initial: int) -> Any:
    """A bar with ``update(n, best_loss)`` and ``close()``; a no-op when disabled or tqdm is absent."""
    if not show:
        return _NoBar()
    try:
        return _TqdmBar(total, initial)
    except ImportError:
        return _NoBar()
