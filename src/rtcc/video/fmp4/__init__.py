"""Fragmented MP4, as recording and live view read and write it (ISO/IEC 14496-12).

boxes: reading and writing boxes; tracks: the init segment, its tracks and codec; fragments: media
fragments, their decode spans and the re-based video-only copy live view sends; parser: a byte stream
cut into the init segment and its fragments as they arrive.
"""

from rtcc.video.fmp4.boxes import MAX_BOX_BYTES, Fmp4Error, find_box, iter_boxes
from rtcc.video.fmp4.fragments import (
    SAMPLE_IS_NON_SYNC,
    MediaFragment,
    fragment_decode_span,
    live_fragment,
    read_fragment_samples,
)
from rtcc.video.fmp4.parser import Fmp4Parser
from rtcc.video.fmp4.tracks import (
    InitSegment,
    UnsupportedCodec,
    VideoTrack,
    codec_string,
    trex_default_flags,
    video_only_init,
)

__all__ = [
    "MAX_BOX_BYTES", "SAMPLE_IS_NON_SYNC", "Fmp4Error", "Fmp4Parser", "InitSegment", "MediaFragment",
    "UnsupportedCodec", "VideoTrack", "codec_string", "find_box", "fragment_decode_span", "iter_boxes",
    "live_fragment", "read_fragment_samples", "trex_default_flags", "video_only_init",
]
