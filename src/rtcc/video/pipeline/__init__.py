"""One media pipeline per camera: a recorder child, at most one sub-stream decoder, its frames fanned out to consumers.

- sources: ffmpeg input options per source kind (one table);
- ffmpeg_child: one ffmpeg child (spawn, backoff, polite stop, kill, last words);
- decoder: the sub-stream decoder, decoding once at the largest size any consumer needs;
- consumers: the consumer-kind registry and the bounded per-consumer queues (drops counted);
- health_consumer: picture health and motion, a consumer kind ("health");
- camera_pipeline / supervisor: per camera the recorder and the decoder; one reconcile loop for all cameras.
See docs/recording.md, "One pipeline per camera".
"""
