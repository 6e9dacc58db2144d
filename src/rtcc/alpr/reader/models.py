"""Locate and load the PP-OCR ONNX models shipped inside the ``rapidocr`` wheel.

Nothing is ever downloaded: we find the ``rapidocr`` package directory on disk
(without importing it, so its model-download machinery never runs), pick the
text-detection and text-recognition ONNX files it ships under ``models/``, and
open them with onnxruntime ourselves.  The recognition model carries its own
character list in the ONNX metadata (key ``character``).

Our plate head (``weights/plate_head.onnx``, trained by ``rtcc alpr train``; docs/alpr-training.md)
replaces PP-OCR's 18 710-symbol classifier: at load time the PP-OCR recogniser is cut where its sequence
features leave the SVTR neck and the head is joined on in memory, so the package ships only the head's
weights and the backbone comes from the rapidocr wheel as before.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

import onnxruntime as ort

if TYPE_CHECKING:  # onnx (1.5 s to import) loads only when a plate head is joined on
    import onnx


class ModelNotFoundError(RuntimeError):
    """The PP-OCR models could not be found in the installed rapidocr wheel."""


# Where the plate head joins the PP-OCR recogniser: the sequence features out of its SVTR neck, (N, W/8, 120),
# just before its classifier. The head's input has this shape; `backbone_model` cuts here.
BACKBONE_INPUT = "x"
BACKBONE_OUTPUT = "p2o.pd_op.transpose.8.0"
HEAD_INPUT = "features"
HEAD_OUTPUT = "probs"
WEIGHTS = Path(__file__).resolve().parent / "weights"


def shipped_head(region: str) -> Path:
    """Where the package keeps a region's plate head: trained on that region's plates (only `us` has photos here;
    a region without a head reads with PP-OCR's classifier, as before)."""
    return WEIGHTS / f"plate_head_{region}.onnx"


PLATE_HEAD = shipped_head("us")
# The head's classes: index 0 is the CTC blank, then the plate alphabet (recognise.ALPHABET).
PLATE_HEAD_CLASSES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class ModelFiles:
    det: Path
    rec: Path
    head: Path | None = None  # the plate head joined onto rec's backbone (None: PP-OCR's own classifier)


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


def find_model_files(models_dir: Path | None = None, region: str = "us") -> ModelFiles:
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
    return ModelFiles(det, rec, plate_head_file(region))


def plate_head_file(region: str = "us") -> Path | None:
    """The plate head to read with: ``RTCC_ALPR_PLATE_HEAD`` (a file, or ``none`` for PP-OCR's own
    classifier), else the region's head shipped in the package when there is one."""
    chosen = os.environ.get("RTCC_ALPR_PLATE_HEAD")
    if chosen:
        if chosen.lower() == "none":
            return None
        if not Path(chosen).is_file():
            raise ModelNotFoundError(f"RTCC_ALPR_PLATE_HEAD={chosen} is not a file")
        return Path(chosen)
    shipped = shipped_head(region)
    return shipped if shipped.is_file() else None


def backbone_model(rec: Path) -> onnx.ModelProto:
    """The PP-OCR recogniser up to its classifier: crops (N, 3, 48, W) in, sequence features (N, W/8, 120) out."""
    import onnx
    from onnx.utils import Extractor

    return Extractor(onnx.load(str(rec))).extract_model([BACKBONE_INPUT], [BACKBONE_OUTPUT])


def plate_recogniser_model(rec: Path, head: Path) -> bytes:
    """The PP-OCR backbone with the plate head joined on, serialised for onnxruntime."""
    import onnx
    from onnx.compose import merge_models

    backbone, plate_head = backbone_model(rec), onnx.load(str(head))
    if opset_of(plate_head) != opset_of(backbone):
        raise ModelNotFoundError(f"the plate head {head} was built for ONNX opset {opset_of(plate_head)}, the recogniser "
                                 f"{rec} is opset {opset_of(backbone)}: retrain it (rtcc alpr train)")
    plate_head.ir_version = backbone.ir_version
    joined = merge_models(backbone, plate_head, io_map=[(BACKBONE_OUTPUT, HEAD_INPUT)])
    return joined.SerializeToString()


def opset_of(model: onnx.ModelProto) -> int:
    return next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))


def make_rec_session(files: ModelFiles, threads: int = 1) -> tuple[ort.InferenceSession, list[str]]:
    """The recogniser to read with and its classes (index 0 the CTC blank): with the plate head when there is one."""
    if files.head is None:
        session = make_session(files.rec, threads)
        return session, rec_charset(session)
    return make_session(plate_recogniser_model(files.rec, files.head), threads), ["<blank>", *PLATE_HEAD_CLASSES]


def make_session(path: Path | bytes, threads: int = 1) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, int(threads))
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Pool threads that spin while idle burn a core between frames: they sleep instead.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    model = path if isinstance(path, bytes) else str(path)
    return ort.InferenceSession(model, sess_options=so, providers=["CPUExecutionProvider"])


def rec_charset(session: ort.InferenceSession) -> list[str]:
    """The recognition model's output classes: index 0 is the CTC blank."""
    meta = session.get_modelmeta().custom_metadata_map
    chars = meta.get("character")
    if not chars:
        raise ModelNotFoundError("recognition model has no embedded character list")
    # PaddleOCR appends a space class after the dictionary; blank comes first.
    return ["<blank>"] + chars.split("\n") + [" "]
