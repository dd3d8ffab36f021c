-- media-ingest: a candidate's upload (per attempt), its streams, and their segments.

-- One row per candidate attempt that opened a stream: what completeness means for it (the
-- sitting's required stream kinds, its upload deadline) and whether it was announced.
CREATE TABLE uploads (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    attempt_number int NOT NULL,
    room_id text NOT NULL,
    upload_deadline timestamptz NOT NULL,
    required_kinds smallint[] NOT NULL,
    created_at timestamptz NOT NULL,
    complete_at timestamptz,          -- CANDIDATE_UPLOAD_COMPLETE published
    deadline_missed_at timestamptz,   -- UPLOAD_DEADLINE_MISSED published
    PRIMARY KEY (sitting_id, candidate_id, attempt_number)
);
CREATE INDEX uploads_pending_deadline ON uploads (upload_deadline)
    WHERE complete_at IS NULL AND deadline_missed_at IS NULL;

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
    client_start_time timestamptz,
    nominal_segment_ms int NOT NULL DEFAULT 0,
    closed_at timestamptz,
    verified_at timestamptz,
    upload_deadline timestamptz NOT NULL,
    last_activity_at timestamptz NOT NULL,
    bytes_committed bigint NOT NULL DEFAULT 0,
    segments_complete int NOT NULL DEFAULT 0,
    contiguous_segments int NOT NULL DEFAULT 0,   -- segments 0..n-1 are sealed
    chain_head bytea NOT NULL,                    -- chain over the contiguous sealed prefix
    late boolean NOT NULL DEFAULT false,
    close_reason smallint,
    close_segment_count int,
    close_total_bytes bigint,
    close_chain_head bytea,
    close_note text,
    closed_by text,
    missing_segments int[] NOT NULL DEFAULT '{}',
    problems text[] NOT NULL DEFAULT '{}',
    UNIQUE (sitting_id, candidate_id, attempt_number, client_stream_key),
    FOREIGN KEY (sitting_id, candidate_id, attempt_number) REFERENCES uploads
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
    chain_hash bytea,                  -- chain[segment_index], once every earlier segment is sealed
    object_uri text,
    client_start_time timestamptz,
    client_end_time timestamptz,
    media_duration_ms bigint,
    first_byte_at timestamptz NOT NULL,
    committed_at timestamptz,
    late boolean NOT NULL DEFAULT false,
    PRIMARY KEY (stream_id, segment_index)
);
