"""A Keras clustering network as plain data for the book's "draw a digit" page.

    python tools/web_model.py --out DIR            # the shipped model's page assets into DIR
    python tools/web_model.py --out DIR --name fast

The page runs the network in the reader's browser with no library
(``tools/book_static/draw-a-digit/iic-net.js``). This module writes what it
runs, walking the Keras layers of the model generically:

* :func:`export_model` turns a functional Keras model into a list of operations
  (``conv2d``, ``affine``, ``relu``, ``maxpool2d``, ``gap``, ``flatten``,
  ``dense``) over named tensors, plus one float32 array holding every weight.
  A ``BatchNormalization`` right after a linear ``Conv2D`` or ``Dense`` whose
  output nothing else reads is folded into it (inference mode:
  ``W' = W s``, ``b' = (b - mean) s + beta`` with ``s = gamma / sqrt(var + eps)``
  per output channel); any other BatchNormalization becomes an ``affine``
  operation. A layer of another kind is refused with a message naming it, so a
  new shipped model, or ``create_model(pooling="flatten")``, needs no change,
  and a new layer type fails loudly instead of computing something else.
* :func:`run_exported` is the same inference pass in NumPy: the reference the
  tests hold the export to (``tests/test_browser_demo.py`` holds the
  JavaScript to Keras itself).
* :func:`write_site_assets` writes the page's data into a folder whose
  contents the book build serves under ``_static/``: ``draw-a-digit/model.js``
  (the network, its provenance from ``iic_tutorial.pretrained_info``),
  ``draw-a-digit/demo.js`` (the digit each 10-cluster head cluster was matched
  to on the test images, the stroke constants of ``iic_tutorial.strokes``, a
  few test digits to show) and ``draw-a-digit/over/NN.png``, the training
  images the 50-cluster head puts most confidently in cluster NN. Both data
  files are scripts that set one global, so the page also works opened from
  disk (``file://``, where ``fetch`` of a data file is refused).

``tools/draw_a_digit.py`` (a Sphinx extension) runs this as a subprocess
during the book build and caches the result by the weights it was made from.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

#: Name and version of the exported format (read by iic-net.js, which refuses others).
FORMAT = "iic-net/1"
#: Training images scanned for each 50-cluster head cluster's examples (the first N).
EXAMPLE_POOL = 20_000
#: Examples shown per 50-cluster head cluster.
EXAMPLES = 8
#: Test images offered as "show a test digit" (the first N of the test set).
SAMPLES = 20
#: The layer kinds the JavaScript network implements (the rest are refused).
SUPPORTED = ("InputLayer", "Conv2D", "BatchNormalization", "ReLU", "Activation",
             "MaxPooling2D", "GlobalAveragePooling2D", "Flatten", "Dense")


class UnsupportedLayer(ValueError):
    """A layer the page's JavaScript network cannot run."""


def _refuse(layer, why: str) -> UnsupportedLayer:
    return UnsupportedLayer(
        f"cannot export layer {layer.name!r} ({type(layer).__name__}) to the page's network: "
        f"{why}. The JavaScript network (tools/book_static/draw-a-digit/iic-net.js) runs "
        f"{', '.join(SUPPORTED)} in inference mode; teach it and tools/web_model.py "
        f"(export_model, run_exported) the new case, and the parity test checks both")


def _activation(layer) -> str:
    name = layer.get_config().get("activation", "linear")
    if name not in ("linear", "relu", "softmax"):
        raise _refuse(layer, f"activation {name!r} (linear, relu and softmax are implemented)")
    return name


def _inputs(layer) -> list[str]:
    if len(layer._inbound_nodes) != 1:
        raise _refuse(layer, f"it is called {len(layer._inbound_nodes)} times (shared layers "
                             "are not implemented)")
    return [t._keras_history.operation.name for t in layer._inbound_nodes[0].input_tensors]


def _check_2d(layer, config: dict) -> None:
    if config.get("data_format", "channels_last") != "channels_last":
        raise _refuse(layer, "data_format must be channels_last")
    if tuple(config.get("dilation_rate", (1, 1))) != (1, 1) or config.get("groups", 1) != 1:
        raise _refuse(layer, "dilated or grouped convolutions are not implemented")
    if config.get("padding", "valid") not in ("same", "valid"):
        raise _refuse(layer, f"padding {config.get('padding')!r} (same and valid are implemented)")


class _Weights:
    """Collects float32 arrays into one flat array; returns each one's [offset, length]."""

    def __init__(self):
        self.parts: list[np.ndarray] = []
        self.size = 0

    def add(self, a) -> list[int]:
        a = np.ascontiguousarray(np.asarray(a, dtype=np.float32).ravel())
        ref = [self.size, int(a.size)]
        self.parts.append(a)
        self.size += a.size
        return ref

    def array(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)


