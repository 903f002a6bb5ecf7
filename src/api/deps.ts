/**
 * What the JSON API's route modules share: their dependencies and the error they throw.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Account } from '../model/records.ts';
import type { Config } from '../config.ts';
import type { ConfirmationDeps } from '../mail/confirmation-setup.ts';
import type { OperationContext } from '../operations/operation-context.ts';
import type { Store } from '../store/store.ts';

export interface ApiDeps {
  readonly ctx: {
    readonly config: Config;
    readonly store: Store;
    readonly operations: OperationContext;
    readonly mail: ConfirmationDeps;
  };
}

/** Registers one concept's routes on the API's scope (paths below `/api`). */
export type ApiRouteModule = (app: FastifyInstance, deps: ApiDeps) => void;

/** A client error with the status and message it is answered with (`{ "error": message }`). */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const accounts = new WeakMap<FastifyRequest, Account>();

/** Records the account a request authenticated as (the API's onRequest hook). */
export function setApiAccount(request: FastifyRequest, account: Account): void {
  accounts.set(request, account);
}

/** The account the request authenticated as (every route but the public ones). */
export function apiAccount(request: FastifyRequest): Account {
  const account = accounts.get(request);
  if (account === undefined) throw new Error('apiAccount read on a route without authentication');
  return account;
}
