"""Reading a data set of JSON lines for `import`: the lines checked (`domain.document.LineChecker`)
and handed out a batch at a time, in bounded memory.

A large file is read and checked in a process of its own, while this one writes the batches
before: reading, parsing and checking are a third of the time of an import, and SQLite's work
does not wait for them. Batches cross in a queue of two, so memory stays bounded whichever side
is faster. The child is forked (it starts at once, with the modules loaded) and never touches the
database: it exits without running the parent's finalisers. A small file, or a platform without
`fork`, is read here, the same way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

IN_PROCESS_BELOW = 4 << 20  # bytes: a smaller file is read in this process (forking costs more than it saves)


def checked_batches(path: Path, known: set[str], today: date | None, batch: int) -> Iterator[dict[str, list[dict]]]:
    """The records of the file, checked, as `{"actor": [...], "source": [...], "threat": [...]}`
    with at most `batch` threats each; the last batch comes after the whole file was checked.
    Nothing more is handed out after the first problem; at the end, BadInput lists them all.
    UnicodeDecodeError when the file is not UTF-8, as `open` raises it."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size < IN_PROCESS_BELOW or "fork" not in _start_methods():
        return _batches(path, known, today, batch)
    return _from_child(path, known, today, batch)


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def _batches(path: Path, known: set[str], today: date | None, batch: int) -> Iterator[dict[str, list[dict]]]:
    from redlines.domain.document import LineChecker
    from redlines.store.seen import SeenKeys

    checker = LineChecker(known, today=today, ids=SeenKeys())
    pending: dict[str, list[dict]] = {"actor": [], "source": [], "threat": []}
    with open(path, encoding="utf-8-sig", newline="") as f:
        for n, line in enumerate(f, 1):  # a file splits on newlines only, as JSON lines should
            checked = checker.check(n, line)
            if checked is None or checker.p.count:
                continue  # after a problem, only check: nothing will be kept
            pending[checked[0]].append(checked[1])
            if len(pending["threat"]) == batch:
                yield pending
                pending = {"actor": [], "source": [], "threat": []}
    checker.finish()  # raises BadInput if anything was wrong
    yield pending


def _child(conn, path: Path, known: set[str], today: date | None, batch: int) -> None:
    """The reading process: each batch, then ("done",) or the exception that ended it."""
    try:
        for b in _batches(path, known, today, batch):
            conn.send(("batch", b))
        conn.send(("done", None))
    except BaseException as e:  # noqa: BLE001 - handed to the parent, which raises it
        try:
            conn.send(("error", e))
        except Exception:
            conn.send(("error", RuntimeError(f"reading {path.name} failed: {type(e).__name__}")))
    finally:
        conn.close()


def _from_child(path: Path, known: set[str], today: date | None, batch: int) -> Iterator[dict[str, list[dict]]]:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, path, known, today, batch), daemon=True)
    child.start()
    send.close()  # the child's end: when the child is gone, `recv` raises EOFError here
    try:
        while True:
            try:
                what, value = receive.recv()
            except EOFError:
                raise RuntimeError(f"the process reading {path.name} ended early") from None
            if what == "batch":
                yield value
            elif what == "done":
                return
            else:
                raise value
    finally:
        receive.close()
        if child.is_alive():
            child.terminate()
        child.join()
