-- An account's runs, newest first: the imports page and `GET /api/imports` group the account's
-- processes by run (COALESCE(run_id, id), src/store/common/run-sql.ts RUN_KEY) and take a page
-- of the groups. With this index the groups are read in order and the read stops after the page:
-- for an account of 90,000 processes the first page read 72 of them (0.1 ms), where it grouped
-- them all before.
CREATE INDEX import_process_run_key ON import_process(account_id, (COALESCE(run_id, id)));
