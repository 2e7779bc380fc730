"""The semantics of a parsed ``.nn`` file: names, numbers and shapes validated, and the
Problem objects it declares built.

(Static validation of the text; the re-checks of a solver's answer are
:mod:`nncc.checks`.)

``load_document(path)`` is the front end's single entry point: read, parse,
resolve names, check numbers and shapes, load datasets, return a
``Document``. Every mistake a user can make is an ``InputError`` with the
position of the statement, clause or number at fault.

Weights/bias clauses of a network are attributed by position (the grammar
cannot, as newlines are whitespace): a clause between two dense layers
belongs to the layer before it; clauses before the first layer or after the
last one are the network's defaults, except that when the defaults come
before the first layer, the clauses after the last layer belong to it.
A network-level ``weights`` box also bounds the biases unless a network-level
``bias`` is given; without any, parameters lie in ``DEFAULT_WEIGHT_BOX``.

Questions about trained networks (``evaluate``, ``maximize``/``minimize``,
``adversarial``) are checked in ``trained_queries.py``; they take ONNX/NNet
networks and ``.nn`` networks whose weights all come from an ``.npz``.
"""
from __future__ import annotations

from collections.abc import Mapping

import difflib
import math
from pathlib import Path

import numpy as np

from ..errors import InputError, SourcePos
from ..problem.datasets_load import DataSpec, load_dataset, read_npz_arrays, resolve_file
from ..problem.dataset import Dataset
from ..problem.fixed_network import FixedNetwork
from ..problem.network import DEFAULT_WEIGHT_BOX, IDENTITY, DenseLayer, Network, ParamDomain
from ..problem.query import Document, Query, TrainQuery, VerifyQuery
from . import ast
from .binarised_clauses import (apply_binarised_clauses, check_binarised_network,
                              reject_binarised_clauses, step_fields)
from .regularisation_clauses import REGULARISER_KEYS, apply_regularisers
from .parser import parse
from .trained_networks import describe_source, fixed_from_dense, load_trained_network
from .trained_queries import adversarial_query, evaluate_query, maximize_query, select_points

DEFAULT_DOMAIN = ParamDomain("real", *DEFAULT_WEIGHT_BOX)

# Which data modifiers make sense for which source.
_DATA_OPTIONS_FOR = {
    "label": ("csv",), "header": ("csv",), "x": ("npz",), "y": ("npz",), "labels": ("idx",),
    "classes": ("inline", "csv", "npz", "bundled", "idx", "generated"),
    "sample": ("inline", "csv", "npz", "bundled", "idx", "generated"),
    "scale": ("inline", "csv", "npz", "bundled", "idx", "generated"),
    "missing": ("bundled",),
    "split": ("inline", "csv", "npz", "bundled", "idx", "generated"),
}


def load_document(path: str, text: str | None = None, *, wanted: str | None = None,
                  queries: bool = True) -> Document:
    """Read (unless ``text`` is given), parse and check the ``.nn`` file ``path``.

    Relative data and weight files are looked up next to ``path``; a dataset is read
    when something uses it (:class:`LazyDatasets`). ``wanted``: the query the caller
    asks for; the others named with ``as NAME`` are not built (their data is not
    read, their names are kept in ``Document.skipped``). ``queries=False`` builds
    none (``nncc data``). Raises ``InputError`` for every problem in what is built.
    """
    if text is None:
        text = read_source(path)
    source = parse(text, path)
    return Checker(path, wanted, queries).check(source)


