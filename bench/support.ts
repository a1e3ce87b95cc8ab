/**
 * What every benchmark shares: statistics, the machine line of each section, Markdown tables, and
 * CPU accounting of the processes involved (this one, DynamoDB Local's `java`, the load worker).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export interface Stats {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export function stats(values: readonly number[]): Stats {
  if (values.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

/** The q-quantile (0…1) of `values` by the nearest-rank method. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

export const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** min / median / max, formatted. */
export const triple = (s: Stats, digits = 1) =>
  `${fixed(s.min, digits)} / ${fixed(s.median, digits)} / ${fixed(s.max, digits)}`;

/**
 * The lines every section starts with: machine, Node.js, date, command, and — when the benchmark
 * sampled it at its start and end — the load average, since the machine is shared.
 */
export function machine(command: string, load?: readonly [number, number]): string {
  const cpu = cpus();
  return [
    `- Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `- Node.js ${process.version} on ${process.platform}/${process.arch}`,
    `- Date: ${new Date().toISOString()}`,
    `- Command: \`${command}\``,
    ...(load
      ? [
          `- Load average (1 min, all processes on the machine) at start / end: ${fixed(load[0], 2)} / ${fixed(load[1], 2)}`,
        ]
      : []),
  ].join('\n');
}

/** The 1-minute load average now. */
export const loadAverage = () => loadavg()[0]!;

/** A Markdown table padded the way the repository's formatter (Biome) lays tables out. */
export function markdownTable(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((cell, i) => Math.max(3, cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Replaces the text between a benchmark's markers, or appends the marked section. */
export function replaceSection(document: string, name: string, content: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${content.trimEnd()}\n${end}`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from >= 0 && to > from) return document.slice(0, from) + block + document.slice(to + end.length);
  return `${document.trimEnd()}\n\n${block}\n`;
}

/** Options every benchmark takes. */
export interface BenchOptions {
  readonly quick: boolean;
  /** Progress lines for the console (not the report). */
  readonly progress: (line: string) => void;
}

/** What a benchmark hands back to the dispatcher: its section and a one-line summary. */
export interface BenchReport {
  /** P1 … P6. */
  readonly id: string;
  /** The section's marker name in BENCHMARKS.md. */
  readonly name: string;
  readonly section: (command: string) => string;
  /** One line for the summary block, with the target and whether it was met. */
  readonly summary: string;
  /** Broken guarantees the harness asserts (e.g. lost messages): the run exits non-zero. */
  readonly failures?: readonly string[];
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc; undefined if unreadable. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * The whole machine's CPU seconds so far (/proc/stat's first line), summed over its cores: `busy`
 * (user, nice, system, irq, softirq: every process and the kernel) and `steal` (time a virtual CPU
 * had work but the host ran something else: on a shared VM, the other tenants' share).
 */
export function machineCpuSeconds(): { busy: number; steal: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return {
      busy: (user + nice + system + irq + softirq) / TICKS_PER_SECOND,
      steal: steal / TICKS_PER_SECOND,
    };
  } catch {
    return undefined;
  }
}

/**
 * Measures how busy a set of processes was between `start()` and `stop()`, in cores (1.0 = one
 * core); also the whole machine (`machine`) and the host's steal (`steal`), in cores.
 */
export function cpuMeter(pids: Readonly<Record<string, number | undefined>>) {
  let started = 0;
  let before: Record<string, number | undefined> = {};
  const read = (): Record<string, number | undefined> => {
    const machine = machineCpuSeconds();
    return {
      ...Object.fromEntries(
        Object.entries(pids).map(([name, pid]) => [name, pid ? processCpuSeconds(pid) : undefined]),
      ),
      machine: machine?.busy,
      steal: machine?.steal,
    };
  };
  return {
    start() {
      started = performance.now();
      before = read();
    },
    /** Cores used per process over the interval. */
    stop(): Record<string, number> {
      const seconds = (performance.now() - started) / 1000;
      const after = read();
      const busy: Record<string, number> = {};
      for (const name of Object.keys(after)) {
        const a = after[name];
        const b = before[name];
        busy[name] = a !== undefined && b !== undefined ? (a - b) / seconds : Number.NaN;
      }
      return busy;
    },
  };
}

export type CpuMeter = ReturnType<typeof cpuMeter>;

/**
 * The meter's reading over a load call's measured window only: started `warmupMs` from now and
 * stopped `windowMs` later, while the call runs. Its warm-up before and its drain after (waiting for
 * the last deliveries and acks, mostly idle) would dilute the window's figures.
 */
export function meterWindow(
  meter: CpuMeter,
  warmupMs: number,
  windowMs: number,
): Promise<Record<string, number>> {
  return new Promise((resolve) => {
    setTimeout(() => {
      meter.start();
      setTimeout(() => resolve(meter.stop()), windowMs);
    }, warmupMs);
  });
}

/** DynamoDB Local's pid, from the file the runner writes next to its data. */
export function dynamoLocalPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${dataDir}/dynamodb.pid`, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What must not outlive an interrupted run: each benchmark's runner (DynamoDB Local's java, its data folder). */
const interruptCleanups = new Set<() => Promise<void>>();

/** Registers `cleanup` for an interrupted run; returns the function that unregisters it. */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  interruptCleanups.add(cleanup);
  return () => interruptCleanups.delete(cleanup);
}

/** On SIGINT or SIGTERM: runs every registered cleanup, then exits with 130 or 143. */
export function cleanUpWhenInterrupted(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}: stopping the runner and DynamoDB Local\n`);
      void Promise.allSettled([...interruptCleanups].map((cleanup) => cleanup())).then(() =>
        process.exit(code),
      );
    });
  }
}
