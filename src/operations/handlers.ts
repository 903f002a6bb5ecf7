/**
 * The nine operations: authentication, the list check and each method's own rules, returning
 * typed data or a documented ReturnCode. Nothing here knows SOAP or HTTP; the protocol layer
 * turns the outcome into a result string.
 */
import type { FeedOutcome, FeedUpload } from '../import/feed-upload.ts';
import type { OperationArgs, OperationName } from '../protocol/operations.ts';
import { fail, type Failure } from '../protocol/return-codes.ts';
import type { Account, ImportOptions, ImportProcess, ListWithGroups, MailingList } from '../model/records.ts';
import type { OperationContext } from './context.ts';
import { checkList, isFailure, isGuid } from './list-check.ts';

/** What each operation returns on success, before it is written as a result string. */
export interface ResultData {
  GetIdWsUser: { readonly idUser: number };
  GetIdUser: { readonly idUser: number };
  GetNlLists: { readonly lists: readonly ListWithGroups[] };
  GetNlListsUser: { readonly lists: readonly ListWithGroups[] };
  NewImportProcess: { readonly idProcess: number };
  StartImportProcesses: { readonly processes: readonly { readonly processId: number; readonly listId: number }[] };
  CreateGroup: { readonly idGroup: number };
  GetProcessDetails: { readonly process: ImportProcess };
  StartProcess: Record<string, never>;
}

export type Outcome<Op extends OperationName> = { readonly ok: true; readonly data: ResultData[Op] } | Failure;

export interface Call<Op extends OperationName> {
  readonly account: Account;
  readonly args: OperationArgs<Op>;
  /** The streamed feed of NewImportProcess / StartImportProcesses; null when `xmlDoc` was omitted. */
  readonly feed: FeedUpload<unknown> | null;
}

type Handler<Op extends OperationName> = (ctx: OperationContext, call: Call<Op>) => Promise<Outcome<Op>>;

const ok = <T>(data: T): { ok: true; data: T } => ({ ok: true, data });

/** Longest group name; MailUp truncates longer ones (spec §13). */
export const MAX_GROUP_NAME = 50;
/** Group names are unique without regard to case but with regard to accents, as in MailUp's SQL Server collation (CI_AS). */
const SAME_GROUP_NAME = new Intl.Collator('en', { sensitivity: 'accent', usage: 'search' });

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
    const name = truncateName(args.newGroupName ?? '', MAX_GROUP_NAME);
    if (name === '') return fail(-302);
    // The store's unique index folds ASCII case only; "CITTÀ" must find "Città" too.
    const existing = (await ctx.store.lists.getGroups(list.id)).find((g) => SAME_GROUP_NAME.compare(g.name, name) === 0);
    if (existing) return ok({ idGroup: existing.id });
    const { group } = await ctx.store.lists.createGroup(list.id, name);
    return ok({ idGroup: group.id });
  },

  async NewImportProcess(ctx, { account, args, feed }) {
    const list = await checkList(ctx, account, args.idList, args.listGUID);
    if (isFailure(list)) return list;
    const options = await importOptions(ctx, list, args.idGroups, args, args.idConfirmNL, ',');
    if (isFailure(options)) return options;
    const stored = await storedFeed(feed);
    if (isFailure(stored)) return stored;
    if (options.idConfirmNL !== 0 && !(await ctx.store.confirmations.confirmationMessageExists(account.id, options.idConfirmNL))) return fail(-410);
    const created = await ctx.store.processes.createProcesses(account.id, stored.feed, [{ listId: list.id, options }], { start: false });
    if (!created.ok) return fail(-403);
    feed!.adopt();
    return ok({ idProcess: created.processes[0]!.id });
  },

  async StartImportProcesses(ctx, { account, args, feed }) {
    const lists = await resolveLists(ctx, account, args.listsIDs, args.listsGUIDs);
    if (isFailure(lists)) return lists;
    if (feed === null) {
      // No xmlDoc: run every process prepared with NewImportProcess, oldest first (spec §7.1).
      const pending = await ctx.store.processes.pendingProcessIds(account.id);
      if (pending.length === 0) return ok({ processes: [] });
      const started = await ctx.store.processes.startProcesses(account.id, pending);
      if (!started.ok) return fail(startFailureCode(started.reason));
      ctx.wakeWorkers();
      const processes = await Promise.all(pending.map((id) => ctx.store.processes.getProcess(account.id, id)));
      return ok({ processes: processes.map((p) => ({ processId: p!.id, listId: p!.listId })) });
    }
    if (lists.length === 0) return fail(-450);
    const groupsPerList = (args.groupsIDs ?? '').split(';');
    const entries: { listId: number; options: ImportOptions }[] = [];
    for (const [i, list] of lists.entries()) {
      const options = await importOptions(ctx, list, groupsPerList[i] ?? '', args, 0, ',');
      if (isFailure(options)) return options;
      entries.push({ listId: list.id, options });
    }
    const stored = await storedFeed(feed);
    if (isFailure(stored)) return stored;
    const created = await ctx.store.processes.createProcesses(account.id, stored.feed, entries, { start: true });
    if (!created.ok) return fail(startFailureCode(created.reason));
    feed.adopt();
    ctx.wakeWorkers();
    return ok({ processes: created.processes.map((p) => ({ processId: p.id, listId: p.listId })) });
  },

  async StartProcess(ctx, { account, args }) {
    const list = await checkList(ctx, account, args.idList, args.listGUID);
    if (isFailure(list)) return list;
    const process = await ctx.store.processes.getProcess(account.id, args.idProcess);
    if (process === null || process.listId !== list.id) return fail(-603);
    const started = await ctx.store.processes.startProcesses(account.id, [process.id]);
    if (!started.ok) return fail(startFailureCode(started.reason));
    ctx.wakeWorkers();
    return ok({});
  },

  async GetProcessDetails(ctx, { account, args }) {
    const list = await checkList(ctx, account, args.idList, args.listGUID);
    if (isFailure(list)) return list;
    const process = await ctx.store.processes.getProcess(account.id, args.idProcess);
    if (process === null || process.listId !== list.id) return fail(-501);
    return ok({ process });
  },
};

