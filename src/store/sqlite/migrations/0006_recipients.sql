-- Single-recipient changes (the HTTP subscribe API and the REST API's recipient calls,
-- src/core/recipients.ts) beside the imports:
--
-- 1. A confirmation request can be queued outside an import (process_id NULL): a subscribe with
--    double opt-in queues one and delivers it at once. It may carry the sender the call asked for
--    (`sender`, a whole From: `"Name" <address>`) and, when one message confirms several lists,
--    the other lists (`also_list_ids`, a JSON array). SQLite cannot drop a NOT NULL, so the table
--    is rebuilt, and outbox with it, as 0002_confirmations.sql did.
-- 2. The account's HTTP-API allow-list: addresses and CIDR ranges allowed to call the HTTP
--    subscribe API (JSON array; empty: nobody).
-- 3. The subscriber's IP address recorded with an opt-in (MailUp's Optin_Request_IP).

CREATE TABLE confirmation_request_new (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES account(id),
  process_id    INTEGER REFERENCES import_process(id),   -- NULL: queued by a single-recipient call
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
  confirmed_at  TEXT,
  sender        TEXT,                                    -- From of the message; NULL: the message's own
  also_list_ids TEXT                                     -- JSON array of further lists the link confirms
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

ALTER TABLE account ADD COLUMN http_api_ips TEXT NOT NULL DEFAULT '[]';

ALTER TABLE subscription ADD COLUMN request_ip TEXT;
