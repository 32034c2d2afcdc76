"""The fitted classifiers as one ONNX graph, so the pipeline runs them with onnxruntime alone.

Training-time only (the ``train`` extra: skl2onnx and onnx); nothing at run time imports this.
``train.py`` calls ``to_onnx`` at its end and ships what it writes.

Each classifier is a ``HistGradientBoostingClassifier`` whose raw scores (``decision_function``)
skl2onnx converts; the calibration maps of ``calibration.py`` follow as ONNX nodes, in double
precision as numpy computes them:
- related: one raw score s; P(True) = sigmoid(slope * s + intercept) (Platt), P(False) = 1 - P(True);
- stance: 3 raw scores z; softmax(W log_softmax(z) + b) (Dirichlet) or softmax(W z + b) (temperature:
  W the identity over T, b zero).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from pipeline.stance.features import DENSE_NAMES
from pipeline.stance.model import RELATED_CLASSES, RELATED_OUTPUT, STANCE_CLASSES, STANCE_OUTPUT

if TYPE_CHECKING:  # the train extra: imported when a model is exported
    import onnx


class Fitted(Protocol):
    """What ``train.Fitted`` holds: the two tree ensembles and their calibration maps."""

    related: Any  # HistGradientBoostingClassifier, binary
    stance: Any  # HistGradientBoostingClassifier, STANCE_CLASSES
    related_map: Any  # calibration.Platt
    stance_map: Any  # calibration.LinearMap

OPSET = 17  # the default domain (Softmax and LogSoftmax over one axis: 13+)
ML_OPSET = 3  # ai.onnx.ml: TreeEnsembleClassifier
INPUT = "features"


def to_onnx(fitted: Fitted) -> bytes:
    """Both calibrated classifiers in one graph: input ``features`` (float32, rows x features), outputs
    ``related`` (P(False), P(True)) and ``stance`` (P(agree), P(disagree), P(discuss)), float64."""
    import onnx
    from onnx import TensorProto, helper

    if (
        tuple(fitted.related.classes_.tolist()) != RELATED_CLASSES
        or tuple(fitted.stance.classes_.tolist()) != STANCE_CLASSES
    ):
        raise ValueError(f"classes {fitted.related.classes_} / {fitted.stance.classes_}")
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    functions: dict[str, onnx.FunctionProto] = {}

    def constant(name: str, values: np.ndarray) -> str:
        values = np.asarray(values, dtype=np.float64)
        initializers.append(helper.make_tensor(name, TensorProto.DOUBLE, list(values.shape), values.flatten().tolist()))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes: object) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    for name, trees in ((RELATED_OUTPUT, fitted.related), (STANCE_OUTPUT, fitted.stance)):
        graph = _trees(trees, name)
        nodes.extend(graph.node)
        initializers.extend(graph.initializer)
        for function in getattr(graph, "functions", []):
            functions.setdefault(function.name, function)
        node("Cast", [f"{name}_raw"], f"{name}_scores", to=TensorProto.DOUBLE)

    # related: the positive class's raw score s (skl2onnx's second column), Platt, then (1 - p, p).
    initializers.append(helper.make_tensor("related_col", TensorProto.INT64, [1], [1]))
    s = node("Gather", ["related_scores", "related_col"], "related_s", axis=1)
    logit = node("Add", [node("Mul", [s, constant("related_slope", np.array(fitted.related_map.slope))], "related_ms"),
                         constant("related_intercept", np.array(fitted.related_map.intercept))],
                 "related_logit")  # fmt: skip
    positive = node("Sigmoid", [logit], "related_p")
    negative = node("Sub", [constant("related_one", np.array(1.0)), positive], "related_q")
    node("Concat", [negative, positive], RELATED_OUTPUT, axis=1)

    # stance: the calibration map.
    stance_map = fitted.stance_map
    inputs = node("LogSoftmax", ["stance_scores"], "stance_log", axis=1) if stance_map.log_inputs else "stance_scores"
    mapped = node("MatMul", [inputs, constant("stance_weights_t", stance_map.weights.T)], "stance_mapped")
    shifted = node("Add", [mapped, constant("stance_bias", stance_map.bias)], "stance_logits")
    node("Softmax", [shifted], STANCE_OUTPUT, axis=1)
    return _model(nodes, initializers, list(functions.values()))


def _model(
    nodes: list["onnx.NodeProto"], initializers: list["onnx.TensorProto"], functions: list["onnx.FunctionProto"]
) -> bytes:
    """The one graph from ``features`` to both outputs, checked and serialized."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes,
        "stance_model",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [None, len(DENSE_NAMES)])],
        [
            helper.make_tensor_value_info(RELATED_OUTPUT, TensorProto.DOUBLE, [None, len(RELATED_CLASSES)]),
            helper.make_tensor_value_info(STANCE_OUTPUT, TensorProto.DOUBLE, [None, len(STANCE_CLASSES)]),
        ],
        initializers,
    )
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    model_proto = helper.make_model(graph, opset_imports=opsets, producer_name="factcheck.pipeline.stance.export",
                                    functions=functions)  # fmt: skip
    onnx.checker.check_model(model_proto, full_check=True)
    return model_proto.SerializeToString()


