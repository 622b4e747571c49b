"""Named random streams: one independent generator per (seed, replication, activity name).

Every random quantity draws from its own stream, derived with ``numpy.random.SeedSequence`` from the
master seed, a key (the replication number, and for sweeps a point's hash) and a stable hash of the
stream's name. Two models run in the same replication therefore see the same citizens (common random
numbers), and results do not depend on which process or machine runs a replication.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Final

import numpy as np

CHUNK: Final = 512


def stream_id(name: str) -> int:
    """A stable 32-bit id for a stream name (``hash()`` is salted per process, crc32 is not)."""
    return zlib.crc32(name.encode("utf-8"))


def generator(seed: int, key: tuple[int, ...], name: str) -> np.random.Generator:
    """The generator of stream ``name`` for ``key`` (e.g. ``(replication,)``) under ``seed``."""
    seq = np.random.SeedSequence(entropy=seed, spawn_key=(*key, stream_id(name)))
    return np.random.Generator(np.random.PCG64(seq))


class Buffered:
    """Draws from a generator in vectorised chunks and hands them out one at a time."""

    __slots__ = ("_buf", "_draw", "_i", "_rng")

    def __init__(
        self, rng: np.random.Generator, draw: Callable[[np.random.Generator, int], np.ndarray]
    ) -> None:
        self._rng, self._draw = rng, draw
        self._buf: list[float] = []
        self._i = 0

    def next(self) -> float:
        """The next value of the stream."""
        if self._i >= len(self._buf):
            self._buf = self._draw(self._rng, CHUNK).tolist()
            self._i = 0
        v = self._buf[self._i]
        self._i += 1
        return v
