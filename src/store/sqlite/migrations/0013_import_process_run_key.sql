-- An account's runs, newest first: the imports page and `GET /api/imports` group the account's
-- processes by run (COALESCE(run_id, id), src/store/common/run-sql.ts RUN_KEY) and take a page
-- of the groups. Without this index every page load grouped all of the account's processes in a
-- temporary B-tree: 29 ms for an account of 90,000 processes, growing with each import; with it
-- the groups are read in order and the read stops after the page (0.2 ms).
CREATE INDEX import_process_run_key ON import_process(account_id, COALESCE(run_id, id));
