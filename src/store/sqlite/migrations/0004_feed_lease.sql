-- Partial feeds left behind by uploads that no server is receiving any more (docs/security.md,
-- "Partial feeds"): a server killed while a feed streamed in never deletes the chunks it stored.
--
-- While a server receives an upload it holds a lease on the feed, renewed every third of its
-- length (the FeedWriter, src/store/sqlite/feeds.ts); an incomplete feed whose lease has run out
-- belongs to no upload in progress, and every API server deletes such feeds, with their chunks,
-- at start-up and periodically. The writer sets the length of its own lease, so servers with
-- different settings never judge each other's uploads.
--
-- Feeds left incomplete before this migration get an hour, in case a server is still receiving
-- one. NULL once the feed is complete; a NULL on an incomplete feed is never treated as expired.

ALTER TABLE feed ADD COLUMN lease_expires_at INTEGER;   -- epoch milliseconds
UPDATE feed SET lease_expires_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) + 3600000 WHERE complete = 0;
CREATE INDEX feed_lease ON feed(lease_expires_at) WHERE complete = 0;
