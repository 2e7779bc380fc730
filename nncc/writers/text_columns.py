"""The formatting kernel shared by the SMT-LIB, MPS and LP writers.

Writing millions of terms one Python string at a time costs about a
microsecond per term. Instead every distinct piece of text (a variable
name, a formatted coefficient, a row head) is formatted once into a
:class:`Table`: a ``(k, width)`` uint8 matrix whose rows are left-aligned
byte strings padded with the :data:`FILL` byte. A line (or a term) is a
sequence of *parts*, each either a constant byte string or a table with one
row index per line; :func:`render` lays the parts side by side into a fixed-
width matrix with one fancy-indexing copy per part, and :func:`squeeze`
deletes the filler bytes. FILL may sit anywhere (right-padded names,
left-padded digits, entries that are empty altogether), so optional pieces
are just table rows made of FILL.

Numbers: :func:`shortest_decimals` gives the shortest decimal that reads
back as the same double, without exponent (SMT-LIB has no exponent
notation); :func:`shortest_repr` allows exponents (MPS, LP).
"""
from __future__ import annotations

from typing import BinaryIO, Callable, Sequence, Union

import numpy as np

#: The padding byte. Never part of any text the writers produce (names are
#: ``[A-Za-z0-9_]``, numbers and keywords are ASCII).
FILL = 0

#: Terms per chunk: the padded matrix of a chunk stays a few megabytes.
CHUNK = 1 << 16


class Table:
    """Byte strings stored as a padded ``(k, width)`` uint8 matrix."""

    __slots__ = ("mat", "_items")

    def __init__(self, mat: np.ndarray):
        mat = np.ascontiguousarray(mat, dtype=np.uint8)
        if mat.ndim != 2:
            raise ValueError("a table is a 2-d matrix")
        if mat.shape[1] == 0:  # keep one column so that a void view exists
            mat = np.full((mat.shape[0], 1), FILL, np.uint8)
        self.mat = mat
        # Rows as single fixed-size items: gathering them is one memcpy-like
        # take instead of a 2-d fancy index (about twice as fast).
        self._items = mat.view(np.dtype((np.void, mat.shape[1]))).reshape(-1)

    @classmethod
    def of(cls, strings: Sequence[Union[bytes, str]]) -> "Table":
        """A table of the given strings (``str`` is encoded as ASCII)."""
        bs = [s.encode("ascii") if isinstance(s, str) else bytes(s) for s in strings]
        width = max((len(b) for b in bs), default=0) or 1
        # ljust with NUL pads exactly with FILL (= 0).
        buf = b"".join(b.ljust(width, b"\0") for b in bs)
        return cls(np.frombuffer(buf, np.uint8).reshape(len(bs), width).copy())

    @property
    def width(self) -> int:
        return self.mat.shape[1]

    def __len__(self) -> int:
        return self.mat.shape[0]

    def take(self, idx: np.ndarray) -> np.ndarray:
        """Rows ``idx`` as a ``(len(idx), width)`` matrix."""
        return self._items.take(idx).view(np.uint8).reshape(len(idx), self.width)

    def lengths(self) -> np.ndarray:
        """Visible length of every entry (its non-FILL bytes)."""
        return np.count_nonzero(self.mat != FILL, axis=1)

    def strings(self) -> list[bytes]:
        """The entries as Python bytes (for tests and small tables)."""
        return [bytes(r[r != FILL]) for r in self.mat]

    def __add__(self, other: "Table") -> "Table":
        """Entries of ``self`` followed by those of ``other`` (widths padded)."""
        w = max(self.width, other.width)
        return Table(np.vstack([_pad(self.mat, w), _pad(other.mat, w)]))


def _pad(mat: np.ndarray, width: int) -> np.ndarray:
    if mat.shape[1] == width:
        return mat
    out = np.full((mat.shape[0], width), FILL, np.uint8)
    out[:, :mat.shape[1]] = mat
    return out


#: A part of a line: constant bytes, or a table and one row index per line.
Part = Union[bytes, tuple[Table, np.ndarray]]


