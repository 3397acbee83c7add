"""A binary min-heap over two parallel arrays (float64 keys, int64 values), for numba code.

The searches push a node again when its key drops and skip stale entries when they pop
(lazy deletion), so a heap holds at most one entry per relaxed edge.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True, inline="always")
def push(keys, values, size: int, key: float, value: int) -> int:
    """Insert (key, value); returns the new size. The caller keeps size < len(keys)."""
    i = size
    keys[i] = key
    values[i] = value
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        values[i] = values[parent]
        i = parent
    keys[i] = key
    values[i] = value
    return size + 1


@njit(cache=True, nogil=True, inline="always")
def pop(keys, values, size: int):
    """Remove the smallest entry; returns (key, value, new size). The caller keeps size > 0."""
    key = keys[0]
    value = values[0]
    size -= 1
    if size > 0:
        last_key = keys[size]
        last_value = values[size]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size and keys[child + 1] < keys[child]:
                child += 1
            if keys[child] >= last_key:
                break
            keys[i] = keys[child]
            values[i] = values[child]
            i = child
        keys[i] = last_key
        values[i] = last_value
    return key, value, size
