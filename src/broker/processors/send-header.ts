/**
 * SendMessageRequestHeader and its V2 form with one-letter field names (a…n), as RocketMQ defines them.
 */
import type { RemotingCommand } from '../../remoting/command.js';
import {
  optionalBool,
  optionalInt,
  optionalLong,
  optionalString,
  requireInt,
  requireString,
} from '../../remoting/fields.js';

export interface SendHeader {
  producerGroup: string;
  topic: string;
  defaultTopic: string;
  defaultTopicQueueNums: number;
  queueId: number;
  sysFlag: number;
  bornTimestamp: bigint;
  flag: number;
  properties: string;
  reconsumeTimes: number;
  unitMode: boolean;
  maxReconsumeTimes: number | undefined;
  batch: boolean;
}

/** V2 letter → V1 name: a producerGroup … m batch (n brokerName is 5.x and unused here). */
const v2Names = {
  producerGroup: 'a',
  topic: 'b',
  defaultTopic: 'c',
  defaultTopicQueueNums: 'd',
  queueId: 'e',
  sysFlag: 'f',
  bornTimestamp: 'g',
  flag: 'h',
  properties: 'i',
  reconsumeTimes: 'j',
  unitMode: 'k',
  maxReconsumeTimes: 'l',
  batch: 'm',
} as const;

type FieldName = keyof typeof v2Names;

/** Reads either header form; `v2` selects the one-letter names. Throws HeaderFieldError naming the field. */
export function readSendHeader(req: RemotingCommand, v2: boolean): SendHeader {
  const n = (name: FieldName): string => (v2 ? v2Names[name] : name);
  return {
    producerGroup: requireString(req, n('producerGroup')),
    topic: requireString(req, n('topic')),
    defaultTopic: optionalString(req, n('defaultTopic')) ?? 'TBW102',
    defaultTopicQueueNums: optionalInt(req, n('defaultTopicQueueNums')) ?? 4,
    queueId: requireInt(req, n('queueId')),
    sysFlag: optionalInt(req, n('sysFlag')) ?? 0,
    bornTimestamp: optionalLong(req, n('bornTimestamp')) ?? BigInt(Date.now()),
    flag: optionalInt(req, n('flag')) ?? 0,
    properties: nullToEmpty(optionalString(req, n('properties'))),
    reconsumeTimes: optionalInt(req, n('reconsumeTimes')) ?? 0,
    unitMode: optionalBool(req, n('unitMode')) ?? false,
    maxReconsumeTimes: optionalInt(req, n('maxReconsumeTimes')),
    batch: optionalBool(req, n('batch')) ?? false,
  };
}

function nullToEmpty(s: string | undefined): string {
  return s === undefined || s === 'null' ? '' : s;
}
