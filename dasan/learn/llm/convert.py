"""A peft LoRA as a llama.cpp adapter GGUF, written with the ``gguf`` package (gguf-py, MIT).

Why not run llama.cpp's ``convert_lora_to_gguf.py``: the script in the llama-cpp-python sdist
imports the ``conversion/`` package beside it (the whole HF→GGUF model catalogue) and needs the
base model as an HF folder with its tokenizer; without ``tokenizer.model`` it writes a BPE
tokenizer header, which is fragile for Gemma. An adapter GGUF needs none of that, so this module
writes the same file the script writes for a plain LoRA (nothing of the script is copied or
vendored): ``general.architecture`` (the base's), ``general.type = "adapter"``,
``adapter.type = "lora"``, ``adapter.lora.alpha``, and for each adapted weight
``<gguf tensor name>.lora_a`` (peft ``lora_A``, shape rank × in) and ``.lora_b`` (peft
``lora_B``, out × rank), named through gguf's own ``TensorNameMap`` for the architecture.
llama.cpp applies ``scale · alpha / rank · B·A`` (``Llama(model_path=…, lora_path=…)``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dasan.errors import ConfigError

_PREFIX = re.compile(r"^(?:base_model\.model\.)?")
_LORA = re.compile(r"^(?P<base>.+)\.lora_(?P<ab>[AB])(?:\.default)?\.weight$")

# transformers model_type → llama.cpp architecture (the ones Dasan's recipe names)
ARCHES = {"gemma3_text": "GEMMA3", "gemma3": "GEMMA3", "qwen3": "QWEN3", "qwen2": "QWEN2", "llama": "LLAMA",
          "mistral": "LLAMA", "gemma2": "GEMMA2"}


def _arch(model_type: str) -> Any:
    import gguf

    name = ARCHES.get(model_type)
    if name is None or not hasattr(gguf.MODEL_ARCH, name):
        raise ConfigError(f"이 모델 구조({model_type})의 어댑터 GGUF 변환은 지원하지 않습니다. safetensors 어댑터를 "
                          "vLLM 등에서 쓰거나, 병합 후 llama.cpp의 convert_hf_to_gguf.py로 변환하세요 (README 참고).")
    return getattr(gguf.MODEL_ARCH, name)


def write_adapter_gguf(state: dict[str, Any], *, model_type: str, n_layers: int, alpha: float, out: Path,
                       name: str = "dasan-lora") -> dict[str, Any]:
    """Write ``state`` (peft LoRA state dict, torch tensors) to ``out``; returns a summary."""
    import gguf
    import numpy as np

    arch = _arch(model_type)
    tmap = gguf.get_tensor_name_map(arch, n_layers)
    pairs: dict[str, dict[str, Any]] = {}
    for key, tensor in state.items():
        m = _LORA.match(_PREFIX.sub("", key))
        if not m:
            raise ConfigError(f"LoRA가 아닌 텐서가 어댑터에 있습니다: {key}. LoRA 가중치만 내보낼 수 있습니다.")
        base = m["base"]
        if base.startswith("model.language_model."):
            base = "model." + base[len("model.language_model."):]
        dest = tmap.get_name(base)
        if dest is None:
            raise ConfigError(f"텐서 이름을 llama.cpp 이름으로 바꿀 수 없습니다: {base}.")
        pairs.setdefault(dest, {})[m["ab"]] = tensor
    writer = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    writer.add_name(name)
    rank = None
    for dest in sorted(pairs):
        ab = pairs[dest]
        if set(ab) != {"A", "B"}:
            raise ConfigError(f"{dest}의 LoRA A/B 중 하나가 없습니다. 어댑터 파일이 손상되었는지 확인하세요.")
        a = ab["A"].detach().float().cpu().numpy().astype(np.float32)
        b = ab["B"].detach().float().cpu().numpy().astype(np.float32)
        rank = a.shape[0]
        writer.add_tensor(f"{dest}.weight.lora_a", a)
        writer.add_tensor(f"{dest}.weight.lora_b", b)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {"tensors": 2 * len(pairs), "rank": rank, "alpha": alpha, "architecture": gguf.MODEL_ARCH_NAMES[arch]}
