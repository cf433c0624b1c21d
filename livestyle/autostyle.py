"""Classical stylizations for people who will not paint: there is always something to train on.

Each function maps ``(H, W, 3) uint8 BGR`` to ``(H, W, 3) uint8 BGR`` of the same size.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from livestyle.errors import LivestyleError


def watercolor(img: np.ndarray) -> np.ndarray:
    return cv2.stylization(img, sigma_s=60, sigma_r=0.45)


def oil(img: np.ndarray) -> np.ndarray:
    return cv2.xphoto.oilPainting(img, 7, 1)


def pencil(img: np.ndarray) -> np.ndarray:
    _, colour = cv2.pencilSketch(img, sigma_s=60, sigma_r=0.07, shade_factor=0.05)
    return colour


def cartoon(img: np.ndarray) -> np.ndarray:
    """Edge-preserving smoothing, colour quantisation and dark outlines."""
    smooth = cv2.edgePreservingFilter(img, flags=cv2.RECURS_FILTER, sigma_s=50, sigma_r=0.4)
    q = (smooth // 40) * 40 + 20
    gray = cv2.medianBlur(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), 5)
    edges = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 4)
    return cv2.bitwise_and(q.astype(np.uint8), q.astype(np.uint8), mask=edges)


def ink(img: np.ndarray) -> np.ndarray:
    """Warm paper with dark ink strokes from the image's edges."""
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 40, 110)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8))
    paper = np.empty_like(img)
    paper[:] = (200, 228, 240)
    tone = cv2.cvtColor((gray // 64 * 30).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    out = cv2.subtract(paper, tone)
    out[edges > 0] = (40, 30, 30)
    return out


STYLES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "watercolor": watercolor, "oil": oil, "pencil": pencil, "cartoon": cartoon, "ink": ink,
}


def autostyle(img: np.ndarray, kind: str = "watercolor") -> np.ndarray:
    if kind not in STYLES:
        raise LivestyleError(f"unknown auto-style {kind!r}; choose one of {', '.join(STYLES)}")
    return STYLES[kind](img)