/**
 * The first `max` characters of a trimmed name, counted in code points: cutting UTF-16 units
 * could leave half a surrogate pair, which no XML document can carry.
 */
function truncateName(name: string, max: number): string {
  const chars = Array.from(name.trim());
  return chars.length <= max ? chars.join('') : chars.slice(0, max).join('').trimEnd();
}

function startFailureCode(reason: 'not-found' | 'not-startable' | 'busy-same-list' | 'busy-other-list'): -601 | -602 | -603 {
  return reason === 'busy-same-list' ? -601 : reason === 'busy-other-list' ? -602 : -603;
}

/** The feed of the call: -401 when omitted or empty, -402 when it is not a well-formed feed. */
async function storedFeed(feed: FeedUpload<unknown> | null): Promise<Extract<FeedOutcome, { kind: 'stored' }> | Failure> {
  if (feed === null) return fail(-401);
  const outcome = await feed.finish();
  if (outcome.kind === 'stored') return outcome;
  return fail(outcome.kind === 'malformed' ? -402 : outcome.kind === 'empty' ? -401 : -400);
}

interface ImportArgs {
  readonly importType: number;
  readonly mobileInputType: number;
  readonly asPending: boolean;
  readonly ConfirmEmail: boolean;
  readonly asOptOut: boolean;
  readonly forceOptIn: boolean;
  readonly replaceGroups: boolean;
}

/**
 * The options a process runs with. importType 0 (omitted) means the documented default 3 and
 * mobileInputType 0 means 1; other values outside 1–6 and 1–2 are refused with -400, as are
 * group ids that are not groups of the list.
 */
async function importOptions(
  ctx: OperationContext, list: MailingList, groupIds: string | null, args: ImportArgs, idConfirmNL: number, separator: string,
): Promise<ImportOptions | Failure> {
  const importType = args.importType === 0 ? 3 : args.importType;
  const mobileInputType = args.mobileInputType === 0 ? 1 : args.mobileInputType;
  if (!(importType >= 1 && importType <= 6) || !(mobileInputType === 1 || mobileInputType === 2)) return fail(-400);
  const tokens = (groupIds ?? '').split(separator).map((t) => t.trim()).filter((t) => t !== '');
  const ids = tokens.map(Number);
  if (ids.some((n) => !Number.isInteger(n) || n <= 0)) return fail(-400);
  if (ids.length > 0) {
    const known = new Set((await ctx.store.lists.getGroups(list.id)).map((g) => g.id));
    if (ids.some((id) => !known.has(id))) return fail(-400);
  }
  return {
    groupIds: [...new Set(ids)], importType, mobileInputType, asPending: args.asPending, ConfirmEmail: args.ConfirmEmail,
    asOptOut: args.asOptOut, forceOptIn: args.forceOptIn, replaceGroups: args.replaceGroups, idConfirmNL,
  };
}

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
