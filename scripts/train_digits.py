"""Train the demo's bundled image classifier: a tiny CNN on scikit-learn's 8x8 digits.

    python scripts/train_digits.py        # needs scikit-learn (pip install openacl[train])

Development-time only. The model is trained with plain numpy (no deep-learning framework),
exported by hand with ``onnx.helper``, checked against onnxruntime, and written to
``openacl/assets/``:

* ``digits_cnn.onnx``  - input ``image`` float32 [1, 1, 8, 8] (NCHW), output
  ``probabilities`` float32 [1, 10] (Softmax over the digits 0..9). Graph:
  Conv 3x3 (8 channels, pad 1) + bias -> Relu -> MaxPool 2x2/2 -> Flatten -> Gemm (128 -> 10)
  -> Softmax. Opset 17, IR version 8.
* ``digits_test.npz``  - the held-out split: ``images`` uint8 [N, 8, 8] with the dataset's raw
  0..16 pixel values, ``labels`` int64 [N].
* ``README.md``        - what these files are, and the held-out accuracy measured here.

Preprocessing the model expects: ``image = raw.astype(np.float32) / 16.0`` (so 0.0..1.0),
reshaped to [1, 1, 8, 8]. No mean/std normalisation.

Everything is seeded (split: ``train_test_split(test_size=0.25, stratify=y, random_state=0)``;
weights and minibatch order: ``numpy.random.default_rng(0)``) and the files are written with
fixed metadata, so reruns on the same machine reproduce the same bytes.
"""

from __future__ import annotations

import io
import pathlib
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
TEST_SIZE = 0.25
CHANNELS = 8
EPOCHS = 60
BATCH = 32
LR = 0.01
WEIGHT_DECAY = 1e-4
SCALE = 16.0  # raw digits pixels are 0..16
OPSET = 17
IR_VERSION = 8

ROOT = pathlib.Path(__file__).resolve().parents[1]
ASSETS = ROOT / "openacl" / "assets"
MODEL_NAME = "digits_cnn.onnx"
TEST_NAME = "digits_test.npz"


# ----------------------------------------------------------------------------- the network
def preprocess(raw: np.ndarray) -> np.ndarray:
    """uint8/float [N, 8, 8] raw 0..16 pixels -> float32 [N, 1, 8, 8] in 0..1."""
    return (np.asarray(raw, dtype=np.float32) / SCALE).reshape(-1, 1, 8, 8)


def im2col(x: np.ndarray) -> np.ndarray:
    """[N, 1, 8, 8] -> [N, 64, 9]: the 3x3 neighbourhood (zero padded) of every pixel."""
    n = x.shape[0]
    padded = np.pad(x[:, 0], ((0, 0), (1, 1), (1, 1)))
    cols = np.empty((n, 8, 8, 9), dtype=x.dtype)
    for dy in range(3):
        for dx in range(3):
            cols[:, :, :, dy * 3 + dx] = padded[:, dy : dy + 8, dx : dx + 8]
    return cols.reshape(n, 64, 9)


def init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "conv_w": (rng.standard_normal((CHANNELS, 9)) * np.sqrt(2.0 / 9)).astype(np.float32),
        "conv_b": np.zeros(CHANNELS, np.float32),
        "fc_w": (rng.standard_normal((10, CHANNELS * 16)) * np.sqrt(1.0 / (CHANNELS * 16))).astype(np.float32),
        "fc_b": np.zeros(10, np.float32),
    }


