"""Style folders: ``keys/NAME.png``, ``styled/NAME.png``, optional ``masks/NAME.png``.

Files pair by stem (``keys/000.png`` with ``styled/000.jpg`` is fine). The
trained model lives beside them as ``model.safetensors``.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livestyle.errors import ImageError, StyleError
from livestyle.files.imageio import (
    IMAGE_EXTS,
    over,
    read_image,
    read_image_alpha,
    read_mask,
    write_image,
)
from livestyle.files.safepaths import make_folder, write_error

MODEL_FILE = "model.safetensors"
REPLACED_DIR = "replaced"  # paintings that something replaced (``StyleFolder.set_aside``)
SAME_SHAPE = 0.02  # a painting or mask whose width and height scale alike within 2% is resized to its keyframe

log = logging.getLogger(__name__)


@dataclass
class Keyframe:
    """One training pair. ``key``/``styled``: (H, W, 3) uint8 BGR; ``mask``: (H, W) uint8 or None."""

    name: str
    key: np.ndarray
    styled: np.ndarray
    mask: np.ndarray | None


def _images(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith("."):
            if p.stem in out:
                raise StyleError(f"{p}: two images named {p.stem!r} in {folder} ({out[p.stem].name} and {p.name}); "
                                 "keep one")
            out[p.stem] = p
    return out


def _unreadable(folder: Path, stem: str) -> list[Path]:
    """Files in ``folder`` named ``stem`` with an extension that is not an image livestyle reads."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.stem == stem and p.suffix.lower() not in IMAGE_EXTS and p.suffix)


