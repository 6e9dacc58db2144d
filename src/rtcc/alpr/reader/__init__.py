"""Licence-plate reader: still images in, scored plate reads out (CPU, PP-OCR models from rapidocr).

    from rtcc.alpr.reader import PlateReader
    reads = PlateReader().read_image("car.jpg")
"""

from .formats import RegionFormats
from .models import ModelNotFoundError
from .reader import (
    ImageReadError,
    PlateCandidate,
    PlateRead,
    PlateReader,
    load_image,
    read_images_as_json,
    read_result_as_json,
)

__all__ = [
    "ImageReadError",
    "ModelNotFoundError",
    "PlateCandidate",
    "PlateRead",
    "PlateReader",
    "RegionFormats",
    "load_image",
    "read_images_as_json",
    "read_result_as_json",
]
