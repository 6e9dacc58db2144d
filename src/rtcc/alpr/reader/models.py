"""Locate and load the PP-OCR ONNX models shipped inside the ``rapidocr`` wheel.

Nothing is ever downloaded: we find the ``rapidocr`` package directory on disk
(without importing it, so its model-download machinery never runs), pick the
text-detection and text-recognition ONNX files it ships under ``models/``, and
open them with onnxruntime ourselves.  The recognition model carries its own
character list in the ONNX metadata (key ``character``).
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort


class ModelNotFoundError(RuntimeError):
    """The PP-OCR models could not be found in the installed rapidocr wheel."""


@dataclass(frozen=True)
class ModelFiles:
    det: Path
    rec: Path


def _version_key(path: Path) -> tuple[int, ...]:
    # "PP-OCRv6_det_small.onnx" -> (6,); unknown names sort first.
    m = re.search(r"v(\d+)(?:\.(\d+))?", path.name)
    if not m:
        return (0,)
    return tuple(int(g) for g in m.groups() if g is not None)


def rapidocr_models_dir() -> Path:
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "the 'rapidocr' package is not installed; it ships the PP-OCR models "
            "the plate reader uses (pip install 'rapidocr>=3.4')"
        )
    for loc in spec.submodule_search_locations:
        d = Path(loc) / "models"
        if d.is_dir():
            return d
    raise ModelNotFoundError("rapidocr is installed but has no models/ directory")


def find_model_files(models_dir: Path | None = None) -> ModelFiles:
    """Pick the newest detection and recognition ONNX files present on disk.

    ``RTCC_ALPR_DET_MODEL`` / ``RTCC_ALPR_REC_MODEL`` override the choice.
    """
    env_det = os.environ.get("RTCC_ALPR_DET_MODEL")
    env_rec = os.environ.get("RTCC_ALPR_REC_MODEL")
    if env_det and env_rec:
        return ModelFiles(Path(env_det), Path(env_rec))
    d = models_dir or rapidocr_models_dir()
    onnx = sorted(d.glob("*.onnx"))
    dets = [p for p in onnx if "_det" in p.name.lower()]
    recs = [p for p in onnx if "_rec" in p.name.lower()]
    if not dets or not recs:
        raise ModelNotFoundError(
            f"no *_det*.onnx / *_rec*.onnx model files in {d}; found {[p.name for p in onnx]}"
        )
    det = Path(env_det) if env_det else max(dets, key=_version_key)
    rec = Path(env_rec) if env_rec else max(recs, key=_version_key)
    return ModelFiles(det, rec)


def make_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, int(threads))
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Pool threads that spin while idle burn a core between frames: they sleep instead.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


def rec_charset(session: ort.InferenceSession) -> list[str]:
    """The recognition model's output classes: index 0 is the CTC blank."""
    meta = session.get_modelmeta().custom_metadata_map
    chars = meta.get("character")
    if not chars:
        raise ModelNotFoundError("recognition model has no embedded character list")
    # PaddleOCR appends a space class after the dictionary; blank comes first.
    return ["<blank>"] + chars.split("\n") + [" "]
