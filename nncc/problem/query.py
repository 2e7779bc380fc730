"""Queries: the question asked of a network and a dataset."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, SourcePos
from .dataset import Dataset
from .fixed_network import FixedNetwork
from .network import Network


# answer arrays of a binarised training MILP that carry the solver's own claims (its
# activations, error indicators), not parameters: the check compares them with the
# forward pass
CLAIM_PREFIX = "milp:"


def nonzero_choice(n_weights: int, fraction: float, seed: int) -> np.ndarray:
    """The weights a training query's ``nonzero`` fraction requires to be non-zero:
    positions in the concatenation of all unknown weight matrices (row-major,
    layer by layer), chosen at random with ``seed``."""
    k = int(round(fraction * n_weights))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n_weights, size=k, replace=False))


@dataclass
class TrainQuery:
    """Find parameters that classify every sample of ``data``.

    For every sample the output of its label must exceed every other output
    by ``margin`` (strictly when ``margin`` is 0). ``nonzero_fraction`` of the
    unknown weights, chosen at random with ``nonzero_seed``, must be non-zero.
    With ``objective`` "hinge" and / or L1 / L2 lambdas the query minimises the
    hinge loss plus the regularisers (subject to the margin when ``classify``).
    """

    name: str
    network: Network
    data: Dataset
    margin: float = 0.0
    nonzero_fraction: float = 0.0
    nonzero_seed: int = 0
    relu_encoding: str = "ite"  # "ite" | "disjunction" (SMT-LIB only)
    normalise: str = "auto"  # "auto" | "off"
    pos: SourcePos | None = None
    # binarised networks (step / sign layers): minimise training errors, by a MILP
    # ("milp") or the local search; big-M per unit from the data ("unit") or the
    # paper's blanket d r + 1 ("blanket")
    objective: str | None = None  # "errors" | "hinge" | "margin"; ReLU networks: None | "hinge"
    method: str = "milp"  # "milp" | "local-search"
    restarts: int = 0  # local search: 0 = as many as the time allows
    seed: int = 0
    big_m: str = "unit"  # "unit" | "blanket"
    # binarised: "errors" (count), "hinge" (sum of hinge_margin - score margin, at
    # least 0) or "margin" (maximise the smallest score margin); regularisers added
    # to it: l1 * sum |W|, l0 * (number of non-zero weights); a hard budget on the
    # non-zero weights; every sample robust within an L-infinity ball of this radius
    hinge_margin: float = 1.0
    l1: float = 0.0
    l0: float = 0.0
    nonzero_budget: int | None = None
    robust: float = 0.0
    # L2 (lambda * sum W**2) for every network; per layer, ``regularize l1|l2 LAMBDA on
    # LAYER`` overrides the global lambda for that layer's weights (biases are never
    # regularised). ``segments``: tangent segments of the L2 approximation where asked for.
    l2: float = 0.0
    l1_layers: dict = field(default_factory=dict)
    l2_layers: dict = field(default_factory=dict)
    l2_segments: int | None = None
    l2_segments_layers: dict = field(default_factory=dict)
    # ReLU networks: the `classify margin` rows are hard constraints; without `classify`
    # (only with `minimize hinge`) the hinge loss alone decides
    classify: bool = True

    kind = "train"

    def penalty(self, kind: str, layer: str) -> float:
        """The lambda of ``kind`` ("l1" | "l2") on ``layer``'s weights: the layer's own
        clause, else the global one (0 when neither is given)."""
        return float(getattr(self, kind + "_layers").get(layer, getattr(self, kind)))

    def segments(self, layer: str) -> int | None:
        """The L2 tangent segments asked for ``layer`` (its clause's, else the global one's)."""
        return self.l2_segments_layers.get(layer, self.l2_segments)

    @property
    def regularised(self) -> bool:
        """Whether any trainable layer's weights carry an L1 or L2 term."""
        return any(self.penalty(k, layer.name) > 0 for k in ("l1", "l2")
                   for layer in self.network.layers if layer.trainable)


@dataclass
class Document:
    """Everything one ``.nn`` file declares, names resolved.

    ``networks`` holds ``Network``s (declared layer by layer in the file) and
    ``FixedNetwork``s (``onnx`` / ``nnet``); ``queries`` every question in file
    order: ``TrainQuery``, ``EvaluateQuery``, ``MaximizeQuery``, ``AdversarialQuery``
    (tell them apart by ``kind``). A query about a ``.nn`` network with npz
    weights carries that network as a ``FixedNetwork``.
    """

    path: str
    networks: dict[str, "Network | FixedNetwork"]
    datasets: dict[str, Dataset]
    queries: list["Query"]
    # queries the loader was asked not to build (another one was wanted), by name
    skipped: list[str] = field(default_factory=list)

    def query(self, name: str | None = None):
        """The query called ``name``, or the only / first one."""
        if not self.queries:
            if name is not None and self.skipped:
                raise InputError(f"{self.path}: no query named {name!r}; queries: "
                                 + ", ".join(self.skipped))
            raise InputError(f"{self.path}: the file asks no question (no train query or "
                             "question about a trained network)")
        if name is None:
            return self.queries[0]
        for q in self.queries:
            if q.name == name:
                return q
        raise InputError(f"{self.path}: no query named {name!r}; queries: "
                         + ", ".join([q.name for q in self.queries] + self.skipped))


