-- Logins through the national portal in progress (domain.md §12.2): the digest of the `state`
-- we sent, the nonce the id token must carry, until when the callback may come, and when it
-- came (a state is used once).
CREATE TABLE sso_states (
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    return_to TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX sso_states_expires_idx ON sso_states (expires_at);
