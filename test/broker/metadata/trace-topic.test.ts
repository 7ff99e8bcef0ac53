/**
 * The trace topic on the broker: created at load only with traceTopicEnable (RocketMQ's default off), with one
 * queue, under msgTraceTopicName; a bad msgTraceTopicName is refused when broker.conf is read.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { brokerConfigOf, loadBrokerConfig } from '../../../src/broker/config.js';
import { TopicConfigManager } from '../../../src/broker/metadata/topic-config.js';
import { ConfigError } from '../../../src/common/config.js';
import { isSendForbiddenTopic, SystemTopic } from '../../../src/common/topics.js';

async function loaded(keys: Parameters<typeof brokerConfigOf>[0]): Promise<TopicConfigManager> {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-trace-topic-'));
  try {
    const topics = new TopicConfigManager(brokerConfigOf({ storePathRootDir: dir, ...keys }));
    await topics.load();
    return topics;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('no trace topic by default (traceTopicEnable off, as RocketMQ ships it)', async () => {
  const topics = await loaded({});
  assert.equal(topics.get(SystemTopic.trace), undefined);
});

test('traceTopicEnable: RMQ_SYS_TRACE_TOPIC with one queue, or the msgTraceTopicName given', async () => {
  const on = await loaded({ traceTopicEnable: true });
  assert.equal(on.get(SystemTopic.trace)?.writeQueueNums, 1);
  assert.equal(on.get(SystemTopic.trace)?.readQueueNums, 1);
  const custom = await loaded({ traceTopicEnable: true, msgTraceTopicName: 'OurTraces' });
  assert.equal(custom.get('OurTraces')?.writeQueueNums, 1);
  assert.equal(custom.get(SystemTopic.trace), undefined);
});

test('broker.conf: a msgTraceTopicName that is not a topic name is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-trace-conf-'));
  try {
    const file = join(dir, 'broker.conf');
    await writeFile(file, 'traceTopicEnable=true\nmsgTraceTopicName=bad topic!\n');
    await assert.rejects(loadBrokerConfig({ file }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /msgTraceTopicName/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the trace topic is the one system topic clients may send to', () => {
  assert.equal(isSendForbiddenTopic(SystemTopic.trace), false);
  for (const t of [SystemTopic.schedule, SystemTopic.transHalf, SystemTopic.autoCreate, 'rmq_sys_other']) {
    assert.equal(isSendForbiddenTopic(t), true, t);
  }
});
