-- Console users can be disabled (docs/console.md, "Console users"): a disabled user cannot sign
-- in and its sessions end. The account's last enabled user who sees every list (list_ids NULL)
-- can never be disabled or deleted (src/core/console-users.ts), so an account cannot be locked
-- out of its own console.
ALTER TABLE console_user ADD COLUMN enabled boolean NOT NULL DEFAULT true;
