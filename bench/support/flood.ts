/**
 * A send flood over one connection: keeps `inflight` SEND_MESSAGE_V2 requests outstanding until a deadline (a
 * SYSTEM_BUSY answer is re-sent at once, as a hostile client would), counting every answer by code. Used by
 * bench/fairness.ts (one worker thread per flooder, see flood-worker.ts) and by the broker's fairness test.
 */
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { encodeSendHeaderV2 } from '../../src/remoting/protocol/send.js';

export interface FloodOptions {
  brokerAddr: string;
  topic: string;
  queues: number;
  bodyBytes: number;
  inflight: number;
  /** Stop issuing at this Date.now(); answers of requests already sent are still awaited. */
  untilMs: number;
  producerGroup: string;
}

export interface FloodResult {
  /** SEND_OK answers: messages the broker accepted. */
  ok: number;
  busy: number;
  other: number;
  /** Transport failures (timeouts, closed connection). */
  errors: number;
  firstBusyRemark: string | undefined;
}

export async function flood(o: FloodOptions): Promise<FloodResult> {
  const rc = new RemotingClient({ requestTimeoutMsDefault: 30_000 });
  const body = Buffer.alloc(o.bodyBytes, 0x66);
  const out: FloodResult = { ok: 0, busy: 0, other: 0, errors: 0, firstBusyRemark: undefined };
  let n = 0;
  const one = async () => {
    while (Date.now() < o.untilMs) {
      const header = encodeSendHeaderV2({
        producerGroup: o.producerGroup,
        topic: o.topic,
        queueId: n++ % o.queues,
        sysFlag: 0,
        bornTimestamp: Date.now(),
        flag: 0,
        properties: '',
        reconsumeTimes: 0,
        batch: false,
      });
      try {
        const resp = await rc.invoke(o.brokerAddr, createRequest(RequestCode.SEND_MESSAGE_V2, header, body));
        if (resp.code === ResponseCode.SUCCESS) out.ok++;
        else if (resp.code === ResponseCode.SYSTEM_BUSY) {
          out.busy++;
          out.firstBusyRemark ??= resp.remark;
        } else out.other++;
      } catch {
        out.errors++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.inflight }, one));
  } finally {
    await rc.close();
  }
  return out;
}
