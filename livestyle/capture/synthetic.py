"""A camera without hardware: ``SyntheticScene`` (a real person photo in a moving scene), paced.

Frame ``i`` shows the scene at time ``i / fps`` seconds, so the sequence is
the same on every machine and every run (what tests and benchmarks need),
while the pacer delivers it in real time like a webcam would.
"""

from __future__ import annotations

import numpy as np

from livestyle.capture.base import Pacer, Source, check_fps, check_size
from livestyle.capture.synthclip import SyntheticScene

DEFAULT_SIZE = (640, 360)
DEFAULT_FPS = 30.0


class SyntheticSource(Source):
    """Endless synthetic camera at ``width x height`` and ``fps``, deterministic for a ``seed``.

    ``paced=False`` returns frames as fast as they are drawn (offline tests).
    """

    live = False

    def __init__(
        self,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        *,
        seed: int = 0,
        person: str = "astronaut",
        paced: bool = True,
    ) -> None:
        super().__init__()
        self.name = "synthetic"
        self._size = (int(width or DEFAULT_SIZE[0]), int(height or DEFAULT_SIZE[1]))
        self._fps = check_fps(self.name, fps or DEFAULT_FPS)
        check_size(self.name, *self._size)
        self.seed = seed
        self.person = person
        self.paced = paced
        self._scene: SyntheticScene | None = None
        self._index = 0
        self._pacer = Pacer(self._fps)

    @property
    def scene(self) -> SyntheticScene | None:
        """The scene being filmed (ground-truth motion for tests), once open."""
        return self._scene

    def _open(self) -> None:
        if self._scene is None:  # building the scene costs 0.3 s at 640x360; a reopen keeps it
            self._scene = SyntheticScene(size=self._size, seed=self.seed, person=self.person)
        self._pacer.reset()

    def _read(self) -> np.ndarray | None:
        assert self._scene is not None
        if self.paced:
            self._pacer.wait()
        frame = self._scene.frame(self._index / self._fps)
        self._index += 1
        return frame

    def _close(self) -> None:
        pass  # the scene holds no OS resources; keeping it makes a reopen cheap
