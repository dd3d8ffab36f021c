-- notify: roster (the candidate grid), incident log with handling, the per-sitting proctor feed,
-- help chat and candidate notices. Protobuf blobs hold the full views; columns hold what is
-- filtered, ordered or locked on.

CREATE TABLE roster (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    room_id text NOT NULL DEFAULT '',
    state_version bigint NOT NULL DEFAULT 0,
    snapshot bytea NOT NULL,               -- proctor.common.v1.CandidateSnapshot
    PRIMARY KEY (sitting_id, candidate_id)
);
CREATE INDEX roster_room ON roster (sitting_id, room_id);

CREATE TABLE incidents (
    incident_id text PRIMARY KEY,
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    room_id text NOT NULL,
    kind int NOT NULL,
    severity int NOT NULL,
    status int NOT NULL,
    verdict int NOT NULL,
    start_time timestamptz NOT NULL,
    revision bigint NOT NULL,
    detection_revision bigint NOT NULL,
    view bytea NOT NULL                    -- proctor.notify.v1.IncidentView
);
CREATE INDEX incidents_room ON incidents (sitting_id, room_id, start_time, incident_id);
CREATE INDEX incidents_candidate ON incidents (sitting_id, candidate_id, start_time);

CREATE TABLE incident_actions (
    incident_id text NOT NULL,
    id bigserial,
    action bytea NOT NULL,                 -- proctor.notify.v1.IncidentAction
    PRIMARY KEY (incident_id, id)
);

-- One gap-free sequence per sitting: the head row is locked by the appending transaction until
-- it commits, so sequence order is commit order and a reader never sees N+1 before N.
CREATE TABLE feed_heads (
    sitting_id text PRIMARY KEY,
    last_seq bigint NOT NULL
);
CREATE TABLE feed (
    sitting_id text NOT NULL,
    seq bigint NOT NULL,
    kind smallint NOT NULL,                -- FeedItemKind
    room_id text NOT NULL,
    candidate_id text NOT NULL,
    severity smallint NOT NULL,
    source_ms bigint NOT NULL,             -- when the causing event was produced (latency metrics)
    appended_at timestamptz NOT NULL DEFAULT now(),
    item bytea NOT NULL,                   -- proctor.notify.v1.ProctorFeedItem without cursor/sequence
    PRIMARY KEY (sitting_id, seq)
);

CREATE TABLE help_threads (
    thread_id text PRIMARY KEY,
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    room_id text NOT NULL,
    message_count int NOT NULL DEFAULT 0,
    unanswered int NOT NULL DEFAULT 0,
    last_at timestamptz NOT NULL,
    last_message bytea NOT NULL
);
CREATE INDEX help_threads_sitting ON help_threads (sitting_id, room_id, last_at DESC);
CREATE INDEX help_threads_candidate ON help_threads (sitting_id, candidate_id, last_at DESC);

CREATE TABLE help_messages (
    message_id text PRIMARY KEY,
    thread_id text NOT NULL,
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    direction smallint NOT NULL,
    author_id text NOT NULL,
    client_message_id text NOT NULL,
    sent_at timestamptz NOT NULL,
    message bytea NOT NULL                 -- proctor.common.v1.ChatMessage
);
CREATE INDEX help_messages_thread ON help_messages (thread_id, sent_at, message_id);
CREATE UNIQUE INDEX help_messages_client_id ON help_messages (sitting_id, candidate_id, author_id, client_message_id)
    WHERE client_message_id <> '';

-- Candidate notices: one gap-free sequence per candidate.
CREATE TABLE notice_heads (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    last_seq bigint NOT NULL,
    PRIMARY KEY (sitting_id, candidate_id)
);
CREATE TABLE notices (
    sitting_id text NOT NULL,
    candidate_id text NOT NULL,
    seq bigint NOT NULL,
    notice_id text NOT NULL UNIQUE,
    target_device smallint NOT NULL,
    notice bytea NOT NULL,                 -- proctor.common.v1.Notice
    PRIMARY KEY (sitting_id, candidate_id, seq)
);
