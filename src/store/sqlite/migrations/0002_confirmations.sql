-- Double opt-in delivery (docs/double-opt-in.md).
--
-- 1. A confirmation request can be 'cancelled': when Send Now finds its recipient no longer
--    pending on the list (unsubscribed, or subscribed by other means), nobody is mailed a link
--    that could no longer do anything. SQLite cannot alter a CHECK constraint, so the table is
--    rebuilt, and outbox with it: migrations run inside a transaction, where foreign keys cannot
--    be switched off, so the child table moves to the new parent before the old one is dropped
--    (renaming a parent rewrites its children's REFERENCES clauses).
-- 2. The outbox holds at most one entry per request, so a Send Now that is repeated after a crash
--    between writing the entry and marking the request sent never writes a message twice.

CREATE TABLE confirmation_request_new (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES account(id),
  process_id    INTEGER NOT NULL REFERENCES import_process(id),
  recipient_id  INTEGER NOT NULL REFERENCES recipient(id),
  list_id       INTEGER NOT NULL REFERENCES list(id),
  status        TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  -- 'failed': when a transient failure may be retried (NULL = permanent failure);
  -- 'sending': when the claim expires (a Send Now that died leaves its requests to the next one).
  next_attempt_at INTEGER,
  last_error    TEXT,
  created_at    TEXT NOT NULL,
  sent_at       TEXT,
  confirmed_at  TEXT
);
INSERT INTO confirmation_request_new
  (id, account_id, process_id, recipient_id, list_id, status, attempts, next_attempt_at, last_error, created_at, sent_at, confirmed_at)
  SELECT id, account_id, process_id, recipient_id, list_id, status, attempts, next_attempt_at, last_error, created_at, sent_at, confirmed_at
  FROM confirmation_request;

CREATE TABLE outbox_new (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES account(id),
  request_id  INTEGER REFERENCES confirmation_request_new(id),
  sender      TEXT NOT NULL,
  recipient   TEXT NOT NULL,
  subject     TEXT NOT NULL,
  html        TEXT NOT NULL,
  text        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
INSERT INTO outbox_new (id, account_id, request_id, sender, recipient, subject, html, text, created_at)
  SELECT id, account_id, request_id, sender, recipient, subject, html, text, created_at FROM outbox;

DROP TABLE outbox;
DROP TABLE confirmation_request;
ALTER TABLE confirmation_request_new RENAME TO confirmation_request;
ALTER TABLE outbox_new RENAME TO outbox;

CREATE INDEX confirmation_request_process ON confirmation_request(process_id, status);
CREATE INDEX confirmation_request_account ON confirmation_request(account_id, status);
CREATE INDEX confirmation_request_recipient ON confirmation_request(recipient_id, list_id);
CREATE UNIQUE INDEX outbox_request ON outbox(request_id) WHERE request_id IS NOT NULL;
CREATE INDEX outbox_account ON outbox(account_id, id);
