"""Read what an SMT-LIB solver prints: status lines, get-value answers, models.

z3 and cvc5 print the same language with different habits (see
docs/solver-behaviour.md): z3 ``(/ 1.0 3.0)`` and ``(root-obj ...)``, cvc5
``(/ 1 3)`` and ``(_ real_algebraic_number <poly, (lo, hi)>)``. Both may mix
warnings and ``(error "...")`` answers into standard output, so the reader
works line by line at the top level and only parses what starts with ``(``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

STATUS_WORDS = ("sat", "unsat", "unknown", "timeout")


class SmtString(str):
    """A string literal (``"..."``), kept apart from symbols."""


class SExprError(ValueError):
    """The text is not a well-formed s-expression."""


_DELIMS = set("()\";|")


def tokenize(text: str) -> list[str]:
    """Split SMT-LIB text into tokens: ``(``, ``)``, atoms and SmtString literals.

    ``<...>`` after ``real_algebraic_number`` is one atom (cvc5 puts spaces,
    commas and parentheses inside it). ``;`` comments are dropped.
    """
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append(c)
            i += 1
        elif c == ";":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == '"':
            # SMT-LIB 2.6 escapes a quote by doubling it.
            j, buf = i + 1, []
            while True:
                k = text.find('"', j)
                if k < 0:
                    raise SExprError("unterminated string literal")
                buf.append(text[j:k])
                if k + 1 < n and text[k + 1] == '"':
                    buf.append('"')
                    j = k + 2
                else:
                    break
            tokens.append(SmtString("".join(buf)))
            i = k + 1
        elif c == "|":
            k = text.find("|", i + 1)
            if k < 0:
                raise SExprError("unterminated |quoted symbol|")
            tokens.append(text[i:k + 1])
            i = k + 1
        elif c == "<" and tokens and tokens[-1] == "real_algebraic_number":
            depth, j = 0, i
            while j < n:
                if text[j] == "<":
                    depth += 1
                elif text[j] == ">":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= n:
                raise SExprError("unterminated <algebraic number>")
            tokens.append(text[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _DELIMS:
                j += 1
            tokens.append(text[i:j])
            i = j
    return tokens


def parse_sexprs(text: str) -> list:
    """Parse every s-expression in ``text``; lists become Python lists."""
    stack: list[list] = [[]]
    for tok in tokenize(text):
        if tok == "(" and not isinstance(tok, SmtString):
            stack.append([])
        elif tok == ")" and not isinstance(tok, SmtString):
            if len(stack) == 1:
                raise SExprError("unbalanced ')'")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    if len(stack) != 1:
        raise SExprError("unbalanced '(' (output cut short?)")
    return stack[0]


def to_text(expr) -> str:
    """Print an s-expression back in SMT-LIB syntax (used as a key for compound terms)."""
    if isinstance(expr, list):
        return "(" + " ".join(to_text(e) for e in expr) + ")"
    if isinstance(expr, SmtString):
        return '"' + expr.replace('"', '""') + '"'
    return expr


def symbol_name(atom: str) -> str:
    """``|a b|`` -> ``a b``; plain symbols unchanged."""
    if len(atom) >= 2 and atom[0] == "|" and atom[-1] == "|":
        return atom[1:-1]
    return atom


# ---------------------------------------------------------------- values

@dataclass
class Value:
    """A solver value: exact when rational, else a float flagged approximate."""

    number: float
    exact: Fraction | None
    approximate: bool = False


_EXACT_OPS = {"/": lambda a, b: a / b, "-": lambda a, b: a - b,
              "+": lambda a, b: a + b, "*": lambda a, b: a * b}
_DEC = re.compile(r"^[0-9]+(\.[0-9]*)?$")


def _atom_value(atom: str) -> Value:
    if atom == "true":
        return Value(1.0, Fraction(1))
    if atom == "false":
        return Value(0.0, Fraction(0))
    approx = atom.endswith("?")  # z3 pp.decimal marks truncated decimals with '?'
    a = atom[:-1] if approx else atom
    if _DEC.match(a):
        f = Fraction(a)
        return Value(float(f), None if approx else f, approx)
    if a.startswith("#x"):
        f = Fraction(int(a[2:], 16))
        return Value(float(f), f)
    if a.startswith("#b"):
        f = Fraction(int(a[2:], 2))
        return Value(float(f), f)
    raise ValueError(f"not a value: {atom}")


def value_of(expr) -> Value:
    """Evaluate a printed SMT-LIB value: numerals, decimals, ``(- x)``, ``(/ a b)``,
    Booleans, bit-vectors (``#x..``, ``#b..``, ``(_ bvN w)``, read unsigned) and
    algebraic numbers (z3 ``root-obj``, cvc5 ``real_algebraic_number``), which are
    approximated and marked so."""
    if not isinstance(expr, list):
        return _atom_value(expr)
    if not expr:
        raise ValueError("empty list is not a value")
    head = expr[0]
    if head == "-" and len(expr) == 2:
        v = value_of(expr[1])
        return Value(-v.number, None if v.exact is None else -v.exact, v.approximate)
    if head in ("/", "-", "+", "*") and len(expr) >= 3:
        vs = [value_of(e) for e in expr[1:]]
        approx = any(v.approximate for v in vs)
        if all(v.exact is not None for v in vs) and not (
                head == "/" and any(v.exact == 0 for v in vs[1:])):
            acc = vs[0].exact
            for v in vs[1:]:
                acc = _EXACT_OPS[head](acc, v.exact)
            return Value(float(acc), acc, approx)
        acc_f = vs[0].number
        for v in vs[1:]:
            if head == "/":
                acc_f = acc_f / v.number if v.number else float("nan")
            elif head == "-":
                acc_f -= v.number
            elif head == "+":
                acc_f += v.number
            else:
                acc_f *= v.number
        return Value(acc_f, None, True)
    if head == "root-obj" and len(expr) == 3:
        return Value(_root_obj(expr[1], int(expr[2])), None, True)
    if head == "_" and len(expr) == 3 and expr[1] == "real_algebraic_number":
        return Value(_cvc5_algebraic(expr[2]), None, True)
    if head == "_" and len(expr) == 3 and isinstance(expr[1], str) and expr[1].startswith("bv"):
        f = Fraction(int(expr[1][2:]))
        return Value(float(f), f)
    raise ValueError(f"not a value: {to_text(expr)}")


# z3: (root-obj POLY k) is the k-th real root (1-based, ascending) of POLY in x.

def _poly(expr) -> dict[int, Fraction]:
    """Coefficients {power: c} of a z3 polynomial s-expression in one variable."""
    if not isinstance(expr, list):
        try:
            return {0: _atom_value(expr).exact}
        except ValueError:
            return {1: Fraction(1)}  # the variable
    head = expr[0]
    if head == "^":
        out = {0: Fraction(1)}
        base = _poly(expr[1])
        for _ in range(int(expr[2])):
            out = _poly_mul(out, base)
        return out
    args = [_poly(e) for e in expr[1:]]
    if head == "+":
        out: dict[int, Fraction] = {}
        for a in args:
            for k, c in a.items():
                out[k] = out.get(k, 0) + c
        return out
    if head == "-":
        if len(args) == 1:
            return {k: -c for k, c in args[0].items()}
        out = dict(args[0])
        for a in args[1:]:
            for k, c in a.items():
                out[k] = out.get(k, 0) - c
        return out
    if head == "*":
        out = {0: Fraction(1)}
        for a in args:
            out = _poly_mul(out, a)
        return out
    raise ValueError(f"unexpected {head!r} in root-obj polynomial")


def _poly_mul(a: dict[int, Fraction], b: dict[int, Fraction]) -> dict[int, Fraction]:
    out: dict[int, Fraction] = {}
    for k1, c1 in a.items():
        for k2, c2 in b.items():
            out[k1 + k2] = out.get(k1 + k2, 0) + c1 * c2
    return out


def _poly_eval(coeffs: dict[int, Fraction], x: float) -> float:
    return sum(float(c) * x ** k for k, c in coeffs.items())


def _root_obj(poly_expr, k: int) -> float:
    import numpy as np

    coeffs = _poly(poly_expr)
    deg = max(p for p, c in coeffs.items() if c != 0)
    dense = [float(coeffs.get(p, 0)) for p in range(deg, -1, -1)]
    roots = np.roots(dense)
    # Real roots: numpy returns tiny imaginary parts for real ones.
    scale = max(1.0, max(abs(r) for r in roots))
    real = sorted(float(r.real) for r in roots if abs(r.imag) <= 1e-7 * scale)
    if not 1 <= k <= len(real):
        raise ValueError(f"root-obj asks for root {k} of a polynomial with {len(real)} real roots")
    x = real[k - 1]
    # Polish with Newton steps: numpy.roots loses digits on multiple or clustered roots.
    d = {p - 1: c * p for p, c in coeffs.items() if p > 0}
    for _ in range(5):
        dv = _poly_eval(d, x)
        if dv == 0:
            break
        step = _poly_eval(coeffs, x) / dv
        x -= step
        if abs(step) <= 1e-16 * max(1.0, abs(x)):
            break
    return x


# cvc5: <c*x^k + ... , (lo, hi)>: the unique root of the polynomial in the interval.

_TERM = re.compile(r"^(-?[0-9]+(?:/[0-9]+)?)?\*?(?:([A-Za-z_][A-Za-z_0-9]*)(?:\^([0-9]+))?)?$")


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _cvc5_poly(text: str) -> dict[int, Fraction]:
    out: dict[int, Fraction] = {}
    for term in _split_top(text, " + "):
        while term.startswith("(") and term.endswith(")"):
            term = term[1:-1].strip()
        neg = False
        if term.startswith("-") and not term[1:2].isdigit():
            neg, term = True, term[1:]  # "-x^2"
        m = _TERM.match(term.replace(" ", ""))
        if not m or (m.group(1) is None and m.group(2) is None):
            raise ValueError(f"cannot read polynomial term {term!r}")
        c = Fraction(m.group(1)) if m.group(1) else Fraction(1)
        p = 0 if m.group(2) is None else int(m.group(3) or 1)
        out[p] = out.get(p, 0) + (-c if neg else c)
    return out


def _cvc5_algebraic(atom: str) -> float:
    body = atom.strip()[1:-1]  # drop < >
    # The interval "(lo, hi)" is the last parenthesised group; the polynomial is before it.
    cut = body.rfind("(", 0, body.rfind(","))
    poly_text, interval = body[:cut].rstrip().rstrip(","), body[cut:]
    lo_text, hi_text = (s.strip() for s in interval.strip()[1:-1].split(","))
    coeffs = _cvc5_poly(poly_text)
    lo, hi = float(Fraction(lo_text)), float(Fraction(hi_text))
    flo, fhi = _poly_eval(coeffs, lo), _poly_eval(coeffs, hi)
    if flo == 0:
        return lo
    if fhi == 0:
        return hi
    if (flo < 0) == (fhi < 0):
        return (lo + hi) / 2  # no sign change seen in floats: the midpoint is the best guess
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        fm = _poly_eval(coeffs, mid)
        if fm == 0:
            return mid
        if (fm < 0) == (flo < 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return (lo + hi) / 2


# ---------------------------------------------------------------- outputs

@dataclass
class SmtOutput:
    """What a run printed: status word, values by name, errors and stray lines."""

    status: str | None = None  # sat / unsat / unknown / timeout, the first one printed
    statuses: list[str] = field(default_factory=list)
    reason: str = ""  # text after the status word, e.g. cvc5's "unknown (TIMEOUT)"
    values: dict[str, Value] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # lines that are none of the above
    objectives: dict[str, Value] = field(default_factory=dict)


def _is_define_fun(e) -> bool:
    return isinstance(e, list) and len(e) == 5 and e[0] == "define-fun"


def _take_sexpr(expr, out: SmtOutput) -> None:
    if not isinstance(expr, list) or not expr:
        out.unreadable.append(to_text(expr))
        return
    head = expr[0]
    if head == "error":
        out.errors.append(" ".join(str(e) for e in expr[1:]))
    elif head == "warning":
        out.warnings.append(" ".join(str(e) for e in expr[1:]))
    elif head == "objectives":
        for item in expr[1:]:
            if isinstance(item, list) and len(item) == 2:
                try:
                    out.objectives[to_text(item[0])] = value_of(item[1])
                except ValueError:
                    pass
    elif head == "model" or all(_is_define_fun(e) for e in expr):
        # (model (define-fun ...)...) from older z3, ((define-fun ...)...) from newer
        # solvers; an empty () is an empty model.
        for d in expr[1:] if head == "model" else expr:
            if _is_define_fun(d) and d[2] == []:  # constants only, not functions
                try:
                    out.values.setdefault(symbol_name(d[1]), value_of(d[4]))
                except ValueError:
                    pass  # arrays, datatypes, ...: not a number nncc asks for
    elif all(isinstance(e, list) and len(e) == 2 for e in expr):
        # get-value answer ((term value) ...); get-value wins over a later model.
        for term, val in expr:
            key = symbol_name(term) if isinstance(term, str) else to_text(term)
            try:
                out.values[key] = value_of(val)
            except ValueError:
                out.unreadable.append(to_text([term, val]))
    else:
        out.unreadable.append(to_text(expr))


def read_smt_output(text: str) -> SmtOutput:
    """Read solver standard output: status words, get-value / get-model answers,
    ``(error ...)``, warnings. Lines that fit none of these go to ``unreadable``."""
    out = SmtOutput()
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line:
            continue
        if line.startswith("("):
            # Gather lines until the parentheses balance (answers span lines). Depth is
            # counted per line so a long model is tokenised once, not once per line.
            chunk, depth, pending = [], 0, ""
            j = i - 1
            while j < len(lines):
                pending += lines[j] + "\n"
                j += 1
                try:
                    toks = tokenize(pending)
                except SExprError:
                    continue  # a string or |symbol| runs on to the next line
                depth += sum(1 for t in toks if t == "(" and not isinstance(t, SmtString))
                depth -= sum(1 for t in toks if t == ")" and not isinstance(t, SmtString))
                chunk.append(pending)
                pending = ""
                if depth <= 0:
                    break
            i = j
            try:
                exprs = parse_sexprs("".join(chunk) + pending)
            except SExprError:
                out.unreadable.append("".join(chunk)[:200].strip())
                exprs = []
            for e in exprs:
                _take_sexpr(e, out)
            continue
        word = line.split()[0]
        if word in STATUS_WORDS:
            out.statuses.append(word)
            if out.status is None:
                out.status = word
                out.reason = line[len(word):].strip()
        elif word.upper().startswith("WARNING"):
            out.warnings.append(line)
        else:
            out.unreadable.append(line)
    return out


# ---------------------------------------------------------------- results

def smt_result(run, time_limit_hit: bool = False):
    """SolverResult from an SMT solver's standard output (shared by z3 and cvc5).

    ``sat`` gives values; ``unsat`` is proof (the error a following get-value
    causes is expected); ``unknown`` and ``timeout`` never carry values, since
    cvc5 prints a wrong model after ``unknown``. ``time_limit_hit`` is the
    caller's own evidence of a time-out (cvc5's exit code 134).
    """
    from nncc.solvers.result import ERROR, NO_SOLUTION, SOLUTION, UNKNOWN, SolverResult
    from nncc.solvers.runner import garbage_result

    out = read_smt_output(run.stdout)
    notes = [f"error: {e}" for e in out.errors]
    if time_limit_hit and out.status in (None, "unknown", "timeout"):
        return SolverResult(UNKNOWN, message="time limit")
    if out.status == "sat":
        res = SolverResult(SOLUTION)
        for name, v in out.values.items():
            res.values[name] = v.number
            if v.exact is not None:
                res.exact[name] = v.exact
            if v.approximate:
                res.approximate.add(name)
        if out.objectives:
            first = next(iter(out.objectives.values()))
            res.objective = first.number
            res.optimal = True  # z3 answers sat to an optimisation query only at the optimum
        if res.approximate:
            notes.append(f"{len(res.approximate)} irrational value(s) approximated")
        res.has_incumbent = bool(res.values)
        res.message = "; ".join(notes)
        return res
    if out.status == "unsat":
        return SolverResult(NO_SOLUTION)
    if out.status == "timeout":
        return SolverResult(UNKNOWN, message="time limit")
    if out.status == "unknown":
        why = out.reason.strip("() ") or "the solver answered unknown"
        if why.lower() == "timeout":
            why = "time limit"
        return SolverResult(UNKNOWN, message="; ".join([why] + notes))
    if out.errors:
        return SolverResult(ERROR, message="solver error: " + out.errors[0])
    return garbage_result(run)
