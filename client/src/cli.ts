#!/usr/bin/env node
/**
 * The `mailup-import` command. Run `mailup-import --help` for the commands, settings, exit
 * codes and examples; the program itself is in cli/program.ts.
 */
import { runCli } from './cli/program.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTTY: process.stderr.isTTY === true,
});
