/**
 * Runs the real `switchyard` CLI or the operator's `switchyard-ops` as a child process, as a user
 * would: the built JavaScript that package.json's `bin` names (the test run builds it first, in
 * global-setup.ts), and collects what it printed.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve('dist/switchyard.js');
const OPS_BIN = resolve('dist/switchyard-ops.js');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  readonly stdin?: string;
  readonly env?: Record<string, string>;
}

/** `switchyard ...args` with `env` added to this process's environment and `stdin` piped in. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  return run(BIN, args, options);
}

/** `switchyard-ops ...args`, the same way. */
export function runOpsCli(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  return run(OPS_BIN, args, options);
}

function run(bin: string, args: readonly string[], options: RunOptions): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
