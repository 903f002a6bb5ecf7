/**
 * The nine operations of WSMailUpImport: each reads its SOAP arguments, asks the core
 * (src/core/) to do the work, and turns the outcome into typed result data or the documented
 * ReturnCode. The rules themselves (list check, group names, import options, starting imports)
 * are the core's; what is here is the SOAP side: argument formats and which code each refusal is.
 */
import { createGroup } from '../core/groups.ts';
import {
  confirmationMessageExists, createImports, findImport, importOptions, startImports, startPendingImports, type ImportRequest, type StartRefusal,
} from '../core/imports.ts';
import { findList, isGuid } from '../core/lists.ts';
import type { FeedOutcome, FeedUpload } from '../import/feed-upload.ts';
import type { Account, ImportOptions, MailingList } from '../model/records.ts';
import type { Outcome } from '../protocol/operation-results.ts';
import type { OperationArgs, OperationName } from '../protocol/operations.ts';
import { fail, type Failure } from '../protocol/return-codes.ts';
import type { OperationContext } from './operation-context.ts';

export interface Call<Op extends OperationName> {
  readonly account: Account;
  readonly args: OperationArgs<Op>;
  /** The streamed feed of NewImportProcess / StartImportProcesses; null when `xmlDoc` was omitted. */
  readonly feed: FeedUpload<unknown> | null;
}

type Handler<Op extends OperationName> = (ctx: OperationContext, call: Call<Op>) => Promise<Outcome<Op>>;

const ok = <T>(data: T): { ok: true; data: T } => ({ ok: true, data });

export const handlers: { [Op in OperationName]: Handler<Op> } = {
  async GetIdWsUser(_ctx, { account }) {
    return ok({ idUser: account.id });
  },

  async GetIdUser(ctx, { account, args }) {
    const name = args.userName?.trim() ?? '';
    const user = name === '' ? null : await ctx.store.accounts.findConsoleUser(account.id, name);
    return user ? ok({ idUser: user.id }) : fail(-200);
  },

  async GetNlLists(ctx, { account }) {
    return ok({ lists: await ctx.store.lists.listLists(account.id) });
  },

  async GetNlListsUser(ctx, { account, args }) {
    const user = await ctx.store.accounts.getConsoleUser(account.id, args.userId);
    if (!user) return fail(-200);
    return ok({ lists: await ctx.store.lists.listLists(account.id, user.listIds) });
  },

  async CreateGroup(ctx, { account, args }) {
    if (args.idList <= 0) return fail(-301);
    const list = await checkList(ctx, account, args.idList, args.listGUID);
    if (isFailure(list)) return list;
    const created = await createGroup(ctx.store, list.id, args.newGroupName ?? '');
    return created.ok ? ok({ idGroup: created.group.id }) : fail(-302);
  },

  async NewImportProcess(ctx, { account, args, feed }) {
    const list = await checkList(ctx, account, args.idList, args.listGUID);
    if (isFailure(list)) return list;
    const options = await optionsFor(ctx, list, args.idGroups, args, args.idConfirmNL);
    if (isFailure(options)) return options;
    const stored = await storedFeed(feed);
    if (isFailure(stored)) return stored;
    if (!(await confirmationMessageExists(ctx.store, account.id, options.idConfirmNL))) return fail(-410);
    const created = await createImports(ctx, account.id, stored.feed, [{ listId: list.id, options }], { start: false });
    if (!created.ok) return fail(-403);
    feed!.adopt();
    return ok({ idProcess: created.processes[0]!.id });
  },

  async StartImportProcesses(ctx, { account, args, feed }) {
    const lists = await resolveLists(ctx, account, args.listsIDs, args.listsGUIDs);
    if (isFailure(lists)) return lists;
    if (feed === null) {
      // No xmlDoc: run every process prepared with NewImportProcess, oldest first (spec §7.1).
      const started = await startPendingImports(ctx, account.id, lists.map((l) => l.id));
      if (!started.ok) return fail(startFailureCode(started.reason));
      return ok({ processes: started.processes.map((p) => ({ processId: p.id, listId: p.listId })) });
    }
    if (lists.length === 0) return fail(-450);
    const groupsPerList = (args.groupsIDs ?? '').split(';');
    const entries: { listId: number; options: ImportOptions }[] = [];
    for (const [i, list] of lists.entries()) {
      const options = await optionsFor(ctx, list, groupsPerList[i] ?? '', args, 0);
      if (isFailure(options)) return options;
      entries.push({ listId: list.id, options });
    }
    const stored = await storedFeed(feed);
    if (isFailure(stored)) return stored;
    const created = await createImports(ctx, account.id, stored.feed, entries, { start: true });
    if (!created.ok) return fail(startFailureCode(created.reason));
    feed.adopt();
    return ok({ processes: created.processes.map((p) => ({ processId: p.id, listId: p.listId })) });
  },

  async StartProcess(ctx, { account, args }) {
    const list = await checkList(ctx, account, args.idList, args.listGUID);
    if (isFailure(list)) return list;
    const process = await findImport(ctx.store, account.id, list.id, args.idProcess);
    if (process === null) return fail(-603);
    const started = await startImports(ctx, account.id, [process.id]);
    return started.ok ? ok({}) : fail(startFailureCode(started.reason));
  },

  async GetProcessDetails(ctx, { account, args }) {
    const list = await checkList(ctx, account, args.idList, args.listGUID);
    if (isFailure(list)) return list;
    const process = await findImport(ctx.store, account.id, list.id, args.idProcess);
    return process === null ? fail(-501) : ok({ process });
  },
};

