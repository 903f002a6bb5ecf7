-- The web console (docs/console.md): sign-in sessions, and the indexes its pages page through.

-- A signed-in console user. The cookie carries a random 32-byte id; only its SHA-256 is stored,
-- so a copy of the database cannot be used to take over a session.
CREATE TABLE console_session (
  id_hash       TEXT PRIMARY KEY,               -- hex SHA-256 of the cookie value
  user_id       INTEGER NOT NULL REFERENCES console_user(id) ON DELETE CASCADE,
  account_id    INTEGER NOT NULL REFERENCES account(id),
  csrf_token    TEXT NOT NULL,                  -- checked on every state-changing request
  created_at    TEXT NOT NULL,
  last_seen_at  TEXT NOT NULL,
  expires_at    INTEGER NOT NULL,               -- epoch milliseconds; moves on with use
  ip            TEXT NOT NULL DEFAULT '',
  user_agent    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX console_session_user ON console_session(user_id);
CREATE INDEX console_session_account ON console_session(account_id);
CREATE INDEX console_session_expiry ON console_session(expires_at);

-- Keyset paging over an account's recipients in id order (the recipients page without filters).
-- An index on one column holds the rowid too, so it is ordered by (account_id, id).
CREATE INDEX recipient_account ON recipient(account_id);

-- A list's recipients in id order, whatever their channel and status: the recipients page
-- filtered by list, and the streaming CSV export of a list. subscription is WITHOUT ROWID, so
-- this index also carries the channel (the rest of the primary key): the channel filter and the
-- export's one-row-per-recipient test read the index alone. subscription_list (0001) serves the
-- filters with a status: it is ordered by (list_id, channel, status, recipient_id) the same way.
CREATE INDEX subscription_list_recipient ON subscription(list_id, recipient_id);