def render(n: int, parts: Sequence[Part]) -> np.ndarray:
    """Lay ``parts`` side by side for ``n`` lines: an ``(n, total width)`` padded matrix."""
    widths = [len(p) if isinstance(p, bytes) else p[0].width for p in parts]
    mat = np.empty((n, sum(widths)), np.uint8)
    col = 0
    for p, w in zip(parts, widths):
        if isinstance(p, bytes):
            mat[:, col:col + w] = np.frombuffer(p, np.uint8)
        else:
            mat[:, col:col + w] = p[0].take(p[1])
        col += w
    return mat


_DROP_FILL = bytes([FILL])


def squeeze(mat: np.ndarray) -> bytes:
    """The bytes of ``mat`` in row order with every FILL byte removed.

    ``bytes.translate`` deletes in one C loop, without the boolean mask and
    gather a numpy compress needs (about a fifth faster here).
    """
    return np.ascontiguousarray(mat).tobytes().translate(None, _DROP_FILL)


def render_table(n: int, parts: Sequence[Part]) -> Table:
    """Like :func:`render`, kept padded: a new table with one entry per line."""
    return Table(render(n, parts))


def emit(out: BinaryIO, n: int, make_parts: Callable[[int, int], Sequence[Part]],
         chunk: int = CHUNK) -> None:
    """Write ``n`` lines (or terms) in chunks; ``make_parts(lo, hi)`` gives the parts of lines lo..hi."""
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        out.write(squeeze(render(hi - lo, make_parts(lo, hi))))


# -- integers and names ---------------------------------------------------------------------------

