"""Front end: .nn text -> Document, and every user error as a positioned message."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_nn_error, nn_error
from nncc.errors import InputError
from nncc.frontend.semantics import load_document
from nncc.problem.network import DEFAULT_WEIGHT_BOX, ParamDomain

XOR = """\
# XOR: find weights of a small ReLU network
network xor_net {
    input  x[2]
    dense  h[4] relu
    dense  y[2]
    weights real in [-4, 4]
}
data xor {
    inputs [[0,0], [0,1], [1,0], [1,1]]
    labels [0, 1, 1, 0]
}
train xor_net on xor {
    classify margin 0.5
}
"""

MLP = """\
network mlp { input x[64]  dense h[10] relu  dense y[2]  weights real in [-1, 1] }
data digits = bundled "digits" classes [0, 1] sample 100 seed 7
train mlp on digits {
    classify margin 0.01
    nonzero 10% seed 7          # a random tenth of the weights must be != 0
}
"""

NET = "network net { input x[2] dense h[4] relu dense y[2] }\n"
DATA = "data d { inputs [[0,0], [0,1], [1,0], [1,1]] labels [0, 1, 1, 0] }\n"


def write(tmp_path: Path, text: str, name: str = "q.nn") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


error_of, assert_error = nn_error, assert_nn_error


# ------------------------------------------------------------------ examples

def test_xor_example(tmp_path):
    doc = load_document(write(tmp_path, XOR))
    net = doc.networks["xor_net"]
    assert (net.input_name, net.input_size, net.output_size) == ("x", 2, 2)
    assert [(layer.name, layer.size, layer.activation) for layer in net.layers] == [
        ("h", 4, "relu"), ("y", 2, "identity")]
    for layer in net.layers:
        assert layer.weight_domain == ParamDomain("real", -4.0, 4.0)
        assert layer.bias_domain == ParamDomain("real", -4.0, 4.0)
        assert layer.trainable
    data = doc.datasets["xor"]
    assert data.X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert data.y.tolist() == [0, 1, 1, 0] and data.classes == [0, 1]
    query = doc.query()
    assert query.name == "train xor_net on xor"
    assert query.network is net and query.data is data
    assert query.margin == 0.5 and query.nonzero_fraction == 0.0
    assert query.pos.line == 12


def test_mlp_example(tmp_path):
    doc = load_document(write(tmp_path, MLP))
    query = doc.query()
    assert query.network.input_size == 64
    assert [layer.size for layer in query.network.layers] == [10, 2]
    assert query.network.layers[0].weight_domain == ParamDomain("real", -1.0, 1.0)
    assert query.data.X.shape == (100, 64)
    assert query.margin == 0.01
    assert query.nonzero_fraction == pytest.approx(0.1) and query.nonzero_seed == 7


def test_default_box_and_activation(tmp_path):
    doc = load_document(write(tmp_path, NET + DATA + "train net on d { classify }"))
    layer = doc.networks["net"].layers[1]
    assert layer.activation == "identity"
    assert (layer.weight_domain.lo, layer.weight_domain.hi) == DEFAULT_WEIGHT_BOX
    assert doc.query().margin == 0.0


def test_parameter_domains_and_overrides(tmp_path):
    text = """\
    network n {
        input x[2] in [0, 1]
        dense h[4] relu weights int in [-3, 3]
        dense g[3] identity bias in {1, -1}
        dense y[2]
        weights real in [-2, 2]
        bias real in [-5, 5]
    }
    """
    net = load_document(write(tmp_path, text)).networks["n"]
    h, g, y = net.layers
    assert net.input_box == (0.0, 1.0)
    assert h.weight_domain == ParamDomain("int", -3, 3)
    assert h.bias_domain == ParamDomain("real", -5, 5)
    assert g.weight_domain == ParamDomain("real", -2, 2)
    assert g.bias_domain == ParamDomain("set", -1, 1, (-1.0, 1.0))
    assert y.weight_domain == ParamDomain("real", -2, 2)


def test_defaults_first_then_last_layer_override(tmp_path):
    text = """\
    network n { input x[2] weights real in [-3, 3]
                dense h[2] relu
                dense y[2] weights in {-1, 0, 1} }
    """
    h, y = load_document(write(tmp_path, text)).networks["n"].layers
    assert h.weight_domain == ParamDomain("real", -3, 3) == h.bias_domain
    assert y.weight_domain.kind == "set" and y.weight_domain.values == (-1.0, 0.0, 1.0)
    assert y.bias_domain == ParamDomain("real", -3, 3)


def test_train_options(tmp_path):
    text = NET + DATA + """
    train net on d as first { classify margin 1e-3  relu disjunction  normalise off }
    train net on d { nonzero 100% classify }
    """
    doc = load_document(write(tmp_path, text))
    first, second = doc.queries
    assert first.name == "first" and first.margin == 0.001
    assert (first.relu_encoding, first.normalise) == ("disjunction", "off")
    assert second.name == "train net on d" and second.nonzero_fraction == 1.0
    assert doc.query("first") is first


def test_network_from_npz(tmp_path):
    rng = np.random.default_rng(0)
    params = {"h.weight": rng.normal(size=(4, 2)), "h.bias": rng.normal(size=4),
              "y.weight": rng.normal(size=(2, 4)), "y.bias": rng.normal(size=2)}
    np.savez(tmp_path / "weights.npz", **params)
    text = 'network net = npz "weights.npz" { input x[2] dense h[4] relu dense y[2] }'
    net = load_document(write(tmp_path, text)).networks["net"]
    assert not any(layer.trainable for layer in net.layers)
    np.testing.assert_array_equal(net.layers[0].weight, params["h.weight"])
    np.testing.assert_array_equal(net.layers[1].bias, params["y.bias"])


def test_statements_share_a_line_and_order_is_free(tmp_path):
    text = "train net on d { classify } " + NET.strip() + " " + DATA.strip()
    assert load_document(write(tmp_path, text)).query().data.n_samples == 4


def test_text_argument_skips_reading(tmp_path):
    doc = load_document(str(tmp_path / "never_written.nn"), text=XOR)
    assert doc.query().margin == 0.5


def test_no_sklearn_import_without_bundled_data(tmp_path):
    import subprocess
    path = write(tmp_path, XOR)
    code = ("import sys; from nncc.frontend.semantics import load_document; "
            f"load_document({path!r}); print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ syntax errors

def test_syntax_error_expected_layer(tmp_path):
    err = assert_error(tmp_path, "network n {\n    input x[2]\n}\n",
                       "unexpected '}', expected a layer ('dense')", 3, 1)
    assert "'weights'" in err.message


def test_unknown_statement_lists_statements(tmp_path):
    err = assert_error(tmp_path, XOR + "evalu xor_net\n", "unknown statement 'evalu'", 15, 1)
    assert "'network', 'data' or 'train'" in err.message


def test_architecture_statement_is_parsed_and_checked(tmp_path):
    # once planned; now an architecture space (tests/test_architecture.py covers it)
    assert_error(tmp_path, "\narchitecture down { }\n", "needs an 'input' shape", 2, 14)


def test_unexpected_character(tmp_path):
    assert_error(tmp_path, "network n { input x[2] dense h[2] @ }", "unexpected character '@'",
                 1, 35)


def test_unexpected_end_of_file(tmp_path):
    assert_error(tmp_path, "train a on b {\n  classify\n\n", "unexpected end of file", 2, 11)


def test_missing_number(tmp_path):
    assert_error(tmp_path, NET + DATA + "train net on d { classify margin }",
                 "unexpected '}', expected a number", 3, 34)


def test_error_render_has_line_and_caret(tmp_path):
    err = error_of(tmp_path, "network n {\n    input x[2]\n    dense h[2] sigmoid\n}\n")
    lines = err.render().splitlines()
    assert lines[0].startswith(str(tmp_path / "q.nn") + ":3:16: unexpected 'sigmoid'")
    assert lines[1] == "        dense h[2] sigmoid"
    assert lines[2] == "    " + " " * 15 + "^"


# ------------------------------------------------------------------ names

def test_unknown_network_did_you_mean(tmp_path):
    text = XOR.replace("train xor_net on", "train xor_nt on")
    assert_error(tmp_path, text, "unknown network 'xor_nt'; did you mean 'xor_net'?", 12, 7)


def test_unknown_dataset(tmp_path):
    text = XOR.replace("on xor {", "on xr {")
    assert_error(tmp_path, text, "unknown dataset 'xr'; did you mean 'xor'?", 12, 18)


def test_dataset_used_as_network(tmp_path):
    assert_error(tmp_path, XOR + "train xor on xor { classify }",
                 "'xor' is a dataset, not a network", 15, 7)


def test_duplicate_declaration(tmp_path):
    assert_error(tmp_path, XOR + "data xor_net { inputs [[1, 2]] labels [0] }",
                 "duplicate name 'xor_net': already declared as a network at line 2", 15, 6)


def test_duplicate_layer_name(tmp_path):
    assert_error(tmp_path, "network n { input x[2] dense h[2] relu dense h[2] }",
                 "duplicate layer name 'h'", 1, 46)


def test_layer_named_like_input(tmp_path):
    assert_error(tmp_path, "network n { input x[2] dense x[2] }", "duplicate layer name 'x'",
                 1, 30)


def test_duplicate_query_name(tmp_path):
    assert_error(tmp_path, XOR + "train xor_net on xor { classify }",
                 "a query named 'train xor_net on xor' already exists", 15, 7)


# ------------------------------------------------------------------ shapes

def test_features_do_not_match_input(tmp_path):
    text = MLP.replace("input x[64]", "input x[2]")
    assert_error(tmp_path, text, "data digits has 64 features but network mlp takes input x[2]",
                 3, 14)


def test_labels_count_differs_from_samples(tmp_path):
    assert_error(tmp_path, XOR.replace("labels [0, 1, 1, 0]", "labels [0, 1, 1]"),
                 "4 samples but 3 labels", 10, 12)


def test_label_not_among_classes(tmp_path):
    text = XOR.replace("labels [0, 1, 1, 0]", "labels [0, 1, 1, 2] classes [0, 1]")
    assert_error(tmp_path, text, "label 2 of sample 4 is not among the classes [0, 1]", 10, 12)


def test_more_classes_than_outputs(tmp_path):
    text = XOR.replace("labels [0, 1, 1, 0]", "labels [0, 1, 2, 0]")
    assert_error(tmp_path, text, "data xor has 3 classes but network xor_net has only 2 outputs",
                 12, 18)


def test_ragged_inline_rows(tmp_path):
    assert_error(tmp_path, "data d { inputs [[0, 0], [1]] labels [0, 1] }",
                 "sample 2 has 1 features but sample 1 has 2", 1, 27)


def test_npz_network_missing_key(tmp_path):
    np.savez(tmp_path / "w.npz", **{"h.weight": np.zeros((4, 2)), "h.bias": np.zeros(4)})
    text = '\nnetwork net = npz "w.npz" { input x[2] dense h[4] relu dense y[2] }'
    assert_error(tmp_path, text, "'w.npz' has no array 'y.weight'", 2, 1)


def test_npz_network_wrong_shape(tmp_path):
    np.savez(tmp_path / "w.npz", **{"h.weight": np.zeros((2, 4)), "h.bias": np.zeros(4)})
    text = 'network net = npz "w.npz" { input x[2] dense h[4] relu }'
    assert_error(tmp_path, text, "'h.weight' in 'w.npz' has shape (2, 4), expected (4, 2)", 1, 1)


def test_npz_network_missing_file(tmp_path):
    text = 'network net = npz "nope.npz" { input x[2] dense h[4] relu }'
    assert_error(tmp_path, text, "weights file 'nope.npz' not found", 1, 1)


def test_train_on_fixed_network(tmp_path):
    np.savez(tmp_path / "w.npz", **{"y.weight": np.zeros((2, 2)), "y.bias": np.zeros(2)})
    text = 'network net = npz "w.npz" { input x[2] dense y[2] }\n' + DATA + \
        "train net on d { classify }"
    assert_error(tmp_path, text, "network net has fixed weights", 3, 7)


# ------------------------------------------------------------------ numbers

def test_negative_margin(tmp_path):
    assert_error(tmp_path, XOR.replace("margin 0.5", "margin -0.5"),
                 "margin must be a finite number >= 0, got -0.5", 13, 21)


def test_weight_box_lo_above_hi(tmp_path):
    assert_error(tmp_path, XOR.replace("[-4, 4]", "[4, -4]"),
                 "weights box [4, -4] is empty", 6, 21)


def test_int_box_needs_integers(tmp_path):
    assert_error(tmp_path, XOR.replace("real in [-4, 4]", "int in [-4, 3.5]"),
                 "needs integer bounds, got 3.5", 6, 25)


def test_nonzero_percent_out_of_range(tmp_path):
    assert_error(tmp_path, MLP.replace("nonzero 10%", "nonzero 150%"),
                 "nonzero percentage must be between 0 and 100, got 150%", 5, 13)


def test_layer_size_must_be_positive_integer(tmp_path):
    assert_error(tmp_path, "network n { input x[2] dense h[2.5] }",
                 "layer size must be a positive integer, got 2.5", 1, 32)


def test_input_size_zero(tmp_path):
    assert_error(tmp_path, "network n { input x[0] dense h[2] }",
                 "input size must be a positive integer, got 0", 1, 21)


def test_clause_given_twice(tmp_path):
    assert_error(tmp_path, XOR.replace("classify margin 0.5", "classify classify"),
                 "'classify' given twice", 13, 14)


def test_weights_given_twice(tmp_path):
    text = XOR.replace("weights real in [-4, 4]", "weights real in [-4, 4] weights in {0}")
    assert_error(tmp_path, text, "'weights' given twice for network xor_net", 6, 29)


def test_train_needs_classify(tmp_path):
    assert_error(tmp_path, NET + DATA + "train net on d { normalise auto }",
                 "needs a 'classify' clause", 3, 1)


def test_seed_must_be_integer(tmp_path):
    assert_error(tmp_path, MLP.replace("seed 7 ", "seed 7.5 "),
                 "seed must be a non-negative integer, got 7.5", 5, 22)


# ------------------------------------------------------------------ files

def test_missing_nn_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_document(str(tmp_path / "absent.nn"))


def test_nn_file_not_utf8(tmp_path):
    path = tmp_path / "q.nn"
    path.write_bytes(b"network n {\n  input \xff[2] }\n")
    with pytest.raises(InputError, match="not UTF-8") as info:
        load_document(str(path))
    assert (info.value.pos.line, info.value.pos.column) == (2, 9)


def test_nn_path_is_a_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        load_document(str(tmp_path))