def read_source(path: str) -> str:
    """The UTF-8 text of ``path``; unreadable files are ``InputError``s."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a .nn file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(f"not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                         "save the file as UTF-8", SourcePos(path, line, column)) from None


# ------------------------------------------------------------------ numbers

def _where(pos: SourcePos | None) -> str:
    return f"line {pos.line}" if pos else "elsewhere"


def checked_int(num: ast.Num, what: str, minimum: int = 0) -> int:
    """``num`` as an integer >= ``minimum``, else an error naming ``what``."""
    if not num.is_integer or num.value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative" if minimum == 0 else "an"
        raise InputError(f"{what} must be {kind} integer, got {num.text}", num.pos)
    return int(num.value)


def checked_interval(interval: ast.Interval, what: str) -> tuple[float, float]:
    """``(lo, hi)`` with lo <= hi."""
    lo, hi = interval.lo.value, interval.hi.value
    for bound in (interval.lo, interval.hi):
        if not math.isfinite(bound.value):
            raise InputError(f"{what} bounds must be finite, got {bound.text}", bound.pos)
    if lo > hi:
        raise InputError(f"{what} [{interval.lo.text}, {interval.hi.text}] is empty: "
                         f"lower bound above upper bound", interval.pos)
    return lo, hi


def param_domain(spec: ast.DomainSpec, what: str) -> ParamDomain:
    """A ``ParamDomain`` from ``real|int in [lo, hi]`` or ``in {v, ...}``."""
    if spec.kind == "set":
        for v in spec.values:
            if not math.isfinite(v.value):
                raise InputError(f"{what} values must be finite, got {v.text}", v.pos)
        values = tuple(sorted({v.value for v in spec.values}))
        return ParamDomain("set", values[0], values[-1], values)
    lo, hi = checked_interval(spec.interval, f"{what} box")
    if spec.kind == "int":
        for bound in (spec.interval.lo, spec.interval.hi):
            if not bound.is_integer:
                raise InputError(f"{what} box of kind int needs integer bounds, "
                                 f"got {bound.text}", bound.pos)
    return ParamDomain(spec.kind, lo, hi)


# ------------------------------------------------------------------ checker

class LazyDatasets(Mapping):
    """A file's datasets by name, each read (or generated) when it is first used: a
    query, ``nncc data NAME`` or ``nncc check``. A dataset nothing uses is never read,
    so a file whose MNIST set needs the ``data`` extra still runs its other queries.
    ``NAME.train`` / ``NAME.test`` of a ``split`` come from reading ``NAME``."""

    def __init__(self):
        self._specs: dict[str, object] = {}     # name -> DataSpec
        self._owner: dict[str, str] = {}        # every key -> the declared name it comes from
        self._loaded: dict[str, Dataset] = {}

    def declare(self, name: str, spec) -> None:
        self._specs[name] = spec
        self._owner[name] = name
        if spec.split is not None:
            for part in ("train", "test"):
                self._owner[f"{name}.{part}"] = name

    def __getitem__(self, key: str) -> Dataset:
        if key not in self._loaded:
            name = self._owner[key]   # KeyError for an undeclared name, as a dict
            spec = self._specs[name]
            data = load_dataset(spec)
            self._loaded[name] = data
            if spec.split is not None:
                from ..problem.datasets_binarised import split_dataset
                for part in split_dataset(data, *spec.split):
                    self._loaded[part.name] = part
        return self._loaded[key]

    def __iter__(self):
        return iter(self._owner)

    def __len__(self) -> int:
        return len(self._owner)


class Checker:
    """Resolves one file's statements into networks, datasets and queries."""

    def __init__(self, path: str, wanted: str | None = None, queries: bool = True):
        self.path = path
        self.wanted, self.build_queries = wanted, queries
        self.skipped: list[str] = []   # queries named 'as NAME' that were not built
        self.base_dir = Path(path).parent
        self.networks: dict[str, Network | FixedNetwork] = {}
        self.datasets = LazyDatasets()
        self.queries: list[Query] = []
        self._declared: dict[str, tuple[str, SourcePos]] = {}
        self._fixed: dict[str, FixedNetwork] = {}  # .nn networks as FixedNetworks
        self._npz_source: dict[str, str] = {}
        self.architectures: dict = {}  # name -> ArchitectureSpace
        self.tasks: list = []  # SpaceTask

    def check(self, source: ast.SourceFile) -> Document:
        """All statements, declarations first so that order does not matter."""
        for stmt in source.statements:
            if isinstance(stmt, ast.NetworkDecl):
                self._declare(stmt.name, "network")
                self.networks[stmt.name.name] = build_network(stmt, self.base_dir)
                if stmt.npz_path is not None:
                    self._npz_source[stmt.name.name] = stmt.npz_path.value
            elif isinstance(stmt, ast.TrainedNetworkDecl):
                self._declare(stmt.name, "network")
                self.networks[stmt.name.name] = load_trained_network(stmt, self.base_dir)
            elif isinstance(stmt, ast.DataDecl):
                self._declare(stmt.name, "dataset")
                # read when a query (or a command) uses it; NAME.train / NAME.test of a split
                self.datasets.declare(stmt.name.name, data_spec(stmt, self.base_dir))
            elif isinstance(stmt, ast.ArchitectureDecl):
                from .architecture_space import build_space
                self._declare(stmt.name, "architecture")
                self.architectures[stmt.name.name] = build_space(stmt)
        query_decls = (ast.TrainDecl, ast.EvaluateDecl, ast.VerifyDecl, ast.MaximizeDecl,
                       ast.AdversarialDecl)
        for stmt in source.statements:
            if isinstance(stmt, query_decls) and not self._builds(stmt):
                continue
            if isinstance(stmt, ast.TrainDecl):
                self._add_query(self._train_query(stmt), stmt.name or stmt.network)
            elif isinstance(stmt, ast.EvaluateDecl):
                net = self._trained(stmt.network)
                points = select_points(stmt.points, self._data_of(stmt.points), net)
                self._add_query(evaluate_query(stmt, net, points, _name(stmt)),
                                stmt.name or stmt.network)
            elif isinstance(stmt, ast.VerifyDecl):
                self._add_query(self._verify_query(stmt), stmt.name or stmt.network)
            elif isinstance(stmt, ast.MaximizeDecl):
                net = self._trained(stmt.network)
                self._add_query(maximize_query(stmt, net, self._non_outputs(stmt.network),
                                               _name(stmt)), stmt.name or stmt.network)
            elif isinstance(stmt, ast.AdversarialDecl):
                net = self._trained(stmt.network)
                points = select_points(stmt.point, self._data_of(stmt.point), net)
                self._add_query(adversarial_query(stmt, net, points, _name(stmt)),
                                stmt.name or stmt.network)
            elif isinstance(stmt, ast.SpaceTaskDecl):
                from .architecture_space import build_task
                space = self._resolve(stmt.architecture, "architecture", self.architectures)
                self.tasks.append(build_task(stmt, space))
        if self.architectures:
            from ..problem.architecture import ArchitectureDocument
            return ArchitectureDocument(self.path, self.networks, self.datasets, self.queries,
                                        self.skipped, architectures=self.architectures,
                                        tasks=self.tasks)
        return Document(self.path, self.networks, self.datasets, self.queries, self.skipped)

    def _builds(self, stmt) -> bool:
        """Whether this query statement is built: all of them unless a query is wanted
        (then those named otherwise with 'as NAME' are skipped) or none are."""
        if not self.build_queries:
            return False
        name = getattr(stmt, "name", None)
        if self.wanted is not None and name is not None and name.name != self.wanted:
            self.skipped.append(name.name)
            return False
        return True

    def _verify_query(self, stmt: ast.VerifyDecl):
        """``verify NET = vnnlib "FILE"``: the property, read and checked against NET."""
        from ..frontend.vnnlib2 import load_property
        net = self._trained(stmt.network)
        path = resolve_file(stmt.path.value, self.base_dir, stmt.path.pos, what="VNN-LIB property")
        prop = load_property(str(path))
        try:
            prop.check_network(net)
        except InputError as e:
            raise InputError(e.message, stmt.pos) from None
        name = stmt.name.name if stmt.name else f"verify {stmt.network.name}"
        return VerifyQuery(name, net, prop, stmt.pos)

    def _add_query(self, query: Query, at: ast.Ident) -> None:
        if any(q.name == query.name for q in self.queries):
            raise InputError(f"a query named '{query.name}' already exists; "
                             "name this one with 'as NAME'", at.pos)
        self.queries.append(query)

    def _trained(self, ref: ast.Ident) -> FixedNetwork:
        """The trained network ``ref`` names; a ``.nn`` network needs all its weights."""
        network = self._resolve(ref, "network", self.networks)
        if isinstance(network, FixedNetwork):
            return network
        if ref.name not in self._fixed:
            if any(layer.trainable for layer in network.layers):
                raise InputError(f"network {network.name} has unknown weights: a question about "
                                 "a trained network needs fixed ones (network "
                                 f'{network.name} = npz "weights.npz" {{ ... }}, onnx or nnet)',
                                 ref.pos)
            source = self._npz_source.get(ref.name, "")
            self._fixed[ref.name] = fixed_from_dense(network,
                                                     f"npz:{source}" if source else "")
        return self._fixed[ref.name]

    def _non_outputs(self, ref: ast.Ident) -> dict[str, str]:
        """Names in a ``.nn`` network that are not its output (for ``net.h[3]``)."""
        network = self.networks[ref.name]
        if not isinstance(network, Network):
            return {}
        names = {network.input_name: "the input"}
        names.update({layer.name: "a hidden layer" for layer in network.layers[:-1]})
        return names

    def _data_of(self, points: ast.Points) -> Dataset | None:
        if isinstance(points, ast.DataPoints):
            return self._resolve(points.data, "dataset", self.datasets)
        return None

    def _declare(self, name: ast.Ident, kind: str) -> None:
        if name.name in self._declared:
            earlier_kind, earlier = self._declared[name.name]
            raise InputError(f"duplicate name '{name.name}': already declared as a "
                             f"{earlier_kind} at {_where(earlier)}", name.pos)
        self._declared[name.name] = (kind, name.pos)

    def _resolve(self, ref: ast.Ident, kind: str, table: dict):
        if ref.name in table:
            return table[ref.name]
        if ref.name in self._declared:
            other, _ = self._declared[ref.name]
            raise InputError(f"'{ref.name}' is a {other}, not a {kind}", ref.pos)
        hint = difflib.get_close_matches(ref.name, list(table), n=1)
        message = f"unknown {kind} '{ref.name}'"
        if hint:
            message += f"; did you mean '{hint[0]}'?"
        elif table:
            message += f"; {kind}s declared: " + ", ".join(table)
        else:
            message += f"; the file declares no {kind}"
        raise InputError(message, ref.pos)

    def _train_query(self, decl: ast.TrainDecl) -> TrainQuery:
        network = self._resolve(decl.network, "network", self.networks)
        data = self._resolve(decl.data, "dataset", self.datasets)
        name = decl.name.name if decl.name else f"train {network.name} on {data.name}"
        if isinstance(network, FixedNetwork):
            raise InputError(f"network {network.name} is a trained network "
                             f"({describe_source(network)}): there is nothing to train",
                             decl.network.pos)
        if not any(layer.trainable for layer in network.layers):
            raise InputError(f"network {network.name} has fixed weights: "
                             "there is nothing to train", decl.network.pos)
        check_shapes(network, data, decl)
        query = TrainQuery(name=name, network=network, data=data, pos=decl.pos)
        if network.binarised:
            apply_binarised_clauses(query, decl)
        else:
            reject_binarised_clauses(decl, network)
            apply_train_clauses(query, decl)
        return query


