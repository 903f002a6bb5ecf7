-- Runs and cancelling (docs/behaviour.md, "Cancelling an import"): the processes one start
-- (StartImportProcesses, StartProcess, a REST bulk import, the console or the admin CLI) sets
-- going together form a run, named by the id of its first process. Cancelling a process of a run
-- also cancels the run's processes still waiting their turn. NULL for a process never started,
-- and for processes started before this migration (each then stands alone).
ALTER TABLE import_process ADD COLUMN run_id bigint;
CREATE INDEX import_process_run ON import_process(run_id) WHERE run_id IS NOT NULL;
