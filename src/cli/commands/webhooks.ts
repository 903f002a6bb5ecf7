/**
 * Admin commands for an account's webhook endpoints (docs/webhooks.md): add one (its signing
 * secret is printed this once), list them with their delivery counts, remove one, show an
 * endpoint's recent deliveries, and send a delivery again. The rules are the core's
 * (src/core/webhooks.ts).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { timeFormat, type TimeFormat } from '../../core/time-format.ts';
import {
  addWebhook, listWebhooks, MAX_WEBHOOK_ENDPOINTS, removeWebhook, resendWebhookDelivery, webhookDeliveries,
} from '../../core/webhooks.ts';
import { WEBHOOK_EVENTS } from '../../model/webhook.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../../store/webhooks.ts';
import type { CliDeps } from '../cli-deps.ts';
import { CliError, details, table, UsageError } from '../output.ts';

function positiveId(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`Expected ${what} id, a positive whole number.`);
    return n;
  };
}

const endpointJson = (wsUser: string, e: WebhookEndpoint, time: TimeFormat): Record<string, unknown> => ({
  wsUser, id: e.id, url: e.url, events: e.events, enabled: e.enabled, createdAt: time.iso(e.createdAt),
});

const deliveryJson = (d: WebhookDelivery, time: TimeFormat): Record<string, unknown> => ({
  id: d.id, webhookId: d.messageId, event: d.event, idProcess: d.processId, status: d.status, attempts: d.attempts,
  responseCode: d.responseCode, lastError: d.lastError, createdAt: time.iso(d.createdAt),
  lastAttemptAt: d.lastAttemptAt ? time.iso(d.lastAttemptAt) : null, nextAttemptAt: d.status === 'pending' ? time.iso(d.nextAttemptAt) : null,
  deliveredAt: d.deliveredAt ? time.iso(d.deliveredAt) : null,
});

export function register(program: Command, deps: CliDeps): void {
  const { output } = deps;
  const webhook = program.command('webhook').description("an account's webhook endpoints (signed POSTs when imports end and confirmations are sent)");

  webhook.command('add')
    .description('add a webhook endpoint to the account; prints its signing secret (only this once)')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<url>', 'where to POST: https://…, or http:// on the loopback only')
    .option('--events <names>', `comma-separated events (default all): ${WEBHOOK_EVENTS.join(', ')}`)
    .action(async (wsUser: string, url: string, options: { events?: string }) => {
      const account = await deps.account(wsUser);
      const outcome = await addWebhook(await deps.store(), account.id, url, options.events);
      if (!outcome.ok) throw new UsageError(outcome.message);
      const { endpoint, secret } = outcome;
      output.result({ ...endpointJson(account.wsUser, endpoint, timeFormat(deps.config().timeZone)), secret }, () => [
        'Webhook endpoint added.',
        details([
          ['account', account.wsUser], ['id', String(endpoint.id)], ['url', endpoint.url], ['events', endpoint.events.join(', ')],
          ['signing secret', `${secret}   (shown only this once)`],
        ]),
      ].join('\n'));
    });

  webhook.command('ls').alias('list')
    .description("show the account's webhook endpoints and how many of their deliveries are pending, delivered or given up")
    .argument('<wsUser>', 'the account, such as a1001')
    .action(async (wsUser: string) => {
      const account = await deps.account(wsUser);
      const endpoints = await listWebhooks(await deps.store(), account.id);
      const time = timeFormat(deps.config().timeZone);
      output.result(endpoints.map((e) => ({ ...endpointJson(account.wsUser, e, time), deliveries: e.deliveries })), () => table(
        ['id', 'url', 'events', 'pending', 'delivered', 'given up', 'created'],
        endpoints.map((e) => [String(e.id), e.url, e.events.join(','), String(e.deliveries.pending), String(e.deliveries.delivered), String(e.deliveries.given_up), time.text(e.createdAt)]),
        `Account ${account.wsUser} has no webhook endpoints (up to ${MAX_WEBHOOK_ENDPOINTS}); add one with "webhook add ${account.wsUser} <url>".`,
      ));
    });

  webhook.command('rm').alias('remove')
    .description('remove a webhook endpoint of the account, with its deliveries (pending ones are not sent)')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<id>', 'the endpoint id, as "webhook ls" shows it', positiveId('an endpoint'))
    .action(async (wsUser: string, id: number) => {
      const account = await deps.account(wsUser);
      if (!await removeWebhook(await deps.store(), account.id, id)) throw new CliError(`webhook endpoint ${id} does not exist in account ${account.wsUser}`);
      output.result({ wsUser: account.wsUser, id, removed: true }, () => `Webhook endpoint ${id} of ${account.wsUser} removed.`);
    });

  webhook.command('deliveries')
    .description("show a webhook endpoint's recent deliveries, newest first")
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<id>', 'the endpoint id, as "webhook ls" shows it', positiveId('an endpoint'))
    .action(async (wsUser: string, id: number) => {
      const account = await deps.account(wsUser);
      const found = await webhookDeliveries(await deps.store(), account.id, id);
      if (found === null) throw new CliError(`webhook endpoint ${id} does not exist in account ${account.wsUser}`);
      const time = timeFormat(deps.config().timeZone);
      output.result(found.deliveries.map((d) => deliveryJson(d, time)), () => table(
        ['id', 'event', 'import', 'status', 'attempts', 'response', 'time', 'webhook-id'],
        found.deliveries.map((d) => [String(d.id), d.event, d.processId === null ? '' : String(d.processId), d.status, String(d.attempts),
          d.responseCode === null ? (d.lastError ?? '') : String(d.responseCode), time.text(d.lastAttemptAt ?? d.createdAt), d.messageId]),
        `Webhook endpoint ${id} has no deliveries yet.`,
      ));
    });

  webhook.command('resend')
    .description('send a delivery again (same webhook-id and body) at the next pass of a running server')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<deliveryId>', 'the delivery id, as "webhook deliveries" shows it', positiveId('a delivery'))
    .action(async (wsUser: string, id: number) => {
      const account = await deps.account(wsUser);
      if (!await resendWebhookDelivery(await deps.store(), account.id, id)) {
        throw new CliError(`webhook delivery ${id} does not exist in account ${account.wsUser}, or is being sent right now`);
      }
      output.result({ wsUser: account.wsUser, id, resent: true }, () => `Webhook delivery ${id} will be sent again.`);
    });
}