def _to_key_size(img: np.ndarray, key: np.ndarray, path: Path, key_path: Path, what: str) -> np.ndarray:
    """``img`` (a painting or a mask, ``(h, w[, 3]) uint8``) at the keyframe's size: as it is when it has it,
    resized with a note when it has its shape at another size (an editor's export at another DPI, 2x, a few
    pixels over), else ``ImageError`` saying what to do. ``what``: the name for the note ("" = no note)."""
    (h, w), (kh, kw) = img.shape[:2], key.shape[:2]
    if (h, w) == (kh, kw):
        return img
    size, ksize = f"{w}x{h}", f"{kw}x{kh}"
    if abs(w / kw - h / kh) > SAME_SHAPE * max(w / kw, h / kh):
        turned = abs(w / kh - h / kw) <= SAME_SHAPE * w / kh
        fix = (f"it looks turned on its side: rotate it back to {ksize}" if turned else
               f"crop or resize its canvas to {ksize}, or paint over the keyframe itself")
        raise ImageError(f"{path}: size {size} differs from its keyframe {key_path.name} ({ksize}) in shape; {fix}")
    if what:
        log.warning("livestyle: note: %s is %s, its keyframe %s; the %s is resized to it", path, size, ksize, what)
    shrink = w * h > kw * kh
    return cv2.resize(img, (kw, kh), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


class StyleFolder:
    """A style on disk. Creating the object touches nothing; methods validate what they read."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def keys_dir(self) -> Path:
        return self.path / "keys"

    @property
    def styled_dir(self) -> Path:
        return self.path / "styled"

    @property
    def masks_dir(self) -> Path:
        return self.path / "masks"

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def name(self) -> str:
        return self.path.name

    def create(self) -> StyleFolder:
        """Make the folder and its keys/, styled/ and masks/; ``WriteError`` (one line) where one cannot be made."""
        for d in (self.keys_dir, self.styled_dir, self.masks_dir):
            make_folder(d)
        return self

    def check_exists(self) -> None:
        self.check_usable()
        if not self.path.is_dir():
            raise StyleError(f"{self.path}: no such style folder; create it with keys/ and styled/ "
                             "subfolders (or snapshot a keyframe in `livestyle live`)")

    def check_usable(self) -> None:
        """``StyleError`` (one line) when the folder cannot exist where it is named: the path or a folder
        on the way is a regular file. A folder not made yet passes (live creates it on the first snapshot)."""
        for p in (self.path, *self.path.parents):
            if p.exists() and not p.is_dir():
                where = "is a file" if p == self.path else f"is inside {p}, which is a file"
                raise StyleError(f"{self.path}: not a style folder ({where}); name a folder")
            if p.is_dir():
                return

    def key_names(self) -> list[str]:
        return sorted(_images(self.keys_dir))

    def status(self) -> dict[str, str]:
        """name -> "painted" | "waiting" (key without painting) | "orphan" (painting without key)."""
        keys, styled = _images(self.keys_dir), _images(self.styled_dir)
        out = {n: ("painted" if n in styled else "waiting") for n in keys}
        out.update({n: "orphan" for n in styled if n not in keys})
        return dict(sorted(out.items()))

    def paint_signature(self) -> tuple:
        """Changes whenever a key, painting or mask is added, removed or rewritten (for watchers)."""
        sig = []
        for d in (self.keys_dir, self.styled_dir, self.masks_dir):
            for name, p in _images(d).items():
                try:
                    st = p.stat()
                except FileNotFoundError:
                    continue
                sig.append((d.name, name, st.st_mtime_ns, st.st_size))
        return tuple(sig)

    def load(self, strict: bool = True, min_size: int = 32) -> list[Keyframe]:
        """Read and validate every painted keyframe.

        ``strict``: a key without painting (or the reverse) is an error; otherwise
        unpainted keys are skipped (the live loop waits for the painting).
        """
        self.check_exists()
        keys, styled, masks = _images(self.keys_dir), _images(self.styled_dir), _images(self.masks_dir)
        if not keys and not styled:
            raise StyleError(f"{self.path}: no keyframes; put the original frame in keys/NAME.png "
                             "and its painted version in styled/NAME.png")
        for n, p in styled.items():
            if n not in keys:  # a painting renamed on the way back (AirDrop's "000 2.png", a phone's IMG_0042)
                waiting = [k for k in keys if k not in styled]
                rename = (f"rename it to {waiting[0]}{p.suffix} if it paints keys/{keys[waiting[0]].name}, or "
                          if len(waiting) == 1 else "")
                raise StyleError(f"{p}: painting without its keyframe; {rename}add keys/{n}.png (the original frame)")
        if strict:
            for n, p in keys.items():
                if n not in styled:
                    for other in _unreadable(self.styled_dir, n):  # an editor's own file: .psd, .kra, .heic...
                        raise StyleError(f"{other}: livestyle cannot read {other.suffix} files; export the "
                                         f"painting as PNG to styled/{n}.png")
                    raise StyleError(f"{p}: keyframe without painting; paint it and save as styled/{n}.png")
        for n, p in masks.items():
            if n not in keys:
                raise StyleError(f"{p}: mask without keyframe; remove it or add keys/{n}.png")
        for found, what in ((keys, "keyframe image"), (styled, "painting"), (masks, "mask")):
            for p in found.values():
                if p.is_dir():  # read_image would call it missing
                    raise StyleError(f"{p}: a folder, not an image; move it away or replace it with the {what}")
        out = []
        for n in sorted(set(keys) & set(styled)):
            key = read_image(keys[n])
            if min(key.shape[:2]) < min_size:
                raise ImageError(f"{keys[n]}: {key.shape[1]}x{key.shape[0]} is smaller than a training patch "
                                 f"({min_size}x{min_size}); use a larger keyframe")
            sty, alpha = read_image_alpha(styled[n])
            sty = _to_key_size(sty, key, styled[n], keys[n], "painting")
            if alpha is not None:  # a paint layer exported alone: the photo shows through where nothing was painted
                sty = over(sty, _to_key_size(alpha, key, styled[n], keys[n], ""), key)
                log.warning("livestyle: note: %s has transparent parts: the keyframe shows through there",
                            styled[n])
            mask = None
            if n in masks:
                mask = _to_key_size(read_mask(masks[n]), key, masks[n], keys[n], "mask")
                mask = np.where(mask >= 128, 255, 0).astype(np.uint8)  # binary again after a resize
                if not mask.any():
                    raise ImageError(f"{masks[n]}: mask is empty (no pixel brighter than mid-grey); paint white "
                                     "where to stylize or delete the mask to use the whole frame")
            out.append(Keyframe(n, key, sty, mask))
        if not out:
            raise StyleError(f"{self.path}: no keyframe has a painting yet; paint styled/NAME.png for one of "
                             f"{', '.join(sorted(keys))}")
        return out

    def snapshot(self, frame: np.ndarray, mask: np.ndarray | None = None, name: str | None = None) -> str:
        """Write a live frame as a new keyframe (and its mask); returns its name."""
        self.create()
        if name is None:
            existing = set(_images(self.keys_dir))
            stamp = time.strftime("%Y%m%d-%H%M%S")
            name, i = stamp, 1
            while name in existing:
                i += 1
                name = f"{stamp}-{i:02d}"  # 20261204-101500 < 20261204-101500-02 < ...-10: names sort by time
        if not re.fullmatch(r"[\w.\-]+", name):
            raise StyleError(f"{name!r}: keyframe names may hold letters, digits, '.', '-' and '_' only")
        if (there := _images(self.keys_dir).get(name)) is not None and there.is_file():
            raise StyleError(f"keyframe {name!r} is already in {self.keys_dir}; choose another name (its painting "
                             "belongs to that frame)")
        write_image(self.keys_dir / f"{name}.png", frame)
        if mask is not None:
            write_image(self.masks_dir / f"{name}.png", mask)
        return name

    def set_aside(self, name: str) -> list[Path]:
        """Move keyframe ``name``'s painting (of any extension) out of ``styled/`` to ``replaced/NAME-STAMP.EXT``,
        where nothing reads it; returns where each went. What replaces a painting (auto-style) calls this first:
        nothing painted by hand is lost."""
        old = [p for p in _images(self.styled_dir).values() if p.stem == name]
        if not old:
            return []
        folder = self.path / REPLACED_DIR
        make_folder(folder)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        went = []
        for p in old:
            dest, i = folder / f"{name}-{stamp}{p.suffix}", 1
            while dest.exists():
                i += 1
                dest = folder / f"{name}-{stamp}-{i:02d}{p.suffix}"
            try:
                os.replace(p, dest)
            except OSError as err:
                raise write_error(dest, err, "cannot set the old painting aside") from None
            went.append(dest)
        return went

    def write_painting(self, name: str, painted: np.ndarray) -> Path:
        """``styled/NAME.png`` (``replace_painting``, without saying what was set aside)."""
        return self.replace_painting(name, painted)[0]

    def replace_painting(self, name: str, painted: np.ndarray) -> tuple[Path, list[Path]]:
        """Write ``styled/NAME.png``; a painting already there (of any extension) is set aside first
        (``set_aside``) and put back if the new one cannot be written. Returns the path and where the old went."""
        path = self.styled_dir / f"{name}.png"
        went = self.set_aside(name)
        try:
            write_image(path, painted)
        except BaseException:
            for dest in went:
                os.replace(dest, self.styled_dir / f"{name}{dest.suffix}")
            raise
        return path, went
