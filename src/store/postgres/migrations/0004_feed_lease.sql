-- Partial feeds left behind by uploads that no server is receiving any more (docs/security.md,
-- "Partial feeds"); the SQLite store's 0004_feed_lease.sql.
--
-- While a server receives an upload it holds a lease on the feed, renewed every third of its
-- length by the database's clock (the FeedWriter, src/store/postgres/feeds.ts); an incomplete feed
-- whose lease has run out belongs to no upload in progress, and every API server deletes such
-- feeds, with their chunks, at start-up and periodically, safely while other servers upload. The
-- writer sets the length of its own lease, so servers with different settings never judge each
-- other's uploads.
--
-- The default covers feeds left incomplete before this migration, and feeds that a server of the
-- previous version starts while the others are upgraded: an hour, in case one is still being
-- received. NULL once the feed is complete.

ALTER TABLE feed ADD COLUMN lease_expires_at timestamptz DEFAULT now() + interval '1 hour';
UPDATE feed SET lease_expires_at = NULL WHERE complete;
CREATE INDEX feed_lease ON feed(lease_expires_at) WHERE NOT complete;
