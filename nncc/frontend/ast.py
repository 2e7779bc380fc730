"""The syntax tree of a ``.nn`` file: plain dataclasses, each with a position.

The tree says what was written, not what it means: numbers keep their text,
names are unresolved, weights/bias clauses of a network are kept in the order
written. The semantics (``semantics.py``) gives them meaning.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import SourcePos


@dataclass
class Num:
    """A number as written (``value`` parsed, ``text`` kept for messages)."""

    value: float
    text: str
    pos: SourcePos

    @property
    def is_integer(self) -> bool:
        return float(self.value).is_integer()


@dataclass
class Ident:
    """A name, at the place it was written."""

    name: str
    pos: SourcePos


@dataclass
class Str:
    """A quoted string (file name, bundled data set name, npz key), unquoted."""

    value: str
    pos: SourcePos


@dataclass
class Interval:
    """``[lo, hi]``."""

    lo: Num
    hi: Num
    pos: SourcePos


@dataclass
class DomainSpec:
    """``real in [lo, hi]``, ``int in [lo, hi]`` or ``in {v, ...}`` (``kind="set"``)."""

    kind: str
    pos: SourcePos
    interval: Interval | None = None
    values: list[Num] = field(default_factory=list)


@dataclass
class InputDecl:
    """``input NAME[N] [in [lo, hi]]``."""

    name: Ident
    size: Num
    box: Interval | None
    pos: SourcePos


@dataclass
class StepSpec:
    """``step|sign [levels [beta, gamma]] [threshold NUMBER|learned]`` (binarised networks).

    ``levels`` and ``threshold`` are None when not written; ``threshold`` is a
    Num or the string "learned".
    """

    kind: str  # "step" | "sign"
    levels: tuple[Num, Num] | None
    threshold: object
    pos: SourcePos


@dataclass
class DenseDecl:
    """``dense NAME[N] [relu|identity|step ...|sign ...]``; ``activation`` is None when
    not written, a string for relu / identity, a ``StepSpec`` for step / sign."""

    name: Ident
    size: Num
    activation: "str | StepSpec | None"
    pos: SourcePos


@dataclass
class ParamClause:
    """``weights DOMAIN`` or ``bias DOMAIN``; ``target`` is "weights" or "bias"."""

    target: str
    domain: DomainSpec
    pos: SourcePos


@dataclass
class NetworkDecl:
    """``network NAME [= npz "file"] { input ... (dense ... | weights ... | bias ...)+ }``."""

    name: Ident
    npz_path: Str | None
    input: InputDecl
    items: list[DenseDecl | ParamClause]
    pos: SourcePos


@dataclass
class InlineData:
    """``inputs [[...], ...] labels [...]``."""

    inputs: list[list[Num]]
    labels: list[Num]
    inputs_pos: SourcePos
    labels_pos: SourcePos


@dataclass
class DataOption:
    """A modifier of a data statement.

    ``key`` and the type of ``value``:
    ``label`` -> "first" | "last" | Num (1-based column) | Str (header name);
    ``header`` -> None; ``classes`` -> list[Num];
    ``sample`` -> (Num count, Num | None seed);
    ``scale`` -> (Num, Num | None) ratio or the string "minmax";
    ``x`` / ``y`` -> Str (npz key).
    """

    key: str
    value: object
    pos: SourcePos


@dataclass
class DataDecl:
    """``data NAME { inline }``, ``data NAME = csv|npz|bundled|idx "..." options`` or
    ``data NAME = GENERATOR(arg value, ...) options``."""

    name: Ident
    format: str  # "inline" | "csv" | "npz" | "bundled" | "idx" | "generated"
    pos: SourcePos
    path: Str | None = None
    inline: InlineData | None = None
    options: list[DataOption] = field(default_factory=list)
    generator: Ident | None = None  # generated: the generator's name
    arguments: list[tuple[Ident, Num]] = field(default_factory=list)  # generated: name value


@dataclass
class TrainClause:
    """A clause of a train query.

    ``classify`` -> value Num | None (margin); ``nonzero`` -> value Num
    (percent), ``seed`` Num | None; ``relu`` -> "ite" | "disjunction";
    ``normalise`` -> "auto" | "on" | "off"; ``minimize`` -> ("errors" | "hinge",
    Num | None hinge margin); ``maximize`` -> ("margin", None);
    ``regularize l1`` / ``l2`` / ``l0`` -> Num (weight), ``layers`` [Ident] (``on NAME``),
    ``segments`` [Num] (``segments K``, L2); ``nonzero at most`` -> Num;
    ``robust`` -> Num (L-infinity radius);
    ``method`` -> ("milp" | "local-search", Num | None restarts), ``seed`` Num | None;
    ``big-m`` -> "unit" | "blanket".
    """

    key: str
    value: object
    pos: SourcePos
    seed: Num | None = None
    # ``regularize ... on LAYER`` / ``segments K`` (lists: a repeat is reported by the checker)
    layers: list = field(default_factory=list)
    segments: list = field(default_factory=list)


@dataclass
class TrainDecl:
    """``train NET on DATA [as NAME] { clauses }``."""

    network: Ident
    data: Ident
    name: Ident | None
    clauses: list[TrainClause]
    pos: SourcePos


@dataclass
class TrainedNetworkDecl:
    """``network NAME = onnx|nnet "file"``."""

    name: Ident
    format: str  # "onnx" | "nnet"
    path: Str
    pos: SourcePos


@dataclass
class DataPoints:
    """Rows of a dataset: ``NAME`` (all), ``NAME[i]`` or ``NAME[i..j]`` (inclusive)."""

    data: Ident
    first: Num | None
    last: Num | None
    pos: SourcePos


@dataclass
class InlinePoints:
    """Inputs written out: one vector ``[a, b]`` (``single``) or rows ``[[a, b], ...]``."""

    rows: list[list[Num]]
    single: bool
    pos: SourcePos


Points = DataPoints | InlinePoints


@dataclass
class QueryClause:
    """A clause of a maximize / adversarial block.

    ``input`` -> Interval; ``target`` / ``label`` / ``margin`` / ``ratio`` /
    ``epsilon`` -> Num; ``any`` -> None; ``minimize`` -> "l1" | "linf" | "l0".
    """

    key: str
    value: object
    pos: SourcePos


@dataclass
class EvaluateDecl:
    """``evaluate NET at POINTS [as NAME]``."""

    network: Ident
    points: Points
    name: Ident | None
    pos: SourcePos


@dataclass
class VerifyDecl:
    """``verify NET = vnnlib "prop.vnnlib" [as NAME]``."""

    network: Ident
    path: Str
    name: Ident | None
    pos: SourcePos


@dataclass
class MaximizeDecl:
    """``maximize|minimize NET[.OUT][k] [as NAME] [{ input in [lo, hi] }]``."""

    network: Ident
    output_name: Ident | None
    index: Num
    minimize: bool
    name: Ident | None
    clauses: list[QueryClause]
    pos: SourcePos


@dataclass
class AdversarialDecl:
    """``adversarial NET near POINTS [as NAME] [{ clauses }]``."""

    network: Ident
    point: Points
    name: Ident | None
    clauses: list[QueryClause]
    pos: SourcePos


@dataclass
class ArchClause:
    """A clause of an ``architecture`` block.

    ``input`` / ``output`` -> list[Num] (a shape); ``layers`` and the parameters
    ``kernel`` / ``stride`` / ``padding`` / ``dilation`` -> (Num, Num | None), a range;
    ``pool`` -> (shape, shape) kernel and stride; ``square`` -> list of plural words;
    ``compare`` -> (param, op, param | Num); ``monotone`` -> (param, direction | None);
    ``semantics`` -> "paper" | "floor" | "exact".
    """

    key: str
    value: object
    pos: SourcePos


@dataclass
class ArchitectureDecl:
    """``architecture NAME { clauses }``."""

    name: Ident
    clauses: list[ArchClause]
    pos: SourcePos


@dataclass
class SpaceTaskDecl:
    """``enumerate NAME [limit M] [uniform] [seed S]``, ``count NAME``,
    ``sample NAME count M [seed S]``."""

    kind: str
    architecture: Ident
    pos: SourcePos
    limit: Num | None = None
    count: Num | None = None
    seed: Num | None = None
    uniform: bool = False


Statement = (NetworkDecl | TrainedNetworkDecl | DataDecl | TrainDecl
             | EvaluateDecl | VerifyDecl | MaximizeDecl | AdversarialDecl | ArchitectureDecl | SpaceTaskDecl)


@dataclass
class SourceFile:
    """A whole parsed file."""

    path: str
    statements: list[Statement]
