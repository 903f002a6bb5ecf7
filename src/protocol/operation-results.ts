/**
 * How each operation's outcome is written as a `<mailupMessage>` result string: the result half
 * of the protocol table. Failures are a bare negative ReturnCode.
 */
import type { ImportProcess, ListWithGroups } from '../model/records.ts';
import { element, emptyElement, fields, mailupMessage, Markup, type ResultFormat } from './mailup-message.ts';
import type { OperationName } from './operations.ts';
import type { Failure } from './return-codes.ts';

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

/** An operation's outcome: its result data, or a documented negative ReturnCode. */
export type Outcome<Op extends OperationName> = { readonly ok: true; readonly data: ResultData[Op] } | Failure;

type Builder<Op extends OperationName> = (data: ResultData[Op], format: ResultFormat) => string;

function lists(data: { readonly lists: readonly ListWithGroups[] }): string {
  const items = data.lists.map((l) =>
    element('List', { idList: l.id, listGUID: l.guid, listName: l.name },
      element('Groups', null, ...l.groups.map((g) => emptyElement('Group', { idGroup: g.id, groupName: g.name })))));
  return mailupMessage(0, element('Lists', null, ...items));
}

/** The fields of GetProcessDetails, in the order of MailUp's samples (the seed page). */
export function processDetails(p: ImportProcess, format: ResultFormat): Markup {
  const c = p.counters;
  const running = p.status === 2;
  const finished = p.status === 3 || p.status === 4;
  return element('ImportProcess', { idProcess: p.id }, fields([
    ['StartDate', p.startDate],
    ['EndDate', finished ? p.endDate : null],
    ['TotalContacts', p.totalContacts],
    ['NewMobile', c.newMobile],
    ['NewEmail', c.newEmail],
    ['OptOutMobile', c.optOutMobile],
    ['OptOutEmail', c.optOutEmail],
    ['ExistingMobile', c.existingMobile],
    ['ExistingEmail', c.existingEmail],
    ['StatusCode', p.status],
    ['IsRunning', running],
    ['ConfirmationEmail', p.options.ConfirmEmail],
    // Empty when no confirmation was asked for; False until Send Now delivered them all.
    ['ConfirmationSent', p.options.ConfirmEmail ? p.confirmationSentAt !== null : null],
  ], format));
}

export const RESULT_BUILDERS: { [Op in OperationName]: Builder<Op> } = {
  GetIdWsUser: (d) => mailupMessage(0, element('IdUser', null, d.idUser)),
  GetIdUser: (d) => mailupMessage(0, element('IdUser', null, d.idUser)),
  GetNlLists: lists,
  GetNlListsUser: lists,
  NewImportProcess: (d) => mailupMessage(d.idProcess),
  StartImportProcesses: (d) => mailupMessage(0, element('processes', null, ...d.processes.map((p) =>
    element('process', null, element('processID', null, p.processId), element('listID', null, p.listId), element('ReturnCode', null, 0))))),
  CreateGroup: (d) => mailupMessage(d.idGroup),
  GetProcessDetails: (d, format) => mailupMessage(0, processDetails(d.process, format)),
  StartProcess: () => mailupMessage(0),
};

export function renderOutcome<Op extends OperationName>(operation: Op, outcome: Outcome<Op>, format: ResultFormat): string {
  return outcome.ok ? RESULT_BUILDERS[operation](outcome.data, format) : mailupMessage(outcome.code);
}
