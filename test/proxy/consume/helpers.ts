/**
 * Shared pieces of the consume-side gRPC tests: Apache's Node.js 5.x client made quiet, topic and group creation
 * over remoting, and polling loops that count (never sleep a guessed time).
 */
import { Admin } from '../../../src/client/admin/admin.js';
import { RemotingClient } from '../../../src/remoting/client.js';
import { RequestCode } from '../../../src/remoting/codes.js';
import { createRequest } from '../../../src/remoting/command.js';
import type { GrpcHarness } from '../harness.js';

export const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** Options every rocketmq-client-nodejs client of these tests takes. */
export function clientOptions(endpoints: string) {
  return { endpoints, namespace: '', logger: quietLogger, requestTimeout: 5000 };
}

async function adminCall(brokerAddr: string, code: number, fields: Record<string, string | number>, body?: Buffer) {
  const client = new RemotingClient();
  try {
    const r = await client.invoke(brokerAddr, createRequest(code, fields, body), 5000);
    if (r.code !== 0) throw new Error(`request ${code} refused: ${r.code} ${r.remark ?? ''}`);
  } finally {
    await client.close();
  }
}

/** Creates the topic on the broker and waits until the NameServer routes it with `queues` queues. */
export async function createTopic(h: GrpcHarness, topic: string, queues = 4): Promise<void> {
  await adminCall(h.brokerAddr, RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm: 6,
  });
  const admin = new Admin({ nameServer: h.namesrvAddr });
  try {
    // The broker registers the change with the NameServer asynchronously (each route query is a round trip).
    for (const deadline = Date.now() + 10_000; ; ) {
      const route = await admin.topicRoute(topic).catch(() => undefined);
      if (route?.queueDatas.some((q) => q.writeQueueNums === queues)) return;
      if (Date.now() > deadline) throw new Error(`topic ${topic} not routed with ${queues} queues`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.close();
  }
}

export function createGroup(brokerAddr: string, groupName: string, over: Record<string, unknown> = {}): Promise<void> {
  const body = Buffer.from(JSON.stringify({ groupName, ...over }));
  return adminCall(brokerAddr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, body);
}

/** Calls `step` until `done()` or the deadline; `step` is a receive that long-polls, so this never spins. */
export async function until(done: () => boolean, step: () => Promise<unknown>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await step();
  }
}

/** Body of the i-th message of the 4.x ↔ 5.x tests: over the 4 KiB compression threshold for even i. */
export function mixedBody(i: number): Buffer {
  if (i % 2 === 1) return Buffer.from(`small body ${i}`);
  let text = '';
  for (let n = 0; text.length < 8192; n++) text += `message ${i} line ${n} compresses well\n`;
  return Buffer.from(text);
}
