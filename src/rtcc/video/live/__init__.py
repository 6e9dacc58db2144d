"""Live view: one upstream per watched camera, fanned out to viewers as fragmented MP4."""
