"""Reading the files users point commands at: folders walked without silent gaps, pipes and FIFOs
read once and with a bounded wait, sizes capped.

Why a module of its own: `vhr validate`, `vhr xml …` and `vhr serve --load` all take "files or
folders", and each used to drop what it could not read without a word (an unreadable subfolder),
read a pipe twice (once to sniff, once to parse, losing the head), or block forever on a FIFO with
no writer. Every problem here is a :class:`Text` the command shows with the path it concerns.
"""

from __future__ import annotations

import os
import select
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from vhr_conformance.i18n import Text

MB = 1024 * 1024
MAX_INPUT_ENV = "VHR_MAX_INPUT_MB"
DEFAULT_MAX_INPUT_MB = 512
FIFO_WAIT_ENV = "VHR_FIFO_WAIT"
DEFAULT_FIFO_WAIT = 10.0  # seconds for a FIFO's writer to send its first bytes, and between sends


class InputProblem(Exception):
    """A file or folder that cannot be read; the text says why, the path says which."""

    def __init__(self, path: str, text: Text) -> None:
        self.path = path
        self.text = text
        super().__init__(f"[{path}] {text.both()}")


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def max_input_bytes() -> int:
    return int(_env_number(MAX_INPUT_ENV, DEFAULT_MAX_INPUT_MB) * MB)


def fifo_wait() -> float:
    return _env_number(FIFO_WAIT_ENV, DEFAULT_FIFO_WAIT)


def _too_large(path: str, limit: int) -> InputProblem:
    if limit % MB:  # a caller's own cap (e.g. a configuration file), not the VHR_MAX_INPUT_MB one
        return InputProblem(
            path, Text("Tệp vượt quá {n} KB", "the input exceeded {n} KB").format(n=limit // 1024)
        )
    return InputProblem(
        path,
        Text(
            "Tệp vượt quá {n} MB (đặt {env} để nâng giới hạn)",
            "the input exceeded {n} MB (set {env} to raise it)",
        ).format(n=limit // MB, env=MAX_INPUT_ENV),
    )


def _os_problem(path: str, exc: OSError) -> InputProblem:
    return InputProblem(path, Text("Không đọc được: {e}", "cannot read: {e}").format(e=exc.strerror or exc))


def is_stream(path: Path) -> bool:
    """A FIFO, pipe or character device: read once, never reopened, sizes unknown."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def read_input(path: Path, max_bytes: int | None = None, wait: float | None = None) -> bytes:
    """The whole content of a regular file, FIFO or pipe, within the size cap.

    A FIFO is opened without blocking, so a missing writer is noticed after ``wait`` seconds instead
    of hanging; a writer that stops sending for as long is given up on too.
    """
    name = str(path)
    limit = max_input_bytes() if max_bytes is None else max_bytes
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise _os_problem(name, exc) from None
    if stat.S_ISDIR(mode):
        raise InputProblem(name, Text("Là một thư mục, không phải tệp", "is a folder, not a file"))
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise _os_problem(name, exc) from None
        try:
            return read_fd(fd, name, limit, fifo_wait() if wait is None else wait)
        finally:
            os.close(fd)
    if not stat.S_ISREG(mode):
        raise InputProblem(name, Text("Không phải tệp thường", "not a regular file"))
    try:
        with path.open("rb") as fh:
            return _read_capped(fh, name, limit)
    except OSError as exc:
        raise _os_problem(name, exc) from None


def _read_capped(fh: BinaryIO, name: str, limit: int) -> bytes:
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise _too_large(name, limit)
    return data


def read_fd(fd: int, name: str, limit: int, wait: float | None) -> bytes:
    """Read a pipe to its end, waiting at most ``wait`` seconds for each burst (None: forever)."""
    chunks: list[bytes] = []
    total = 0
    os.set_blocking(fd, False)
    while True:
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            text = (
                Text(
                    "Không có dữ liệu sau {s:g} giây (FIFO chưa có tiến trình ghi?)",
                    "no data after {s:g} s (a FIFO with no writer?)",
                )
                if not chunks
                else Text("Nguồn dừng gửi dữ liệu {s:g} giây", "the source stopped sending for {s:g} s")
            )
            raise InputProblem(name, text.format(s=wait or 0))
        try:
            data = os.read(fd, 1 << 20)
        except BlockingIOError:
            continue
        except OSError as exc:
            raise _os_problem(name, exc) from None
        if not data:
            return b"".join(chunks)
        total += len(data)
        if total > limit:
            raise _too_large(name, limit)
        chunks.append(data)


def read_stdin(max_bytes: int | None = None) -> bytes:
    """Standard input, within the size cap (waiting as long as the user or the pipe takes)."""
    limit = max_input_bytes() if max_bytes is None else max_bytes
    try:
        fd = sys.stdin.fileno()
    except (OSError, ValueError, AttributeError):  # replaced by a test runner: a plain buffer
        return _read_capped(sys.stdin.buffer, "<stdin>", limit)
    return (
        read_fd(fd, "<stdin>", limit, None)
        if is_stream_fd(fd)
        else _read_capped(sys.stdin.buffer, "<stdin>", limit)
    )


def is_stream_fd(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode)


def walk(root: Path, accept: Callable[[Path], bool]) -> Iterator[tuple[Path, InputProblem | None]]:
    """Files under ``root`` that ``accept`` keeps, sorted, plus each folder that cannot be listed.

    Yields ``(path, None)`` for a file, and ``(path, problem)`` for a folder that cannot be listed
    or an entry that is not a regular file, so the caller reports it where it would have been.
    """
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        yield (
            root,
            InputProblem(
                str(root),
                Text("Không đọc được thư mục: {e}", "cannot read the folder: {e}").format(
                    e=exc.strerror or exc
                ),
            ),
        )
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            yield from walk(path, accept)
        elif accept(path):
            try:
                regular = entry.is_file()
            except OSError:
                regular = False
            # A FIFO or device in a folder is named, not read: it could block or never end.
            yield (
                path,
                None
                if regular
                else InputProblem(str(path), Text("Không phải tệp thường", "not a regular file")),
            )