def _name(decl) -> str | None:
    """The name given with ``as NAME``, if any."""
    return decl.name.name if decl.name is not None else None


def check_shapes(network: Network, data: Dataset, decl: ast.TrainDecl) -> None:
    """Dataset features must match the network input; classes must fit the outputs."""
    if data.n_features != network.input_size:
        raise InputError(f"data {data.name} has {data.n_features} features but network "
                         f"{network.name} takes input {network.input_name}[{network.input_size}]",
                         decl.data.pos)
    last = network.layers[-1]
    if data.n_classes > network.output_size:
        raise InputError(f"data {data.name} has {data.n_classes} classes but network "
                         f"{network.name} has only {network.output_size} outputs "
                         f"({last.name}[{last.size}]): one output per class is needed",
                         decl.data.pos)


def apply_train_clauses(query: TrainQuery, decl: ast.TrainDecl) -> None:
    """Margin, nonzero fraction and encoding options, each at most once; the objective:
    ``minimize hinge [margin G]`` and ``regularize l1 | l2`` (see
    :mod:`nncc.frontend.regularisation_clauses`)."""
    seen: dict[str, ast.TrainClause] = {}
    for clause in decl.clauses:
        if clause.key in REGULARISER_KEYS:
            continue
        if clause.key in seen:
            raise InputError(f"'{clause.key}' given twice (first at "
                             f"{_where(seen[clause.key].pos)})", clause.pos)
        seen[clause.key] = clause
        if clause.key == "classify" and clause.value is not None:
            margin = clause.value
            if not margin.value >= 0 or math.isinf(margin.value):
                raise InputError(f"margin must be a finite number >= 0, got {margin.text}",
                                 margin.pos)
            query.margin = margin.value
        elif clause.key == "nonzero":
            percent = clause.value
            if not 0 <= percent.value <= 100:
                raise InputError(f"nonzero percentage must be between 0 and 100, "
                                 f"got {percent.text}%", percent.pos)
            query.nonzero_fraction = percent.value / 100.0
            if clause.seed is not None:
                query.nonzero_seed = checked_int(clause.seed, "seed")
        elif clause.key == "relu":
            query.relu_encoding = clause.value
        elif clause.key == "normalise":
            query.normalise = clause.value
        elif clause.key == "minimize":
            loss, margin = clause.value
            if loss != "hinge":
                raise InputError(f"'minimize {loss}' is for binarised networks (step / sign "
                                 "layers); a ReLU network minimises 'hinge' (with a "
                                 "regulariser) or is trained by 'classify'", clause.pos)
            query.objective = "hinge"
            if margin is not None:
                if not math.isfinite(margin.value) or margin.value <= 0:
                    raise InputError(f"the hinge margin must be a positive number, got "
                                     f"{margin.text}", margin.pos)
                query.hinge_margin = margin.value
    regularisers = apply_regularisers(query, decl)
    query.classify = "classify" in seen
    if "classify" not in seen and query.objective != "hinge":
        raise InputError("a train query needs a 'classify' clause (e.g. 'classify margin 0.1') "
                         "or a loss ('minimize hinge')", decl.pos)
    if query.objective != "hinge" and query.margin == 0 and query.regularised:
        raise InputError("a regulariser with 'classify' at margin 0 has no optimum: the weights "
                         "shrink towards 0 while every sample stays strictly classified; give "
                         "'classify margin M' with M > 0, or 'minimize hinge'",
                         next(c for c in regularisers if c.value.value > 0).pos)


