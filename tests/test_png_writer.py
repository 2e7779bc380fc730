"""The comparison PNG: a real PNG file whose pixels are the arrays given."""
import struct
import zlib

import numpy as np

from nncc.export.png_writer import comparison_image, image_layout, write_png


def read_png(path):
    """A minimal reader for the files write_png produces (8-bit, filter 0)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, head = 8, b"", None
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype = head[:4]
    c = 1 if ctype == 0 else 3
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    assert np.all(raw[:, 0] == 0)
    return raw[:, 1:].reshape(h, w, c)


def test_layouts():
    assert image_layout((28, 28)) == (28, 28, 1)
    assert image_layout((1, 28, 28)) == (28, 28, 1)
    assert image_layout((3, 32, 32)) == (32, 32, 3)
    assert image_layout((784,)) is None and image_layout((5,)) is None


def test_png_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x0 = rng.uniform(0, 1, size=(1, 4, 5))
    x = x0.copy()
    x[0, 1, 2] = 1.0
    img = comparison_image(x0, x, (1, 4, 5), 0.0, 1.0)
    assert img.shape == (4, 3 * 5 + 4, 1)
    path = tmp_path / "cmp.png"
    write_png(str(path), img, scale=3)
    back = read_png(str(path))
    assert back.shape == (12, 3 * (3 * 5 + 4), 1)
    assert np.array_equal(back[::3, ::3], img)
    # the difference panel is mid-grey except at the changed pixel
    diff = img[:, 2 * 5 + 4:, 0]
    assert diff[1, 2] == 255 and np.count_nonzero(np.abs(diff.astype(int) - 128) > 1) == 1
