-- The REST API v1.1 (README "REST API"): the REST clients of an account, the OAuth2 token pairs
-- issued to them, and the notes of a group; the SQLite store's 0005_rest_oauth.sql.

-- A REST client: the public client id and the SHA-256 of its secret. The secret is 192 random
-- bits, so a fast hash is as safe as a slow one and keeps the token endpoint cheap; it is never
-- stored or shown again after it is made.
CREATE TABLE rest_client (
  client_id    text PRIMARY KEY,
  account_id   bigint NOT NULL REFERENCES account(id),
  secret_hash  text NOT NULL,                    -- hex SHA-256 of the secret
  name         text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- The order clients were added in (two may share a created_at).
  seq          bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX rest_client_account ON rest_client(account_id);

-- A token pair: the access token and the refresh token that replaces the pair (using it deletes
-- this row). Only their SHA-256 hashes are kept. Deleting an account's rows revokes its tokens.
CREATE TABLE oauth_token (
  access_hash         text PRIMARY KEY,          -- hex SHA-256 of the access token
  refresh_hash        text NOT NULL UNIQUE,      -- hex SHA-256 of the refresh token
  account_id          bigint NOT NULL REFERENCES account(id),
  client_id           text NOT NULL REFERENCES rest_client(client_id) ON DELETE CASCADE,
  access_expires_at   bigint NOT NULL,           -- epoch milliseconds
  refresh_expires_at  bigint NOT NULL,           -- epoch milliseconds
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_token_account ON oauth_token(account_id);
CREATE INDEX oauth_token_client ON oauth_token(client_id);
CREATE INDEX oauth_token_expiry ON oauth_token(refresh_expires_at);

-- A group's notes (the REST API's Group.Notes); '' for every group made before.
ALTER TABLE "group" ADD COLUMN notes text NOT NULL DEFAULT '';
