"""ONNX files read and checked without importing the ``onnx`` package.

``import onnx`` costs about a second of CPU (most of it in ml_dtypes, which
onnx imports for its low-precision float types): several times the rest of
``nncc verify`` on an ACAS Xu network. An ONNX file is one protobuf message,
so :func:`read_model` parses it with the classes of onnx's own generated
module (``onnx/onnx_ml_pb2.py``, loaded by itself) and checks it with onnx's
own compiled checker (loaded by itself too, under its own name, so that a
later ``import onnx`` uses that copy), called as
``onnx.checker.check_model(model, full_check=True)`` calls it.

Whenever that might not give what ``onnx.load`` and the checker give, the
functions here return None and the caller uses the onnx package: onnx
already imported, a protobuf other than upb (whose message classes onnx
then shares), a checker of another signature, external data, subgraphs,
tensors in attributes, a file that does not parse or that the checker
rejects (the package then gives the same error message), any other error.
"""
from __future__ import annotations

import os
import sys

import numpy as np

_CHECKER_SIGNATURE = ("check_model(bytes: bytes, full_check: bool = False, "
                      "skip_opset_compatibility_check: bool = False, "
                      "check_custom_domain: bool = False)")
_MAXIMUM_PROTOBUF = 2147483647  # onnx.checker.MAXIMUM_PROTOBUF

_loaded: list = []  # [(protobuf module, checker)] or [None], once looked up


def _onnx_parts():
    """(onnx's generated protobuf module, its compiled checker), or None."""
    if _loaded:
        return _loaded[0]
    _loaded.append(None)
    try:
        import importlib.util
        from importlib.machinery import EXTENSION_SUFFIXES

        from google.protobuf.internal import api_implementation

        if api_implementation.Type() != "upb":
            return None
        spec = importlib.util.find_spec("onnx")
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = list(spec.submodule_search_locations)[0]
        pb_spec = importlib.util.spec_from_file_location("nncc.problem._onnx_ml_pb2",
                                                         os.path.join(folder, "onnx_ml_pb2.py"))
        pb = importlib.util.module_from_spec(pb_spec)
        pb_spec.loader.exec_module(pb)
        name = "onnx.onnx_cpp2py_export"
        ext = sys.modules.get(name)
        if ext is None:
            paths = [os.path.join(folder, "onnx_cpp2py_export" + s) for s in EXTENSION_SUFFIXES]
            paths = [p for p in paths if os.path.isfile(p)]
            if not paths:
                return None
            ext_spec = importlib.util.spec_from_file_location(name, paths[0])
            ext = importlib.util.module_from_spec(ext_spec)
            sys.modules[name] = ext
            ext_spec.loader.exec_module(ext)
        checker = ext.checker
        if not (checker.check_model.__doc__ or "").startswith(_CHECKER_SIGNATURE):
            return None
        _loaded[0] = (pb, checker)
    except Exception:
        pass
    return _loaded[0]


def read_model(path: str):
    """The ModelProto of the ONNX file ``path``, loaded and checked as ``onnx.load``
    and ``onnx.checker.check_model(model, full_check=True)`` would, or None."""
    if "onnx" in sys.modules or not str(path).lower().endswith(".onnx"):
        return None
    parts = _onnx_parts()
    if parts is None:
        return None
    pb, checker = parts
    try:
        with open(path, "rb") as f:
            data = f.read()
        model = pb.ModelProto()
        if model.ParseFromString(data) != len(data):
            return None
        if _needs_onnx_load(model, pb):
            return None
        data = model.SerializeToString()
        if len(data) > _MAXIMUM_PROTOBUF:
            return None
        checker.check_model(data, full_check=True, skip_opset_compatibility_check=False,
                            check_custom_domain=False)
    except Exception:
        return None
    return model


def _needs_onnx_load(model, pb) -> bool:
    """Could ``onnx.load`` change the parsed message (external data to read in)?"""
    if len(model.functions):
        return True
    g = model.graph
    if any(t.data_location == pb.TensorProto.EXTERNAL for t in g.initializer):
        return True
    return any(a.HasField("t") or len(a.tensors) or a.HasField("g") or len(a.graphs)
               or a.HasField("sparse_tensor") or len(a.sparse_tensors)
               for node in g.node for a in node.attribute)


# AttributeProto types read here, as onnx.helper.get_attribute_value reads them
_ATTRIBUTE_VALUES = {1: lambda a: a.f, 2: lambda a: a.i, 3: lambda a: a.s,
                     6: lambda a: list(a.floats), 7: lambda a: list(a.ints),
                     8: lambda a: list(a.strings)}


def attributes(node) -> dict | None:
    """``{name: value}`` of a node's attributes if all are numbers, strings or lists
    of them (as ``onnx.helper.get_attribute_value`` gives them), else None."""
    out = {}
    for a in node.attribute:
        get = _ATTRIBUTE_VALUES.get(a.type)
        if get is None or a.ref_attr_name:
            return None
        out[a.name] = get(a)
    return out


# TensorProto data types read here: numpy dtype and the field of non-raw data
_TENSOR_TYPES = {1: (np.float32, "float_data"), 6: (np.int32, "int32_data"),
                 7: (np.int64, "int64_data"), 11: (np.float64, "double_data")}


def tensor_array(t) -> np.ndarray | None:
    """A tensor's values as ``onnx.numpy_helper.to_array`` gives them, for float32,
    float64, int32 and int64 tensors held in the file; else None."""
    kind = _TENSOR_TYPES.get(t.data_type)
    if kind is None or t.HasField("segment") or t.data_location != 0 or sys.byteorder != "little":
        return None
    dtype, field = kind
    dims = tuple(t.dims)
    if t.HasField("raw_data"):
        return np.frombuffer(t.raw_data, dtype=dtype).reshape(dims)
    return np.asarray(getattr(t, field), dtype=dtype).astype(dtype).reshape(dims)
