"""Image I/O and conversions at the boundary.

Convention inside livestyle: frames are ``(H, W, 3) uint8 BGR`` (OpenCV's
order) until they enter the network, where they become ``(B, C, H, W)``
float in [-1, 1] **RGB**. Masks are ``(H, W) uint8`` with 255 = stylize.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np
import torch

from livestyle.errors import ImageError

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def natural_key(path: Path) -> list[int | str]:
    """Sort key that puts ``frame2.png`` before ``frame10.png``."""
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", path.name)]


def list_images(folder: Path) -> list[Path]:
    """The image files directly inside ``folder`` (a clip's frames), in natural name order; hidden files (macOS's
    ``._000.png`` AppleDouble files on a USB drive, ``.DS_Store``) and folders are not frames."""
    files = [p for p in folder.iterdir()
             if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith(".") and p.is_file()]
    return sorted(files, key=natural_key)


def read_image(path: str | Path) -> np.ndarray:
    """Read any image as ``(H, W, 3) uint8 BGR``: ``read_image_alpha``'s colour with any transparency
    composited over black (transparent = nothing there)."""
    img, alpha = read_image_alpha(path)
    return img if alpha is None else over(img, alpha, np.zeros_like(img))


def read_image_alpha(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read any image as ``(H, W, 3) uint8 BGR`` and its alpha, ``(H, W) uint8`` (255 = opaque), or None
    where the file has none.

    Grayscale is expanded to 3 channels; 16-bit is scaled to 8-bit, float from 0..1 (HDR values above 1
    clip). A JPEG is turned upright by its EXIF orientation, as every viewer and editor shows it (phone
    photos are stored sideways with a tag; an editor exports the painting upright), and a CMYK one
    converted to BGR.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    data = np.fromfile(str(path), dtype=np.uint8)
    if not data.size:
        raise ImageError(f"{path}: empty file (0 bytes): the save failed or has not finished; save it again")
    # IMREAD_UNCHANGED keeps alpha and 16 bits but ignores EXIF orientation; a JPEG has neither, so it is
    # read as colour, which applies the orientation (by content, not by name: a JPEG saved as .png too)
    jpeg = data[:3].tobytes() == b"\xff\xd8\xff"
    img = cv2.imdecode(data, cv2.IMREAD_COLOR if jpeg else cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ImageError(f"{path}: not a readable image (corrupt or unsupported format); re-save it as PNG")
    if img.dtype == np.uint16:
        img = (img / 257).astype(np.uint8)
    elif img.dtype.kind == "f":  # a 32-bit float export (Krita, GIMP): 0..1 is black..white, brighter clips
        img = (np.nan_to_num(img).clip(0.0, 1.0) * 255.0).round().astype(np.uint8)
    elif img.dtype != np.uint8:
        img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    alpha = None
    if img.ndim == 3 and img.shape[2] == 4:
        img, alpha = img[:, :, :3], np.ascontiguousarray(img[:, :, 3])
        alpha = None if alpha.min() == 255 else alpha
    if img.ndim == 2 or img.shape[2] == 1:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img), alpha


def over(img: np.ndarray, alpha: np.ndarray, under: np.ndarray) -> np.ndarray:
    """``img`` (``(H, W, 3) uint8``) composited with its straight ``alpha`` (``(H, W) uint8``) over ``under``
    (same size and type): ``img`` where alpha is 255, ``under`` where it is 0."""
    a = alpha[:, :, None].astype(np.float32) / 255.0
    return (img.astype(np.float32) * a + under.astype(np.float32) * (1.0 - a)).round().astype(np.uint8)


def read_mask(path: str | Path) -> np.ndarray:
    """Read a mask as ``(H, W) uint8`` in {0, 255} (white = stylize)."""
    img = read_image(path)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return np.where(gray >= 128, 255, 0).astype(np.uint8)


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write bytes to ``path`` atomically (temp file in the same folder + rename): ``path`` holds the
    old content or the new, never a part. A failure (disk full, no permission, a folder on the way
    that is a file) is a one-line ``WriteError`` naming ``path`` and the cause, the old file kept."""
    from livestyle.files.safepaths import make_folder, partial_name, write_error

    path = Path(path)
    make_folder(path.parent, for_file=path)
    tmp = partial_name(path, ".tmp")  # named before it exists: an interrupt after creation still removes it
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # created 0600 (private until complete); give it normal permissions
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise write_error(path, err) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_image(path: str | Path, img: np.ndarray) -> None:
    """Write ``(H, W, 3) uint8 BGR`` or ``(H, W) uint8`` atomically; format from the extension."""
    path = Path(path)
    ext = path.suffix.lower() or ".png"
    ok, buf = cv2.imencode(ext, img)
    if not ok:
        raise ImageError(f"{path}: cannot encode image as {ext}")
    write_atomic(path, buf.tobytes())


def bgr_to_tensor(img: np.ndarray) -> torch.Tensor:
    """``(H, W, 3) uint8 BGR`` -> ``(1, 3, H, W) float32 RGB in [-1, 1]``."""
    rgb = np.ascontiguousarray(img[:, :, ::-1])
    t = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float()
    return t.div_(127.5).sub_(1.0)


def tensor_to_bgr(t: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` or ``(3, H, W)`` float RGB in [-1, 1] -> ``(H, W, 3) uint8 BGR``."""
    if t.dim() == 4:
        t = t[0]
    u8 = ((t.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return np.ascontiguousarray(u8.permute(1, 2, 0).cpu().numpy()[:, :, ::-1])
