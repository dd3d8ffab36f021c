-- exam-session schema. Per-sitting tables are LIST-partitioned by sitting_id: each sitting gets
-- its own partitions (created with the sitting), so a 1,000,000-candidate sitting has its own
-- indexes and a finished sitting's data is dropped or archived as a whole (DETACH PARTITION).


CREATE TABLE sittings (
    sitting_id text PRIMARY KEY,
    name text NOT NULL,
    kind smallint NOT NULL,
    time_zone text NOT NULL,
    login_opens timestamptz NOT NULL,
    waiting_room_opens timestamptz NOT NULL,
    start_at timestamptz NOT NULL,
    last_entry timestamptz NOT NULL,
    end_at timestamptz NOT NULL,
    upload_deadline timestamptz NOT NULL,
    spec bytea NOT NULL,              -- the serialized proctor.exam.v1.Sitting
    spec_sha256 bytea NOT NULL,
    partition_suffix text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    swept_absent boolean NOT NULL DEFAULT false,
    swept_deadline boolean NOT NULL DEFAULT false
);

CREATE TABLE candidates (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    display_name text NOT NULL,
    room_id text NOT NULL,
    id_photo_ref text NOT NULL DEFAULT '',
    extra jsonb NOT NULL DEFAULT '{}',
    state smallint NOT NULL,
    state_since timestamptz NOT NULL,
    state_version bigint NOT NULL DEFAULT 1,
    attempt_number int NOT NULL DEFAULT 0,
    current_index int NOT NULL DEFAULT 0,
    attempt_ends_at timestamptz,
    desktop_device_id text NOT NULL DEFAULT '',
    desktop_token_iat bigint NOT NULL DEFAULT 0,
    phone_device_id text NOT NULL DEFAULT '',
    room_scanned boolean NOT NULL DEFAULT false,
    upload_complete boolean NOT NULL DEFAULT false,
    desktop_last_seen timestamptz,
    phone_last_seen timestamptz,
    desktop_offline_since timestamptz,   -- set when the offline event was emitted
    phone_offline_since timestamptz,
    heartbeat_samples int NOT NULL DEFAULT 0,
    clock_offset_ms bigint NOT NULL DEFAULT 0,
    telemetry_seq_desktop bigint NOT NULL DEFAULT -1,
    telemetry_seq_phone bigint NOT NULL DEFAULT -1,
    zero_score boolean NOT NULL DEFAULT false,
    zero_score_reason text NOT NULL DEFAULT '',
    PRIMARY KEY (sitting_id, candidate_id)
) PARTITION BY LIST (sitting_id);
CREATE INDEX candidates_room_state ON candidates (sitting_id, room_id, state);
CREATE INDEX candidates_state_due ON candidates (sitting_id, state, attempt_ends_at);

CREATE TABLE answers (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    attempt_number int NOT NULL,
    question_index int NOT NULL,
    question_id text NOT NULL,
    answer bytea,                       -- serialized AnswerPayload; NULL = cleared
    revision bigint NOT NULL,
    saved_at timestamptz NOT NULL,
    client_time timestamptz,
    locked_at timestamptz,
    source smallint NOT NULL DEFAULT 1,  -- AnswerSource
    PRIMARY KEY (sitting_id, candidate_id, attempt_number, question_index)
) PARTITION BY LIST (sitting_id);

-- idempotency of candidate mutations: the stored response of each client_request_id
CREATE TABLE requests (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    client_request_id text NOT NULL,
    kind text NOT NULL,
    response bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sitting_id, candidate_id, client_request_id)
) PARTITION BY LIST (sitting_id);

CREATE TABLE transitions (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    seq bigserial,
    from_state smallint NOT NULL,
    to_state smallint NOT NULL,
    at timestamptz NOT NULL,
    actor_kind smallint NOT NULL,
    actor_id text NOT NULL,
    reason text NOT NULL,
    note text NOT NULL DEFAULT '',
    attempt_number int NOT NULL,
    PRIMARY KEY (sitting_id, candidate_id, seq)
) PARTITION BY LIST (sitting_id);

-- offline answers kept but not applied, for review
CREATE TABLE flagged_answers (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    attempt_number int NOT NULL,
    question_id text NOT NULL,
    client_request_id text NOT NULL,
    answer bytea,
    client_time timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    reason text NOT NULL,
    PRIMARY KEY (sitting_id, candidate_id, client_request_id)
);

CREATE TABLE bind_codes (
    code_sha256 bytea PRIMARY KEY,
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    used_by_device text
);
CREATE INDEX bind_codes_candidate ON bind_codes (sitting_id, candidate_id);

CREATE TABLE connectivity (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    device_kind smallint NOT NULL,
    offline_from timestamptz NOT NULL,
    offline_to timestamptz,
    PRIMARY KEY (sitting_id, candidate_id, device_kind, offline_from)
);
