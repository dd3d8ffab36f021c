-- media-ingest: streams, their segments, and what it knows of candidates (from session events).

CREATE TABLE streams (
    stream_id text PRIMARY KEY,
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    attempt_number int NOT NULL,
    kind smallint NOT NULL,
    format bytea NOT NULL,              -- serialized proctor.common.v1.MediaFormat
    device_kind smallint NOT NULL,
    device_id text NOT NULL,
    client_stream_key text NOT NULL,
    state smallint NOT NULL,            -- proctor.media.v1.StreamState
    opened_at timestamptz NOT NULL,
    closed_at timestamptz,
    verified_at timestamptz,
    upload_deadline timestamptz NOT NULL,
    last_activity_at timestamptz NOT NULL,
    bytes_committed bigint NOT NULL DEFAULT 0,
    late boolean NOT NULL DEFAULT false,
    close_segment_count int,
    close_total_bytes bigint,
    close_chain_head bytea,
    problems text[] NOT NULL DEFAULT '{}',
    UNIQUE (sitting_id, candidate_id, attempt_number, client_stream_key)
);
CREATE INDEX streams_candidate ON streams (sitting_id, candidate_id, attempt_number);

CREATE TABLE segments (
    stream_id text NOT NULL REFERENCES streams (stream_id),
    segment_index int NOT NULL,
    object_key text NOT NULL,
    committed_bytes bigint NOT NULL DEFAULT 0,
    sealed boolean NOT NULL DEFAULT false,
    size_bytes bigint,
    sha256 bytea,
    chain_hash bytea,
    client_start_time timestamptz,
    client_end_time timestamptz,
    media_duration_ms bigint,
    committed_at timestamptz,
    late boolean NOT NULL DEFAULT false,
    PRIMARY KEY (stream_id, segment_index)
);
