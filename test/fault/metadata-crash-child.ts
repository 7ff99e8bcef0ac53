/**
 * Child process of metadata-crash.test.ts: commits and persists a growing consumer offset and topic table in a
 * loop, printing `saved <n>` after each durable save, until SIGKILLed. Does nothing unless started with
 * --metadata-crash-child (the test runner may load this file as a test).
 */
import { brokerConfigOf } from '../../src/broker/config.js';
import { ConsumerOffsetManager } from '../../src/broker/metadata/consumer-offsets.js';
import { TopicConfigManager, topicConfigOf } from '../../src/broker/metadata/topic-config.js';

const at = process.argv.indexOf('--metadata-crash-child');
if (at >= 0) {
  const dir = process.argv[at + 1] as string;
  let n = Number(process.argv[at + 2]);
  const offsets = new ConsumerOffsetManager(dir);
  const topics = new TopicConfigManager(brokerConfigOf({ storePathRootDir: dir }));
  await Promise.all([offsets.load(), topics.load()]);
  process.stdout.write('ready\n');
  for (;;) {
    n++;
    offsets.commit('CrashG', 'CrashT', 0, BigInt(n));
    topics.upsert(topicConfigOf('CrashT', 1 + (n % 1000)));
    topics.upsert(topicConfigOf(`CrashT${n % 50}`, 4));
    await Promise.all([offsets.persist(true), topics.persist()]);
    process.stdout.write(`saved ${n}\n`);
  }
}