def _bn_scale_shift(layer) -> tuple[np.ndarray, np.ndarray]:
    """Inference-mode BatchNormalization as y = x s + t per channel (float64)."""
    config = layer.get_config()
    if config.get("axis") not in (-1, 3, [-1], [3]):
        raise _refuse(layer, f"axis {config.get('axis')!r} (only the channel axis, -1)")
    n = int(layer.moving_mean.shape[-1])
    gamma = np.asarray(layer.gamma, np.float64) if layer.scale else np.ones(n)
    beta = np.asarray(layer.beta, np.float64) if layer.center else np.zeros(n)
    mean = np.asarray(layer.moving_mean, np.float64)
    var = np.asarray(layer.moving_variance, np.float64)
    s = gamma / np.sqrt(var + layer.epsilon)
    return s, beta - mean * s


def export_model(model) -> tuple[dict, np.ndarray]:
    """A functional Keras model -> (spec, weights) that iic-net.js and :func:`run_exported` run.

    ``spec``: ``{"format", "input": {"name", "shape": [H, W, C]}, "ops": [...],
    "outputs": [{"name", "size"}]}``; each op has ``op``, ``layers`` (the Keras
    layers it computes), ``inputs`` and ``output`` (tensor names: the name of
    the Keras layer that made the tensor) and its parameters, weights as
    ``[offset, length]`` into ``weights``, a flat float32 array. Tensors are
    laid out as Keras lays them out (rows, columns, channels: ``flatten`` is
    the identity); kernels keep Keras' layout ``(kh, kw, c_in, c_out)`` and
    Dense matrices ``(d_in, d_out)``. Raises :class:`UnsupportedLayer` for a
    layer the page cannot run.
    """
    if len(model.inputs) != 1:
        raise ValueError(f"the page's network takes one input image; {model.name!r} has "
                         f"{len(model.inputs)} inputs")
    layers = list(model.operations)
    consumers: dict[str, int] = {}
    for layer in layers:
        if type(layer).__name__ != "InputLayer":
            for name in _inputs(layer):
                consumers[name] = consumers.get(name, 0) + 1
    for out in model.outputs:
        name = out._keras_history.operation.name
        consumers[name] = consumers.get(name, 0) + 1

    weights = _Weights()
    ops: list[dict] = []
    pending: dict[str, dict] = {}  # a linear conv/dense op whose BatchNormalization may follow
    produced: dict[str, str] = {}  # Keras layer name -> name of the exported tensor holding it
    input_name = model.inputs[0]._keras_history.operation.name
    input_shape = [int(d) for d in model.inputs[0].shape[1:]]

    def flush(name: str) -> None:
        op = pending.pop(name, None)
        if op is not None:
            op["kernel"] = weights.add(op.pop("_kernel"))
            op["bias"] = weights.add(op.pop("_bias"))
            ops.append(op)

    for layer in layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            produced[layer.name] = layer.name
            continue
        sources = _inputs(layer)
        config = layer.get_config()
        if kind == "BatchNormalization" and len(sources) == 1 and sources[0] in pending:
            op = pending[sources[0]]
            s, t = _bn_scale_shift(layer)
            op["_kernel"] = op["_kernel"] * s  # scales the last (output-channel) axis
            op["_bias"] = op["_bias"] * s + t
            op["layers"].append(layer.name)
            op["output"] = layer.name
            pending[layer.name] = pending.pop(sources[0])
            produced[layer.name] = layer.name
            if consumers.get(layer.name, 0) != 1:
                flush(layer.name)  # read twice: no second BatchNormalization folds in
            continue
        for name in sources:
            flush(name)
        inputs = [produced[name] for name in sources]
        op = {"layers": [layer.name], "inputs": inputs, "output": layer.name}
        if kind in ("Conv2D", "Dense"):
            if kind == "Conv2D":
                _check_2d(layer, config)
                op.update(op="conv2d", strides=[int(s) for s in config["strides"]],
                          padding=config["padding"], shape=[int(d) for d in layer.kernel.shape])
            else:
                op.update(op="dense", shape=[int(d) for d in layer.kernel.shape])
            op["activation"] = _activation(layer)
            kernel = np.asarray(layer.kernel, np.float64)
            bias = (np.asarray(layer.bias, np.float64) if layer.use_bias
                    else np.zeros(kernel.shape[-1]))
            op["_kernel"], op["_bias"] = kernel, bias
            if op["activation"] == "linear" and consumers.get(layer.name, 0) == 1:
                pending[layer.name] = op  # kept open: a BatchNormalization may fold into it
            else:
                op["kernel"], op["bias"] = weights.add(op.pop("_kernel")), weights.add(op.pop("_bias"))
                ops.append(op)
        elif kind == "BatchNormalization":
            s, t = _bn_scale_shift(layer)
            op.update(op="affine", scale=weights.add(s), shift=weights.add(t))
            ops.append(op)
        elif kind == "ReLU":
            if (config.get("max_value") is not None or config.get("negative_slope", 0) != 0
                    or config.get("threshold", 0) != 0):
                raise _refuse(layer, "only the plain ReLU max(x, 0) is implemented")
            op["op"] = "relu"
            ops.append(op)
        elif kind == "Activation":
            act = _activation(layer)
            op["op"] = {"relu": "relu", "softmax": "softmax", "linear": "identity"}[act]
            ops.append(op)
        elif kind == "MaxPooling2D":
            _check_2d(layer, config)
            op.update(op="maxpool2d", pool=[int(p) for p in config["pool_size"]],
                      strides=[int(s) for s in config["strides"]], padding=config["padding"])
            ops.append(op)
        elif kind == "GlobalAveragePooling2D":
            if config.get("keepdims"):
                raise _refuse(layer, "keepdims=True is not implemented")
            _check_2d(layer, config)
            op["op"] = "gap"
            ops.append(op)
        elif kind == "Flatten":
            op["op"] = "flatten"
            ops.append(op)
        else:
            raise _refuse(layer, "this kind of layer is not implemented")
        produced[layer.name] = layer.name
    for name in list(pending):
        flush(name)
    outputs = [{"name": o._keras_history.operation.name, "size": int(o.shape[-1])}
               for o in model.outputs]
    spec = {"format": FORMAT, "input": {"name": input_name, "shape": input_shape},
            "ops": ops, "outputs": outputs}
    return spec, weights.array()


