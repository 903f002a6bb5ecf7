-- The whole data model of DESIGN.md. Dates are ISO-8601 UTC text; booleans are 0/1.
-- Foreign keys are enforced (better-sqlite3 turns them on), so every referencing column is indexed.

CREATE TABLE account (
  id             INTEGER PRIMARY KEY,            -- the account number; the WS user is 'a' || id
  ws_user        TEXT NOT NULL UNIQUE,
  password_hash  TEXT NOT NULL,
  ws_enabled     INTEGER NOT NULL DEFAULT 1,
  ip_check       INTEGER NOT NULL DEFAULT 0,
  allowed_ips    TEXT NOT NULL DEFAULT '[]',     -- JSON array of addresses
  name           TEXT NOT NULL DEFAULT '',
  created_at     TEXT NOT NULL
);

CREATE TABLE console_user (
  id             INTEGER PRIMARY KEY,
  account_id     INTEGER NOT NULL REFERENCES account(id),
  username       TEXT NOT NULL,
  password_hash  TEXT NOT NULL,
  list_ids       TEXT,                           -- JSON array; NULL = every list of the account
  created_at     TEXT NOT NULL,
  UNIQUE (account_id, username)
);

CREATE TABLE list (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES account(id),
  guid        TEXT NOT NULL UNIQUE,              -- lower case
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX list_account ON list(account_id);

CREATE TABLE "group" (
  id          INTEGER PRIMARY KEY,
  list_id     INTEGER NOT NULL REFERENCES list(id),
  name        TEXT NOT NULL COLLATE NOCASE,
  created_at  TEXT NOT NULL,
  UNIQUE (list_id, name)
);

CREATE TABLE recipient (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES account(id),
  email       TEXT,                              -- lower case
  mobile      TEXT,                              -- international form, '+' and digits
  name        TEXT,
  fields      TEXT NOT NULL DEFAULT '{}',        -- JSON object: campo number -> value
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX recipient_email ON recipient(account_id, email) WHERE email IS NOT NULL;
CREATE INDEX recipient_mobile ON recipient(account_id, mobile) WHERE mobile IS NOT NULL;

CREATE TABLE subscription (
  recipient_id  INTEGER NOT NULL REFERENCES recipient(id),
  list_id       INTEGER NOT NULL REFERENCES list(id),
  channel       TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
  status        TEXT NOT NULL CHECK (status IN ('subscribed', 'pending', 'unsubscribed')),
  reason        TEXT CHECK (reason IN ('user', 'import', 'bounce', 'complaint')),
  process_id    INTEGER,                         -- the import that last changed it
  updated_at    TEXT NOT NULL,
  confirmed_at  TEXT,
  PRIMARY KEY (recipient_id, list_id, channel)
) WITHOUT ROWID;
CREATE INDEX subscription_list ON subscription(list_id, channel, status);

CREATE TABLE membership (
  recipient_id  INTEGER NOT NULL REFERENCES recipient(id),
  group_id      INTEGER NOT NULL REFERENCES "group"(id),
  PRIMARY KEY (recipient_id, group_id)
) WITHOUT ROWID;
CREATE INDEX membership_group ON membership(group_id);

-- A submitted feed, stored as parsed rows in JSON chunks so any worker can run it without
-- parsing XML again. One feed can serve several processes (StartImportProcesses, many lists).
CREATE TABLE feed (
  id           INTEGER PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES account(id),
  total_rows   INTEGER NOT NULL DEFAULT 0,
  chunk_count  INTEGER NOT NULL DEFAULT 0,
  complete     INTEGER NOT NULL DEFAULT 0,
  created_at   TEXT NOT NULL
);

CREATE TABLE feed_chunk (
  feed_id    INTEGER NOT NULL REFERENCES feed(id) ON DELETE CASCADE,
  chunk_no   INTEGER NOT NULL,
  first_row  INTEGER NOT NULL,
  row_count  INTEGER NOT NULL,
  rows       TEXT NOT NULL,                      -- JSON array of [email, prefix, number, name, {fields}]
  PRIMARY KEY (feed_id, chunk_no)
) WITHOUT ROWID;

CREATE TABLE import_process (
  id                    INTEGER PRIMARY KEY,
  account_id            INTEGER NOT NULL REFERENCES account(id),
  list_id               INTEGER NOT NULL REFERENCES list(id),
  feed_id               INTEGER NOT NULL REFERENCES feed(id),
  options               TEXT NOT NULL,           -- JSON ImportOptions
  status                INTEGER NOT NULL DEFAULT 1 CHECK (status BETWEEN 1 AND 4),
  queued_seq            INTEGER,                 -- position in the account's start queue (status 1)
  created_at            TEXT NOT NULL,
  start_date            TEXT,
  end_date              TEXT,
  total_contacts        INTEGER NOT NULL DEFAULT 0,
  new_email             INTEGER NOT NULL DEFAULT 0,
  new_mobile            INTEGER NOT NULL DEFAULT 0,
  existing_email        INTEGER NOT NULL DEFAULT 0,
  existing_mobile       INTEGER NOT NULL DEFAULT 0,
  optout_email          INTEGER NOT NULL DEFAULT 0,
  optout_mobile         INTEGER NOT NULL DEFAULT 0,
  rejected              INTEGER NOT NULL DEFAULT 0,
  checkpoint            INTEGER NOT NULL DEFAULT 0,
  lease_owner           TEXT,
  lease_expires_at      INTEGER,                 -- epoch milliseconds
  failure_reason        TEXT,
  confirmation_sent_at  TEXT
);
CREATE INDEX import_process_account ON import_process(account_id, id);
CREATE INDEX import_process_list ON import_process(list_id);
CREATE INDEX import_process_feed ON import_process(feed_id);
-- One running import per account, enforced by the database itself.
CREATE UNIQUE INDEX import_process_one_running ON import_process(account_id) WHERE status = 2;
CREATE INDEX import_process_running ON import_process(status, lease_expires_at) WHERE status = 2;

CREATE TABLE import_reject (
  process_id  INTEGER NOT NULL REFERENCES import_process(id),
  row_no      INTEGER NOT NULL,
  raw         TEXT NOT NULL,
  reason      TEXT NOT NULL,
  PRIMARY KEY (process_id, row_no)
) WITHOUT ROWID;

-- Double opt-in: messages, the queue of requests, and the outbox used when no SMTP is configured.
CREATE TABLE confirmation_message (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES account(id),
  is_default  INTEGER NOT NULL DEFAULT 0,
  sender      TEXT NOT NULL,
  subject     TEXT NOT NULL,
  html        TEXT NOT NULL,
  text        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX confirmation_message_account ON confirmation_message(account_id);

CREATE TABLE confirmation_request (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES account(id),
  process_id    INTEGER NOT NULL REFERENCES import_process(id),
  recipient_id  INTEGER NOT NULL REFERENCES recipient(id),
  list_id       INTEGER NOT NULL REFERENCES list(id),
  status        TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_error    TEXT,
  created_at    TEXT NOT NULL,
  sent_at       TEXT,
  confirmed_at  TEXT
);
CREATE INDEX confirmation_request_process ON confirmation_request(process_id, status);
CREATE INDEX confirmation_request_account ON confirmation_request(account_id, status);
CREATE INDEX confirmation_request_recipient ON confirmation_request(recipient_id);

CREATE TABLE outbox (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES account(id),
  request_id  INTEGER REFERENCES confirmation_request(id),
  sender      TEXT NOT NULL,
  recipient   TEXT NOT NULL,
  subject     TEXT NOT NULL,
  html        TEXT NOT NULL,
  text        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX outbox_account ON outbox(account_id, id);
CREATE INDEX outbox_request ON outbox(request_id);

CREATE TABLE setting (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
