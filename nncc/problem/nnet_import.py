"""Import a network in the NNet text format (the ACAS Xu format, sisl/NNet).

Layout of a ``.nnet`` file, after any ``//`` comment lines::

    numLayers, inputSize, outputSize, maxLayerSize,
    size_0, size_1, ..., size_numLayers,          (size_0 = inputSize)
    0,                                            (an unused flag)
    min_1, ..., min_inputSize,
    max_1, ..., max_inputSize,
    mean_1, ..., mean_inputSize, mean_out,
    range_1, ..., range_inputSize, range_out,
    then, layer by layer: size_{k+1} rows of size_k weights, then size_{k+1} biases.

Hidden layers are ReLU, the last layer is linear. NNet evaluates::

    x_n = (clip(x, min, max) - mean) / range        (per input)
    y   = net(x_n) * range_out + mean_out

The normalisation and the output scaling are affine and are folded into the
first and last Affine layers. The clip is **not** affine and is not encoded:
the box ``[min, max]`` is stored as ``FixedNetwork.input_box`` and a query's
input box should be intersected with it (inside the box the clip is the
identity, so the imported network equals NNet's there).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nncc.errors import InputError
from nncc.problem.fixed_network import Affine, FixedNetwork, Relu, compose_affine


def _numbers(line: str, path: str, what: str) -> list[float]:
    try:
        return [float(t) for t in line.replace(",", " ").split()]
    except ValueError:
        raise InputError(f"not an NNet file: '{path}': the {what} line is not a list of numbers: "
                         f"{line.strip()[:60]!r}") from None


def load_nnet(path: str, name: str | None = None) -> FixedNetwork:
    """Read a ``.nnet`` file into a :class:`FixedNetwork` (Affine / Relu layers).

    The input normalisation ``(x - mean) / range`` is folded into the first
    Affine layer and the output scaling ``y * range_out + mean_out`` into the
    last; the NNet input clip to ``[min, max]`` is left to the caller: it is
    stored as ``net.input_box = (min, max)`` (and said in ``net.notes``).
    Raises :class:`InputError` for a file that is not NNet or is truncated."""
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise InputError(f"cannot read NNet file '{path}': no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"not an NNet file: '{path}' ({e})") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("//")]
    if len(lines) < 7:
        raise InputError(f"not an NNet file: '{path}' (the header needs 7 lines, found "
                         f"{len(lines)})")
    head = _numbers(lines[0], path, "first header")
    if len(head) < 3 or any(h != int(h) or h < 1 for h in head[:3]):
        raise InputError(f"not an NNet file: '{path}' (the first header line must be "
                         f"'numLayers, inputSize, outputSize, maxLayerSize')")
    n_layers, n_in, n_out = (int(h) for h in head[:3])
    sizes = [int(s) for s in _numbers(lines[1], path, "layer sizes")]
    if len(sizes) != n_layers + 1 or sizes[0] != n_in or sizes[-1] != n_out or min(sizes) < 1:
        raise InputError(f"not an NNet file: '{path}' (layer sizes {sizes} disagree with "
                         f"{n_layers} layers, {n_in} inputs, {n_out} outputs)")
    # lines[2] is an unused "symmetric" flag.
    lo = np.array(_numbers(lines[3], path, "input minimum"))
    hi = np.array(_numbers(lines[4], path, "input maximum"))
    mean = np.array(_numbers(lines[5], path, "mean"))
    rng = np.array(_numbers(lines[6], path, "range"))
    if lo.size != n_in or hi.size != n_in or mean.size != n_in + 1 or rng.size != n_in + 1:
        raise InputError(f"not an NNet file: '{path}' (need {n_in} minimums and maximums and "
                         f"{n_in + 1} means and ranges)")
    if np.any(rng == 0):
        raise InputError(f"bad NNet file '{path}': a normalisation range is 0")
    body = " ".join(lines[7:])
    values = np.array(_numbers(body, path, "weights"))
    need = sum(sizes[k + 1] * sizes[k] + sizes[k + 1] for k in range(n_layers))
    if values.size != need:
        raise InputError(f"bad NNet file '{path}': {values.size} weights and biases, the layer "
                         f"sizes need {need}")
    layers: list = []
    pos = 0
    for k in range(n_layers):
        r, c = sizes[k + 1], sizes[k]
        W = values[pos:pos + r * c].reshape(r, c)
        pos += r * c
        b = values[pos:pos + r].copy()
        pos += r
        layers.append(Affine(f"layer{k + 1}", W, b))
        if k < n_layers - 1:
            layers.append(Relu(f"relu{k + 1}", r))
    # x_n = (x - mean) / range as an Affine, merged into the first layer.
    norm = Affine("normalise", np.diag(1.0 / rng[:n_in]), -mean[:n_in] / rng[:n_in])
    layers[0] = compose_affine(norm, layers[0], name=layers[0].name)
    # y = net * range_out + mean_out, merged into the last layer.
    last = layers[-1]
    layers[-1] = Affine(last.name, np.asarray(last.W) * rng[n_in], last.b * rng[n_in] + mean[n_in])
    net = FixedNetwork(name=name or p.stem, input_shape=(n_in,), output_shape=(n_out,),
                       layers=layers, source=f"nnet:{path}")
    net.input_box = (lo, hi)
    net.input_clip = True
    net.notes.append("NNet clips every input to [min, max] before normalising; the clip is not "
                     "encoded: keep the input within net.input_box (the network equals NNet's "
                     "there)")
    net.check_shapes()
    return net