# ----------------------------------------------------------------- the same pass in NumPy


def _same_pad(size: int, k: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding: output ceil(size / stride), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def run_exported(spec: dict, weights: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """Run an exported network on images x (batch, H, W, C) in float64; {output name: (batch, size)}.

    The NumPy twin of iic-net.js, for checking an export without a browser.
    """
    if spec.get("format") != FORMAT:
        raise ValueError(f"not an {FORMAT} network (format {spec.get('format')!r})")
    w = np.asarray(weights, np.float64)
    get = lambda ref, shape=None: w[ref[0]:ref[0] + ref[1]].reshape(shape or -1)  # noqa: E731
    tensors = {spec["input"]["name"]: np.asarray(x, np.float64)}
    for op in spec["ops"]:
        h = tensors[op["inputs"][0]]
        kind = op["op"]
        if kind == "conv2d":
            kh, kw, cin, cout = op["shape"]
            (sh, sw), n, H, W = op["strides"], h.shape[0], h.shape[1], h.shape[2]
            if op["padding"] == "same":
                (pt, pb), (pl, pr) = _same_pad(H, kh, sh), _same_pad(W, kw, sw)
                h = np.pad(h, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
            oh, ow = (h.shape[1] - kh) // sh + 1, (h.shape[2] - kw) // sw + 1
            kernel = get(op["kernel"], (kh, kw, cin, cout))
            y = np.zeros((n, oh, ow, cout))
            for dy in range(kh):
                for dx in range(kw):
                    patch = h[:, dy:dy + sh * (oh - 1) + 1:sh, dx:dx + sw * (ow - 1) + 1:sw, :]
                    y += patch @ kernel[dy, dx]
            h = y + get(op["bias"])
        elif kind == "dense":
            h = h @ get(op["kernel"], op["shape"]) + get(op["bias"])
        elif kind == "affine":
            h = h * get(op["scale"]) + get(op["shift"])
        elif kind == "maxpool2d":
            (ph, pw), (sh, sw) = op["pool"], op["strides"]
            if op["padding"] == "same":
                (pt, pb), (pl, pr) = _same_pad(h.shape[1], ph, sh), _same_pad(h.shape[2], pw, sw)
                h = np.pad(h, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
            oh, ow = (h.shape[1] - ph) // sh + 1, (h.shape[2] - pw) // sw + 1
            h = np.max([h[:, dy:dy + sh * (oh - 1) + 1:sh, dx:dx + sw * (ow - 1) + 1:sw, :]
                        for dy in range(ph) for dx in range(pw)], axis=0)
        elif kind == "gap":
            h = h.mean(axis=(1, 2))
        elif kind == "flatten":
            h = h.reshape(len(h), -1)
        elif kind not in ("relu", "softmax", "identity"):
            raise ValueError(f"unknown op {kind!r} in the exported network")
        activation = op.get("activation", kind)
        if activation == "relu":
            h = np.maximum(h, 0.0)
        elif activation == "softmax":
            e = np.exp(h - h.max(axis=-1, keepdims=True))
            h = e / e.sum(axis=-1, keepdims=True)
        tensors[op["output"]] = h
    return {o["name"]: tensors[o["name"]] for o in spec["outputs"]}


# ----------------------------------------------------------------- the page's assets


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()).decode()


def _script(var: str, data: dict) -> str:
    return f"window.{var} = {json.dumps(data, separators=(',', ':'))};\n"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def provenance(name: str) -> dict:
    """What the page says about the shipped model: command, revision, accuracy, weights' hash."""
    from iic_tutorial.pretrained import pretrained_info, weights_path

    info = pretrained_info(name)
    keep = ("run", "command", "revision", "date", "hardware", "steps", "test_accuracy",
            "all70k_accuracy", "selection")
    return {"name": name, **{k: info[k] for k in keep if k in info},
            "weights": weights_path(name).name, "weights_sha256": _sha256(weights_path(name)),
            "exported_by": "tools/web_model.py"}


def _png(images: np.ndarray, path: Path) -> None:
    """Images (n, 28, 28) uint8, ink high, side by side as dark ink on white."""
    from PIL import Image

    strip = np.concatenate(list(255 - images), axis=1)
    Image.fromarray(strip.astype(np.uint8), mode="L").save(path, optimize=True)


def write_site_assets(out: Path, name: str | None = None, pool: int = EXAMPLE_POOL,
                      examples: int = EXAMPLES, samples: int = SAMPLES) -> dict:
    """Write the page's assets for shipped model ``name`` under ``out/draw-a-digit/``.

    Runs the model (Keras, inference mode) on the 10,000 test images, to match
    each 10-cluster head cluster to a digit (the Hungarian method,
    ``iic_tutorial.metrics.match_clusters``: the labels name clusters, they
    trained nothing), and on the first ``pool`` training images, to pick the
    ``examples`` images each 50-cluster head cluster holds most confidently
    (highest probability among the images whose argmax it is). Returns the
    demo data (what ``demo.js`` holds, without the sample images).
    """
    from iic_tutorial import strokes
    from iic_tutorial.data import load_mnist, to_float
    from iic_tutorial.metrics import cluster_accuracy, match_clusters
    from iic_tutorial.pretrained import DEFAULT, load_pretrained

    name = name or DEFAULT
    folder = Path(out) / "draw-a-digit"
    (folder / "over").mkdir(parents=True, exist_ok=True)
    model = load_pretrained(name)
    spec, weights = export_model(model)
    spec.update(provenance=provenance(name),
                weights={"encoding": "base64 float32 little-endian", "length": int(weights.size),
                         "data": _b64(weights)})
    (folder / "model.js").write_text(_script("IIC_MODEL", spec))

    (x_train, _), (x_test, y_test) = load_mnist()
    k_name, over_name = spec["outputs"][0]["name"], spec["outputs"][-1]["name"]
    z_test = model.predict(to_float(x_test), batch_size=500, verbose=0)[0]
    clusters = z_test.argmax(axis=1)
    mapping = match_clusters(y_test, clusters, k=z_test.shape[1])
    z_over = model.predict(to_float(x_train[:pool]), batch_size=500, verbose=0)[-1]
    owner = z_over.argmax(axis=1)
    counts = []
    for c in range(z_over.shape[1]):
        members = np.flatnonzero(owner == c)
        counts.append(int(members.size))
        png = folder / "over" / f"{c:02d}.png"
        if members.size:
            best = members[np.argsort(-z_over[members, c], kind="stable")[:examples]]
            _png(x_train[best], png)
        elif png.exists():
            png.unlink()
    demo = {
        "model": name,
        "heads": {
            "k": {"output": k_name, "size": int(z_test.shape[1]),
                  "cluster_to_digit": [mapping.get(c, None) for c in range(z_test.shape[1])],
                  "matched_on": f"the {len(y_test):,} MNIST test images",
                  "test_accuracy": cluster_accuracy(y_test, clusters)},
            "k_over": {"output": over_name, "size": int(z_over.shape[1]), "pool": pool,
                       "examples": examples, "counts": counts, "images": "over/{cluster}.png"},
        },
        "strokes": {"size": strokes.SIZE, "box": strokes.BOX, "centre": strokes.CENTRE,
                    "pen_radius": strokes.PEN_RADIUS, "edge": strokes.EDGE},
    }
    (folder / "demo.js").write_text(_script("IIC_DEMO", {
        **demo, "samples": {"what": f"the first {samples} MNIST test images",
                            "data": _b64(x_test[:samples].reshape(samples, -1))}}))
    return demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="folder served as _static/")
    parser.add_argument("--name", default=None, help="shipped model (default: load_pretrained()'s)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(ROOT))
    try:
        demo = write_site_assets(args.out, args.name)
    except (ValueError, FileNotFoundError) as err:
        print(f"web_model: {err}", file=sys.stderr)
        return 1
    k = demo["heads"]["k"]
    print(f"web_model: {demo['model']} -> {args.out / 'draw-a-digit'} (10-cluster head "
          f"{k['test_accuracy']:.2%} on the test images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
