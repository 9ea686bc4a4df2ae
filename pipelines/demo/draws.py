"""Seeded draws and small array helpers shared by the simulation."""

from __future__ import annotations

import numpy as np


def hash_u(a: np.ndarray, b: np.ndarray | int, salt: int) -> np.ndarray:
    """Uniform [0, 1) from integer keys (splitmix64): the same (a, b, salt) always gives the same draw."""
    with np.errstate(over="ignore"):
        x = np.asarray(a, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= (np.asarray(b, dtype=np.uint64) + np.uint64(salt & 0xFFFFFFFF)) * np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


def exact(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Boolean mask with exactly round(n * share) True values at random positions."""
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[: int(round(n * share))]] = True
    return mask


def expand(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For intervals [first, last] (inclusive, may be empty) return (interval index, value) pairs."""
    n = np.maximum(last - first + 1, 0)
    idx = np.repeat(np.arange(len(n)), n)
    start = np.cumsum(n) - n
    return idx, first[idx] + (np.arange(int(n.sum())) - start[idx])


def largest_remainder(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Integers summing to total (at least `minimum` each) in proportion to weights."""
    n = len(weights)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    base = np.full(n, minimum, dtype=np.int64)
    rest = max(total - minimum * n, 0)
    raw = rest * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - out), kind="stable")
    out[order[: rest - out.sum()]] += 1
    return base + out