# ------------------------------------------------------------------ networks

def build_network(decl: ast.NetworkDecl, base_dir: Path) -> Network:
    """A ``Network`` with every layer's parameter domains (or fixed npz values)."""
    input_size = checked_int(decl.input.size, "input size", minimum=1)
    input_box = checked_interval(decl.input.box, "input box") if decl.input.box else None
    dense = [item for item in decl.items if isinstance(item, ast.DenseDecl)]
    if not dense:
        raise InputError(f"network {decl.name.name} has no dense layer", decl.pos)
    seen_names = {decl.input.name.name: decl.input.name.pos}
    for layer in dense:
        if layer.name.name in seen_names:
            raise InputError(f"duplicate layer name '{layer.name.name}' in network "
                             f"{decl.name.name} (first at {_where(seen_names[layer.name.name])})",
                             layer.name.pos)
        seen_names[layer.name.name] = layer.name.pos

    network_clauses, layer_clauses = attribute_param_clauses(decl)
    if decl.npz_path is not None and (network_clauses or any(layer_clauses.values())):
        clause = (network_clauses or next(c for c in layer_clauses.values() if c))
        first = next(iter(clause.values()))
        raise InputError(f"network {decl.name.name} takes its parameters from "
                         f"'{decl.npz_path.value}': remove this '{first.target}' clause",
                         first.pos)
    default_weight = (param_domain(network_clauses["weights"].domain, "weights")
                      if "weights" in network_clauses else DEFAULT_DOMAIN)
    default_bias = (param_domain(network_clauses["bias"].domain, "bias")
                    if "bias" in network_clauses else default_weight)

    layers = []
    for k, layer in enumerate(dense):
        own = layer_clauses[k]
        activation, levels, threshold = layer.activation or IDENTITY, None, 0.0
        if isinstance(activation, ast.StepSpec):
            activation, levels, threshold = step_fields(activation)
        layers.append(DenseLayer(
            name=layer.name.name,
            size=checked_int(layer.size, "layer size", minimum=1),
            activation=activation, levels=levels, threshold=threshold,
            weight_domain=(param_domain(own["weights"].domain, "weights")
                           if "weights" in own else default_weight),
            bias_domain=(param_domain(own["bias"].domain, "bias")
                         if "bias" in own else default_bias),
            pos=layer.pos))
    network = Network(name=decl.name.name, input_name=decl.input.name.name,
                      input_size=input_size, layers=layers, input_box=input_box, pos=decl.pos)
    if decl.npz_path is not None:
        fix_parameters_from_npz(network, decl.npz_path.value, base_dir, decl.pos)
    if network.binarised:
        check_binarised_network(network)
    return network


