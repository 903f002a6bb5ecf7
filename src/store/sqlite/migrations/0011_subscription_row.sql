-- One subscription row per recipient and list, carrying both channels, instead of one row per
-- channel. An import of a subscriber with an e-mail address and a mobile number wrote two rows,
-- each into three B-trees (the table and two indexes); it now writes one row into two (three
-- when the row is pending or unsubscribed on a channel: the partial indexes below). A
-- channel never set has a NULL status (and NULL reason, dates, process and address); the CHECK
-- keeps out rows with neither channel. Every per-channel column keeps what the old row of that
-- channel held, so nothing is lost in the move.
CREATE TABLE subscription_row (
  list_id             INTEGER NOT NULL REFERENCES list(id),
  recipient_id        INTEGER NOT NULL REFERENCES recipient(id),
  email_status        TEXT CHECK (email_status IN ('subscribed', 'pending', 'unsubscribed')),
  email_reason        TEXT CHECK (email_reason IN ('user', 'import', 'bounce', 'complaint')),
  email_process_id    INTEGER,                   -- the import that last changed the e-mail channel
  email_updated_at    TEXT,
  email_confirmed_at  TEXT,
  email_request_ip    TEXT,
  sms_status          TEXT CHECK (sms_status IN ('subscribed', 'pending', 'unsubscribed')),
  sms_reason          TEXT CHECK (sms_reason IN ('user', 'import', 'bounce', 'complaint')),
  sms_process_id      INTEGER,
  sms_updated_at      TEXT,
  sms_confirmed_at    TEXT,
  sms_request_ip      TEXT,
  CHECK (email_status IS NOT NULL OR sms_status IS NOT NULL),
  CHECK ((email_status IS NULL) = (email_updated_at IS NULL) AND (sms_status IS NULL) = (sms_updated_at IS NULL)),
  -- The list comes first: a list's recipients in id order (the recipients page, the REST
  -- listings, the export, the list's counts, the search driven by list and status) are a range of
  -- the table itself, status included, with no second lookup. New recipients have rising ids, so
  -- an import into a list appends at the end of the list's range.
  PRIMARY KEY (list_id, recipient_id)
) WITHOUT ROWID;

INSERT INTO subscription_row (
  list_id, recipient_id,
  email_status, email_reason, email_process_id, email_updated_at, email_confirmed_at, email_request_ip,
  sms_status, sms_reason, sms_process_id, sms_updated_at, sms_confirmed_at, sms_request_ip)
SELECT list_id, recipient_id,
  max(CASE WHEN channel = 'email' THEN status END), max(CASE WHEN channel = 'email' THEN reason END),
  max(CASE WHEN channel = 'email' THEN process_id END), max(CASE WHEN channel = 'email' THEN updated_at END),
  max(CASE WHEN channel = 'email' THEN confirmed_at END), max(CASE WHEN channel = 'email' THEN request_ip END),
  max(CASE WHEN channel = 'sms' THEN status END), max(CASE WHEN channel = 'sms' THEN reason END),
  max(CASE WHEN channel = 'sms' THEN process_id END), max(CASE WHEN channel = 'sms' THEN updated_at END),
  max(CASE WHEN channel = 'sms' THEN confirmed_at END), max(CASE WHEN channel = 'sms' THEN request_ip END)
FROM subscription
GROUP BY list_id, recipient_id;

-- Dropping the table drops its indexes: subscription_list (list, channel, status) and
-- subscription_list_recipient (list, recipient) are both served by the new primary key.
DROP TABLE subscription;
ALTER TABLE subscription_row RENAME TO subscription;

-- A recipient's subscriptions on every list: the recipient's page and detail, its removal, the
-- search's "subscribed anywhere" test and the confirmation queue's checks. Entries are
-- (recipient_id, list_id); new recipients append at the end.
CREATE INDEX subscription_recipient ON subscription(recipient_id);

-- A list's recipients in a rarer state (pending, unsubscribed) on one channel, in id order: the
-- search and the REST listings filtered by such a state (common/subscription-sql.ts adds the
-- index's condition to those queries). A list is mostly subscribed, so these are found by a
-- range of the primary key; the few others would take a pass over the whole list. Partial, so
-- an import of subscribed recipients does not write them.
CREATE INDEX subscription_email_rare ON subscription(list_id, email_status, recipient_id) WHERE email_status <> 'subscribed';
CREATE INDEX subscription_sms_rare ON subscription(list_id, sms_status, recipient_id) WHERE sms_status <> 'subscribed';

-- The other indexes an import writes stay, each for a query: recipient_email (the batch's lookup
-- by e-mail, and unique), recipient_mobile (the lookup by mobile number), recipient_account (an
-- account's recipients in id order: the console's search without other filters), membership's
-- primary key (a recipient's groups) and membership_group (a group's members and counts).
-- Memberships are written only when an import names groups.

-- The subscriptions one channel at a time, shaped as the rows the table held before: for the
-- reads that want a record per channel (a recipient's detail, the single-recipient store) and
-- for looking at the data by hand. The hot paths (batch merge, list pages, counts, export, the
-- confirmation queue) read the table.
CREATE VIEW subscription_channel AS
  SELECT list_id, recipient_id, 'email' AS channel, email_status AS status, email_reason AS reason,
    email_process_id AS process_id, email_updated_at AS updated_at, email_confirmed_at AS confirmed_at,
    email_request_ip AS request_ip
  FROM subscription WHERE email_status IS NOT NULL
  UNION ALL
  SELECT list_id, recipient_id, 'sms' AS channel, sms_status AS status, sms_reason AS reason,
    sms_process_id AS process_id, sms_updated_at AS updated_at, sms_confirmed_at AS confirmed_at,
    sms_request_ip AS request_ip
  FROM subscription WHERE sms_status IS NOT NULL;
