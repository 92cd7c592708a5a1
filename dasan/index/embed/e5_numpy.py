"""Reference BERT encoder for the e5 weights in plain numpy (float32, batched, masked).

Used when onnxruntime is not installed and to cross-check the ONNX runtime. The Q4 weights
are dequantised once to float32 matrices (about 85 MB); word embeddings stay 4-bit and only
the rows a batch needs are dequantised.
"""

from __future__ import annotations

import numpy as np

from dasan.index.embed.e5_weights import E5Weights

_SQRT_HALF = np.float32(0.7071067811865476)


def _erf(x: np.ndarray) -> np.ndarray:
    """float32 erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7)."""
    a = np.abs(x)
    t = 1.0 / (1.0 + np.float32(0.3275911) * a)
    poly = t * (
        np.float32(0.254829592)
        + t
        * (
            np.float32(-0.284496736)
            + t * (np.float32(1.421413741) + t * (np.float32(-1.453152027) + t * np.float32(1.061405429)))
        )
    )
    y = 1.0 - poly * np.exp(-a * a)
    return np.copysign(y, x).astype(np.float32, copy=False)


def _gelu(x: np.ndarray) -> np.ndarray:
    return (np.float32(0.5) * x * (np.float32(1.0) + _erf(x * _SQRT_HALF))).astype(np.float32, copy=False)


def _layernorm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    d = x - mean
    var = (d * d).mean(axis=-1, keepdims=True)
    return d / np.sqrt(var + np.float32(eps)) * w + b


class NumpyEncoder:
    def __init__(self, w: E5Weights) -> None:
        self.w = w
        self.hd = w.hidden // w.heads
        self.layers = []
        for ly in w.layers:
            qkv = np.concatenate([ly.q.dequantize(), ly.k.dequantize(), ly.v.dequantize()]).T.copy()
            self.layers.append(
                dict(
                    qkv=qkv,
                    qkv_b=np.concatenate([ly.qb, ly.kb, ly.vb]),
                    ao=ly.ao.dequantize().T.copy(),
                    fi=ly.fi.dequantize().T.copy(),
                    fo=ly.fo.dequantize().T.copy(),
                    ly=ly,
                )
            )

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled (not normalised) vectors (B, H) for padded ids (B, L) and a 0/1 mask."""
        w = self.w
        b, n = ids.shape
        nh, hd, h = w.heads, self.hd, w.hidden
        x = _layernorm(w.input_embeddings(ids), w.eln_w, w.eln_b, w.eps).reshape(b * n, h)
        neg = ((1.0 - mask.astype(np.float32)) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(hd))
        for p in self.layers:
            ly = p["ly"]
            qkv = x @ p["qkv"] + p["qkv_b"]
            qkv = qkv.reshape(b, n, 3, nh, hd).transpose(2, 0, 3, 1, 4)  # 3, B, nh, L, hd
            q, k, v = qkv[0], qkv[1], qkv[2]
            s = (q * scale) @ k.transpose(0, 1, 3, 2) + neg
            s -= s.max(axis=-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b * n, h)
            x = _layernorm(x + (ctx @ p["ao"] + ly.aob), ly.aln_w, ly.aln_b, w.eps)
            mid = _gelu(x @ p["fi"] + ly.fib)
            x = _layernorm(x + (mid @ p["fo"] + ly.fob), ly.oln_w, ly.oln_b, w.eps)
        x = x.reshape(b, n, h)
        m = mask.astype(np.float32)[:, :, None]
        return (x * m).sum(axis=1) / m.sum(axis=1)
