/**
 * The list check every method taking idList + listGUID makes (spec §3.4): the GUID must be a
 * 36-character GUID (-102) and the pair must name a list of the caller's account (-101).
 * GUIDs are compared without regard to case.
 */
import { fail, type Failure } from '../protocol/return-codes.ts';
import type { Account, MailingList } from '../store/types.ts';
import type { OperationContext } from './context.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isGuid = (s: string): boolean => GUID.test(s.trim());

export async function checkList(ctx: OperationContext, account: Account, idList: number, listGUID: string | null): Promise<MailingList | Failure> {
  if (listGUID === null || !isGuid(listGUID)) return fail(-102);
  const list = await ctx.store.getList(account.id, idList);
  if (list === null || list.guid !== listGUID.trim().toLowerCase()) return fail(-101);
  return list;
}

export const isFailure = (x: unknown): x is Failure => typeof x === 'object' && x !== null && (x as Failure).ok === false;
