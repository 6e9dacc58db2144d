"""Where fragmented MP4 used to live: it is rtcc.video.fmp4 now (recording reads it too, so it left live/).

Kept only for bench/live_latency.py, which still imports this path (bench/ is being edited elsewhere);
remove it once that import reads `from rtcc.video.fmp4 import ...`.
"""

from rtcc.video.fmp4 import Fmp4Parser, InitSegment, find_box

__all__ = ["Fmp4Parser", "InitSegment", "find_box"]
