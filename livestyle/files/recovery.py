"""Keeping what a cut-off recording holds.

A recording is written to a hidden temporary file beside its target
(``.NAME.xxxx.recording.EXT``) in a form that stays playable when cut off:
fragmented MP4/MOV (a fragment about every second, ``videowrite``) or
Matroska. When the recording cannot be finished (full disk, file-size limit)
``keep`` trims it to its last complete fragment and renames it to
``NAME.partial.EXT`` beside the target (``NAME.partial-2.EXT`` and so on when
that exists: nothing is ever overwritten). A process that was killed, or a
machine that lost power, leaves the hidden file; ``adopt_orphans``, run when
the next recording starts in that folder, keeps it the same way. A recording
in progress holds an exclusive lock on its file (``fcntl.flock``; on Windows
the open file cannot be renamed), so another livestyle recording into the same
folder never takes it.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

try:
    import fcntl
except ImportError:  # Windows: a file open in another process cannot be renamed, which protects it instead
    fcntl = None  # type: ignore[assignment]

RECORDING = ".recording"
"""What a recording's temporary name has before its extension."""
_FRAGMENTED = (".mp4", ".m4v", ".mov")
_ORPHAN_MIN_AGE_S = 60.0
"""An unplayable orphan younger than this may be a recording being created right now: left alone."""


def lock(fd: int) -> bool:
    """Take the exclusive lock on an open file without waiting; False if another process holds it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def clock(seconds: float) -> str:
    """``754.2`` -> ``"12:34"``; ``3725`` -> ``"1:02:05"``."""
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _playable_end(f: BinaryIO, size: int) -> int:
    """Where the last complete fragment (or the header) of the fragmented MP4/MOV ``f`` ends.
    Reads only the top-level box headers."""
    off, good, prev = 0, 0, b""
    while off + 8 <= size:
        f.seek(off)
        head = f.read(16)
        n, kind = int.from_bytes(head[:4], "big"), head[4:8]
        if n == 1 and len(head) == 16:  # 64-bit size
            n = int.from_bytes(head[8:16], "big")
        if n < 8 or off + n > size:  # cut off here (size 0 is what a lost write-back leaves)
            break
        off += n
        if kind in (b"ftyp", b"moov", b"mfra") or (kind == b"mdat" and prev == b"moof"):
            good = off
        prev = kind
    return good


def is_complete(path: Path) -> bool:
    """Whether the fragmented MP4/MOV ``path`` ends with a whole box (FFmpeg does not always report a
    write that failed while it closed the file)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        return _playable_end(f, size) == size


def trim_fragments(path: Path) -> None:
    """Cut a fragmented MP4/MOV after its last complete ``moof`` + ``mdat`` pair (a fragment cut off
    mid-write makes decoders complain and its frames are incomplete)."""
    if path.suffix.lower() not in _FRAGMENTED:
        return
    size = path.stat().st_size
    with open(path, "r+b") as f:
        good = _playable_end(f, size)
        if good < size:
            f.truncate(good)


def seconds_in(path: Path) -> float:
    """How many seconds of video ``path`` plays (0.0 when it does not open or holds no frame)."""
    try:
        import av
    except ImportError:
        return _cv_seconds(path)
    try:
        with av.open(str(path)) as c:
            v = c.streams.video[0]
            if c.duration:  # fragmented MP4: read from the fragments' headers, no decoding
                return float(c.duration) / 1e6
            end = 0.0  # Matroska cut off: its header has no duration yet; read the packets' times
            for p in c.demux(v):
                if p.pts is not None and v.time_base is not None:
                    end = max(end, float((p.pts + (p.duration or 0)) * v.time_base))
            return end
    except Exception as err:  # av raises its own errors (InvalidDataError...) for a file with nothing readable
        log.debug("%s does not open: %s", path, err)
        return 0.0


def _cv_seconds(path: Path) -> float:
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        n = 0
        while cap.grab():
            n += 1
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    finally:
        cap.release()
    return n / fps


def kept_name(target: Path) -> Path:
    """``take1.mp4`` -> ``take1.partial.mp4``, or ``take1.partial-2.mp4``... if that exists."""
    name = target.with_name(f"{target.stem}.partial{target.suffix}")
    i = 2
    while name.exists():
        name = target.with_name(f"{target.stem}.partial-{i}{target.suffix}")
        i += 1
    return name


def keep(tmp: Path, target: Path, in_use_ok: bool = True) -> tuple[Path, float] | None:
    """Rename the cut-off recording ``tmp`` to ``kept_name(target)``, trim it to its last complete
    fragment and return that name and the seconds it plays; None (and the file removed) when it holds
    no playable frame. When the rename fails the file is kept where it is, except with ``in_use_ok``
    False (an orphan that may still be open in another process, on Windows): then None, untouched."""
    dest = kept_name(target)
    try:
        os.replace(tmp, dest)
    except FileNotFoundError:  # gone with its folder
        return None
    except OSError as err:
        if not in_use_ok:
            return None
        log.debug("renaming %s: %s", tmp, err)
        dest = tmp
    try:
        trim_fragments(dest)
    except OSError as err:
        log.debug("trimming %s: %s", dest, err)
    seconds = seconds_in(dest)
    if seconds <= 0:
        dest.unlink(missing_ok=True)
        return None
    return dest, seconds


def target_of(tmp: Path) -> Path:
    """``.take1.1a2b3c4d5e6f7a8b.recording.mp4`` -> ``take1.mp4`` (same folder)."""
    stem = tmp.name[1:].removesuffix(f"{RECORDING}{tmp.suffix}").rsplit(".", 1)[0]
    return tmp.with_name(f"{stem}{tmp.suffix}")


def adopt_orphans(folder: Path) -> list[tuple[Path, float]]:
    """Keep every recording in ``folder`` that a killed livestyle left (hidden, unlocked) as
    ``NAME.partial.EXT``; returns what was kept. Recordings in progress are left alone."""
    kept = []
    for tmp in sorted(folder.glob(f".*{RECORDING}.*")):
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:
            continue
        try:
            if not lock(fd):
                continue  # another livestyle is recording into it
            if time.time() - os.fstat(fd).st_mtime < _ORPHAN_MIN_AGE_S and seconds_in(tmp) <= 0:
                continue  # may be a recording being created right now
            if fcntl is None:
                os.close(fd)  # Windows: our own handle would block the rename
                fd = -1
            got = keep(tmp, target_of(tmp), in_use_ok=False)
            if got is not None:
                kept.append(got)
        finally:
            if fd >= 0:
                os.close(fd)
    return kept
