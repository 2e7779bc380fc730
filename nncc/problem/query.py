"""Queries: the question asked of a network and a dataset."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import SourcePos
from .dataset import Dataset
from .network import Network


@dataclass
class TrainQuery:
    """Find parameters that classify every sample of ``data``.

    For every sample the output of its label must exceed every other output
    by ``margin`` (strictly when ``margin`` is 0). ``nonzero_fraction`` of the
    unknown weights, chosen at random with ``nonzero_seed``, must be non-zero.
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

    kind = "train"


@dataclass
class Document:
    """Everything one ``.nn`` file declares, names resolved."""

    path: str
    networks: dict[str, Network]
    datasets: dict[str, Dataset]
    queries: list[TrainQuery]

    def query(self, name: str | None = None):
        """The query called ``name``, or the only / first one."""
        if not self.queries:
            from ..errors import InputError
            raise InputError(f"{self.path}: the file asks no question (no train query)")
        if name is None:
            return self.queries[0]
        for q in self.queries:
            if q.name == name:
                return q
        from ..errors import InputError
        raise InputError(f"{self.path}: no query named {name!r}; queries: "
                         + ", ".join(q.name for q in self.queries))


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
    """The input in a box that maximises (or minimises) one output of a trained network."""

    name: str
    network: object  # FixedNetwork
    output: int
    input_lo: object  # (n_inputs,) array
    input_hi: object
    minimize: bool = False
    pos: SourcePos | None = None

    kind = "maximize"