def _trees(estimator: object, prefix: str):  # noqa: ANN202 (an onnx.GraphProto)
    """One fold's ``HistGradientBoostingClassifier`` as its raw scores (``decision_function``),
    output ``{prefix}_raw``: float32, one column per class (two for binary, of which the second is
    the score)."""
    from onnx import compose
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    if type(estimator).__name__ != "HistGradientBoostingClassifier":
        raise ValueError(f"{prefix}: {type(estimator).__name__}, expected HistGradientBoostingClassifier")
    with _hist_gradient_boosting_fixes():
        converted = convert_sklearn(
            estimator,
            initial_types=[(INPUT, FloatTensorType([None, len(DENSE_NAMES)]))],
            options={id(estimator): {"raw_scores": True, "zipmap": False}},
            target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
        )
    scores = f"{prefix}_{converted.graph.output[1].name}"  # outputs: label, scores
    graph = compose.add_prefix(converted, f"{prefix}_", rename_inputs=False).graph
    for node in graph.node:
        node.output[:] = [f"{prefix}_raw" if out == scores else out for out in node.output]
    return graph


@contextmanager
def _hist_gradient_boosting_fixes() -> Iterator[None]:
    """Two corrections to skl2onnx 1.20's HistGradientBoosting trees, for this conversion only.

    - It gives a leaf's missing-value flag as a Python bool, which protobuf 5+ refuses in an int list
      ("Expected an int, got a boolean"): passed as an int.
    - It rounds each split's float64 threshold t to the nearest float32, but scikit-learn compares
      float64(x) <= t. For a float32 x (our features are) that equals x <= the largest float32 not
      above t, which skl2onnx's own ``sklearn_threshold`` gives (``adjust_threshold_for_sklearn``,
      as it does for other trees); nearest rounding can go up past t and send x = that float32 left
      where scikit-learn sends it right.
    """
    from skl2onnx.common import tree_ensemble

    original = tree_ensemble.add_node

    def add_node(*args: object, adjust_threshold_for_sklearn: bool = False, dtype: object = None,
                 nodes_missing_value_tracks_true: object = 0) -> None:  # fmt: skip
        if dtype is not np.float32:
            raise ValueError(f"expected float32 trees, got {dtype}")
        original(*args, adjust_threshold_for_sklearn=True, dtype=dtype,
                 nodes_missing_value_tracks_true=int(nodes_missing_value_tracks_true))  # type: ignore[call-overload]  # fmt: skip

    tree_ensemble.add_node = add_node
    try:
        yield
    finally:
        tree_ensemble.add_node = original


def libraries() -> dict[str, str]:
    import onnx
    import skl2onnx

    return {"skl2onnx": skl2onnx.__version__, "onnx": onnx.__version__}