@dataclass
class EvaluateQuery:
    """The outputs of a trained network at given inputs (rows of ``inputs``)."""

    name: str
    network: object  # FixedNetwork
    inputs: object  # (N, n_inputs) array
    pos: SourcePos | None = None

    kind = "evaluate"


@dataclass
class MaximizeQuery:
    """The input in a box that maximises (or minimises) one output of a trained network.

    With ``wins`` the output's class must also be the network's answer: it
    beats every other output by ``margin`` (and is ``ratio`` times it when a
    ratio is given) -- the input the network finds most typical of a class.
    """

    name: str
    network: object  # FixedNetwork
    output: int
    input_lo: object  # (n_inputs,) array
    input_hi: object
    minimize: bool = False
    pos: SourcePos | None = None
    wins: bool = False
    margin: float = 1e-3
    ratio: float | None = None

    kind = "maximize"


@dataclass
class AdversarialQuery:
    """The input closest to ``x0`` (in ``norm``) that the network classifies as ``target``.

    ``target`` None means any class other than ``label`` (``label`` None: the
    class the network gives ``x0``). The winning class must beat every other
    output by ``margin`` (output units), or be at least ``ratio`` times it when
    ``ratio`` is given (the paper's 1.2). ``input_lo`` / ``input_hi`` bound the
    input; ``epsilon`` adds an L-infinity ball around ``x0``. A minimal
    correction is this query with ``target`` = the true label.
    """

    name: str
    network: object  # FixedNetwork
    x0: object  # (n_inputs,) array
    input_lo: object
    input_hi: object
    target: int | None = None
    label: int | None = None
    margin: float = 1e-3
    ratio: float | None = None
    norm: str = "l1"  # "l1" | "linf" | "l0"
    epsilon: float | None = None
    pos: SourcePos | None = None

    kind = "adversarial"


@dataclass
class VerifyQuery:
    """A VNN-LIB property of a trained network: does any input of its box reach the
    unsafe outputs? (``sat`` with a counterexample, ``unsat``, or ``unknown``).
    ``property`` is a :class:`~nncc.problem.property.Property`."""

    name: str
    network: object
    property: object  # Property
    pos: object = None
    kind: str = "verify"
    network_path: str | None = None  # the file, for the symbol map (else the network's source)


Query = TrainQuery | EvaluateQuery | MaximizeQuery | AdversarialQuery | VerifyQuery


def query_box(query: MaximizeQuery | AdversarialQuery) -> tuple[np.ndarray, np.ndarray]:
    """The query's ``input_lo`` / ``input_hi`` as one bound per network input."""
    n = query.network.n_inputs
    return (np.broadcast_to(np.asarray(query.input_lo, float), (n,)).copy(),
            np.broadcast_to(np.asarray(query.input_hi, float), (n,)).copy())


def adversarial_box(query: AdversarialQuery) -> tuple[np.ndarray, np.ndarray]:
    """The input box of the query: its box, within the epsilon ball if given."""
    x0 = np.asarray(query.x0, float).reshape(-1)
    lo, hi = query_box(query)
    if query.epsilon is not None:
        lo, hi = np.maximum(lo, x0 - query.epsilon), np.minimum(hi, x0 + query.epsilon)
    return lo, hi


def query_label(query: AdversarialQuery) -> int:
    """The class the query moves away from: its label, or the network's class of ``x0``."""
    if query.label is not None:
        return int(query.label)
    x0 = np.asarray(query.x0, float).reshape(1, -1)
    return int(np.argmax(query.network.forward(x0)[0]))


def checked_query(query: AdversarialQuery) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """``(x0, label, lo, hi)`` of a query the encoding can take, else an ``InputError``."""
    net = query.network
    n, K = net.n_inputs, net.n_outputs
    x0 = np.asarray(query.x0, float).reshape(-1)
    if len(x0) != n:
        raise InputError(f"the input has {len(x0)} values; network '{net.name}' takes {n}", query.pos)
    label = query_label(query)
    for what, k in (("target", query.target), ("label", label)):
        if k is not None and not 0 <= k < K:
            raise InputError(f"{what} {k} is not an output of '{net.name}' (it has {K})", query.pos)
    if query.target is None and query.ratio is not None:
        raise InputError("a ratio needs a target class", query.pos)
    lo, hi = adversarial_box(query)
    if np.any(lo > hi):
        raise InputError("the input box and the epsilon ball do not meet", query.pos)
    return x0, label, lo, hi
