"""The fitted classifiers as one ONNX graph, so the pipeline runs them with onnxruntime alone.

Training-time only (the ``train`` extra: skl2onnx and onnx); nothing at run time imports this.
``train.py`` calls ``to_onnx`` at its end and ships what it writes.

Each of the two classifiers is scikit-learn's ``CalibratedClassifierCV(method="temperature")`` over
3 folds, and its ``predict_proba`` is, as ``sklearn/calibration.py`` computes it:
    mean over folds k of softmax(beta_k * logits_k(x)),
where logits_k is fold k's ``HistGradientBoostingClassifier.decision_function``: for the binary
``related`` classifier one raw score s, taken as the logits (-s, s); for the 3-class ``stance``
classifier its 3 raw scores. skl2onnx converts each fold's trees to their raw scores; the
temperature, softmax and mean are ONNX nodes below, in double precision as scikit-learn does them.
(One branch of scikit-learn's ``_convert_to_logits`` is not reproduced: it would take the log of 3
raw scores if every row of a batch had all three in [0, 1] summing to 1, as if they were
probabilities; gradient-boosting raw scores are not.)
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from pipeline.stance.features import DENSE_NAMES
from pipeline.stance.model import RELATED_CLASSES, RELATED_OUTPUT, STANCE_CLASSES, STANCE_OUTPUT

if TYPE_CHECKING:  # the train extra: imported when a model is exported
    import onnx

OPSET = 17  # the default domain (Softmax over one axis, ReduceSum with axes as an input: 13+)
ML_OPSET = 3  # ai.onnx.ml: TreeEnsembleClassifier
INPUT = "features"


def to_onnx(related: object, stance: object) -> bytes:
    """Both calibrated classifiers in one graph: input ``features`` (float32, rows x 26), outputs
    ``related`` (P(False), P(True)) and ``stance`` (P(agree), P(disagree), P(discuss)), float64."""
    import onnx
    from onnx import TensorProto, helper

    _check_classes(related, RELATED_CLASSES, "related")
    _check_classes(stance, STANCE_CLASSES, "stance")
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    functions: dict[str, onnx.FunctionProto] = {}
    for name, model in ((RELATED_OUTPUT, related), (STANCE_OUTPUT, stance)):
        folds = model.calibrated_classifiers_  # type: ignore[attr-defined]
        probabilities = []
        for k, fold in enumerate(folds):
            if fold.method != "temperature" or len(fold.calibrators) != 1:
                raise ValueError(f"{name}: fold {k} is not calibrated by temperature scaling")
            prefix = f"{name}_fold{k}"
            graph = _trees(fold.estimator, prefix)
            nodes.extend(graph.node)
            initializers.extend(graph.initializer)
            for function in getattr(graph, "functions", []):
                functions.setdefault(function.name, function)
            scores = f"{prefix}_scores"
            logits = f"{prefix}_logits"
            nodes.append(helper.make_node("Cast", [f"{prefix}_raw"], [scores], to=TensorProto.DOUBLE))
            if len(model.classes_) == 2:  # type: ignore[attr-defined]
                # One raw score s per row (the positive class's column): logits (-s, s).
                initializers.append(helper.make_tensor(f"{prefix}_col", TensorProto.INT64, [1], [1]))
                nodes.append(helper.make_node("Gather", [scores, f"{prefix}_col"], [f"{prefix}_s"], axis=1))
                nodes.append(helper.make_node("Neg", [f"{prefix}_s"], [f"{prefix}_minus_s"]))
                nodes.append(helper.make_node("Concat", [f"{prefix}_minus_s", f"{prefix}_s"], [logits], axis=1))
            else:
                nodes.append(helper.make_node("Identity", [scores], [logits]))
            beta = float(fold.calibrators[0].beta_)
            initializers.append(helper.make_tensor(f"{prefix}_beta", TensorProto.DOUBLE, [], [beta]))
            nodes.append(helper.make_node("Mul", [logits, f"{prefix}_beta"], [f"{prefix}_scaled"]))
            nodes.append(helper.make_node("Softmax", [f"{prefix}_scaled"], [f"{prefix}_softmax"], axis=1))
            # scikit-learn sets a probability within 1e-5 above 1 to exactly 1.
            initializers.append(helper.make_tensor(f"{prefix}_one", TensorProto.DOUBLE, [], [1.0]))
            nodes.append(helper.make_node("Min", [f"{prefix}_softmax", f"{prefix}_one"], [f"{prefix}_proba"]))
            probabilities.append(f"{prefix}_proba")
        nodes.append(helper.make_node("Sum", probabilities, [f"{name}_sum"]))
        initializers.append(helper.make_tensor(f"{name}_folds", TensorProto.DOUBLE, [], [float(len(folds))]))
        nodes.append(helper.make_node("Div", [f"{name}_sum", f"{name}_folds"], [name]))
    return _model(nodes, initializers, list(functions.values()))


def _model(nodes: list["onnx.NodeProto"], initializers: list["onnx.TensorProto"], functions: list["onnx.FunctionProto"]) -> bytes:
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


def _check_classes(model: object, expected: tuple[object, ...], name: str) -> None:
    classes = tuple(model.classes_.tolist())  # type: ignore[attr-defined]
    if classes != expected:
        raise ValueError(f"{name}: classes {classes}, expected {expected}")
    if type(model).__name__ != "CalibratedClassifierCV" or model.method != "temperature":  # type: ignore[attr-defined]
        raise ValueError(f"{name}: not a temperature-calibrated CalibratedClassifierCV")


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