def attribute_param_clauses(decl: ast.NetworkDecl):
    """``(network_clauses, {layer index: clauses})``, each a ``{"weights"|"bias": clause}``.

    See the module docstring for the rule; a target given twice is an error.
    """
    dense_at = [i for i, item in enumerate(decl.items) if isinstance(item, ast.DenseDecl)]
    first, last = dense_at[0], dense_at[-1]
    has_leading = any(isinstance(item, ast.ParamClause) for item in decl.items[:first])
    network_clauses: dict[str, ast.ParamClause] = {}
    layer_clauses: dict[int, dict[str, ast.ParamClause]] = {k: {} for k in range(len(dense_at))}
    layer_index = -1
    for i, item in enumerate(decl.items):
        if isinstance(item, ast.DenseDecl):
            layer_index += 1
            continue
        if i < first or (i > last and not has_leading):
            owner, owner_name = network_clauses, f"network {decl.name.name}"
        else:
            owner = layer_clauses[layer_index]
            owner_name = f"layer {decl.items[dense_at[layer_index]].name.name}"
        if item.target in owner:
            raise InputError(f"'{item.target}' given twice for {owner_name} "
                             f"(first at {_where(owner[item.target].pos)})", item.pos)
        owner[item.target] = item
    return network_clauses, layer_clauses


