"""Writing files so that nothing the user had is lost.

Every file livestyle writes goes to a temporary name in the same folder and is
renamed into place only when complete (``imageio.write_atomic`` for small
files, ``videowrite.VideoFileWriter`` for videos). This module holds what they
share: the temporary name, the one-line error for a failed write (with the fix),
the check that an output does not overwrite its own input, and the check, made
before long work, that it can be written at all.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

from livestyle.errors import LivestyleError, WriteError

_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is too large for this disk or a file-size limit",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOTDIR: "a folder on the way is a regular file",
    errno.ENOENT: "a folder on the way does not exist",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "input/output error (failing disk or lost network share)",
}

_FIXES = {
    errno.EACCES: "choose a place you can write to, or make the folder writable",
    errno.EPERM: "choose a place you can write to, or make the folder writable",
    errno.EROFS: "choose a place on a disk that is not read-only",
}


def write_error(path: str | Path, err: OSError, what: str = "cannot write", fix: str | None = None) -> WriteError:
    """The one-line ``WriteError`` for ``err`` while writing ``path``: the path, the cause, and the fix
    (``fix``, else the usual one for the cause where there is one, as for no permission)."""
    cause = _CAUSES.get(err.errno or 0) or err.strerror or (str(err).splitlines() or [type(err).__name__])[0]
    fix = fix or _FIXES.get(err.errno or 0)
    return WriteError(f"{path}: {what} ({cause}); nothing there was changed{f'; {fix}' if fix else ''}")


def check_writable(path: str | Path, fix: str | None = None, folder: bool = False) -> None:
    """``WriteError`` (one line, as the failed write would say, with ``fix`` when given) when the file
    ``path`` (with ``folder``: a folder to write files into) clearly cannot be written: a file that is a
    folder, a folder that is a file, a folder on the way that is a regular file, or the nearest existing
    folder is read-only. Checked before long work (a live session, a calibration, a render), so that
    the work is not lost at its end."""
    p = Path(path)
    if p.exists() and p.is_dir() != folder:
        is_a = "it is a folder" if p.is_dir() else "it is a file, not a folder"
        raise WriteError(f"{p}: cannot write ({is_a}); name {'a folder' if folder else 'a file'}")
    what = "cannot write into this folder" if folder else "cannot write"
    for parent in (p.absolute(), *p.absolute().parents) if folder else p.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise write_error(p, OSError(errno.ENOTDIR, "Not a directory"), what, fix)
            if not os.access(parent, os.W_OK | os.X_OK):
                raise write_error(p, OSError(errno.EACCES, "Permission denied"), what, fix)
            return


def partial_name(path: str | Path, suffix: str | None = None) -> Path:
    """A fresh hidden name next to ``path`` (same folder, so a rename is atomic), not yet created,
    with the extension last (``.NAME.1a2b3c4d5e6f7a8b.partial.mp4``: encoders guess the format from
    it). Callers keep the name *before* creating the file, so that an interrupt at any point after
    the file exists still finds and removes it."""
    path = Path(path)
    return path.with_name(f".{path.stem}.{secrets.token_hex(8)}{suffix or f'.partial{path.suffix}'}")


def make_folder(path: str | Path, for_file: str | Path | None = None) -> None:
    """Create the folder ``path`` and its parents if missing; ``WriteError`` (one line) when that
    fails, naming ``for_file`` (the file about to be written there) when given, else ``path``."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a regular file is in the way
        raise write_error(for_file or path, OSError(errno.ENOTDIR, "Not a directory"),
                          "cannot write" if for_file else "cannot create this folder") from None
    except OSError as err:
        raise write_error(for_file or path, err, "cannot write" if for_file else "cannot create this folder") from None


def finish_file(tmp: Path, path: Path) -> None:
    """Flush ``tmp`` to the disk and rename it to ``path`` (atomic: ``path`` is the old file or the
    new one, never a mix). ``WriteError`` if that fails; ``tmp`` is then removed."""
    try:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise write_error(path, err) from None
    except BaseException:  # Ctrl-C while flushing: the old file stays, the temporary one goes
        tmp.unlink(missing_ok=True)
        raise


def check_output_not_in_input(input_path: str | Path, output_path: str | Path) -> None:
    """Refuse an output that is, contains or is inside its input (it would overwrite or mix with the
    frames being read): ``LivestyleError``, before anything is written."""
    inp, out = Path(input_path).resolve(), Path(output_path).resolve()
    if out == inp:
        raise LivestyleError(f"{output_path}: the output is the input; write to another file or folder")
    if inp in out.parents:
        raise LivestyleError(f"{output_path}: the output is inside the input {input_path}; write it elsewhere")
    if out in inp.parents:
        raise LivestyleError(f"{output_path}: the output contains the input {input_path}; write it elsewhere")
