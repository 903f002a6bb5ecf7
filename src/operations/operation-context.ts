/**
 * What the SOAP operations need from the rest of the service, built once by the composition
 * root: what the core's access checks and imports need. Collaborators are plain functions and
 * interfaces, so operations never import HTTP, mail or the worker.
 */
import type { AccessContext } from '../core/access.ts';
import type { ImportContext } from '../core/imports.ts';

export interface OperationContext extends AccessContext, ImportContext {}
