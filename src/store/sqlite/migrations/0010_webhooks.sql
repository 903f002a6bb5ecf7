-- Signed webhooks (docs/webhooks.md): the endpoints an account registers, and the outbox of their
-- deliveries. A delivery row is written in the same transaction as the change it reports (an
-- import ending, a process's confirmations all sent), so no event is lost to a crash; the
-- dispatcher of every server then claims due rows with a lease and POSTs them. Times are epoch
-- milliseconds, compared by the dispatcher without parsing.

-- An endpoint: where to POST, which events (comma-separated names), and the whsec_ secret that
-- signs every delivery (kept to sign; shown once when the endpoint is added).
CREATE TABLE webhook_endpoint (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id  INTEGER NOT NULL REFERENCES account(id),
  url         TEXT NOT NULL,
  events      TEXT NOT NULL,
  secret      TEXT NOT NULL,
  enabled     INTEGER NOT NULL DEFAULT 1,
  created_at  INTEGER NOT NULL
);
-- Every import that ends looks up its account's endpoints, and the doors list them by account.
CREATE INDEX webhook_endpoint_account ON webhook_endpoint(account_id);

-- A delivery of one event to one endpoint. `id` orders the deliveries of one endpoint and import
-- (a later one waits while an earlier one is pending); `message_id` is the webhook-id, the same
-- on every attempt. `body` is rendered at the first attempt and kept, so retries send the same
-- bytes. `lease_owner`/`lease_until` is a dispatcher's claim while it POSTs.
CREATE TABLE webhook_delivery (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id       TEXT NOT NULL,
  endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoint(id) ON DELETE CASCADE,
  account_id       INTEGER NOT NULL REFERENCES account(id),
  event            TEXT NOT NULL,
  process_id       INTEGER,                     -- the import it is about: the ordering key
  status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'given_up')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  next_attempt_at  INTEGER NOT NULL,
  retry_since      INTEGER NOT NULL,            -- the retry window runs from here (the event, or a resend)
  last_attempt_at  INTEGER,
  response_code    INTEGER,                     -- of the last attempt; NULL when no answer came
  last_error       TEXT,
  delivered_at     INTEGER,
  lease_owner      TEXT,
  lease_until      INTEGER,
  body             TEXT
);
-- The dispatcher's claim reads only pending rows that are due, oldest due first.
CREATE INDEX webhook_delivery_due ON webhook_delivery(next_attempt_at) WHERE status = 'pending';
-- Ordering: a claim skips a delivery while an earlier one of its endpoint and import is pending.
CREATE INDEX webhook_delivery_chain ON webhook_delivery(endpoint_id, process_id, id) WHERE status = 'pending';
-- The console's recent deliveries of an endpoint, newest first, and removing an endpoint's rows.
CREATE INDEX webhook_delivery_endpoint ON webhook_delivery(endpoint_id, id);
