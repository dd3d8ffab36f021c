-- auth-face schema. Every per-candidate mutation first locks the candidate's login_state row, so one
-- candidate's logins, overrides and reviews are serialised and their outbox events stay in order.

-- Enrolled templates: the embedding (and, only when asked, the ID photo) sealed with AES-256-GCM.
-- The associated data binds a ciphertext to (sitting, candidate, template id): it cannot be moved.
CREATE TABLE templates (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    template_id text NOT NULL UNIQUE,
    pack_id text NOT NULL,
    pack_version text NOT NULL,
    template_tag text NOT NULL,          -- pack + embedder id/version: embeddings of two packs never compare
    embedding_dim int NOT NULL,
    key_id text NOT NULL,                -- which template key sealed it (rotation)
    nonce bytea NOT NULL,
    ciphertext bytea NOT NULL,
    photo_sha256 bytea NOT NULL,         -- idempotent replay: the same photo returns the same template
    photo_nonce bytea,
    photo_ciphertext bytea,              -- NULL unless keep_photo
    quality bytea NOT NULL,              -- serialized proctor.auth.v1.FaceQuality
    enrolled_at timestamptz NOT NULL,
    enrolled_by text NOT NULL,
    PRIMARY KEY (sitting_id, candidate_id)
);

-- The candidate list as exam-session announces it (SessionEvent): the room for proctor scopes.
CREATE TABLE roster (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    room_id text NOT NULL DEFAULT '',
    display_name text NOT NULL DEFAULT '',
    state_version bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (sitting_id, candidate_id)
);

-- Failed-attempt counter and review gate per candidate; also the per-candidate lock row.
CREATE TABLE login_state (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    failed_attempts int NOT NULL DEFAULT 0,
    last_failures bytea,                 -- serialized LoginFailure list of the last failed attempt
    review_id text NOT NULL DEFAULT '',  -- set while a review blocks face login (pending or rejected)
    PRIMARY KEY (sitting_id, candidate_id)
);

CREATE TABLE challenges (
    challenge_id text PRIMARY KEY,
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    device_id text NOT NULL,
    steps text[] NOT NULL,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    outcome text NOT NULL DEFAULT '',    -- verified / failed / refused_other_device / superseded
    client_address text NOT NULL DEFAULT ''
);
CREATE INDEX challenges_open ON challenges (sitting_id, candidate_id) WHERE used_at IS NULL;

CREATE TABLE sessions (
    session_id text PRIMARY KEY,
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    device_id text NOT NULL,
    origin smallint NOT NULL,
    issued_at timestamptz NOT NULL,
    token_iat bigint NOT NULL,           -- iat of the current token (a refresh retry re-signs the same claims)
    expires_at timestamptz NOT NULL,
    refreshed_at timestamptz,
    revoked_at timestamptz,
    revoke_reason text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_live ON sessions (sitting_id, candidate_id) WHERE revoked_at IS NULL;

CREATE TABLE overrides (
    override_id text PRIMARY KEY,
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    kind smallint NOT NULL,
    reason text NOT NULL,
    device_id text NOT NULL DEFAULT '',  -- claim restricted to this device when set
    ticket_ref text NOT NULL DEFAULT '',
    actor_id text NOT NULL,
    client_request_id text NOT NULL DEFAULT '',
    code_sha256 bytea UNIQUE,            -- ADMIT: SHA-256 of the claim code (the code is derived, never stored)
    code_key_id text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    used_device_id text NOT NULL DEFAULT '',
    session_id text NOT NULL DEFAULT '',
    revoked_session_id text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX overrides_request ON overrides (actor_id, client_request_id) WHERE client_request_id <> '';

CREATE TABLE reviews (
    seq bigserial,
    review_id text PRIMARY KEY,
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    room_id text NOT NULL DEFAULT '',
    status smallint NOT NULL,
    created_at timestamptz NOT NULL,
    failed_attempts int NOT NULL,
    last_failures bytea,
    resolved_kind smallint NOT NULL DEFAULT 0,
    resolved_by text NOT NULL DEFAULT '',
    resolved_name text NOT NULL DEFAULT '',
    resolved_at timestamptz,
    resolution_reason text NOT NULL DEFAULT '',
    override_id text NOT NULL DEFAULT ''
);
CREATE INDEX reviews_queue ON reviews (sitting_id, status, seq);