def forward(p: dict[str, np.ndarray], x: np.ndarray, keep: bool = False):
    n = x.shape[0]
    cols = im2col(x)                                              # [N, 64, 9]
    conv = cols @ p["conv_w"].T + p["conv_b"]                     # [N, 64, C] (pixel-major)
    conv = conv.transpose(0, 2, 1).reshape(n, CHANNELS, 8, 8)     # NCHW
    relu = np.maximum(conv, 0.0)
    blocks = relu.reshape(n, CHANNELS, 4, 2, 4, 2)
    pooled = blocks.max(axis=(3, 5))                              # [N, C, 4, 4]
    flat = pooled.reshape(n, -1)                                  # NCHW flatten, like ONNX
    logits = flat @ p["fc_w"].T + p["fc_b"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    probs = e / e.sum(axis=1, keepdims=True)
    if not keep:
        return probs
    return probs, (cols, conv, relu, blocks, pooled, flat)


def gradients(p, x, y):
    n = x.shape[0]
    probs, (cols, conv, relu, blocks, pooled, flat) = forward(p, x, keep=True)
    loss = -np.log(probs[np.arange(n), y] + 1e-12).mean()
    d_logits = probs.copy()
    d_logits[np.arange(n), y] -= 1.0
    d_logits /= n
    g = {"fc_w": d_logits.T @ flat, "fc_b": d_logits.sum(0)}
    d_pooled = (d_logits @ p["fc_w"]).reshape(pooled.shape)
    # route the gradient to the max of each 2x2 window (first max on ties)
    win = blocks.transpose(0, 1, 2, 4, 3, 5).reshape(n, CHANNELS, 4, 4, 4)
    first = win.argmax(axis=-1)
    mask = np.zeros_like(win)
    np.put_along_axis(mask, first[..., None], 1.0, axis=-1)
    d_win = mask * d_pooled[..., None]
    d_relu = d_win.reshape(n, CHANNELS, 4, 4, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, CHANNELS, 8, 8)
    d_conv = d_relu * (conv > 0)
    d_conv = d_conv.reshape(n, CHANNELS, 64).transpose(0, 2, 1)   # [N, 64, C]
    g["conv_w"] = np.einsum("npc,npk->ck", d_conv, cols)
    g["conv_b"] = d_conv.sum(axis=(0, 1))
    for k in ("conv_w", "fc_w"):
        g[k] = g[k] + WEIGHT_DECAY * p[k]
    return loss, {k: v.astype(np.float32) for k, v in g.items()}


def train(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    p = init_params(rng)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2, eps, step = 0.9, 0.999, 1e-8, 0
    for epoch in range(EPOCHS):
        order = rng.permutation(len(x))
        lr = LR * 0.5 * (1 + np.cos(np.pi * epoch / EPOCHS))      # cosine decay
        total = 0.0
        for start in range(0, len(x), BATCH):
            idx = order[start : start + BATCH]
            loss, g = gradients(p, x[idx], y[idx])
            total += loss * len(idx)
            step += 1
            for k in p:
                m[k] = b1 * m[k] + (1 - b1) * g[k]
                v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k]
                mh = m[k] / (1 - b1**step)
                vh = v[k] / (1 - b2**step)
                p[k] = (p[k] - lr * mh / (np.sqrt(vh) + eps)).astype(np.float32)
        if epoch % 10 == 9 or epoch == EPOCHS - 1:
            print(f"epoch {epoch + 1:3d}  train loss {total / len(x):.4f}")
    return p


# ----------------------------------------------------------------------------- export
def export(p: dict[str, np.ndarray]) -> onnx.ModelProto:
    inits = [
        numpy_helper.from_array(p["conv_w"].reshape(CHANNELS, 1, 3, 3), "conv.weight"),
        numpy_helper.from_array(p["conv_b"], "conv.bias"),
        numpy_helper.from_array(p["fc_w"], "fc.weight"),
        numpy_helper.from_array(p["fc_b"], "fc.bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv.weight", "conv.bias"], ["conv"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
        helper.make_node("MaxPool", ["relu"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "digits_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 10])],
        initializer=inits,
    )
    graph.doc_string = "8x8 digits classifier; input = raw 0..16 pixels / 16.0, NCHW [1,1,8,8]"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="openacl scripts/train_digits.py", producer_version="1")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def save_npz(path: pathlib.Path, **arrays: np.ndarray) -> None:
    """np.savez with fixed zip timestamps, so the bytes do not depend on when it ran."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


# ----------------------------------------------------------------------------- main
def main() -> None:
    digits = load_digits()
    raw = digits.images.astype(np.uint8)                          # [1797, 8, 8], 0..16
    labels = digits.target.astype(np.int64)
    raw_train, raw_test, y_train, y_test = train_test_split(
        raw, labels, test_size=TEST_SIZE, stratify=labels, random_state=SEED)
    rng = np.random.default_rng(SEED)
    params = train(preprocess(raw_train), y_train, rng)

    x_test = preprocess(raw_test)
    np_probs = forward(params, x_test)
    np_pred = np_probs.argmax(1)
    accuracy = float((np_pred == y_test).mean())
    train_acc = float((forward(params, preprocess(raw_train)).argmax(1) == y_train).mean())

    model = export(params)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    ort_probs = np.concatenate([sess.run(["probabilities"], {"image": x_test[i : i + 1]})[0]
                                for i in range(len(x_test))])
    assert ort_probs.shape == (len(x_test), 10)
    assert np.array_equal(ort_probs.argmax(1), np_pred), "onnxruntime argmax differs from numpy"
    max_diff = float(np.abs(ort_probs - np_probs).max())
    assert np.allclose(ort_probs, np_probs, atol=1e-5), max_diff
    ort_accuracy = float((ort_probs.argmax(1) == y_test).mean())
    assert accuracy >= 0.93, accuracy

    ASSETS.mkdir(parents=True, exist_ok=True)
    model_path = ASSETS / MODEL_NAME
    model_path.write_bytes(model.SerializeToString())
    save_npz(ASSETS / TEST_NAME, images=raw_test.astype(np.uint8), labels=y_test.astype(np.int64))
    (ASSETS / "README.md").write_text(
        "# openacl/assets\n\n"
        f"`{MODEL_NAME}` is a tiny image classifier for scikit-learn's 8x8 handwritten digits "
        "(`sklearn.datasets.load_digits`, 1797 images of the digits 0-9), and "
        f"`{TEST_NAME}` is its held-out test split: `images`, uint8 [{len(y_test)}, 8, 8] with the "
        "dataset's raw 0..16 pixel values, and `labels`, int64 "
        f"[{len(y_test)}]. Both were produced by `python scripts/train_digits.py` (needs "
        "scikit-learn), which splits the data 75/25 (stratified, `random_state=0`), trains the "
        f"network with plain numpy (Adam, {EPOCHS} epochs, seed 0), exports it by hand with "
        "`onnx.helper` (opset 17, IR version 8) and checks that onnxruntime reproduces the "
        "trained model's predictions. The graph is Conv 3x3 (8 channels, pad 1) -> Relu -> "
        "MaxPool 2x2 -> Flatten -> Gemm (128 -> 10) -> Softmax, "
        f"{sum(v.size for v in params.values())} parameters. Input `image`: float32 "
        "[1, 1, 8, 8] (NCHW), preprocessed as `raw.astype(np.float32) / 16.0` (pixels in 0..1, "
        "no other normalisation); output `probabilities`: float32 [1, 10], softmax over the "
        f"digits 0..9 (the prediction is the argmax). Held-out accuracy: {accuracy:.4f} "
        f"({int((np_pred == y_test).sum())}/{len(y_test)} test images correct).\n"
    )
    print(f"train accuracy    {train_acc:.4f}")
    print(f"held-out accuracy {accuracy:.4f} ({int((np_pred == y_test).sum())}/{len(y_test)}); "
          f"onnxruntime {ort_accuracy:.4f}, max |p_ort - p_numpy| = {max_diff:.2e}")
    print(f"wrote {model_path} ({model_path.stat().st_size} bytes), "
          f"{ASSETS / TEST_NAME} ({(ASSETS / TEST_NAME).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
