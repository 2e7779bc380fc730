"""Parse ``.nn`` text into the syntax tree of ``ast.py``.

One LALR parser is built per process (grammar ``nncc/data/nn.lark``); a Lark
``Transformer`` turns its parse tree into dataclasses. Lark's syntax errors
become ``InputError``s that say, in words, what was expected.
"""
from __future__ import annotations

import difflib
import functools
import os
from pathlib import Path

import lark
from lark import Lark, Token, Transformer, v_args

from ..errors import InputError, SourcePos
from . import ast

GRAMMAR_PATH = Path(__file__).resolve().parent.parent / "data" / "nn.lark"

# Statement keywords, and the query kinds planned but not yet in the grammar:
# an unknown word at statement level is explained with these.
DECLARATION_KEYWORDS = ("network", "data", "train")
QUESTION_KEYWORDS = ("evaluate", "maximize", "minimize", "adversarial", "verify")
ARCHITECTURE_KEYWORDS = ("architecture", "enumerate", "count", "sample")
STATEMENT_KEYWORDS = DECLARATION_KEYWORDS + QUESTION_KEYWORDS + ARCHITECTURE_KEYWORDS
PLANNED_STATEMENTS: tuple[str, ...] = ()

# How terminals are named in "expected ..." messages.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a quoted string ("...")',
    "DENSE": "a layer ('dense')",
    "$END": "the end of the file",
}


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The process-wide LALR parser (building it costs tens of milliseconds)."""
    try:
        grammar = GRAMMAR_PATH.read_text(encoding="utf-8")
    except OSError as exc:  # a broken install, not a user error
        raise RuntimeError(f"nncc grammar not found at {GRAMMAR_PATH}: {exc}") from exc
    return Lark(grammar, parser="lalr", lexer="contextual",
                propagate_positions=True, maybe_placeholders=True, cache=_cache_file())


def _cache_file() -> str | bool:
    """Where Lark may keep the built parser tables (saves ~40 ms per run).

    A folder of the user's own (not the shared temp folder Lark would pick):
    the cache is a pickle, and a pickle is only as safe as its folder.
    Lark names the grammar's hash inside the file and rebuilds on a mismatch.
    """
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(root) / "nncc"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    if not os.access(folder, os.W_OK):
        return False
    return str(folder / "lark_parser.cache")


def source_lines(text: str) -> list[str]:
    """Lines as Lark counts them (only ``\\n`` ends a line)."""
    return [line.rstrip("\r") for line in text.split("\n")]


def make_pos(path: str, lines: list[str], line: int, column: int) -> SourcePos:
    """A ``SourcePos`` carrying the text of its line for the caret display.

    Tabs become single spaces so that the caret, placed by column, lines up.
    """
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    return SourcePos(path, line, column, text.replace("\t", " "))


def parse(text: str, path: str = "<input>") -> ast.SourceFile:
    """Parse ``text`` (the contents of ``path``) into an ``ast.SourceFile``.

    Raises ``InputError`` with the position and what was expected on a syntax error.
    """
    lines = source_lines(text)
    try:
        tree = lark_parser().parse(text)
    except lark.UnexpectedInput as exc:
        raise _syntax_error(exc, text, path, lines) from None
    statements = _AstBuilder(path, lines).transform(tree)
    return ast.SourceFile(path=path, statements=statements)


# ------------------------------------------------------------------ errors

def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    term = lark_parser().get_terminal(name)
    return repr(term.pattern.value) if term.pattern.type == "str" else name.lower()


def _join_alternatives(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _expected_words(expected: set[str]) -> str:
    """``{'DENSE', 'PARAM_TARGET'...}`` -> "a layer ('dense'), 'bias' or 'weights'"."""
    stmt_terminals = {k.upper() for k in STATEMENT_KEYWORDS}
    if expected and expected - {"$END"} <= stmt_terminals:
        return ("a statement: " + _join_alternatives([repr(k) for k in DECLARATION_KEYWORDS])
                + ", a question about a trained network: "
                + _join_alternatives([repr(k) for k in QUESTION_KEYWORDS])
                + ", or an architecture space: "
                + _join_alternatives([repr(k) for k in ARCHITECTURE_KEYWORDS]))
    # Order: descriptions in words first, then keywords, then punctuation.
    words = sorted({_describe_terminal(t) for t in expected},
                   key=lambda w: (not w[0].isalpha(), not w[1:2].isalpha(), w))
    return _join_alternatives(words) if words else "something else"


def _end_of_text_pos(text: str, path: str, lines: list[str]) -> SourcePos:
    body = text.rstrip()
    line = body.count("\n") + 1
    column = len(body) - (body.rfind("\n") + 1) + 1
    return make_pos(path, lines, line, column)


def _syntax_error(exc: lark.UnexpectedInput, text: str, path: str,
                  lines: list[str]) -> InputError:
    if isinstance(exc, lark.UnexpectedCharacters):
        pos = make_pos(path, lines, exc.line, exc.column)
        found = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if found == '"':
            return InputError("unterminated string: a string must end on its line", pos)
        return InputError(f"unexpected character {found!r}, expected "
                          + _expected_words(set(exc.allowed)), pos)
    if isinstance(exc, lark.UnexpectedToken):
        token = exc.token
        expected = set(exc.expected)
        if token.type == "$END":
            return InputError("unexpected end of file, expected " + _expected_words(expected),
                              _end_of_text_pos(text, path, lines))
        pos = make_pos(path, lines, token.line, token.column)
        stmt_terminals = {k.upper() for k in STATEMENT_KEYWORDS}
        if expected - {"$END"} <= stmt_terminals and expected:
            word = str(token)
            if word in PLANNED_STATEMENTS:
                return InputError(f"'{word}' statements are not supported yet; expected "
                                  + _expected_words(expected), pos)
            message = f"unknown statement {word!r}, expected " + _expected_words(expected)
            hint = difflib.get_close_matches(word, STATEMENT_KEYWORDS, n=1)
            if hint:
                message += f" (did you mean {hint[0]!r}?)"
            return InputError(message, pos)
        message = f"unexpected {str(token)!r}, expected {_expected_words(expected)}"
        if "NAME" in expected and token.type != "NAME" and str(token).isidentifier():
            message += f" ({str(token)!r} is a reserved word)"
        return InputError(message, pos)
    # UnexpectedEOF: only raised by the Earley parser, kept for safety.
    return InputError("unexpected end of file", _end_of_text_pos(text, path, lines))


# ------------------------------------------------------------------ tree -> AST

def _drop_none(items) -> list:
    return [item for item in items if item is not None]


@v_args(meta=True)
class _AstBuilder(Transformer):
    """Builds ``ast`` dataclasses bottom-up; performs no checks
    (:mod:`~nncc.frontend.semantics` does)."""

    def __init__(self, path: str, lines: list[str]):
        super().__init__(visit_tokens=True)
        self.path = path
        self.lines = lines

    def _pos(self, meta) -> SourcePos:
        return make_pos(self.path, self.lines, meta.line, meta.column)

    def _token_pos(self, token: Token) -> SourcePos:
        return make_pos(self.path, self.lines, token.line, token.column)

    # Terminal callbacks are called without meta, hence the plain signatures.
    @v_args(inline=False, meta=False)
    def NAME(self, token):
        return ast.Ident(str(token), self._token_pos(token))

    @v_args(inline=False, meta=False)
    def NUMBER(self, token):
        return ast.Num(float(token), str(token), self._token_pos(token))

    @v_args(inline=False, meta=False)
    def STRING(self, token):
        return ast.Str(str(token)[1:-1], self._token_pos(token))

    def start(self, meta, children):
        out = []
        for child in children:  # file_data_then_sample gives two statements
            out.extend(child if isinstance(child, list) else [child])
        return out

    # networks
    def network_decl(self, meta, children):
        name, rest = children[0], children[1:]
        npz_path = rest.pop(0) if isinstance(rest[0], ast.Str) else None
        return ast.NetworkDecl(name, npz_path, rest[0], list(rest[1:]), self._pos(meta))

    def network_source(self, meta, children):
        return children[0]

    def input_decl(self, meta, children):
        name, size, box = children
        return ast.InputDecl(name, size, box, self._pos(meta))

    def dense_layer(self, meta, children):
        name, size, activation = children
        return ast.DenseDecl(name, size, activation, self._pos(meta))

    def _keyword(self, meta, children):
        return str(children[0])

    plain_activation = param_target = domain_kind = data_format = _keyword
    step_kind = train_method = big_m_mode = binarised_loss = regulariser = _keyword

    def step_activation(self, meta, children):
        kind, beta, gamma, threshold = children
        levels = (beta, gamma) if beta is not None else None
        return ast.StepSpec(kind, levels, threshold, self._pos(meta))

    def fixed_threshold(self, meta, children):
        return children[0]

    def learned_threshold(self, meta, children):
        return "learned"
    relu_encoding = normalise_mode = _keyword
    trained_format = optimize_sense = norm = _keyword

    def trained_network_decl(self, meta, children):
        name, fmt, path = children
        return ast.TrainedNetworkDecl(name, fmt, path, self._pos(meta))

    def param_clause(self, meta, children):
        target, domain = children
        return ast.ParamClause(target, domain, self._pos(meta))

    def interval_domain(self, meta, children):
        kind, interval = children
        return ast.DomainSpec(kind or "real", self._pos(meta), interval=interval)

    def set_domain(self, meta, children):
        return ast.DomainSpec("set", self._pos(meta), values=_drop_none(children))

    def interval(self, meta, children):
        lo, hi = children
        return ast.Interval(lo, hi, self._pos(meta))

    # datasets
    def inline_data_decl(self, meta, children):
        name, inline, *options = children
        return ast.DataDecl(name, "inline", self._pos(meta), inline=inline, options=options)

    def file_data_decl(self, meta, children):
        name, fmt, path, *options = children
        return ast.DataDecl(name, fmt, self._pos(meta), path=path, options=options)

    def generated_data_decl(self, meta, children):
        name, (generator, args), *options = children
        return ast.DataDecl(name, "generated", self._pos(meta), generator=generator,
                            arguments=args, options=options)

    def generator_call(self, meta, children):
        name, *args = children
        return name, [a for a in args if a is not None]

    def generator_arg(self, meta, children):
        return tuple(children)

    def file_data_then_sample(self, meta, children):
        *data, sample = children
        return [self.file_data_decl(meta, data), sample]

    def inline_data(self, meta, children):
        (rows, rows_pos), (labels, labels_pos) = children
        return ast.InlineData([row for row, _ in rows], labels, rows_pos, labels_pos)

    def matrix(self, meta, children):
        return _drop_none(children), self._pos(meta)

    def vector(self, meta, children):
        return _drop_none(children), self._pos(meta)

    def _keyed(node_class, key):
        """A rule that builds ``node_class(key, value or None, position)``."""
        def build(self, meta, children):
            return node_class(key, children[0] if children else None, self._pos(meta))
        return build

    def _option(key, _keyed=_keyed):
        return _keyed(ast.DataOption, key)

    label_option = _option("label")
    header_option = _option("header")
    scale_option = _option("scale")
    x_key_option = _option("x")
    y_key_option = _option("y")
    labels_file_option = _option("labels")

    def classes_option(self, meta, children):
        values, _ = children[0]
        return ast.DataOption("classes", values, self._pos(meta))

    missing_mode = _keyword

    def missing_option(self, meta, children):
        return ast.DataOption("missing", children[0], self._pos(meta))

    def split_option(self, meta, children):
        return ast.DataOption("split", tuple(children), self._pos(meta))

    def data_ref(self, meta, children):
        name, part = children
        if part is None:
            return name
        return ast.Ident(f"{name.name}.{part.name}", name.pos)

    def sample_option(self, meta, children):
        return ast.DataOption("sample", tuple(children), self._pos(meta))

    def label_column(self, meta, children):
        # children: [LAST] | [FIRST] | [COLUMN, Num | Str]
        return children[1] if len(children) == 2 else str(children[0])

    def scale_ratio(self, meta, children):
        return tuple(children)

    def scale_minmax(self, meta, children):
        return "minmax"

    # queries
    def train_decl(self, meta, children):
        network, data, name, *clauses = children
        return ast.TrainDecl(network, data, name, clauses, self._pos(meta))

    def classify_clause(self, meta, children):
        return ast.TrainClause("classify", children[0], self._pos(meta))

    def nonzero_clause(self, meta, children):
        percent, seed = children
        return ast.TrainClause("nonzero", percent, self._pos(meta), seed=seed)

    def relu_clause(self, meta, children):
        return ast.TrainClause("relu", children[0], self._pos(meta))

    def normalise_clause(self, meta, children):
        return ast.TrainClause("normalise", children[0], self._pos(meta))

    def minimize_loss_clause(self, meta, children):
        loss, margin = children
        return ast.TrainClause("minimize", (loss, margin), self._pos(meta))

    def maximize_margin_clause(self, meta, children):
        return ast.TrainClause("maximize", ("margin", None), self._pos(meta))

    def regularize_clause(self, meta, children):
        kind, weight, *options = children
        clause = ast.TrainClause("regularize " + kind, weight, self._pos(meta))
        for what, value in options:  # repeats are the semantics' to report
            if what == "layer":
                clause.layers.append(value)
            else:
                clause.segments.append(value)
        return clause

    def regularize_layer(self, meta, children):
        return ("layer", children[0])

    def regularize_segments(self, meta, children):
        return ("segments", children[0])

    def nonzero_budget_clause(self, meta, children):
        return ast.TrainClause("nonzero at most", children[0], self._pos(meta))

    def robust_clause(self, meta, children):
        return ast.TrainClause("robust", children[0], self._pos(meta))

    def method_clause(self, meta, children):
        method, restarts, seed = children
        return ast.TrainClause("method", (method, restarts), self._pos(meta), seed=seed)

    def big_m_clause(self, meta, children):
        return ast.TrainClause("big-m", children[0], self._pos(meta))

    # questions about trained networks
    def evaluate_decl(self, meta, children):
        network, points, name = children
        return ast.EvaluateDecl(network, points, name, self._pos(meta))

    def verify_decl(self, meta, children):
        network, path, name = children
        return ast.VerifyDecl(network, path, name, self._pos(meta))

    def maximize_decl(self, meta, children):
        sense, network, output_name, index, name, *clauses = children
        return ast.MaximizeDecl(network, output_name, index, sense == "minimize", name,
                                clauses, self._pos(meta))

    def adversarial_decl(self, meta, children):
        network, point, name, *clauses = children
        return ast.AdversarialDecl(network, point, name, clauses, self._pos(meta))

    def data_points(self, meta, children):
        data, first, last = children
        return ast.DataPoints(data, first, last, self._pos(meta))

    def inline_rows(self, meta, children):
        return ast.InlinePoints([row for row, _ in _drop_none(children)], False, self._pos(meta))

    def inline_row(self, meta, children):
        row, _ = children[0]
        return ast.InlinePoints([row], True, self._pos(meta))

    def _clause(key, _keyed=_keyed):
        return _keyed(ast.QueryClause, key)

    input_box_clause = _clause("input")
    target_clause = _clause("target")
    any_clause = _clause("any")
    wins_clause = _clause("wins")
    label_clause = _clause("label")
    margin_clause = _clause("margin")
    ratio_clause = _clause("ratio")
    norm_clause = _clause("minimize")
    epsilon_clause = _clause("epsilon")

    # architecture spaces
    def architecture_decl(self, meta, children):
        name, *clauses = children
        return ast.ArchitectureDecl(name, clauses, self._pos(meta))

    def shape(self, meta, children):
        return list(children)

    def range(self, meta, children):
        return tuple(children)

    arch_param = square_target = compare_op = monotone_direction = semantics_kind = _keyword

    def _arch(key):
        def build(self, meta, children):
            value = children[0] if len(children) == 1 else tuple(children)
            return ast.ArchClause(key, value, self._pos(meta))
        return build

    arch_input = _arch("input")
    arch_output = _arch("output")
    arch_layers = _arch("layers")
    arch_pool = _arch("pool")
    arch_semantics = _arch("semantics")
    arch_monotone = _arch("monotone")
    arch_compare = _arch("compare")

    def arch_range(self, meta, children):
        param, rng = children
        return ast.ArchClause(param, rng, self._pos(meta))

    def arch_square(self, meta, children):
        return ast.ArchClause("square", list(children), self._pos(meta))

    def enumerate_decl(self, meta, children):
        name, *options = children
        decl = ast.SpaceTaskDecl("enumerate", name, self._pos(meta))
        for key, value in options:
            setattr(decl, key, value)
        return decl

    def limit_option(self, meta, children):
        return "limit", children[0]

    def uniform_option(self, meta, children):
        return "uniform", True

    def seed_option(self, meta, children):
        return "seed", children[0]

    def count_decl(self, meta, children):
        return ast.SpaceTaskDecl("count", children[0], self._pos(meta))

    def sample_decl(self, meta, children):
        name, count, seed = children
        return ast.SpaceTaskDecl("sample", name, self._pos(meta), count=count, seed=seed)
