/**
 * Running the `mailup-import` command in tests, as a user runs it: as a child process (exit code
 * from the process), or the same program in this process (a child process costs seconds to start
 * on a busy machine). Either sees only the settings given: no MAILUP_* from outside and no user
 * config file (XDG_CONFIG_HOME points into the test's folder).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/cli/program.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment a run sees: `env` only, with the config folder inside `folder`. */
export function cliEnvironment(folder: string, env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MAILUP_')));
  return { ...base, XDG_CONFIG_HOME: join(folder, 'no-config'), ...env };
}

/** The command as a child process. */
export function cliProcess(folder: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: cliEnvironment(folder, env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The same program in this process. */
export async function cliInProcess(folder: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const collect = (): PassThrough & { text: () => string } => {
    const stream = new PassThrough();
    let text = '';
    stream.setEncoding('utf8').on('data', (s: string) => (text += s));
    return Object.assign(stream, { text: () => text });
  };
  const stdout = collect();
  const stderr = collect();
  const code = await runCli(args, { stdout, stderr, env: cliEnvironment(folder, env), isTTY: false });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
