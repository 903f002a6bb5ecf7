/**
 * The pages of MailUp's HTTP subscribe API (spec Part 1), each turning its parameters into a core
 * call (src/core/recipients.ts, recipient-changes.ts) and the core's answer into MailUp's code.
 * Who may call, and which account a call is for, is settled before a page runs (./routes.ts).
 *
 * Codes (docs/behaviour.md, "HTTP subscribe API"):
 *   xmlSubscribe     0 done (also: already subscribed, and the mobile changed), 1 generic error,
 *                    2 invalid e-mail or mobile, 3 already subscribed
 *   Xmlchksubscriber 1 error or not on the list, 2 subscribed, 3 unsubscribed, 4 pending
 *   xmlUnSubscribe   0 unsubscribed, 1 generic error, 3 unknown or already unsubscribed
 *   XmlUpdSubscriber 0 updated, 1 generic error
 */
import { canonicalAddress } from '../core/ip-address.ts';
import { recipientStatus, unsubscribeRecipient, updateRecipient } from '../core/recipient-changes.ts';
import { subscribeRecipient } from '../core/recipients.ts';
import type { ConfirmationDeps } from '../mail/confirmation-setup.ts';
import type { Account, MailingList } from '../model/records.ts';
import { csvFields, flag, idList, param, type Params } from './parameters.ts';

/** What a page knows when it runs: the caller is allowed, the lists are the account's and match their GUIDs. */
export interface PageCall {
  readonly params: Params;
  readonly account: Account;
  /** The lists of `List`, in order (several only for xmlSubscribe). */
  readonly lists: readonly MailingList[];
  readonly mail: ConfirmationDeps;
}

/** A page's answer: MailUp's code, and for xmlSubscribe with retCode=0 the text said instead. */
export interface PageAnswer {
  readonly code: number;
  readonly text?: string;
}

export interface Page {
  /** Several lists may be named (xmlSubscribe only). */
  readonly severalLists: boolean;
  /** Answers a sentence unless retCode=1 (xmlSubscribe only; the other pages always answer the bare code). */
  readonly textAnswers: boolean;
  run(call: PageCall): Promise<PageAnswer>;
}

export const GENERIC_ERROR = 1;

/** xmlSubscribe's answers with retCode=0 (the default): one short sentence per code. */
export const SUBSCRIBE_TEXTS = {
  done: 'Subscription done.',
  pending: 'Subscription done: please confirm it with the link sent to your e-mail address.',
  1: 'Error: the subscription could not be completed.',
  2: 'Invalid e-mail address or mobile number.',
  3: 'Already subscribed.',
  [-1011]: 'IP address not registered.',
} as const;

/** The answer of xmlSubscribe with retCode (numeric) or without (text). */
export function subscribeAnswer(params: Params, code: number, pending = false): PageAnswer {
  if (flag(param(params, 'retCode'), false) !== false) return { code };
  const text = code === 0 ? (pending ? SUBSCRIBE_TEXTS.pending : SUBSCRIBE_TEXTS.done) : SUBSCRIBE_TEXTS[code as 1 | 2 | 3 | -1011];
  return { code, text };
}

const error = (): PageAnswer => ({ code: GENERIC_ERROR });
const who = (p: Params): { email: string; mobile: string } => ({ email: param(p, 'Email'), mobile: param(p, 'Sms') });

const subscribe: Page = {
  severalLists: true,
  textAnswers: true,
  async run({ params: p, account, lists, mail }) {
    const answer = (code: number, pending = false): PageAnswer => subscribeAnswer(p, code, pending);
    const confirm = flag(param(p, 'Confirm'), true);
    const groups = idList(param(p, 'Group'), /[,;]/);
    const fields = csvFields(p);
    const confirmList = idList(param(p, 'ConfirmListID'));
    if (confirm === null || groups === null || fields === null || confirmList === null || confirmList.length > 1) return answer(GENERIC_ERROR);
    const { email, mobile } = who(p);
    if (email === '' && mobile === '') return answer(2);
    const outcome = await subscribeRecipient(mail, {
      accountId: account.id, listIds: lists.map((l) => l.id), groupIds: groups,
      recipient: { email, mobile, fields }, confirm,
      // The visitor asks for the subscription: one who unsubscribed may come back (not after a bounce or complaint).
      forceOptIn: true, keyMismatch: 'update',
      confirmListId: confirmList[0] ?? null,
      sender: { email: param(p, 'Dynsndmail'), name: param(p, 'dynsndname') },
      // Recorded when it is an address; a proxy's "unknown" or a list of hops is not one.
      requestIp: canonicalAddress(param(p, 'ipAddress')),
    });
    if (!outcome.ok) {
      const invalidAddress = outcome.reason === 'invalid-email' || outcome.reason === 'invalid-mobile' || outcome.reason === 'no-address';
      return answer(invalidAddress ? 2 : GENERIC_ERROR);
    }
    if (outcome.result === 'done') return answer(0, outcome.channels.some((c) => c.after === 'pending'));
    if (outcome.result === 'already-subscribed') return answer(3);
    // Kept unsubscribed: a hard bounce says the address does not work; a complaint is final.
    const bounced = outcome.channels.some((c) => c.before.status === 'unsubscribed' && c.before.reason === 'bounce');
    return answer(bounced ? 2 : GENERIC_ERROR);
  },
};

const check: Page = {
  severalLists: false,
  textAnswers: false,
  async run({ params: p, account, lists, mail }) {
    const outcome = await recipientStatus(mail.store, account.id, lists[0]!.id, who(p));
    if (!outcome.ok) return error();
    return { code: outcome.status === 'subscribed' ? 2 : outcome.status === 'unsubscribed' ? 3 : outcome.status === 'pending' ? 4 : GENERIC_ERROR };
  },
};

const unsubscribe: Page = {
  severalLists: false,
  textAnswers: false,
  async run({ params: p, account, lists, mail }) {
    const outcome = await unsubscribeRecipient(mail.store, account.id, lists[0]!.id, who(p));
    if (!outcome.ok) return { code: outcome.reason === 'not-found' ? 3 : GENERIC_ERROR };
    return { code: outcome.result === 'unsubscribed' ? 0 : 3 };
  },
};

const update: Page = {
  severalLists: false,
  textAnswers: false,
  async run({ params: p, account, lists, mail }) {
    const replace = flag(param(p, 'Replace'), false);
    // One version of this page separates groups with `;`: both are accepted.
    const groups = idList(param(p, 'Group'), /[,;]/);
    const fields = csvFields(p, { refuseDoubleDash: true });
    if (replace === null || groups === null || fields === null) return error();
    const outcome = await updateRecipient(mail.store, {
      accountId: account.id, recipient: { ...who(p), fields }, listId: lists[0]!.id,
      groupIds: groups, replaceGroups: replace, keyMismatch: 'update',
    });
    return { code: outcome.ok ? 0 : GENERIC_ERROR };
  },
};

/** The pages by lower-case file name; `subscribe.aspx`, the sibling MailUp documents beside xmlSubscribe, answers the same. */
export const PAGES: Readonly<Record<string, Page>> = {
  'xmlsubscribe.aspx': subscribe,
  'subscribe.aspx': subscribe,
  'xmlchksubscriber.aspx': check,
  'xmlunsubscribe.aspx': unsubscribe,
  'xmlupdsubscriber.aspx': update,
};