def fix_parameters_from_npz(network: Network, source: str, base_dir: Path,
                            pos: SourcePos) -> None:
    """Load ``<layer>.weight`` (out, in) and ``<layer>.bias`` (out,) into the layers."""
    path = resolve_file(source, base_dir, pos, what="weights file")
    arrays = read_npz_arrays(path, source, pos)
    for k, layer in enumerate(network.layers):
        for key, shape in ((f"{layer.name}.weight", (layer.size, network.fan_in(k))),
                           (f"{layer.name}.bias", (layer.size,))):
            if key not in arrays:
                raise InputError(f"'{source}' has no array '{key}' (it has: "
                                 + ", ".join(sorted(arrays)) + ")", pos)
            value = arrays[key]
            if value.shape != shape:
                raise InputError(f"'{key}' in '{source}' has shape {value.shape}, "
                                 f"expected {shape} for layer {layer.name}[{layer.size}]", pos)
            if not np.issubdtype(value.dtype, np.number) or not np.all(np.isfinite(value)):
                raise InputError(f"'{key}' in '{source}' must hold finite numbers", pos)
        layer.weight = arrays[f"{layer.name}.weight"].astype(np.float64)
        layer.bias = arrays[f"{layer.name}.bias"].astype(np.float64)


# ------------------------------------------------------------------ datasets

def data_spec(decl: ast.DataDecl, base_dir: Path) -> DataSpec:
    """Translate a data statement into a ``DataSpec``, checking its modifiers."""
    spec = DataSpec(name=decl.name.name, kind=decl.format, pos=decl.pos, base_dir=base_dir)
    if decl.path is not None:
        spec.source = decl.path.value
    if decl.inline is not None:
        spec.X, spec.labels = inline_arrays(decl.inline)
        spec.option_pos["labels"] = decl.inline.labels_pos
    if decl.generator is not None:
        spec.generator, spec.arguments = generator_arguments(decl)
    seen: dict[str, ast.DataOption] = {}
    for option in decl.options:
        if option.key in seen:
            raise InputError(f"'{option.key}' given twice (first at "
                             f"{_where(seen[option.key].pos)})", option.pos)
        seen[option.key] = option
        if decl.format not in _DATA_OPTIONS_FOR[option.key]:
            applies = " or ".join(_DATA_OPTIONS_FOR[option.key])
            raise InputError(f"'{option.key}' applies only to {applies} data, "
                             f"not to {decl.format} data", option.pos)
        spec.option_pos[option.key] = option.pos
        _apply_data_option(spec, option)
    return spec


