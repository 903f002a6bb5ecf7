-- Single-recipient changes (the HTTP subscribe API and the REST API's recipient calls,
-- src/core/recipients.ts) beside the imports; the SQLite store's 0006_recipients.sql.
--
-- 1. A confirmation request can be queued outside an import (process_id NULL): a subscribe with
--    double opt-in queues one and delivers it at once. It may carry the sender the call asked for
--    (`sender`, a whole From: `"Name" <address>`) and, when one message confirms several lists,
--    the other lists (`also_list_ids`).
-- 2. The account's HTTP-API allow-list: addresses and CIDR ranges allowed to call the HTTP
--    subscribe API (empty: nobody).
-- 3. The subscriber's IP address recorded with an opt-in (MailUp's Optin_Request_IP).

ALTER TABLE confirmation_request ALTER COLUMN process_id DROP NOT NULL;
ALTER TABLE confirmation_request ADD COLUMN sender text;
ALTER TABLE confirmation_request ADD COLUMN also_list_ids jsonb;
COMMENT ON COLUMN confirmation_request.process_id IS 'NULL: queued by a single-recipient call, not an import';

ALTER TABLE account ADD COLUMN http_api_ips jsonb NOT NULL DEFAULT '[]';

ALTER TABLE subscription ADD COLUMN request_ip text;
