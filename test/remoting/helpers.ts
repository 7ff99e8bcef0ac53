/** Test helpers: a raw TCP peer that speaks frames, and log capture. */
import { connect, type Socket } from 'node:net';
import { setLogSink } from '../../src/common/log.js';
import { decodeFrame, encodeFrameParts, FrameDecoder } from '../../src/remoting/codec.js';
import { languageCodes, type RemotingCommand } from '../../src/remoting/command.js';

export interface RawPeer {
  socket: Socket;
  send(cmd: RemotingCommand): void;
  /** Next decoded frame from the server. */
  next(): Promise<RemotingCommand>;
  /** Frames received and not yet taken by next(). */
  queued(): number;
  closed: Promise<void>;
}

/** `localAddress` picks the peer's address (any of 127.0.0.0/8 on Linux), to look like several hosts. */
export async function rawPeer(port: number, localAddress?: string): Promise<RawPeer> {
  const socket = connect({ host: '127.0.0.1', port, ...(localAddress === undefined ? {} : { localAddress }) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  const decoder = new FrameDecoder();
  const frames: RemotingCommand[] = [];
  const waiters: Array<(cmd: RemotingCommand) => void> = [];
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const cmd = decodeFrame(frame);
      const w = waiters.shift();
      if (w) w(cmd);
      else frames.push(cmd);
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    send: (cmd) => socket.write(encodeFrame(cmd)),
    next: () => {
      const f = frames.shift();
      return f ? Promise.resolve(f) : new Promise((resolve) => waiters.push(resolve));
    },
    queued: () => frames.length,
    closed,
  };
}

/** A raw JSON-header frame, as a client such as ali-ons writes it. */
export function jsonFrame(header: object, body?: Buffer): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const b = body ?? Buffer.alloc(0);
  const out = Buffer.alloc(8 + h.length + b.length);
  out.writeInt32BE(4 + h.length + b.length, 0);
  out.writeInt32BE(h.length, 4);
  h.copy(out, 8);
  b.copy(out, 8 + h.length);
  return out;
}

/** Collects log lines instead of printing them. */
export function captureLogs(): string[] {
  const lines: string[] = [];
  setLogSink((line) => lines.push(line));
  return lines;
}

export interface Gate {
  promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A whole frame in one buffer (the server writes the parts with writev). */
export function encodeFrame(cmd: RemotingCommand, bytesMax?: number): Buffer {
  return Buffer.concat(encodeFrameParts(cmd, bytesMax));
}

/** The ROCKETMQ header as RocketMQSerializable lays it out, built from Buffer.from of each string. */
export function plainBinaryHeader(c: RemotingCommand): Buffer {
  const int = (v: number, n: number) => {
    const b = Buffer.alloc(n);
    if (n === 2) b.writeUInt16BE(v & 0xffff);
    else b.writeInt32BE(v | 0);
    return b;
  };
  const remark = Buffer.from(c.remark ?? '', 'utf8');
  const map: Buffer[] = [];
  for (const [k, v] of Object.entries(c.extFields ?? {})) {
    const kb = Buffer.from(k, 'utf8');
    const vb = Buffer.from(String(v), 'utf8');
    map.push(int(kb.length, 2), kb, int(vb.length, 4), vb);
  }
  const mapBytes = Buffer.concat(map);
  return Buffer.concat([
    int(c.code, 2),
    Buffer.from([languageCodes.indexOf(c.language as (typeof languageCodes)[number])]),
    int(c.version, 2),
    int(c.opaque, 4),
    int(c.flag, 4),
    int(remark.length, 4),
    remark,
    int(mapBytes.length, 4),
    mapBytes,
  ]);
}
