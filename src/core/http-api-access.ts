/**
 * Who may call the HTTP subscribe API (`/frontend/…`) for an account's lists: MailUp answers
 * those calls only from the addresses registered for the account (-1011 otherwise). Each account
 * has its own HTTP-API allow-list of IPv4 and IPv6 addresses and CIDR ranges; empty admits nobody.
 * It is separate from the web service's IP check: a shop's server may be allowed to subscribe
 * visitors without being allowed to import.
 *
 * Addresses are kept in the form the web service's allow-list uses (src/core/ip-address.ts), a
 * range as that form and its prefix length (`192.0.2.0/24`, `2001:db8::/32`). Ranges are matched
 * with Node's own `net.BlockList`: no library is needed for prefix matching, and it is the matcher
 * Node itself uses for socket filtering.
 */
import { BlockList, isIPv4 } from 'node:net';
import type { Account } from '../model/records.ts';
import type { Store } from '../store/store.ts';
import { canonicalAddress } from './ip-address.ts';

/** Most entries an account's HTTP-API allow-list keeps. */
export const MAX_HTTP_API_ENTRIES = 100;

/** One entry in canonical form (`address` or `address/prefix`), or null when it is neither. */
export function canonicalHttpApiEntry(input: string): string | null {
  const text = input.trim();
  const slash = text.indexOf('/');
  if (slash < 0) return canonicalAddress(text);
  const address = canonicalAddress(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (address === null || !/^\d{1,3}$/.test(prefix)) return null;
  const bits = Number(prefix);
  if (address.includes('%') || bits > (isIPv4(address) ? 32 : 128)) return null;
  return `${address}/${bits}`;
}

export type HttpApiListRefusal =
  | { readonly ok: false; readonly reason: 'invalid-entry'; readonly invalid: readonly string[] }
  | { readonly ok: false; readonly reason: 'too-many'; readonly max: number };

/** Entries in canonical form, each once, in the order given; blank entries are skipped. */
export function parseHttpApiAllowList(entries: readonly string[]): { ok: true; entries: string[] } | HttpApiListRefusal {
  const given = entries.map((e) => e.trim()).filter((e) => e !== '');
  const invalid = given.filter((e) => canonicalHttpApiEntry(e) === null);
  if (invalid.length > 0) return { ok: false, reason: 'invalid-entry', invalid };
  const unique = [...new Set(given.map((e) => canonicalHttpApiEntry(e)!))];
  if (unique.length > MAX_HTTP_API_ENTRIES) return { ok: false, reason: 'too-many', max: MAX_HTTP_API_ENTRIES };
  return { ok: true, entries: unique };
}

/** Replaces the account's HTTP-API allow-list (the admin CLI, the console and the demo set-up call this). */
export async function setHttpApiIps(
  store: Store, accountId: number, entries: readonly string[],
): Promise<{ ok: true; account: Account } | HttpApiListRefusal | { readonly ok: false; readonly reason: 'not-found' }> {
  const parsed = parseHttpApiAllowList(entries);
  if (!parsed.ok) return parsed;
  const account = await store.accounts.updateAccount(accountId, { httpApiIps: parsed.entries });
  return account ? { ok: true, account } : { ok: false, reason: 'not-found' };
}

/** Whether `ip`, the caller's socket address, is on the account's HTTP-API allow-list. */
export function httpApiAllows(account: Pick<Account, 'httpApiIps'>, ip: string): boolean {
  const caller = canonicalAddress(ip);
  if (caller === null || account.httpApiIps.length === 0) return false;
  const list = new BlockList();
  for (const entry of account.httpApiIps) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    try {
      if (bits === undefined) list.addAddress(address, family);
      else list.addSubnet(address, Number(bits), family);
    } catch {
      // An entry BlockList cannot take (a zone index) can match only itself, compared below.
    }
  }
  if (account.httpApiIps.includes(caller)) return true;
  try {
    return list.check(caller, isIPv4(caller) ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
}
