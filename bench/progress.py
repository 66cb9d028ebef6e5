"""What the run is doing, on stderr: a rich progress bar over every measured step, and notes above it."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


def note(message: str) -> None:
    console.print(f"bench: {message}", highlight=False)


class Tracker:
    """A bar of `total` steps; `begin(label)` names the running one, `done(line)` advances and logs its result."""

    def __init__(self, total: int):
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("starting", total=total)

    def __enter__(self) -> Tracker:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()

    def begin(self, label: str) -> None:
        self._progress.update(self._task, description=label)

    def done(self, line: str) -> None:
        self._progress.console.print(f"bench: {line}", highlight=False)
        self._progress.advance(self._task)