function startFailureCode(reason: StartRefusal): -601 | -602 | -603 {
  return reason === 'busy-same-list' ? -601 : reason === 'busy-other-list' ? -602 : -603;
}

/** The feed of the call: -401 when omitted or empty, -402 when it is not a well-formed feed. */
async function storedFeed(feed: FeedUpload<unknown> | null): Promise<Extract<FeedOutcome, { kind: 'stored' }> | Failure> {
  if (feed === null) return fail(-401);
  const outcome = await feed.finish();
  if (outcome.kind === 'stored') return outcome;
  return fail(outcome.kind === 'malformed' ? -402 : outcome.kind === 'empty' ? -401 : -400);
}

type ImportArgs = Omit<ImportRequest, 'groupIds' | 'idConfirmNL'>;

/**
 * The options a process runs with, from the call's arguments: group ids as a comma-separated
 * string (each a positive whole number, else -400); the rules (defaults, ranges, groups of the
 * list) are the core's, and every refusal is -400.
 */
async function optionsFor(ctx: OperationContext, list: MailingList, groupIds: string | null, args: ImportArgs, idConfirmNL: number): Promise<ImportOptions | Failure> {
  const ids = (groupIds ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '').map(Number);
  if (ids.some((n) => !Number.isInteger(n) || n <= 0)) return fail(-400);
  const { importType, mobileInputType, asPending, ConfirmEmail, asOptOut, forceOptIn, replaceGroups } = args;
  const checked = await importOptions(ctx.store, list, {
    groupIds: ids, importType, mobileInputType, asPending, ConfirmEmail, asOptOut, forceOptIn, replaceGroups, idConfirmNL,
  });
  return checked.ok ? checked.options : fail(-400);
}

/** The list check of every method taking idList and listGUID (spec §3.4): -102 for a malformed GUID, -101 for no such list. */
async function checkList(ctx: OperationContext, account: Account, idList: number, listGUID: string | null): Promise<MailingList | Failure> {
  const found = await findList(ctx.store, account.id, idList, listGUID);
  return found.ok ? found.list : fail(found.reason === 'invalid-guid' ? -102 : -101);
}

const isFailure = (x: unknown): x is Failure => typeof x === 'object' && x !== null && (x as Failure).ok === false;

/**
 * The lists of StartImportProcesses: `;`-separated ids and/or GUIDs, position by position. When
 * both are given they must have as many items (-450); each position must name a list of the
 * account (-101), a GUID must be well-formed (-102).
 */
async function resolveLists(ctx: OperationContext, account: Account, ids: string | null, guids: string | null): Promise<MailingList[] | Failure> {
  const split = (s: string | null): string[] | null => (s === null || s.trim() === '' ? null : s.split(';').map((t) => t.trim()));
  const idItems = split(ids);
  const guidItems = split(guids);
  if (idItems && guidItems && idItems.length !== guidItems.length) return fail(-450);
  const count = idItems?.length ?? guidItems?.length ?? 0;
  const all = count > 0 ? await ctx.store.lists.listLists(account.id) : [];
  const lists: MailingList[] = [];
  for (let i = 0; i < count; i++) {
    const id = idItems?.[i] ?? '';
    const guid = guidItems?.[i] ?? '';
    if (id === '' && guid === '') continue;
    if (guid !== '' && !isGuid(guid)) return fail(-102);
    if (id !== '' && !/^[0-9]+$/.test(id)) return fail(-101);
    const list = all.find((l) => (id === '' || l.id === Number(id)) && (guid === '' || l.guid === guid.toLowerCase()));
    if (!list) return fail(-101);
    lists.push(list);
  }
  return lists;
}
