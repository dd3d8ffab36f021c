-- media worker (media_ingest.processing): the review recording of each stream and the processing
-- result of each segment. The worker reads streams.client_start_time (001) for the timeline anchor.

-- One row per stream the worker has seen (a segment or its closing event).
CREATE TABLE review_streams (
    stream_id text PRIMARY KEY,
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    attempt_number int NOT NULL,
    stream_kind smallint NOT NULL,            -- common.v1.StreamKind
    device_kind smallint NOT NULL,            -- common.v1.DeviceKind
    -- zero of the stream timeline: stream_offset = media_start_time - anchor_time; fixed once set
    anchor_time timestamptz,
    anchor_source text,                       -- 'declared' (OpenStream) | 'estimated' (first segment)
    playlist_key text NOT NULL,
    playlist_uri text NOT NULL,
    playlist_sha256 bytea,                    -- of the playlist last written
    playlist_segments int NOT NULL DEFAULT 0, -- segments listed in it
    closed_kind smallint,                     -- events.v1 STREAM_VERIFIED / STREAM_VERIFICATION_FAILED
    closed_segment_count int,
    closed_missing int[] NOT NULL DEFAULT '{}',
    closed_chain_head bytea,
    closed_late boolean NOT NULL DEFAULT false,
    stitched_at timestamptz,                  -- #EXT-X-ENDLIST written, STREAM_STITCHED queued
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per processed segment (written once; a redelivered segment finds it and is not redone).
CREATE TABLE processed_segments (
    stream_id text NOT NULL REFERENCES review_streams (stream_id),
    segment_index int NOT NULL,
    ok boolean NOT NULL,                      -- ProbeResult.ok: normalised media exists
    action smallint NOT NULL,                 -- events.v1.ProcessingAction (of the video track)
    video_action text NOT NULL,               -- copy | transcode | none
    audio_action text NOT NULL,
    flags smallint[] NOT NULL,                -- events.v1.MediaFlag
    detail text NOT NULL,
    media_start_time timestamptz NOT NULL,
    media_end_time timestamptz NOT NULL,
    stream_offset_us bigint NOT NULL,
    duration_us bigint NOT NULL,
    raw_object_uri text NOT NULL,
    raw_size_bytes bigint NOT NULL,
    object_uri text NOT NULL DEFAULT '',
    object_size bigint NOT NULL DEFAULT 0,
    init_size int NOT NULL DEFAULT 0,         -- bytes of the fMP4 init section (playlist EXT-X-MAP)
    thumbnail_uri text NOT NULL DEFAULT '',
    keyframe_count int NOT NULL DEFAULT 0,
    keyframe_interval_us bigint NOT NULL DEFAULT 0,
    encoding text NOT NULL DEFAULT '',        -- codecs/resolution: a change is a playlist discontinuity
    received_at timestamptz NOT NULL,         -- MediaSegmentReceived.committed_at
    processed_at timestamptz NOT NULL,
    processing_ms int NOT NULL,
    cpu_ms int NOT NULL,
    event bytea NOT NULL,                     -- the MediaSegmentStored queued for Kafka
    PRIMARY KEY (stream_id, segment_index)
);
CREATE INDEX processed_segments_unusable ON processed_segments (stream_id) WHERE NOT ok;
