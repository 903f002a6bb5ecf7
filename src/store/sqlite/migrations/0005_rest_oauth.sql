-- The REST API v1.1 (README "REST API"): the REST clients of an account, the OAuth2 token pairs
-- issued to them, and the notes of a group.

-- A REST client: the public client id and the SHA-256 of its secret. The secret is 192 random
-- bits, so a fast hash is as safe as a slow one and keeps the token endpoint cheap; it is never
-- stored or shown again after it is made.
CREATE TABLE rest_client (
  client_id    TEXT PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES account(id),
  secret_hash  TEXT NOT NULL,                    -- hex SHA-256 of the secret
  name         TEXT NOT NULL DEFAULT '',
  created_at   TEXT NOT NULL
);
-- A rowid table: rowid is the order clients were added in (two may share a created_at).
CREATE INDEX rest_client_account ON rest_client(account_id);

-- A token pair: the access token and the refresh token that replaces the pair (using it deletes
-- this row). Only their SHA-256 hashes are kept. Deleting an account's rows revokes its tokens.
CREATE TABLE oauth_token (
  access_hash         TEXT PRIMARY KEY,          -- hex SHA-256 of the access token
  refresh_hash        TEXT NOT NULL UNIQUE,      -- hex SHA-256 of the refresh token
  account_id          INTEGER NOT NULL REFERENCES account(id),
  client_id           TEXT NOT NULL REFERENCES rest_client(client_id) ON DELETE CASCADE,
  access_expires_at   INTEGER NOT NULL,          -- epoch milliseconds
  refresh_expires_at  INTEGER NOT NULL,          -- epoch milliseconds
  created_at          TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX oauth_token_account ON oauth_token(account_id);
CREATE INDEX oauth_token_client ON oauth_token(client_id);
CREATE INDEX oauth_token_expiry ON oauth_token(refresh_expires_at);

-- A group's notes (the REST API's Group.Notes); '' for every group made before.
ALTER TABLE "group" ADD COLUMN notes TEXT NOT NULL DEFAULT '';
