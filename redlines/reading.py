"""Reading a data set of JSON lines for `import`: the lines checked (`domain.document.LineChecker`)
and handed out a batch at a time, in bounded memory.

A large file is read and checked in a process of its own, while this one writes the batches
before: reading, parsing and checking are a third of the time of an import, and SQLite's work
does not wait for them. The rows each threat writes if it is new (`store.load.prepared`) are
worked out there too, so that the writing process has little more to do than hand them over;
into a database without threats, only those rows cross. Batches cross through a short queue
(`AHEAD` packed batches, written to the pipe by a thread of the reading process: neither side
waits for the other's slower batches), so memory stays bounded whichever side is faster. The
child is forked (it starts at once, with the modules loaded) and never touches the database: it
exits without running the parent's finalisers. A small file, or a platform without `fork`, is
read here, the same way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

IN_PROCESS_BELOW = 4 << 20  # bytes: a smaller file is read in this process (forking costs more than it saves)


def checked_batches(
    path: Path, known: set[str], today: date | None, batch: int, *, rows_only: bool = False
) -> Iterator[dict]:
    """The records of the file, checked, as `{"actor": [...], "source": [...], "threat": [...],
    "new": NewRows}` with at most `batch` threats each; the last batch comes after the whole file
    was checked. A threat comes as its record under "threat", or, with `rows_only` (every threat
    is new to the database), as the rows it writes, added to the batch's `store.load.NewRows`.
    Nothing more is handed out after the first problem; at the end, BadInput lists them all.
    UnicodeDecodeError when the file is not UTF-8, as `open` raises it."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size < IN_PROCESS_BELOW or "fork" not in _start_methods():
        return _batches(path, known, today, batch, rows_only)
    return _from_child(path, known, today, batch, rows_only)


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def _batches(path: Path, known: set[str], today: date | None, batch: int, rows_only: bool) -> Iterator[dict]:
    from redlines.domain.document import LineChecker
    from redlines.store.load import NewRows, prepared
    from redlines.store.seen import SeenKeys

    def empty() -> dict:
        return {"actor": [], "source": [], "threat": [], "new": NewRows()}

    checker = LineChecker(known, today=today, ids=SeenKeys())
    pending, threats = empty(), 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        for n, line in enumerate(f, 1):  # a file splits on newlines only, as JSON lines should
            checked = checker.check(n, line)
            if checked is None or checker.p.count:
                continue  # after a problem, only check: nothing will be kept
            kind, record = checked
            if kind == "threat" and record["id"]:  # (one without an id is refused already)
                threats += 1
                # its rows, should it be new: worked out here, beside the writes
                if rows_only:
                    pending["new"].add(record)
                    kind = None
                else:
                    prepared(record)
            if kind is not None:
                pending[kind].append(record)
            if threats == batch:
                yield pending
                pending, threats = empty(), 0
    checker.finish()  # raises BadInput if anything was wrong
    yield pending


def _child(
    conn, unused, parent: int, path: Path, known: set[str], today: date | None, batch: int, rows_only: bool
) -> None:
    """The reading process: each batch, then ("done",) or the exception that ended it. It holds
    the sending end alone (so that a send fails once the parent is gone, however it ended), and
    ends with its parent: at once where the system can say so (Linux), else at its next send."""
    unused.close()  # the forked copy of the parent's receiving end: kept, a send would never fail
    _end_with(parent)
    sender = _Sender(conn)
    try:
        for b in _batches(path, known, today, batch, rows_only):
            sender.send(("batch", b))
        sender.send(("done", None))
    except BaseException as e:  # noqa: BLE001 - handed to the parent, which raises it
        try:
            sender.send(("error", e))
        except Exception:
            sender.send(("error", RuntimeError(f"reading {path.name} failed: {type(e).__name__}")))
    finally:
        sender.close()
        conn.close()


AHEAD = 2  # packed batches the reading process may hold, sent, beyond the one the pipe is taking


class _Sender:
    """Sends messages to the parent in order, from a thread of their own: a batch is packed here
    (`_packed`), and written to the pipe by the thread while the next batch is read. A pipe holds
    far less than a batch, so a plain `send` would wait until the parent had written the batch
    before and read this one; with a few batches queued, neither side waits on the other's slower
    batches (FTS5 merging, a batch of long texts). The thread waits on the pipe without the GIL."""

    def __init__(self, conn) -> None:
        import queue
        import threading

        self.conn = conn
        self.queue: queue.Queue = queue.Queue(maxsize=AHEAD)
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def send(self, message) -> None:
        self.queue.put(_packed(message))

    def _pump(self) -> None:
        while (data := self.queue.get()) is not None:
            _write(self.conn, data)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()


def _packed(message: tuple) -> bytes:
    """A message as the bytes that cross the pipe. A batch goes by `marshal` (its rows are lists,
    tuples, dicts, text and numbers; marshal writes and reads them in half the time pickle takes,
    and both processes run the same interpreter), with its `NewRows` as a tuple of lists; any other
    message (the end, an exception), or a batch of records that carry their own `NewRows`, by
    pickle. The first byte says which."""
    import marshal
    from multiprocessing.reduction import ForkingPickler

    what, value = message
    if what == "batch" and not value["threat"]:  # (a record comes with its NewRows)
        return b"m" + marshal.dumps({**value, "new": value["new"].parts()})
    return b"p" + ForkingPickler.dumps(message)  # as `Connection.send` pickles it


def _unpacked(data: bytes) -> tuple:
    """The message `_packed` made."""
    import marshal
    import pickle

    from redlines.store.load import NewRows

    if data[:1] == b"m":
        batch = marshal.loads(memoryview(data)[1:])
        batch["new"] = NewRows.of_parts(batch["new"])
        return "batch", batch
    return pickle.loads(memoryview(data)[1:])


def _write(conn, data: bytes) -> None:
    """Hand a packed message to the parent; when it cannot go (the parent is gone and the pipe
    closed, or anything else), end this process at once: the parent then sees the pipe close
    and reports that reading ended early, where a sending thread that died would leave both
    processes waiting on each other."""
    import os

    try:
        conn.send_bytes(data)
    except BaseException:  # BrokenPipeError and its kin (nobody reads any more), or the message cannot go
        os._exit(1)


def _end_with(parent: int) -> None:
    """Have the system end this process when its parent ends (Linux: PR_SET_PDEATHSIG); ends it
    now if the parent is gone already. Elsewhere the next send fails and ends it."""
    import os
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent ended before the line above took effect
        os._exit(1)


def _from_child(path: Path, known: set[str], today: date | None, batch: int, rows_only: bool) -> Iterator[dict]:
    import multiprocessing
    import os

    from redlines.errors import RedlinesError

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    args = (send, receive, os.getpid(), path, known, today, batch, rows_only)
    child = ctx.Process(target=_child, args=args, daemon=True)
    child.start()
    send.close()  # the child's end: when the child is gone, `recv` raises EOFError here
    try:
        while True:
            try:
                what, value = _unpacked(receive.recv_bytes())
            except (EOFError, OSError):  # OSError: it ended in the middle of a message
                raise RedlinesError(
                    f"the process reading {path.name} ended early; nothing was written", ["run the import again"]
                ) from None
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
