-- API tokens: bearer tokens this server mints for automation and as the way in when the identity
-- provider is down. Only a SHA-256 of each token is kept; the token itself is shown once, when it
-- is created. A token grants one role, in every project (project_id NULL) or in one project.
-- Kept column-for-column identical in both dialects.

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin')),
    project_id    TEXT REFERENCES projects (id),
    token_hash    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    revoked_at    TEXT,
    last_used_at  TEXT
);
