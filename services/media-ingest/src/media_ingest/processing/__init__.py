"""The media processing worker of media-ingest (a separate process, scaled separately from the
upload server): validates every uploaded segment, normalises it for review (fragmented MP4,
H.264/AAC), writes a thumbnail, stitches each stream into an HLS playlist, and announces
MediaSegmentStored / STREAM_STITCHED. Modules: ``config`` settings, ``app`` wiring, ``worker``
handlers, ``pipeline`` one segment on local files (``probe`` -> ``rules`` -> ``normalise``),
``timeline`` offsets and playlists, ``containers`` structural checks, ``db`` persistence,
``events`` Kafka messages, ``metrics``, ``bench`` the benchmark."""
