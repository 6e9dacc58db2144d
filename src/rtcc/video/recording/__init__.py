"""Recording: the recorder's ffmpeg, its segments and their index, playback, retention, marks."""
