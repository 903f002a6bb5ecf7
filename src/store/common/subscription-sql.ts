/**
 * The SQL both adapters write against the subscription table (migration 0011): one row per
 * recipient and list, the e-mail channel in `email_*` columns and the SMS channel in `sms_*`
 * columns, a channel never set having a NULL status. Reads that want one record per channel use
 * the `subscription_channel` view; these are for the reads that go to the table itself.
 */
import type { Channel } from '../../model/subscription.ts';

export const CHANNELS: readonly Channel[] = ['email', 'sms'];

/** The status column of `channel` (checked: the name goes into SQL text). */
export function statusColumn(alias: string, channel: Channel): string {
  if (channel !== 'email' && channel !== 'sms') throw new Error(`not a channel: ${String(channel)}`);
  return `${alias}.${channel}_status`;
}

/**
 * `AND <status column> <> 'subscribed'` when `value` is another status: the same rows, but the
 * condition the partial indexes of the rarer states (migration 0011) are made with, which lets
 * both engines use them for a bound parameter they cannot see at planning time.
 */
export function rareStatusHint(alias: string, channel: Channel, value: string | null): string {
  return value === null || value === 'subscribed' ? '' : ` AND ${statusColumn(alias, channel)} <> 'subscribed'`;
}

/**
 * A condition on row `alias`: subscribed to `channel` (either, when null) with the status in
 * placeholder `status` (any, when null), whose value is `value` when the caller knows it. With
 * both channels the placeholder appears twice: pass a function when each occurrence needs a
 * placeholder of its own (positional `?`).
 */
export function subscriptionMatch(
  alias: string, channel: Channel | null, status: string | (() => string) | null, value: string | null = null,
): string {
  const placeholder = (): string => (typeof status === 'function' ? status() : status!);
  const terms = (channel === null ? CHANNELS : [channel]).map((c) => (status === null
    ? `${statusColumn(alias, c)} IS NOT NULL`
    : `${statusColumn(alias, c)} = ${placeholder()}${rareStatusHint(alias, c, value)}`));
  return terms.length === 1 ? terms[0]! : `(${terms.join(' OR ')})`;
}

/**
 * A list's (or a group's) counts in one pass over rows `alias`: `recipients`, and per channel and
 * status a column `<channel>_<status>` (toChannelCounts reads them).
 */
export function channelCountColumns(alias: string): string {
  const columns = ['count(*) AS recipients'];
  for (const c of CHANNELS) {
    for (const status of ['subscribed', 'pending', 'unsubscribed']) {
      columns.push(`count(CASE WHEN ${statusColumn(alias, c)} = '${status}' THEN 1 END) AS ${c}_${status}`);
    }
  }
  return columns.join(', ');
}

/**
 * The single-recipient store's write of one channel of a subscription, with placeholders in
 * this order: list, recipient, status, reason, updated_at, request_ip, and whether the request's
 * address replaces the stored one. The other channel of the row is left as it is; a change made
 * by hand clears the channel's import process.
 */
export function upsertChannelSql(channel: Channel, placeholders: readonly string[]): string {
  const c = statusColumn('x', channel).slice(2, -'_status'.length);
  const [list, recipient, status, reason, updatedAt, requestIp, replaceIp] = placeholders;
  return `
    INSERT INTO subscription (list_id, recipient_id, ${c}_status, ${c}_reason, ${c}_process_id, ${c}_updated_at, ${c}_request_ip)
    VALUES (${list}, ${recipient}, ${status}, ${reason}, NULL, ${updatedAt}, ${requestIp})
    ON CONFLICT (list_id, recipient_id) DO UPDATE SET
      ${c}_status = excluded.${c}_status, ${c}_reason = excluded.${c}_reason, ${c}_process_id = NULL,
      ${c}_updated_at = excluded.${c}_updated_at,
      ${c}_request_ip = CASE WHEN ${replaceIp} THEN excluded.${c}_request_ip ELSE subscription.${c}_request_ip END`;
}
