/**
 * Connection limits of a RemotingServer (idle reaping, caps per IP and in total, the fd reserve, partial frames),
 * their defaults, and the config keys the broker and the NameServer share for them.
 */
import { type ConfigKey, inertKey } from '../common/config.js';

export interface ServerLimits {
  /** A connection with no bytes read or written and no request awaiting its answer this long is closed; 0 = never. */
  channelIdleMsMax: number;
  /** Connections open from one IP address; more are closed at once. */
  connectionsPerIpMax: number;
  /** Connections open in total; more are closed at once. */
  connectionsMax: number;
  /** File descriptors kept free for the process's own files: new connections are closed at once while fewer would remain. */
  fdReserve: number;
  /** A frame must arrive whole within this long of its first byte, else its connection is closed. */
  frameReadMsMax: number;
  /** Bytes held by incomplete frames across every connection; past it the connection holding the most is closed. */
  partialFramesBytesMax: number;
  /** Frames handled per event-loop turn, shared among the connections sending in it (past its share, not read). */
  framesPerTurnMax: number;
  /** The same while two or more connections compete for turns (the shorter turn someone is waiting on). */
  framesPerContendedTurnMax: number;
  /** V8 scavenges with helper threads (true) or on the main thread alone (see gc-mode.ts). */
  scavengeParallel: boolean;
  /** With scavengeParallel: scavenge serially while connections compete for turns on busy cores (see gc-mode.ts). */
  scavengeSerialWhileContended: boolean;
  /** MiB of heap ballast held by the process (see gc-ballast.ts); 0 = none. */
  heapBallastMiB: number;
}

export const serverLimitsDefault = {
  channelIdleMsMax: 120_000,
  connectionsPerIpMax: 1000,
  connectionsMax: 10_000,
  fdReserve: 256,
  frameReadMsMax: 30_000,
  partialFramesBytesMax: 128 * 1024 * 1024,
  framesPerTurnMax: 64,
  framesPerContendedTurnMax: 16,
  scavengeParallel: true,
  scavengeSerialWhileContended: true,
  heapBallastMiB: 32,
} as const satisfies ServerLimits;

/** The connection keys of broker.conf and the NameServer's properties. */
export interface ServerConnectionConfig {
  serverChannelMaxIdleTimeSeconds: number;
  connectionsPerIpMax: number;
  connectionsMax: number;
  connectionFdReserve: number;
  frameReadTimeoutMs: number;
  partialFramesBytesMax: number;
  framesPerTurnMax: number;
  framesPerContendedTurnMax: number;
  gcParallelScavenge: boolean;
  gcSerialScavengeWhileContended: boolean;
  gcHeapBallastMiB: number;
}

