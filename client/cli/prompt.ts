/** Reading secrets and answers from an interactive prompt (scripts pipe secrets in: directory-common.ts). */
import { createInterface } from 'node:readline';
import { type CliIo, InterruptedError, UsageError } from './command.ts';

/**
 * Asks for a secret on the terminal without echoing it. Backspace deletes, Enter ends, Ctrl-C
 * aborts with InterruptedError. Without a terminal it throws a UsageError that points to
 * `--password-stdin`.
 */
export function promptHidden(
  question: string,
  io: CliIo,
  noTerminal = 'No terminal to ask for the password on. Pipe it in and add --password-stdin.',
): Promise<string> {
  const stdin = io.stdin;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') {
    return Promise.reject(new UsageError(noTerminal));
  }
  io.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (char === '\u0003' || (char === '\u0004' && value === '')) {
          finish();
          reject(new InterruptedError());
          return;
        }
        if (char === '\u007f' || char === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (char >= ' ') value += char;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * Asks a question on the terminal and returns the line typed (echoed, trimmed). Ctrl-C or Ctrl-D
 * abort with InterruptedError. Without a terminal it throws a UsageError with `noTerminal`.
 */
export function promptLine(question: string, io: CliIo, noTerminal: string): Promise<string> {
  if (!io.stdin.isTTY) return Promise.reject(new UsageError(noTerminal));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
    let answered = false;
    lines.on('SIGINT', () => {
      io.stderr.write('\n');
      lines.close();
    });
    lines.on('close', () => {
      if (!answered) reject(new InterruptedError());
    });
    lines.question(question, (answer) => {
      answered = true;
      lines.close();
      resolve(answer.trim());
    });
  });
}
