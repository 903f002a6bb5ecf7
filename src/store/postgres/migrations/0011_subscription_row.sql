-- One subscription row per recipient and list, carrying both channels, as in the SQLite store
-- (its 0011 says why). A subscriber with both channels was two heap rows and six index entries;
-- it is now one heap row and two index entries. A channel never set has a NULL status.
CREATE TABLE subscription_row (
  list_id             bigint NOT NULL REFERENCES list(id),
  recipient_id        bigint NOT NULL REFERENCES recipient(id),
  email_status        text CHECK (email_status IN ('subscribed', 'pending', 'unsubscribed')),
  email_reason        text CHECK (email_reason IN ('user', 'import', 'bounce', 'complaint')),
  email_process_id    bigint,                    -- the import that last changed the e-mail channel
  email_updated_at    timestamptz,
  email_confirmed_at  timestamptz,
  email_request_ip    text,
  sms_status          text CHECK (sms_status IN ('subscribed', 'pending', 'unsubscribed')),
  sms_reason          text CHECK (sms_reason IN ('user', 'import', 'bounce', 'complaint')),
  sms_process_id      bigint,
  sms_updated_at      timestamptz,
  sms_confirmed_at    timestamptz,
  sms_request_ip      text,
  CHECK (email_status IS NOT NULL OR sms_status IS NOT NULL),
  CHECK ((email_status IS NULL) = (email_updated_at IS NULL) AND (sms_status IS NULL) = (sms_updated_at IS NULL)),
  -- A list's recipients in id order (recipients page, REST listings, export, counts, the search
  -- driven by list and status) and the batch merge's lookup of a recipient on the list.
  PRIMARY KEY (list_id, recipient_id)
);

INSERT INTO subscription_row (
  list_id, recipient_id,
  email_status, email_reason, email_process_id, email_updated_at, email_confirmed_at, email_request_ip,
  sms_status, sms_reason, sms_process_id, sms_updated_at, sms_confirmed_at, sms_request_ip)
SELECT list_id, recipient_id,
  max(status) FILTER (WHERE channel = 'email'), max(reason) FILTER (WHERE channel = 'email'),
  max(process_id) FILTER (WHERE channel = 'email'), max(updated_at) FILTER (WHERE channel = 'email'),
  max(confirmed_at) FILTER (WHERE channel = 'email'), max(request_ip) FILTER (WHERE channel = 'email'),
  max(status) FILTER (WHERE channel = 'sms'), max(reason) FILTER (WHERE channel = 'sms'),
  max(process_id) FILTER (WHERE channel = 'sms'), max(updated_at) FILTER (WHERE channel = 'sms'),
  max(confirmed_at) FILTER (WHERE channel = 'sms'), max(request_ip) FILTER (WHERE channel = 'sms')
FROM subscription
GROUP BY list_id, recipient_id;

-- Dropping the table drops its indexes: subscription_list (list, channel, status, recipient) and
-- subscription_list_recipient (list, recipient, channel) are both served by the new primary key.
DROP TABLE subscription;
ALTER TABLE subscription_row RENAME TO subscription;
ALTER TABLE subscription RENAME CONSTRAINT subscription_row_pkey TO subscription_pkey;

-- A recipient's subscriptions on every list: the recipient's page and detail, its removal, the
-- search's "subscribed anywhere" test and the confirmation queue's checks.
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

-- The subscriptions one channel at a time, shaped as the rows the table held before (see the
-- SQLite store's 0011).
CREATE VIEW subscription_channel AS
  SELECT list_id, recipient_id, 'email'::text AS channel, email_status AS status, email_reason AS reason,
    email_process_id AS process_id, email_updated_at AS updated_at, email_confirmed_at AS confirmed_at,
    email_request_ip AS request_ip
  FROM subscription WHERE email_status IS NOT NULL
  UNION ALL
  SELECT list_id, recipient_id, 'sms'::text AS channel, sms_status AS status, sms_reason AS reason,
    sms_process_id AS process_id, sms_updated_at AS updated_at, sms_confirmed_at AS confirmed_at,
    sms_request_ip AS request_ip
  FROM subscription WHERE sms_status IS NOT NULL;

ANALYZE subscription;
