-- The SQLite schema gains the index PostgreSQL has had since 0001 (the worker's lookup of the
-- chunk that holds its next row; see the SQLite file of the same name). Nothing changes here:
-- the file keeps the two stores' migrations mirrored, file for file.
CREATE UNIQUE INDEX IF NOT EXISTS feed_chunk_first_row ON feed_chunk(feed_id, first_row);
