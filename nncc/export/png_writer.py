"""Image-shaped answers as PNG: the original, the new input and their difference, side by side.

:func:`answer_figure` draws them labelled (each panel's class, the distance)
with matplotlib when it is installed (the ``plot`` extra); without it the same
panels are written unlabelled by :func:`write_png`, which needs only the
standard library (zlib, struct), and a note says so.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from ..atomic import atomic_output


def image_layout(shape: tuple[int, ...]) -> tuple[int, int, int] | None:
    """(height, width, channels) for an input shape that is an image, else None:
    (H, W), (1, H, W), (3, H, W) (channels first, as ONNX), or (H, W, 1|3)."""
    s = tuple(int(d) for d in shape)
    if len(s) == 2 and min(s) > 1:
        return s[0], s[1], 1
    if len(s) == 3 and s[0] in (1, 3) and min(s[1:]) > 1:
        return s[1], s[2], s[0]
    if len(s) == 3 and s[2] in (1, 3) and min(s[:2]) > 1:
        return s[0], s[1], s[2]
    return None


def as_hwc(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """One input as a (H, W, C) image: ``shape`` the network's (see :func:`image_layout`)."""
    h, w, c = image_layout(shape)
    a = np.asarray(x, float).reshape(shape)
    if a.ndim == 3 and a.shape[0] == c and a.shape[0] in (1, 3) and a.shape[1:] == (h, w):
        a = np.moveaxis(a, 0, -1)
    return a.reshape(h, w, c)


def input_image(x: np.ndarray, shape: tuple[int, ...], lo: float, hi: float) -> np.ndarray:
    """uint8 (H, W, C): one input scaled from [lo, hi] (a maximising input)."""
    span = (hi - lo) or 1.0
    return np.clip(np.round((as_hwc(x, shape) - lo) / span * 255), 0, 255).astype(np.uint8)


def comparison_image(x0: np.ndarray, x: np.ndarray, shape: tuple[int, ...],
                     lo: float, hi: float, gap: int = 2) -> np.ndarray:
    """uint8 (H, 3W + 2 gap, C): original and new scaled from [lo, hi], the difference
    around mid-grey scaled by its largest magnitude."""
    a, b = as_hwc(x0, shape), as_hwc(x, shape)
    span = (hi - lo) or 1.0
    to8 = lambda v: np.clip(np.round((v - lo) / span * 255), 0, 255)  # noqa: E731
    d = b - a
    m = float(np.abs(d).max()) or 1.0
    diff = np.clip(np.round(127.5 + d / m * 127.5), 0, 255)
    sep = np.full((a.shape[0], gap, a.shape[2]), 255.0)
    return np.concatenate([to8(a), sep, to8(b), sep, diff], axis=1).astype(np.uint8)


def write_png(path: str, img: np.ndarray, scale: int = 4) -> None:
    """Write a uint8 (H, W, 1|3) image, each pixel drawn ``scale`` times larger, atomically."""
    img = np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)
    h, w, c = img.shape
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    head = struct.pack(">IIBBBBB", w, h, 8, 0 if c == 1 else 2, 0, 0, 0)
    with atomic_output(path) as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(raw, 9))
                + chunk(b"IEND", b""))


def answer_figure(path: str, images: list[np.ndarray], labels: list[str], lo: float, hi: float,
                  title: str = "") -> str | None:
    """One panel per (H, W, C) image scaled from [lo, hi], and for two images a third with
    their difference (mid-grey is none); ``labels`` one per panel. Written atomically;
    returns a note when matplotlib is missing and the panels went out unlabelled."""
    panels = [np.asarray(a, float) for a in images]
    if len(panels) == 2:
        panels.append(panels[1] - panels[0])
    try:
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        img = (comparison_image(panels[0], panels[1], panels[0].shape, lo, hi)
               if len(images) == 2 else input_image(panels[0], panels[0].shape, lo, hi))
        write_png(path, img)
        return "matplotlib is not installed (the plot extra): the PNG has no labels"
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 3.0), squeeze=False)
    for i, (ax, a, label) in enumerate(zip(axes[0], panels, labels)):
        diff = len(images) == 2 and i == 2
        m = float(np.abs(a).max()) or 1.0
        vmin, vmax = (-m, m) if diff else (lo, hi if hi > lo else lo + 1.0)
        shown = a[..., 0] if a.shape[-1] == 1 else np.clip((a - vmin) / (vmax - vmin), 0, 1)
        ax.imshow(shown, cmap=("RdBu_r" if diff else "gray") if a.shape[-1] == 1 else None,
                  vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(label, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_output(path) as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)
    return None