def generator_arguments(decl: ast.DataDecl) -> tuple[str, dict]:
    """The generator's name and its arguments by name, each checked against
    :data:`~nncc.problem.datasets_generated.GENERATORS` (defaults filled in)."""
    from ..problem.datasets_generated import GENERATORS
    name = decl.generator.name
    if name not in GENERATORS:
        hint = difflib.get_close_matches(name, list(GENERATORS), n=1)
        raise InputError(f"no data generator {name!r}"
                         + (f"; did you mean {hint[0]!r}?" if hint else "")
                         + "; generators: " + ", ".join(GENERATORS), decl.generator.pos)
    table = GENERATORS[name]
    values: dict = {}
    for arg, num in decl.arguments:
        if arg.name not in table:
            raise InputError(f"{name} has no argument {arg.name!r}; its arguments: "
                             + ", ".join(table), arg.pos)
        if arg.name in values:
            raise InputError(f"argument {arg.name!r} given twice", arg.pos)
        kind, smallest, _ = table[arg.name]
        if kind == "int":
            values[arg.name] = checked_int(num, f"{name} argument {arg.name}", minimum=smallest)
        else:
            if not math.isfinite(num.value) or num.value < smallest:
                raise InputError(f"{name} argument {arg.name} must be a finite number "
                                 f">= {smallest:g}, got {num.text}", num.pos)
            values[arg.name] = float(num.value)
    missing = [a for a, (_, _, default) in table.items() if default is None and a not in values]
    if missing:
        raise InputError(f"{name} needs " + ", ".join(missing) + " (its arguments: "
                         + ", ".join(f"{a} N" for a in table) + ")", decl.generator.pos)
    for arg, (_, _, default) in table.items():
        values.setdefault(arg, default)
    return name, values


def _apply_data_option(spec: DataSpec, option: ast.DataOption) -> None:
    value = option.value
    if option.key == "label":
        if isinstance(value, ast.Num):
            spec.label = checked_int(value, "label column", minimum=1)
        elif isinstance(value, ast.Str):
            spec.label = value.value
        else:
            spec.label = value
    elif option.key == "header":
        spec.header = True
    elif option.key in ("x", "y"):
        setattr(spec, f"{option.key}_key", value.value)
    elif option.key == "labels":
        spec.labels_file = value.value
    elif option.key == "classes":
        classes = [checked_int(v, "a class label", minimum=-2**62) for v in value]
        if not classes:
            raise InputError("classes [] keeps no rows: name at least one class", option.pos)
        if len(set(classes)) != len(classes):
            raise InputError("a class is listed twice in classes", option.pos)
        spec.classes = classes
    elif option.key == "sample":
        count, seed = value
        spec.sample = checked_int(count, "sample size", minimum=1)
        spec.seed = checked_int(seed, "seed") if seed is not None else 0
    elif option.key == "scale":
        spec.scale, spec.scale_text = _scale_factor(value)
    elif option.key == "missing":
        spec.missing = value
    elif option.key == "split":
        train, test, seed = value
        a = checked_int(train, "split train share", minimum=1)
        b = checked_int(test, "split test share", minimum=1)
        spec.split = (a, b, checked_int(seed, "seed") if seed is not None else 0)


def _scale_factor(value) -> tuple[float | str, str]:
    if value == "minmax":
        return "minmax", "minmax"
    numerator, denominator = value
    factor = numerator.value
    text = numerator.text
    if denominator is not None:
        if denominator.value == 0:
            raise InputError("division by zero in scale", denominator.pos)
        factor /= denominator.value
        text += "/" + denominator.text
    if not factor > 0 or math.isinf(factor):
        raise InputError(f"scale must be a positive number, got {text}", numerator.pos)
    return factor, text


def inline_arrays(inline: ast.InlineData) -> tuple[np.ndarray, np.ndarray]:
    """``(X, labels)`` of an inline block; rows of equal length, one label per row."""
    rows = inline.inputs
    if not rows:
        raise InputError("inputs [] has no samples", inline.inputs_pos)
    width = len(rows[0])
    for i, row in enumerate(rows):
        if not row:
            raise InputError(f"sample {i + 1} has no features", inline.inputs_pos)
        if len(row) != width:
            raise InputError(f"sample {i + 1} has {len(row)} features but sample 1 "
                             f"has {width}", row[0].pos)
    if len(inline.labels) != len(rows):
        raise InputError(f"{len(rows)} samples but {len(inline.labels)} labels",
                         inline.labels_pos)
    for label in inline.labels:
        if not label.is_integer:
            raise InputError(f"label {label.text} is not a whole number (labels name classes)",
                             label.pos)
    X = np.array([[v.value for v in row] for row in rows], dtype=np.float64)
    labels = np.array([label.value for label in inline.labels], dtype=np.int64)
    return X, labels
