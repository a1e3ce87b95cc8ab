/**
 * A CPU profile of this process (the local runner's handlers run in it) over some work, summed by
 * where the time went: the AWS SDK, Node's HTTP and socket layers, the WebSocket server, NaCl,
 * Switchyard's own code, garbage collection, idle. Uses the inspector's sampling profiler.
 */
import { Session } from 'node:inspector/promises';

export interface CpuProfileSummary {
  /** Share of sampled time (0…1) per category, largest first; idle excluded. */
  readonly shares: ReadonlyArray<readonly [string, number]>;
  /** CPU milliseconds this process used during the work. */
  readonly cpuMs: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly url: string; readonly functionName: string };
}

function category(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) {
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === 'writev' || functionName === 'writeBuffer' || functionName === 'writeUtf8String')
      return 'socket writes';
    return 'V8 / native (other)';
  }
  if (/node_modules\/(@smithy|@aws-sdk|@aws-crypto)\//.test(url)) return 'AWS SDK';
  if (url.includes('node_modules/tweetnacl/') || url.includes('node_modules/@noble/'))
    return 'NaCl / hashing';
  if (url.includes('node_modules/ws/')) return 'WebSocket server (ws)';
  if (/\/(lambdas|protocol|local)\//.test(url) && !url.includes('node_modules'))
    return 'Switchyard (lambdas, protocol, local)';
  if (
    url.includes('/bench/') ||
    url.startsWith('node:async_hooks') ||
    url.startsWith('node:internal/async_hooks')
  )
    return 'benchmark instrumentation (async_hooks)';
  if (/^node:(_http|http|net|internal\/(http|stream|streams|net))/.test(url) || url.includes('stream_base'))
    return "Node's HTTP, sockets and streams";
  if (url.startsWith('node:')) return 'Node.js (other)';
  return 'other';
}

/** Profiles `work` (sampling every 0.5 ms) and sums self time by category. */
export async function profileCpu<T>(
  work: () => Promise<T>,
): Promise<{ result: T; summary: CpuProfileSummary }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    const before = process.cpuUsage();
    const result = await work();
    const used = process.cpuUsage(before);
    const { profile } = await session.post('Profiler.stop');
    const nodes = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node as ProfileNode]));
    const time = new Map<string, number>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const node = nodes.get(samples[i]!);
      if (!node) continue;
      const name = category(node);
      time.set(name, (time.get(name) ?? 0) + (deltas[i] ?? 0));
    }
    time.delete('idle');
    const total = [...time.values()].reduce((sum, value) => sum + value, 0);
    const shares = [...time].map(([name, us]) => [name, us / total] as const).sort((a, b) => b[1] - a[1]);
    return { result, summary: { shares, cpuMs: (used.user + used.system) / 1000 } };
  } finally {
    await session.post('Profiler.disable').catch(() => {});
    session.disconnect();
  }
}
