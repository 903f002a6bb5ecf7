-- Signed webhooks (docs/webhooks.md): the endpoints an account registers, and the outbox of their
-- deliveries. A delivery row is written in the same transaction as the change it reports (an
-- import ending, a process's confirmations all sent), so no event is lost to a crash; the
-- dispatcher of every server then claims due rows with a lease and POSTs them. Times are epoch
-- milliseconds, compared by the dispatcher without parsing.

-- An endpoint: where to POST, which events (comma-separated names), and the whsec_ secret that
-- signs every delivery (kept to sign; shown once when the endpoint is added).
CREATE TABLE webhook_endpoint (
  id          bigserial PRIMARY KEY,
  account_id  bigint NOT NULL REFERENCES account(id),
  url         text NOT NULL,
  events      text NOT NULL,
  secret      text NOT NULL,
  enabled     boolean NOT NULL DEFAULT true,
  created_at  bigint NOT NULL
);
-- Every import that ends looks up its account's endpoints, and the doors list them by account.
CREATE INDEX webhook_endpoint_account ON webhook_endpoint(account_id);

-- A delivery of one event to one endpoint. `id` orders the deliveries of one endpoint and import
-- (a later one waits while an earlier one is pending); `message_id` is the webhook-id, the same
-- on every attempt. `body` is rendered at the first attempt and kept, so retries send the same
-- bytes. `lease_owner`/`lease_until` is a dispatcher's claim while it POSTs.
CREATE TABLE webhook_delivery (
  id               bigserial PRIMARY KEY,
  message_id       text NOT NULL,
  endpoint_id      bigint NOT NULL REFERENCES webhook_endpoint(id) ON DELETE CASCADE,
  account_id       bigint NOT NULL REFERENCES account(id),
  event            text NOT NULL,
  process_id       bigint,                     -- the import it is about: the ordering key
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'given_up')),
  attempts         integer NOT NULL DEFAULT 0,
  created_at       bigint NOT NULL,
  next_attempt_at  bigint NOT NULL,
  retry_since      bigint NOT NULL,            -- the retry window runs from here (the event, or a resend)
  last_attempt_at  bigint,
  response_code    integer,                     -- of the last attempt; NULL when no answer came
  last_error       text,
  delivered_at     bigint,
  lease_owner      text,
  lease_until      bigint,
  body             text
);
-- The dispatcher's claim reads only pending rows that are due, oldest due first.
CREATE INDEX webhook_delivery_due ON webhook_delivery(next_attempt_at) WHERE status = 'pending';
-- Ordering: a claim skips a delivery while an earlier one of its endpoint and import is pending.
CREATE INDEX webhook_delivery_chain ON webhook_delivery(endpoint_id, process_id, id) WHERE status = 'pending';
-- The console's recent deliveries of an endpoint, newest first, and removing an endpoint's rows.
CREATE INDEX webhook_delivery_endpoint ON webhook_delivery(endpoint_id, id);