def int_table(n: int, prefix: bytes = b"") -> Table:
    """``prefix`` followed by the decimal digits of 0 .. n-1, built without a Python loop over numbers.

    Digit column by digit column: the digit of place value ``p`` in 0, 1, 2, ... runs
    through ``0`` .. ``9`` each repeated ``p`` times, so a column is a tiled uint8
    pattern (no int64 quotients: the row names of a large program are a table of a
    few megabytes, and dividing would need several arrays of 8 bytes per digit).
    """
    n = max(int(n), 0)
    w = len(str(max(n - 1, 0)))
    k = len(prefix)
    mat = np.empty((n, k + w), np.uint8)
    mat[:, :k] = np.frombuffer(prefix, np.uint8)
    ten = np.arange(ord("0"), ord("9") + 1, dtype=np.uint8)
    for j in range(w):
        p = 10 ** (w - 1 - j)
        # (the leading digit of a small table runs through only part of 0..9)
        col = np.tile(np.repeat(ten[:-(-n // p)], p), -(-n // (10 * p)))[:n]
        if j < w - 1:
            # Leading zeros become FILL (they sit on the left; squeeze drops them anyway).
            col[:p] = FILL
        mat[:, k + j] = col
    return Table(mat)


def group_name_table(prefix: str, shape: tuple[int, ...]) -> Table:
    """Names ``prefix_i_j...`` of a variable group in index order (``VarGroup.var_names``)."""
    if not shape:
        return Table.of([prefix])
    size = int(np.prod(shape))
    if size == 0:
        return Table(np.zeros((0, 1), np.uint8))
    # Index digits of axis a for flat position p: (p // stride_a) % shape_a.
    p = np.arange(size, dtype=np.int64)
    strides = np.cumprod((1,) + tuple(shape[::-1]))[:-1][::-1]
    parts: list[Part] = [prefix.encode("ascii")]
    for s, st in zip(shape, strides):
        parts += [b"_", (int_table(s), (p // st) % s)]
    return render_table(size, parts)


def name_table(groups) -> Table:
    """Names of all variables of ``groups`` (``VarGroup`` list, in offset order), one entry each."""
    tables = [group_name_table(g.prefix, g.shape) for g in groups]
    if not tables:
        return Table(np.zeros((0, 1), np.uint8))
    w = max(t.width for t in tables)
    return Table(np.vstack([_pad(t.mat, w) for t in tables]))


# -- numbers --------------------------------------------------------------------------------------

def unique_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(uniq, inverse)`` of a float array (``uniq[inverse] == values``), -0.0 folded into 0.0.

    ``uniq`` is not sorted; ``inverse`` is int32. Data coefficients are mostly
    small integers (pixel values, digits 0..16): those take a counting path,
    linear in time; only the other values are sorted. Works in chunks so that
    temporaries stay small.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    n = len(v)
    if n == 0:
        return np.zeros(0), np.zeros(0, np.int32)
    if not np.isfinite(v.min() + v.max()):
        bad = v[~np.isfinite(v)][0]
        raise ValueError(f"non-finite number {bad} in a constraint")
    step = 1 << 18  # temporaries of a few megabytes
    small = np.empty(n, bool)
    seen = np.zeros(2 * _SMALL + 1, bool)
    for a in range(0, n, step):
        vc = v[a:a + step]
        sm = (vc == np.rint(vc)) & (np.abs(vc) <= _SMALL)
        small[a:a + step] = sm
        seen[(vc[sm] + _SMALL).astype(np.int64)] = True
    present = np.flatnonzero(seen)
    codes = np.zeros(len(seen), np.int32)
    codes[present] = np.arange(len(present), dtype=np.int32)
    inv = np.empty(n, np.int32)
    for a in range(0, n, step):
        vc, sm = v[a:a + step], small[a:a + step]
        ic = inv[a:a + step]
        if sm.all():
            ic[:] = codes[(vc + _SMALL).astype(np.int64)]
        else:
            ic[sm] = codes[(vc[sm] + _SMALL).astype(np.int64)]
    uniq = present - float(_SMALL)
    rest = np.flatnonzero(~small)
    if len(rest):
        runiq, rinv = hash_unique(v[rest])
        inv[rest] = rinv + len(present)
        uniq = np.concatenate([uniq, runiq])
    return uniq, inv


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)   # Fibonacci hashing: the top bits of bits * this


def _place(keys: np.ndarray, k: int, owner: np.ndarray, scratch: np.ndarray) -> None:
    """Distinct ``keys`` into an empty table of ``2**k`` slots, key i owning a slot."""
    mask = (1 << k) - 1
    slot = ((keys * _GOLDEN) >> np.uint64(64 - k)).astype(np.int64)
    pending = np.arange(len(keys), dtype=np.int32)
    while len(pending):
        s = slot[pending]
        free = owner[s] < 0
        fs, fp = s[free], pending[free]
        scratch[fs] = fp
        win = fp[scratch[fs] == fp]
        owner[slot[win]] = win
        pending = pending[owner[slot[pending]] != pending]
        slot[pending] = (slot[pending] + 1) & mask


def hash_unique(values: np.ndarray, chunk: int = 1 << 17) -> tuple[np.ndarray, np.ndarray]:
    """``(uniq, inverse)`` of float64 values (no NaN; -0.0 folded into 0.0), ``uniq`` in
    order of first appearance, ``inverse`` int32.

    Real-valued data repeats each value in every row that reads it (a pixel in the
    row of every hidden unit): sorting millions of such values was most of a writer's
    time. Here the values go through an open-addressing hash table of their bits
    (linear probing, one vectorised step per probe for a chunk of values at a time),
    sized twice the distinct values seen so far, so that it stays in cache when
    there are few: linear time. Values that are mostly distinct go to ``np.unique``
    (a sort is faster there than a table as large as the data).
    """
    bits = (np.asarray(values, np.float64).reshape(-1) + 0.0).view(np.uint64)
    n = len(bits)
    keys = np.empty(min(n, chunk), np.uint64)   # the distinct values, grown by doubling
    code = np.empty(n, np.int32)
    count = k = 0
    owner = scratch = np.empty(0, np.int32)
    fresh = 0   # new keys of the last chunk
    for a in range(0, n, chunk):
        if a >= 4 * chunk and fresh > 0.8 * chunk:   # still mostly new values: sort instead
            u, inv = np.unique(bits.view(np.float64), return_inverse=True)
            return u, inv.reshape(-1).astype(np.int32)
        b = bits[a:a + chunk]
        out = code[a:a + len(b)]
        if 2 * len(owner) < 3 * (count + len(b)):   # at most 2/3 full after the chunk
            k = max(int(3 * (count + len(b)) // 2).bit_length(), 10)
            owner = np.full(1 << k, -1, np.int32)     # int32: half the cache of int64
            scratch = np.empty(1 << k, np.int32)
            _place(keys[:count], k, owner, scratch)
        mask = (1 << k) - 1
        slot = ((b * _GOLDEN) >> np.uint64(64 - k)).astype(np.int64)
        pending = np.arange(len(b), dtype=np.int32)
        before = count
        while len(pending):
            s = slot[pending]
            o = owner[s]
            free = o < 0
            if free.any():   # the first value to reach a free slot makes a new key there
                fs, fp = s[free], pending[free]
                scratch[fs[::-1]] = fp[::-1]
                win = fp[scratch[fs] == fp]
                if count + len(win) > len(keys):
                    keys = np.concatenate([keys[:count], np.empty(max(count, len(win)),
                                                                  np.uint64)])
                owner[slot[win]] = np.arange(count, count + len(win), dtype=np.int32)
                keys[count:count + len(win)] = b[win]
                count += len(win)
                o = owner[s]
            hit = keys[o] == b[pending]
            out[pending[hit]] = o[hit]
            pending = pending[~hit]
            slot[pending] = (slot[pending] + 1) & mask
        fresh = count - before
    return keys[:count].view(np.float64).copy(), code


#: Integers up to this magnitude take the counting path of :func:`unique_values`.
_SMALL = 1 << 16


def shortest_repr(values) -> list[str]:
    """Shortest round-trip text of each float; integers without ``.0``; exponents allowed."""
    out = []
    for x in np.asarray(values, dtype=np.float64).tolist():
        x += 0.0  # no "-0"
        s = repr(x)
        if s.endswith(".0"):
            s = s[:-2]
        out.append(s)
    return out


def number_table(values, prefix: bytes = b"", suffix: bytes = b"") -> Table:
    """:func:`shortest_repr` of each value, between ``prefix`` and ``suffix``, as a table.

    Integer values (most data) are printed by numpy in one pass; the others by
    ``repr``, the shortest round-trip text, one value at a time; the byte
    matrix comes straight from numpy's fixed-width byte strings (NUL-padded,
    which is FILL), without a join per entry.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1) + 0.0   # no "-0"
    ints = (v == np.rint(v)) & (np.abs(v) < 1e16)   # repr prints these as "123.0"
    a = v[ints].astype(np.int64).astype(np.bytes_)
    rest = ~ints
    b = (np.array(list(map(repr, v[rest].tolist())), dtype=np.bytes_) if rest.any()
         else np.zeros(0, "S1"))
    w = max(a.itemsize, b.itemsize, 1)
    out = np.zeros(len(v), dtype=f"S{w}")
    out[ints] = a
    out[rest] = b
    mat = np.frombuffer(out.tobytes(), np.uint8).reshape(len(v), w)
    if not prefix and not suffix:
        return Table(mat.copy())
    return render_table(len(v), [prefix, (Table(mat), np.arange(len(v))), suffix])


def shortest_decimals(values) -> list[str]:
    """Shortest round-trip text of each float as a plain decimal (no exponent, no ``.0``)."""
    out = []
    for s in shortest_repr(values):
        if "e" in s:
            s = _expand_exponent(s)
        out.append(s)
    return out


def _expand_exponent(s: str) -> str:
    """``'5.2e-05'`` -> ``'0.000052'``; ``'1e+20'`` -> ``'100000000000000000000'``."""
    mant, exp = s.split("e")
    sign = ""
    if mant.startswith("-"):
        sign, mant = "-", mant[1:]
    ip, _, fp = mant.partition(".")
    digits, point = ip + fp, len(ip) + int(exp)
    if point <= 0:
        body = "0." + "0" * -point + digits
    elif point >= len(digits):
        body = digits + "0" * (point - len(digits))
    else:
        body = digits[:point] + "." + digits[point:]
    body = body.rstrip("0").rstrip(".") if "." in body else body
    return sign + body


def decimal_places(decimals: Sequence[str]) -> np.ndarray:
    """Digits after the point of each plain decimal string."""
    return np.array([len(s) - s.index(".") - 1 if "." in s else 0 for s in decimals], np.int64)


def scaled_integer(decimal: str, places: int) -> int:
    """The exact integer ``decimal * 10**places`` (``places`` >= the decimal's own places)."""
    ip, _, fp = decimal.partition(".")
    neg = ip.startswith("-")
    mant = int((ip.lstrip("-") or "0") + fp) * 10 ** (places - len(fp))
    return -mant if neg else mant


class _SortedCodes:
    """Key -> position among sorted distinct keys, for key spaces too large for a dense map."""

    def __init__(self, present: np.ndarray):
        self.present = present

    def __getitem__(self, keys):
        return np.searchsorted(self.present, keys)


def compact_keys(keys: np.ndarray, space: int):
    """The distinct ``keys`` (ints in ``0 .. space-1``) in increasing order, and a map to their positions.

    The map is indexed like an array (``codes[keys]``). A dense array when the
    key space is small compared with the keys (linear time, no sort).
    """
    keys = np.asarray(keys, np.int64)
    if space <= 8 * len(keys) + 4096:
        seen = np.zeros(space, bool)
        seen[keys] = True
        present = np.flatnonzero(seen)
        codes = np.zeros(space, np.int64)
        codes[present] = np.arange(len(present))
        return present, codes
    present = np.unique(keys)
    return present, _SortedCodes(present)


# -- rows -----------------------------------------------------------------------------------------

def drop_trivial_rows(indptr, cols, coefs, cols2, sense, rhs):
    """Leave out rows that hold whatever the variables (``<= +inf``, ``>= -inf``).

    Any other infinite right-hand side is an error (no assignment satisfies it).
    Returns the arrays of the remaining rows (``cols2`` may be None).
    """
    from ..ir.program import GE, GT, LE, LT  # the IR's sense codes

    indptr = np.asarray(indptr, np.int64)
    sense = np.asarray(sense, np.int64)
    rhs = np.asarray(rhs, np.float64)
    trivial = (np.isin(sense, (LE, LT)) & (rhs == np.inf)) | \
        (np.isin(sense, (GE, GT)) & (rhs == -np.inf))
    if not np.all(np.isfinite(rhs[~trivial])):
        raise ValueError("a row with an infinite right-hand side cannot be satisfied")
    if not trivial.any():
        return indptr, cols, coefs, cols2, sense, rhs
    keep = ~trivial
    counts = np.diff(indptr)
    tkeep = np.repeat(keep, counts)
    indptr = np.concatenate([[0], np.cumsum(counts[keep])])
    return (indptr, np.asarray(cols)[tkeep], np.asarray(coefs)[tkeep],
            None if cols2 is None else np.asarray(cols2)[tkeep], sense[keep], rhs[keep])


def fill_empty_rows(indptr, cols, coefs, cols2=None):
    """Give each empty row the term ``0 * x_0`` so that every row has a first and a last term."""
    indptr = np.asarray(indptr, np.int64)
    cols = np.asarray(cols, np.int64)
    coefs = np.asarray(coefs, np.float64)
    counts = np.diff(indptr)
    empty = np.flatnonzero(counts == 0)
    if len(empty) == 0:
        return indptr, cols, coefs, cols2
    at = indptr[empty]
    cols = np.insert(cols, at, 0)
    coefs = np.insert(coefs, at, 0.0)
    if cols2 is not None:
        cols2 = np.insert(np.asarray(cols2, np.int64), at, -1)
    counts = counts.copy()
    counts[empty] = 1
    return np.concatenate([[0], np.cumsum(counts)]), cols, coefs, cols2
