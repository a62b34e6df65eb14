-- Web console sign-ins. A session is found by the SHA-256 (hex) of its cookie's random id, so a
-- copy of this table lets no one act as the people signed in. The principal (subject, display
-- name, kind, grants) is what sign-in verified; the CSRF token guards every form the session
-- posts. `last_seen_at` drives the idle expiry, `expires_at` the absolute one. Rows live in the
-- database so every instance sharing it serves the same sessions.
-- `console_logins` holds a sign-in under way with the identity provider (keyed by the hash of
-- its `state`): the nonce and PKCE verifier the callback needs, for a few minutes at most.
-- Times are storage-form text (RFC 3339 UTC, six fractional digits), which sorts as time does.
-- Kept column-for-column identical in both dialects.

CREATE TABLE console_sessions (
    id_hash       TEXT PRIMARY KEY,
    subject       TEXT NOT NULL,
    display       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    grants        TEXT NOT NULL,
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);

CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

CREATE TABLE console_logins (
    state_hash    TEXT PRIMARY KEY,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