/** Key table entries, spread into the broker's and the NameServer's tables. */
export const serverConnectionKeys: {
  readonly [K in keyof ServerConnectionConfig]-?: ConfigKey<ServerConnectionConfig[K]>;
} = {
  serverChannelMaxIdleTimeSeconds: {
    kind: 'int',
    default: serverLimitsDefault.channelIdleMsMax / 1000,
    min: 0,
    doc:
      'A connection with no traffic this long is closed (0 = never). A request still being answered (a held ' +
      'pull) counts as traffic; clients heartbeat and brokers register every 30 s, well inside it.',
  },
  connectionsPerIpMax: {
    kind: 'int',
    default: serverLimitsDefault.connectionsPerIpMax,
    min: 1,
    tsrocket: true,
    doc:
      'Connections from one IP address; more are closed at once, logged and counted. A client process opens one ' +
      'per server, so 1000 leaves room for many processes behind one NAT address.',
  },
  connectionsMax: {
    kind: 'int',
    default: serverLimitsDefault.connectionsMax,
    min: 1,
    tsrocket: true,
    doc:
      'Connections in total; more are closed at once, logged and counted. An idle connection costs an fd and ' +
      'about 8 KiB (measured), so 10000 hold about 75 MiB.',
  },
  connectionFdReserve: {
    kind: 'int',
    default: serverLimitsDefault.fdReserve,
    min: 0,
    tsrocket: true,
    doc:
      'File descriptors kept free for files (Linux: the limit of /proc/self/limits less the fds open, counted ' +
      'every second): new connections are closed at once while fewer would remain, so the store can always open ' +
      'checkpoint, metadata, segment and new queue files (8 per new topic).',
  },
  frameReadTimeoutMs: {
    kind: 'int',
    default: serverLimitsDefault.frameReadMsMax,
    min: 1,
    tsrocket: true,
    doc:
      'A frame must arrive whole within this long of its first byte, else its connection is closed (a ' +
      "slow sender holding a buffer). 30 s is ten times RocketMQ clients' 3 s send timeout.",
  },
  partialFramesBytesMax: {
    kind: 'int',
    default: serverLimitsDefault.partialFramesBytesMax,
    min: 1,
    tsrocket: true,
    doc:
      'Bytes held by incomplete frames across all connections; past it the connection holding the most is ' +
      'closed. 128 MiB = 8 frames of the 16 MiB maximum, or 32 message bodies of the 4 MiB maximum at once.',
  },
  framesPerTurnMax: {
    kind: 'int',
    default: serverLimitsDefault.framesPerTurnMax,
    min: 1,
    tsrocket: true,
    doc:
      'Requests decoded and handled per event-loop turn, shared equally among the connections that send in it ' +
      '(each at least one; a lone busy connection gets them all); past its share a connection is not read and ' +
      'its frames wait for the next turn. A request on a quiet connection (a route query, a heartbeat, a small ' +
      'send) then waits for about this many others. While two or more connections compete, ' +
      'framesPerContendedTurnMax applies instead.',
  },
  framesPerContendedTurnMax: {
    kind: 'int',
    default: serverLimitsDefault.framesPerContendedTurnMax,
    min: 1,
    tsrocket: true,
    doc:
      'framesPerTurnMax while two or more connections compete (sent in one of the last 8 turns, or have frames ' +
      'waiting; at most framesPerTurnMax): the ' +
      'turn a request on a quiet connection waits for is then about this many requests long (16 sends of 4 KiB ' +
      'are ~0.5 ms of broker CPU), at the cost of more turns, and writes, per request for the flooding ' +
      'connections. A lone busy connection still gets framesPerTurnMax (docs/performance.md).',
  },
  gcParallelScavenge: {
    kind: 'bool',
    default: serverLimitsDefault.scavengeParallel,
    tsrocket: true,
    doc:
      "Whether V8 collects the young generation with helper threads (Node's default) or on the event loop " +
      'alone; process-wide. Off trades throughput for shorter pauses: with every core busy a parallel scavenge ' +
      'waits for helpers that are off-CPU (15–110 ms pauses under a send flood on 2 busy cores, 1–35 ms serial), ' +
      'but a lone fast producer then gets 10–40 % fewer sends through (docs/performance.md).',
  },
  gcSerialScavengeWhileContended: {
    kind: 'bool',
    default: serverLimitsDefault.scavengeSerialWhileContended,
    tsrocket: true,
    doc:
      'With gcParallelScavenge on: collect the young generation on the event loop alone while connections compete ' +
      'for turns (in each of the last 32 turns; back after 64 turns without) and the event loop waited for a core ' +
      '10 % of the last second or more (Linux schedstat): on oversubscribed cores a parallel scavenge waits for ' +
      'helper threads that are off-CPU. A lone producer, and cores with room, keep the helpers and their ' +
      'throughput; process-wide (docs/performance.md).',
  },
  gcHeapBallastMiB: {
    kind: 'int',
    default: serverLimitsDefault.heapBallastMiB,
    min: 0,
    tsrocket: true,
    doc:
      'MiB of heap the process holds as ballast (one string; process-wide, the largest value of its servers wins; ' +
      '0 = none). With a small live heap V8 marks the old generation again right after each mark-compact under a ' +
      'send flood; the ballast moves its limit away (23 mark-compacts → 1 per 200k batched sends, ' +
      'docs/performance.md); while it is held the old generation grows by 100 % after a mark-compact ' +
      '(--heap-growing-percent, unless Node was started with its own). Costs its size in RSS.',
  },
};

export function serverLimitsOf(c: ServerConnectionConfig): ServerLimits {
  return {
    channelIdleMsMax: c.serverChannelMaxIdleTimeSeconds * 1000,
    connectionsPerIpMax: c.connectionsPerIpMax,
    connectionsMax: c.connectionsMax,
    fdReserve: c.connectionFdReserve,
    frameReadMsMax: c.frameReadTimeoutMs,
    partialFramesBytesMax: c.partialFramesBytesMax,
    framesPerTurnMax: c.framesPerTurnMax,
    framesPerContendedTurnMax: c.framesPerContendedTurnMax,
    scavengeParallel: c.gcParallelScavenge,
    scavengeSerialWhileContended: c.gcSerialScavengeWhileContended,
    heapBallastMiB: c.gcHeapBallastMiB,
  };
}

const threads = 'one Node.js event loop serves every connection';

/** RocketMQ's Netty server keys, accepted by the broker and the NameServer and without effect here. */
export const nettyServerInertKeys: Readonly<Record<string, ConfigKey>> = {
  serverWorkerThreads: inertKey('int', 8, threads, 'Netty worker threads.'),
  serverCallbackExecutorThreads: inertKey('int', 0, threads, 'Netty callback threads.'),
  serverSelectorThreads: inertKey('int', 3, threads, 'Netty selector threads.'),
  serverOnewaySemaphoreValue: inertKey('int', 256, threads, 'Concurrent oneway requests.'),
  serverAsyncSemaphoreValue: inertKey('int', 64, threads, 'Concurrent async requests.'),
  serverSocketSndBufSize: inertKey('int', 0, 'the OS default socket buffers are used', 'SO_SNDBUF.'),
  serverSocketRcvBufSize: inertKey('int', 0, 'the OS default socket buffers are used', 'SO_RCVBUF.'),
  serverPooledByteBufAllocatorEnable: inertKey('bool', true, 'no Netty allocator in Node.js', 'Pooled buffers.'),
  useEpollNativeSelector: inertKey('bool', false, 'libuv picks the poller', 'Netty epoll selector.'),
};
