-- Double opt-in delivery (docs/double-opt-in.md); the SQLite store's 0002_confirmations.sql.
--
-- 1. A confirmation request can be 'cancelled': when Send Now finds its recipient no longer
--    pending on the list (unsubscribed, or subscribed by other means), nobody is mailed a link
--    that could no longer do anything. PostgreSQL changes the CHECK constraint in place.
-- 2. The outbox holds at most one entry per request, so a Send Now that is repeated after a crash
--    between writing the entry and marking the request sent never writes a message twice.

ALTER TABLE confirmation_request DROP CONSTRAINT confirmation_request_status_check;
ALTER TABLE confirmation_request ADD CONSTRAINT confirmation_request_status_check
  CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled'));
COMMENT ON COLUMN confirmation_request.next_attempt_at IS
  'epoch ms; failed: when a transient failure may be retried (NULL = permanent); sending: when the claim expires';

DROP INDEX confirmation_request_recipient;
CREATE INDEX confirmation_request_recipient ON confirmation_request(recipient_id, list_id);
DROP INDEX outbox_request;
CREATE UNIQUE INDEX outbox_request ON outbox(request_id) WHERE request_id IS NOT NULL;
