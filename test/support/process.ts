/** Starts the runner as a user would (`npm start`) and stops it like Ctrl-C does. */
import { type ChildProcess, spawn } from 'node:child_process';

export interface StartedProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when a line matching `pattern` has been printed. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code, or the signal that ended the process. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** Sends a signal to the whole process group, as a terminal's Ctrl-C does. */
  signal(signal: NodeJS.Signals): void;
}

export function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv): StartedProcess {
  const child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  return {
    child,
    output: () => output,
    exited,
    signal: (signal) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // Already gone.
      }
    },
    waitForOutput: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no output matching ${pattern} in ${timeoutMs} ms; got:\n${output}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => setTimeout(check, 0));
        check();
      }),
  };
}

/** Whether a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The local runner's ready line: its HTTP, WebSocket and Safe URLs and its server public key. */
export const RUNNER_READY =
  /switchyard ready: http (\S+) · ws (\S+) · safe (\S+) · server key ([0-9a-f]{64})/;

/** The runner as `npm start` runs it (`local/main.ts` through tsx), on `port` and `dataDir`. */
export function startRunnerProcess(port: number, dataDir: string): StartedProcess {
  return startProcess(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    ...process.env,
    PORT: String(port),
    DATA_DIR: dataDir,
  });
}
