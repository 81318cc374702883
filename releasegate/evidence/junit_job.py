"""Reading JUnit files on the other core while `tests record` gets ready to record them.

Parsing a large report is the longest part of recording it, and it needs nothing
from the ledger. So the command forks a child process that parses the files and
writes their summaries to a scratch folder, while the parent imports what a write
needs, reads the ledger and hashes the files. The child hands back the counts as a
small JSON document on a pipe; an error in a file travels the same way and is raised
in the parent, where it would have been raised without the child.

This module is imported before anything heavy, so that the child starts early.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from releasegate.core.errors import InputError


@dataclass(frozen=True)
class Reading:
    """What reading the files gave: merged counts and one summary file per input."""

    counts: dict[str, int]
    summaries: tuple[Path, ...]


class JUnitJob:
    """The files of one recording, read in a child process (or, where the platform
    cannot fork, in this one when the result is asked for). Use as a context manager:
    leaving it stops a child still running and removes the scratch folder."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = tuple(files)
        self.scratch = Path(tempfile.mkdtemp(prefix="releasegate-"))
        self._pid: int | None = None
        self._pipe: int | None = None
        self._reading: Reading | None = None

    def __enter__(self) -> JUnitJob:
        if hasattr(os, "fork") and self.files:
            self._fork()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pid is not None:  # the command failed before it needed the result
            os.kill(self._pid, signal.SIGTERM)
            self._reap()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def result(self) -> Reading:
        """The counts and summaries; raises the InputError of the first bad file."""
        if self._reading is None:
            if self._pid is None:
                self._reading = _read(self.files, self.scratch)
            else:
                self._reading = _decode(self._collect())
        return self._reading

    def _fork(self) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: read, report, and leave without running any cleanup
            os.close(read_end)
            status = 1
            try:
                payload = _payload(self.files, self.scratch)
                with os.fdopen(write_end, "wb") as out:
                    out.write(json.dumps(payload).encode("utf-8"))
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self._pid, self._pipe = pid, read_end

    def _collect(self) -> Any:
        assert self._pipe is not None
        with os.fdopen(self._pipe, "rb") as pipe:
            data = pipe.read()
        self._pipe = None
        status = self._reap()
        try:
            return json.loads(data)
        except ValueError:
            raise RuntimeError(f"reading the JUnit files stopped unexpectedly "
                               f"(wait status {status})") from None

    def _reap(self) -> int:
        assert self._pid is not None
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        return status


def _read(files: Sequence[Path], scratch: Path) -> Reading:
    from releasegate.evidence.junit import read_junit
    from releasegate.evidence.runs import SummaryWriter, merged_counts

    writers: list[SummaryWriter] = []
    try:
        for path in files:
            writers.append(read_junit(path, display_name=str(path)))
        counts = merged_counts(writers)
        summaries = []
        for index, writer in enumerate(writers):
            summary = scratch / f"{index}.json"
            with summary.open("w", encoding="utf-8") as out:
                writer.write(out)
            summaries.append(summary)
    finally:
        for writer in writers:
            writer.close()
    return Reading(counts, tuple(summaries))


def _payload(files: Sequence[Path], scratch: Path) -> dict[str, Any]:
    try:
        reading = _read(files, scratch)
    except InputError as exc:
        return {"error": exc.to_dict()}
    except BaseException:
        return {"bug": traceback.format_exc()}
    return {"counts": reading.counts, "summaries": [str(p) for p in reading.summaries]}


def _decode(payload: Any) -> Reading:
    if "error" in payload:
        error = payload["error"]
        raise InputError(error["message"], code=error["code"], file=error.get("file"),
                         line=error.get("line"), column=error.get("column"),
                         key=error.get("key"), hint=error.get("hint"))
    if "bug" in payload:
        raise RuntimeError("reading the JUnit files failed:\n" + payload["bug"])
    return Reading(payload["counts"], tuple(Path(p) for p in payload["summaries"]))
