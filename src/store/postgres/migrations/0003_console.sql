-- The web console (docs/console.md): sign-in sessions, and the indexes its pages page through;
-- the SQLite store's 0003_console.sql.

-- A signed-in console user. The cookie carries a random 32-byte id; only its SHA-256 is stored,
-- so a copy of the database cannot be used to take over a session.
CREATE TABLE console_session (
  id_hash       text PRIMARY KEY,               -- hex SHA-256 of the cookie value
  user_id       bigint NOT NULL REFERENCES console_user(id) ON DELETE CASCADE,
  account_id    bigint NOT NULL REFERENCES account(id),
  csrf_token    text NOT NULL,                  -- checked on every state-changing request
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  expires_at    bigint NOT NULL,                -- epoch milliseconds; moves on with use
  ip            text NOT NULL DEFAULT '',
  user_agent    text NOT NULL DEFAULT ''
);
CREATE INDEX console_session_user ON console_session(user_id);
CREATE INDEX console_session_account ON console_session(account_id);
CREATE INDEX console_session_expiry ON console_session(expires_at);

-- Keyset paging over an account's recipients in id order (the recipients page without filters).
CREATE INDEX recipient_account ON recipient(account_id, id);

-- A list's recipients in id order, whatever their channel and status: the recipients page
-- filtered by list, and the streaming CSV export of a list. The channel rides along so the
-- channel filter and the export's one-row-per-recipient test can read the index alone.
-- subscription_list (0001) serves the filters with a status, ordered by
-- (list_id, channel, status, recipient_id) the same way.
CREATE INDEX subscription_list_recipient ON subscription(list_id, recipient_id, channel);
