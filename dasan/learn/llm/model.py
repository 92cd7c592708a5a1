"""The base model for training: the bundled GGUF dequantized into transformers, or an HF model dir.

Loading the bundled Gemma 3 270M Q4_K_M GGUF into transformers (``from_pretrained(dir,
gguf_file=…)``) dequantizes every tensor and takes about a minute (longer on a busy machine),
so the float copy is written once to ``<data dir>/models/.base/<gguf sha256[:16]>/`` and loaded
from there afterwards. transformers refuses to ``save_pretrained`` a GGUF-loaded model while
its quantizer is attached; the weights are plain floats by then, so the quantizer is dropped.

A GPU run names an operator-supplied Hugging Face model folder (``--base PATH``: config.json,
safetensors, tokenizer) — nothing is downloaded at run time."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dasan.errors import ConfigError


class TrainDepsError(ConfigError):
    """The optional training dependencies are missing."""

    code = "train_deps_missing"


def require_train_deps() -> None:
    missing = []
    for mod in ("torch", "transformers", "peft", "safetensors", "gguf"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    if missing:
        raise TrainDepsError(f"언어 모델 학습에 필요한 패키지가 없습니다: {', '.join(missing)}. "
                             "`pip install -r requirements-train.txt`(또는 `pip install '.[train]'`)로 학습용 "
                             "추가 패키지를 설치하세요 (CPU용 torch가 고정되어 있습니다).")


@dataclass
class BaseModel:
    model: Any  # transformers PreTrainedModel
    tokenizer: Any
    kind: str  # "bundled-gguf" | "hf-dir"
    source: str  # the GGUF file or the HF folder
    sha256: str | None  # of the GGUF file (the adapter is only valid on it)
    float_dir: Path  # the float copy (or the HF folder itself)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(4 * 1024 * 1024):
            h.update(block)
    return h.hexdigest()


def gguf_sha256(path: Path) -> str:
    """The bundled GGUF's digest from its verified stamp (``<file>.sha256``), else computed."""
    stamp = path.with_name(path.name + ".sha256")
    try:
        parts = stamp.read_text(encoding="ascii").split()
        st = path.stat()
        if len(parts) == 3 and parts[1:] == [str(st.st_size), str(st.st_mtime_ns)]:
            return parts[0]
    except OSError:
        pass
    return file_sha256(path)


def float_cache_dir(data_dir: Path, digest: str) -> Path:
    return data_dir / "models" / ".base" / digest[:16]


def _dtype(name: str) -> Any:
    import torch

    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    except KeyError:
        raise ConfigError(f"알 수 없는 dtype입니다: {name}. float32, bfloat16, float16 중 하나를 쓰세요.") from None


def load_base(data_dir: Path, base: str | None = None, *, dtype: str = "float32", device: str = "cpu",
              log: Callable[[str], None] = lambda s: None) -> BaseModel:
    """The model to train: ``base`` (an HF folder) or, without it, the bundled GGUF via its float copy."""
    require_train_deps()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if base:
        path = Path(base).expanduser()
        if not (path / "config.json").is_file():
            raise ConfigError(f"--base는 Hugging Face 모델 폴더(config.json, *.safetensors, 토크나이저)여야 합니다: {path}. "
                              "GGUF 파일이면 --base 없이 기본 모델을 쓰거나 원본 HF 모델 폴더를 지정하세요.")
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=_dtype(dtype), local_files_only=True)
        return BaseModel(model.to(device), tok, "hf-dir", str(path), None, path)
    from dasan.llm.llamacpp import bundled_gguf_path

    gguf = bundled_gguf_path()
    digest = gguf_sha256(gguf)
    cache = float_cache_dir(data_dir, digest)
    if not (cache / "config.json").is_file() or not any(cache.glob("*.safetensors")):
        log(f"기본 모델 GGUF를 학습용 실수(float) 가중치로 변환합니다 (처음 한 번, 1~3분): {gguf.name}")
        write_float_copy(gguf, cache)
    tok = AutoTokenizer.from_pretrained(cache, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(cache, dtype=_dtype(dtype), local_files_only=True)
    return BaseModel(model.to(device), tok, "bundled-gguf", str(gguf), digest, cache)


def write_float_copy(gguf: Path, dest: Path) -> None:
    """Dequantize ``gguf`` into a transformers folder at ``dest`` (written aside, renamed into place)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    src = tmp / "gguf"
    src.mkdir(parents=True)
    try:
        link = src / gguf.name
        try:
            link.symlink_to(gguf)
        except OSError:
            shutil.copyfile(gguf, link)
        tok = AutoTokenizer.from_pretrained(src, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(src, gguf_file=gguf.name, dtype=torch.float32)
        model.hf_quantizer = None  # weights are dequantized floats; the GGUF quantizer only blocks saving
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        out = tmp / "float"
        model.save_pretrained(out)
        tok.save_pretrained(out)
        (out / "dasan-source.json").write_text(json.dumps({"gguf": gguf.name}, ensure_ascii=False), encoding="utf-8")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(out, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
