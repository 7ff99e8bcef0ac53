// Interop scenarios for Apache's RocketMQ 4.9.8 Java client against a running tsrocket, one JVM for all of them.
// Run: java -cp "$(../shared/java-client/classpath)" Scenarios.java <namesrv> [scenario...]   (single-file launch)
// -Dscenarios.suffix=S appends S to every topic and group; -Drocketmq.serialize.type=ROCKETMQ picks the binary header.
// Prints one line per scenario, `RESULT {"scenario":…}`, with what it sent and received (or "error"); the
// node:test driver (java-client.test.ts) asserts on them. Scenarios run concurrently on distinct topics and groups.
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.*;
import java.util.concurrent.*;
import org.apache.rocketmq.client.ClientConfig;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.impl.consumer.ProcessQueue;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.client.producer.selector.SelectMessageQueueByHash;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.heartbeat.MessageModel;
import org.apache.rocketmq.remoting.exception.RemotingException;

public class Scenarios {
    static final long WAIT_MS = 20_000;
    /** Appended to every topic and group, so that JVMs with different settings can share one broker. */
    static final String SUFFIX = System.getProperty("scenarios.suffix", "");
    static String namesrv;

    static String n(String name) { return name + SUFFIX; }

    public static void main(String[] args) throws Exception {
        namesrv = args[0];
        Map<String, Callable<Map<String, Object>>> all = new LinkedHashMap<>();
        all.put("sends", Scenarios::sends);
        all.put("tag-filter", Scenarios::tagFilter);
        all.put("broadcasting", Scenarios::broadcasting);
        all.put("clustering", Scenarios::clustering);
        all.put("retry", Scenarios::retry);
        all.put("lite-pull-seek", Scenarios::litePullSeek);
        all.put("queries", Scenarios::queries);
        all.put("compressed", Scenarios::compressed);
        all.put("consume-ours", Scenarios::consumeOurs);
        all.put("sql92-refused", Scenarios::sql92Refused);
        all.put("dlq-resend", Scenarios::dlqResend);
        if (Boolean.getBoolean("scenarios.transactions")) all.put("transactions", Scenarios::transactions); // needs short check timings
        all.put("request-java-requester", Scenarios::requestJavaRequester);
        all.put("request-java-responder", Scenarios::requestJavaResponder);
        all.put("sql92-by-sql", Scenarios::sql92BySql);
        all.put("sql92-bad-expression", Scenarios::sql92BadExpression);
        all.put("orderly", Scenarios::orderly);
        // delay levels and retry back-off
        all.put("delay-level", Scenarios::delayLevel);
        all.put("retry-backoff", Scenarios::retryBackoff);
        all.put("trace-java", Scenarios::traceJava);
        // Asserted by a test file of their own, against a broker with its own settings: they run only when named.
        Set<String> namedOnly = Set.of("delay-level", "retry-backoff");
        List<String> names = new ArrayList<>(all.keySet());
        names.removeAll(namedOnly);
        if (args.length > 1) names = Arrays.asList(args).subList(1, args.length);
        ExecutorService pool = Executors.newFixedThreadPool(names.size());
        Map<String, Future<Map<String, Object>>> running = new LinkedHashMap<>();
        for (String name : names) {
            Callable<Map<String, Object>> scenario = all.get(name);
            if (scenario == null) throw new IllegalArgumentException("unknown scenario " + name + "; known: " + all.keySet());
            running.put(name, pool.submit(() -> {
                long t0 = System.nanoTime();
                Map<String, Object> out = new LinkedHashMap<>(scenario.call());
                out.put("elapsedMs", (System.nanoTime() - t0) / 1_000_000);
                return out;
            }));
        }
        for (Map.Entry<String, Future<Map<String, Object>>> e : running.entrySet()) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("scenario", e.getKey());
            try {
                out.putAll(e.getValue().get());
            } catch (ExecutionException ex) {
                StringBuilder text = new StringBuilder();
                for (Throwable t = ex.getCause(); t != null; t = t.getCause()) text.append(t).append(" | ");
                out.put("error", text.toString());
            }
            synchronized (System.out) {
                System.out.println("RESULT " + json(out));
                System.out.flush();
            }
        }
        System.exit(0); // the client's threads are not daemons
    }

    // ---- scenarios ----

    /** Sync, async, oneway and batch sends to one topic; a push consumer reads them all back. */
    static Map<String, Object> sends() throws Exception {
        String topic = n("JavaSends");
        DefaultMQProducer producer = producer(n("JavaSendsPG"), topic);
        List<Map<String, Object>> sync = new ArrayList<>(), async = new ArrayList<>(), oneway = new ArrayList<>(), batch = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                Message m = new Message(topic, "TagS", "sync-key-" + i, utf8("sync " + i));
                sync.add(sent(m, producer.send(m)));
            }
            CountDownLatch acked = new CountDownLatch(5);
            List<Map<String, Object>> asyncResults = Collections.synchronizedList(async);
            for (int i = 0; i < 5; i++) {
                Message m = new Message(topic, "TagS", "async-key-" + i, utf8("async " + i));
                producer.send(m, new SendCallback() {
                    public void onSuccess(SendResult r) { asyncResults.add(sent(m, r)); acked.countDown(); }
                    public void onException(Throwable t) { asyncResults.add(Map.of("error", t.toString())); acked.countDown(); }
                });
            }
            if (!acked.await(WAIT_MS, TimeUnit.MILLISECONDS)) throw new IllegalStateException("async sends not acknowledged");
            for (int i = 0; i < 5; i++) {
                Message m = new Message(topic, "TagS", "oneway-key-" + i, utf8("oneway " + i));
                producer.sendOneway(m);
                oneway.add(sent(m, null));
            }
            List<Message> msgs = new ArrayList<>();
            for (int i = 0; i < 5; i++) msgs.add(new Message(topic, "TagS", "batch-key-" + i, utf8("batch " + i)));
            SendResult r = producer.send(msgs); // one SEND_BATCH_MESSAGE; msgId is the items' ids joined by ","
            for (Message m : msgs) batch.add(sent(m, null));
            batch.add(Map.of("batchMsgId", r.getMsgId(), "batchOffsetMsgId", String.valueOf(r.getOffsetMsgId()),
                    "status", r.getSendStatus().toString(), "queueOffset", r.getQueueOffset()));
        } finally {
            producer.shutdown();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("sync", sync);
        out.put("async", async);
        out.put("oneway", oneway);
        out.put("batch", batch);
        out.put("received", consume(topic, n("JavaSendsCG"), "*", 20, 0));
        return out;
    }

    /** Subscribed to TagA; TagA and TagB are sent; only TagA may arrive (waits a little past the last TagA). */
    static Map<String, Object> tagFilter() throws Exception {
        String topic = n("JavaTags");
        DefaultMQProducer producer = producer(n("JavaTagsPG"), topic);
        List<Map<String, Object>> sent = new ArrayList<>();
        try {
            for (int i = 0; i < 10; i++) {
                Message m = new Message(topic, i % 2 == 0 ? "TagA" : "TagB", utf8("tag " + i));
                sent.add(sent(m, producer.send(m)));
            }
        } finally {
            producer.shutdown();
        }
        return Map.of("sent", sent, "received", consume(topic, n("JavaTagsCG"), "TagA", 5, 1000));
    }

    /** Two consumers of one BROADCASTING group: each receives every message. */
    static Map<String, Object> broadcasting() throws Exception {
        String topic = n("JavaBroadcast");
        DefaultMQProducer producer = producer(n("JavaBroadcastPG"), topic);
        List<Map<String, Object>> sent = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                Message m = new Message(topic, "TagB", utf8("broadcast " + i));
                sent.add(sent(m, producer.send(m)));
            }
        } finally {
            producer.shutdown();
        }
        List<List<Map<String, Object>>> got = new ArrayList<>();
        List<DefaultMQPushConsumer> consumers = new ArrayList<>();
        List<CountDownLatch> done = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            List<Map<String, Object>> received = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch latch = new CountDownLatch(sent.size());
            DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(n("JavaBroadcastCG"));
            consumer.setInstanceName(n("broadcast-") + c); // two clients in one JVM
            consumer.setMessageModel(MessageModel.BROADCASTING);
            consumers.add(startPush(consumer, topic, "*", (msgs, ctx) -> {
                for (MessageExt m : msgs) { received.add(received(m)); latch.countDown(); }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            }));
            got.add(received);
            done.add(latch);
        }
        try {
            for (CountDownLatch latch : done) latch.await(WAIT_MS, TimeUnit.MILLISECONDS);
            Thread.sleep(300); // a duplicate would show up here
        } finally {
            for (DefaultMQPushConsumer consumer : consumers) consumer.shutdown();
        }
        return Map.of("sent", sent, "consumer0", new ArrayList<>(got.get(0)), "consumer1", new ArrayList<>(got.get(1)));
    }

    /** Two consumers of one CLUSTERING group split the queues (GET_CONSUMER_LIST_BY_GROUP, NOTIFY_CONSUMER_IDS_CHANGED). */
    static Map<String, Object> clustering() throws Exception {
        String topic = n("JavaClustering");
        DefaultMQProducer producer = producer(n("JavaClusteringPG"), topic);
        List<DefaultMQPushConsumer> consumers = new ArrayList<>();
        List<List<Map<String, Object>>> got = new ArrayList<>();
        CountDownLatch all = new CountDownLatch(12);
        List<Map<String, Object>> sent = new ArrayList<>();
        List<Object> assigned = new ArrayList<>();
        boolean arrived = false;
        try {
            for (int c = 0; c < 2; c++) {
                List<Map<String, Object>> received = Collections.synchronizedList(new ArrayList<>());
                DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(n("JavaClusteringCG"));
                consumer.setInstanceName(n("clustering-") + c);
                consumers.add(startPush(consumer, topic, "*", (msgs, ctx) -> {
                    for (MessageExt m : msgs) { received.add(received(m)); all.countDown(); }
                    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                }));
                got.add(received);
            }
            // Send once the two have split the 4 queues, 2 each (a rebalance follows each membership change).
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (System.currentTimeMillis() < deadline
                    && !(queuesOf(consumers.get(0), topic).size() == 2 && queuesOf(consumers.get(1), topic).size() == 2)) {
                Thread.sleep(50);
            }
            for (DefaultMQPushConsumer consumer : consumers) assigned.add(queuesOf(consumer, topic));
            for (int i = 0; i < 12; i++) {
                Message m = new Message(topic, "TagC", utf8("clustering " + i));
                sent.add(sent(m, producer.send(m)));
            }
            arrived = all.await(WAIT_MS, TimeUnit.MILLISECONDS);
            Thread.sleep(300);
        } finally {
            producer.shutdown();
            for (DefaultMQPushConsumer consumer : consumers) consumer.shutdown();
        }
        // Were the messages late, the first consumer's shutdown would hand its queues to the second one.
        return Map.of("sent", sent, "assigned", assigned, "arrivedInTime", arrived,
                "consumer0", new ArrayList<>(got.get(0)), "consumer1", new ArrayList<>(got.get(1)));
    }

    static List<Integer> queuesOf(DefaultMQPushConsumer consumer, String topic) {
        List<Integer> ids = new ArrayList<>();
        for (MessageQueue mq : consumer.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().keySet()) {
            if (mq.getTopic().equals(topic)) ids.add(mq.getQueueId());
        }
        Collections.sort(ids);
        return ids;
    }

    /** The listener answers RECONSUME_LATER once: the message comes back through %RETRY% with reconsumeTimes 1. */
    static Map<String, Object> retry() throws Exception {
        String topic = n("JavaRetry"), group = n("JavaRetryCG");
        DefaultMQProducer producer = producer(n("JavaRetryPG"), topic);
        Map<String, Object> sent;
        try {
            // A consumer reads routes at start and then every 30 s; the broker creates %RETRY%<group> on its first
            // heartbeat, which races that first read (with RocketMQ's broker too). Created here, so it is routed.
            createTopic(producer, "%RETRY%" + group, 1);
            Message m = new Message(topic, "TagR", "retry-key", utf8("retry me"));
            sent = sent(m, producer.send(m));
        } finally {
            producer.shutdown();
        }
        List<Map<String, Object>> deliveries = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch twice = new CountDownLatch(2);
        DefaultMQPushConsumer retryConsumer = new DefaultMQPushConsumer(group);
        retryConsumer.setInstanceName(group); // a client instance of its own starts after the route exists
        DefaultMQPushConsumer consumer = startPush(retryConsumer, topic, "*", (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                Map<String, Object> d = received(m);
                d.put("originMessageId", String.valueOf(m.getProperty("ORIGIN_MESSAGE_ID")));
                deliveries.add(d);
                twice.countDown();
                if (m.getReconsumeTimes() == 0) return ConsumeConcurrentlyStatus.RECONSUME_LATER;
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        try {
            twice.await(WAIT_MS, TimeUnit.MILLISECONDS);
            Thread.sleep(300);
        } finally {
            consumer.shutdown();
        }
        return Map.of("sent", sent, "deliveries", new ArrayList<>(deliveries));
    }

    /** DefaultLitePullConsumer: assign queue 0 and read it, seek back to 5 and read to the end, then seek to 2. */
    static Map<String, Object> litePullSeek() throws Exception {
        String topic = n("JavaLitePull");
        DefaultMQProducer producer = producer(n("JavaLitePullPG"), topic);
        List<Map<String, Object>> sent = new ArrayList<>();
        MessageQueue mq;
        try {
            mq = producer.fetchPublishMessageQueues(topic).stream().filter(q -> q.getQueueId() == 0).findFirst().orElseThrow();
            for (int i = 0; i < 10; i++) {
                Message m = new Message(topic, "TagL", utf8("lite " + i));
                sent.add(sent(m, producer.send(m, mq)));
            }
        } finally {
            producer.shutdown();
        }
        DefaultLitePullConsumer consumer = new DefaultLitePullConsumer(n("JavaLitePullCG"));
        connect(consumer);
        consumer.setAutoCommit(false);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.start();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("sent", sent);
        try {
            consumer.assign(List.of(mq));
            out.put("fromStart", poll(consumer, 10));
            // Seek while the client's pull task waits in a long poll at the end: a seek that lands between the
            // task's offset read and its pull is lost by this client version (its race, not the broker's).
            Thread.sleep(200);
            consumer.seek(mq, 5);
            out.put("fromFive", poll(consumer, 5));
            Thread.sleep(200);
            consumer.seek(mq, 2);
            out.put("fromTwo", poll(consumer, 3));
        } finally {
            consumer.shutdown();
        }
        return out;
    }

    /** viewMessage by offsetMsgId and by msgId, queryMessage by key, searchOffset by store time, min/max offsets. */
    static Map<String, Object> queries() throws Exception {
        String topic = n("JavaQueries");
        DefaultMQProducer producer = producer(n("JavaQueriesPG"), topic);
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            MessageQueue mq = producer.fetchPublishMessageQueues(topic).stream().filter(q -> q.getQueueId() == 1).findFirst().orElseThrow();
            List<Map<String, Object>> sent = new ArrayList<>();
            List<SendResult> results = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Message m = new Message(topic, "TagQ", "query-key-" + i, utf8("query " + i));
                SendResult r = producer.send(m, mq);
                results.add(r);
                sent.add(sent(m, r));
                Thread.sleep(20); // distinct store timestamps
            }
            out.put("sent", sent);
            List<Map<String, Object>> byOffsetMsgId = new ArrayList<>(), byMsgId = new ArrayList<>(), byTime = new ArrayList<>();
            for (SendResult r : results) {
                MessageExt viewed = producer.viewMessage(r.getOffsetMsgId());
                byOffsetMsgId.add(received(viewed));
                byMsgId.add(received(producer.viewMessage(topic, r.getMsgId())));
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("storeTimestamp", viewed.getStoreTimestamp());
                t.put("queueOffset", viewed.getQueueOffset());
                t.put("searchOffset", producer.searchOffset(mq, viewed.getStoreTimestamp()));
                byTime.add(t);
            }
            out.put("byOffsetMsgId", byOffsetMsgId);
            out.put("byMsgId", byMsgId);
            out.put("byTime", byTime);
            List<Map<String, Object>> byKey = new ArrayList<>();
            for (MessageExt m : producer.queryMessage(topic, "query-key-1", 32, 0, Long.MAX_VALUE).getMessageList()) byKey.add(received(m));
            out.put("byKey", byKey);
            out.put("minOffset", producer.minOffset(mq));
            out.put("maxOffset", producer.maxOffset(mq));
            out.put("earliestMsgStoreTime", producer.earliestMsgStoreTime(mq));
        } finally {
            producer.shutdown();
        }
        return out;
    }

    /** A body over 4 KiB is zlib-compressed by the producer (sysFlag bit 0) and must come back intact. */
    static Map<String, Object> compressed() throws Exception {
        String topic = n("JavaCompressed");
        DefaultMQProducer producer = producer(n("JavaCompressedPG"), topic);
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 64 * 1024; i++) text.append("line ").append(i).append(" of a compressible body\n");
        byte[] body = utf8(text.toString());
        Map<String, Object> sent;
        try {
            Message m = new Message(topic, "TagZ", "zip-key", body);
            sent = sent(m, producer.send(m));
            sent.put("bodyBytes", body.length);
            sent.put("bodySha256", sha256(body));
        } finally {
            producer.shutdown();
        }
        return Map.of("sent", sent, "received", consume(topic, n("JavaCompressedCG"), "*", 1, 0));
    }

    /** Reads what tsrocket's own Producer sent (-Dscenarios.oursCount messages to OursToJava, before this JVM). */
    static Map<String, Object> consumeOurs() throws Exception {
        int count = Integer.getInteger("scenarios.oursCount", 0);
        return Map.of("received", consume(n("OursToJava"), n("OursToJavaCG"), "*", count, 300));
    }

    /**
     * A broker with enablePropertyFilter=false: a consumer subscribing by SQL must fail to start (CHECK_CLIENT_CONFIG
     * refused). Runs only with -Dscenarios.sql92Refused=true (java-sql92.test.ts starts such a broker).
     */
    static Map<String, Object> sql92Refused() throws Exception {
        if (!Boolean.getBoolean("scenarios.sql92Refused")) return Map.of("skipped", true);
        String topic = n("JavaSql");
        producer(n("JavaSqlPG"), topic).shutdown(); // the topic exists and is routed: the client checks its broker
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(n("JavaSqlCG"));
        consumer.setInstanceName(n("JavaSqlCG"));
        connect(consumer);
        consumer.subscribe(topic, MessageSelector.bySql("a > 1"));
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> ConsumeConcurrentlyStatus.CONSUME_SUCCESS);
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            consumer.start();
            out.put("started", true);
        } catch (MQClientException e) {
            out.put("started", false);
            out.put("responseCode", e.getResponseCode());
            out.put("startError", String.valueOf(e.getMessage()));
        } finally {
            consumer.shutdown();
        }
        return out;
    }

    /**
     * maxReconsumeTimes 0: the first RECONSUME_LATER sends the message to %DLQ%<group>; the node side
     * (java-dlq.test.ts) resends it with tsrocket's Admin and this consumer must get it once more. Runs only with
     * -Dscenarios.dlqResend=true (nobody resends in other runs).
     */
    static Map<String, Object> dlqResend() throws Exception {
        if (!Boolean.getBoolean("scenarios.dlqResend")) return Map.of("skipped", true);
        String topic = n("JavaDlq"), group = n("JavaDlqCG");
        DefaultMQProducer producer = producer(n("JavaDlqPG"), topic);
        Map<String, Object> sent;
        try {
            createTopic(producer, "%RETRY%" + group, 1); // routed before the consumer starts (see retry())
            Message m = new Message(topic, "TagD", "dlq-key", utf8("dead, then resent"));
            sent = sent(m, producer.send(m));
        } finally {
            producer.shutdown();
        }
        List<Map<String, Object>> deliveries = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch twice = new CountDownLatch(2);
        DefaultMQPushConsumer dlqConsumer = new DefaultMQPushConsumer(group);
        dlqConsumer.setInstanceName(group);
        dlqConsumer.setMaxReconsumeTimes(0);
        DefaultMQPushConsumer consumer = startPush(dlqConsumer, topic, "*", (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                Map<String, Object> d = received(m);
                d.put("originMessageId", String.valueOf(m.getProperty("ORIGIN_MESSAGE_ID")));
                d.put("retryTopic", String.valueOf(m.getProperty("RETRY_TOPIC")));
                boolean first = deliveries.isEmpty();
                deliveries.add(d);
                twice.countDown();
                if (first) return ConsumeConcurrentlyStatus.RECONSUME_LATER;
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        try {
            twice.await(2 * WAIT_MS, TimeUnit.MILLISECONDS);
            Thread.sleep(500); // a duplicate would show
        } finally {
            consumer.shutdown();
        }
        return Map.of("sent", sent, "deliveries", new ArrayList<>(deliveries));
    }

    // ---- transactions (test/interop/java-transactions.test.ts) ----

    /**
     * TransactionMQProducer + TransactionListener: COMMIT_MESSAGE and ROLLBACK_MESSAGE at once, UNKNOW resolved by
     * checkLocalTransaction both ways; a consumer then reads what was committed.
     */
    static Map<String, Object> transactions() throws Exception {
        String topic = n("JavaTx");
        String[] outcomes = {"commit", "rollback", "unknown-commit", "unknown-rollback"};
        List<Map<String, Object>> checks = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch unknownsChecked = new CountDownLatch(2);
        Set<String> checkedOutcomes = ConcurrentHashMap.newKeySet();
        TransactionMQProducer producer = new TransactionMQProducer(n("JavaTxPG"));
        connect(producer);
        producer.setInstanceName(n("JavaTxPG"));
        producer.setHeartbeatBrokerInterval(1000); // the broker checks back only producers that heartbeated it
        producer.setTransactionListener(new TransactionListener() {
            public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
                String o = msg.getUserProperty("outcome");
                if (o.equals("commit")) return LocalTransactionState.COMMIT_MESSAGE;
                if (o.equals("rollback")) return LocalTransactionState.ROLLBACK_MESSAGE;
                return LocalTransactionState.UNKNOW;
            }
            public LocalTransactionState checkLocalTransaction(MessageExt msg) {
                String o = msg.getUserProperty("outcome");
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("outcome", o);
                c.put("topic", msg.getTopic());
                c.put("transactionId", msg.getTransactionId());
                c.put("uniqKey", msg.getProperty("UNIQ_KEY"));
                c.put("body", new String(msg.getBody(), StandardCharsets.UTF_8));
                checks.add(c);
                if (o.startsWith("unknown") && checkedOutcomes.add(o)) unknownsChecked.countDown();
                return o.endsWith("commit") ? LocalTransactionState.COMMIT_MESSAGE : LocalTransactionState.ROLLBACK_MESSAGE;
            }
        });
        producer.start();
        List<Map<String, Object>> sent = new ArrayList<>();
        try {
            createTopic(producer, topic, 4);
            for (String o : outcomes) {
                Message m = new Message(topic, "TagTx", "tx-key-" + o, utf8("tx " + o));
                m.putUserProperty("outcome", o);
                TransactionSendResult r = producer.sendMessageInTransaction(m, o);
                Map<String, Object> s = sent(m, r);
                s.put("outcome", o);
                s.put("localTransactionState", String.valueOf(r.getLocalTransactionState()));
                s.put("transactionId", r.getTransactionId());
                sent.add(s);
            }
            if (!unknownsChecked.await(WAIT_MS * 2, TimeUnit.MILLISECONDS)) throw new IllegalStateException("UNKNOW transactions never checked back");
            Thread.sleep(500); // the END_TRANSACTION answering the checks is oneway
        } finally {
            producer.shutdown();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("sent", sent);
        out.put("checks", new ArrayList<>(checks));
        out.put("received", consume(topic, n("JavaTxCG"), "*", 2, 2000));
        return out;
    }

    // ---- request-reply (java-request-reply.test.ts; only with -Dscenarios.requestReply=true) ----

    /**
     * producer.request() answered by tsrocket's responder (a PushConsumer replying with createReply on the node
     * side); then a request to a topic nobody consumes must time out.
     */
    static Map<String, Object> requestJavaRequester() throws Exception {
        if (!Boolean.getBoolean("scenarios.requestReply")) return Map.of("skipped", true);
        String topic = n("JavaRequests"), silent = n("JavaRequestsSilent");
        DefaultMQProducer producer = producer(n("JavaRequestsPG"), topic);
        List<Map<String, Object>> replies = new ArrayList<>();
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            createTopic(producer, silent, 1);
            // Routed and announced, so the broker finds this client when the first reply comes.
            producer.getDefaultMQProducerImpl().getmQClientFactory().updateTopicRouteInfoFromNameServer(topic);
            producer.getDefaultMQProducerImpl().getmQClientFactory().sendHeartbeatToAllBrokerWithLock();
            int count = Integer.getInteger("scenarios.requestReply.count", 20);
            for (int i = 0; i < count; i++) {
                Message req = new Message(topic, "TagQ", utf8("java-q" + i));
                Message reply = producer.request(req, 10_000);
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("request", "java-q" + i);
                r.put("requestCorrelationId", req.getProperty("CORRELATION_ID"));
                r.put("replyToClient", req.getProperty("REPLY_TO_CLIENT"));
                r.put("body", new String(reply.getBody(), StandardCharsets.UTF_8));
                r.put("topic", reply.getTopic());
                r.put("correlationId", reply.getProperty("CORRELATION_ID"));
                r.put("msgType", reply.getProperty("MSG_TYPE"));
                replies.add(r);
            }
            long t0 = System.currentTimeMillis();
            try {
                producer.request(new Message(silent, utf8("anyone?")), 1_000);
                out.put("timeout", "answered");
            } catch (Exception e) {
                out.put("timeout", e.getClass().getSimpleName());
                out.put("timeoutWaitedMs", System.currentTimeMillis() - t0);
            }
        } finally {
            producer.shutdown();
        }
        out.put("replies", replies);
        return out;
    }

    /** A Java responder: MessageUtil.createReplyMessage + send for each request tsrocket's Producer.request sends. */
    static Map<String, Object> requestJavaResponder() throws Exception {
        if (!Boolean.getBoolean("scenarios.requestReply")) return Map.of("skipped", true);
        String topic = n("JavaResponds");
        int count = Integer.getInteger("scenarios.requestReply.count", 20);
        DefaultMQProducer replier = producer(n("JavaRespondsPG"), topic);
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch answered = new CountDownLatch(count);
        DefaultMQPushConsumer responder = new DefaultMQPushConsumer(n("JavaRespondsCG"));
        responder.setInstanceName(n("JavaRespondsCG"));
        DefaultMQPushConsumer consumer = startPush(responder, topic, "*", (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                try {
                    String body = "java-re:" + new String(m.getBody(), StandardCharsets.UTF_8);
                    replier.send(org.apache.rocketmq.client.utils.MessageUtil.createReplyMessage(m, utf8(body)), 5_000);
                    answered.countDown();
                } catch (Exception e) {
                    errors.add(e.toString());
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        try {
            answered.await(2 * WAIT_MS, TimeUnit.MILLISECONDS);
        } finally {
            consumer.shutdown();
            replier.shutdown();
        }
        return Map.of("answered", count - answered.getCount(), "errors", new ArrayList<>(errors));
    }

    // ---- delay levels and retry back-off ----

    /** setDelayTimeLevel 1 and 2: each message comes back after its level's delay (send and receive times). */
    static Map<String, Object> delayLevel() throws Exception {
        String topic = n("JavaDelay"), group = n("JavaDelayCG");
        DefaultMQProducer producer = producer(n("JavaDelayPG"), topic);
        List<Map<String, Object>> sent = new ArrayList<>();
        List<Map<String, Object>> received = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch warm = new CountDownLatch(1);
        CountDownLatch all = new CountDownLatch(4);
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setInstanceName(group);
        DefaultMQPushConsumer consumer = startPush(c, topic, "*", (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                if ("warm".equals(m.getTags())) { warm.countDown(); continue; }
                Map<String, Object> d = received(m);
                d.put("receivedAtMs", System.currentTimeMillis());
                d.put("bornTimestamp", m.getBornTimestamp());
                d.put("delayProperty", String.valueOf(m.getProperty("DELAY")));
                d.put("realTopic", String.valueOf(m.getProperty("REAL_TOPIC")));
                received.add(d);
                all.countDown();
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        try {
            producer.send(new Message(topic, "warm", utf8("warm")));
            warm.await(WAIT_MS, TimeUnit.MILLISECONDS); // the consumer owns its queues and polls
            for (int level : new int[] {1, 2, 1, 2}) {
                Message m = new Message(topic, "L" + level, utf8("delayed " + level));
                m.setDelayTimeLevel(level);
                long at = System.currentTimeMillis();
                Map<String, Object> s = sent(m, producer.send(m));
                s.put("level", level);
                s.put("sentAtMs", at);
                s.put("ackedAtMs", System.currentTimeMillis());
                sent.add(s);
            }
            all.await(WAIT_MS, TimeUnit.MILLISECONDS);
            Thread.sleep(300);
        } finally {
            consumer.shutdown();
            producer.shutdown();
        }
        return Map.of("sent", sent, "received", new ArrayList<>(received));
    }

    /** RECONSUME_LATER every time with maxReconsumeTimes 2: deliveries 0, 1, 2 on the back-off levels, then the DLQ. */
    static Map<String, Object> retryBackoff() throws Exception {
        String topic = n("JavaBackoff"), group = n("JavaBackoffCG");
        DefaultMQProducer producer = producer(n("JavaBackoffPG"), topic);
        Map<String, Object> sent;
        List<Map<String, Object>> deliveries = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch three = new CountDownLatch(3);
        try {
            createTopic(producer, "%RETRY%" + group, 1); // routed before the consumer starts (see retry())
            DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
            c.setInstanceName(group);
            c.setMaxReconsumeTimes(2);
            DefaultMQPushConsumer consumer = startPush(c, topic, "*", (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    Map<String, Object> d = received(m);
                    d.put("receivedAtMs", System.currentTimeMillis());
                    deliveries.add(d);
                    three.countDown();
                }
                return ConsumeConcurrentlyStatus.RECONSUME_LATER;
            });
            try {
                Message m = new Message(topic, "TagB", "backoff-key", utf8("back off"));
                sent = sent(m, producer.send(m));
                three.await(WAIT_MS, TimeUnit.MILLISECONDS);
                Thread.sleep(500); // the last RECONSUME_LATER reaches the broker (→ DLQ)
            } finally {
                consumer.shutdown();
            }
        } finally {
            producer.shutdown();
        }
        return Map.of("sent", sent, "deliveries", new ArrayList<>(deliveries));
    }

    // ---- SQL92 (MessageSelector.bySql), with -Dscenarios.sql92=true against a broker with enablePropertyFilter on ----

    /**
     * A push consumer subscribed with MessageSelector.bySql receives exactly the messages whose properties match:
     * user properties, TAGS, a property some messages lack (NULL, never a match), BETWEEN, AND, OR.
     */
    static Map<String, Object> sql92BySql() throws Exception {
        if (!Boolean.getBoolean("scenarios.sql92")) return Map.of("skipped", true);
        String topic = n("JavaBySql");
        DefaultMQProducer producer = producer(n("JavaBySqlPG"), topic);
        List<Map<String, Object>> sent = new ArrayList<>();
        int matching = 0;
        try {
            for (int i = 0; i < 40; i++) {
                Message m = new Message(topic, i % 4 == 0 ? "vip" : "plain", utf8("sql " + i));
                m.putUserProperty("a", String.valueOf(i));
                String region = i % 3 == 0 ? null : (i % 2 == 0 ? "eu" : "us");
                if (region != null) m.putUserProperty("region", region);
                Map<String, Object> s = sent(m, producer.send(m));
                s.put("a", i);
                s.put("region", region);
                sent.add(s);
                if ((i >= 10 && i <= 29 && "eu".equals(region)) || i % 4 == 0) matching++;
            }
        } finally {
            producer.shutdown();
        }
        MessageSelector selector = MessageSelector.bySql("(a BETWEEN 10 AND 29 AND region = 'eu') OR TAGS = 'vip'");
        return Map.of("sent", sent, "received", consumeSelected(topic, n("JavaBySqlCG"), selector, matching, 1000));
    }

    /** A bySql expression that does not compile: the consumer fails to start with the broker's reason and position. */
    static Map<String, Object> sql92BadExpression() throws Exception {
        if (!Boolean.getBoolean("scenarios.sql92")) return Map.of("skipped", true);
        String topic = n("JavaBadSql");
        producer(n("JavaBadSqlPG"), topic).shutdown(); // the topic exists and is routed: the client checks its broker
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(n("JavaBadSqlCG"));
        consumer.setInstanceName(n("JavaBadSqlCG"));
        connect(consumer);
        consumer.subscribe(topic, MessageSelector.bySql("a > 5 AND b >"));
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> ConsumeConcurrentlyStatus.CONSUME_SUCCESS);
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            consumer.start();
            out.put("started", true);
        } catch (MQClientException e) {
            out.put("started", false);
            out.put("responseCode", e.getResponseCode());
            out.put("startError", String.valueOf(e.getMessage()));
        } finally {
            consumer.shutdown();
        }
        return out;
    }

    /** consume() with a MessageSelector. */
    static List<Map<String, Object>> consumeSelected(String topic, String group, MessageSelector selector, int count, long graceMs) throws Exception {
        List<Map<String, Object>> received = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch latch = new CountDownLatch(count);
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
        consumer.setInstanceName(group);
        connect(consumer);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe(topic, selector);
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) { received.add(received(m)); latch.countDown(); }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        try {
            latch.await(WAIT_MS, TimeUnit.MILLISECONDS);
            Thread.sleep(Math.max(200, graceMs)); // extras would show
        } finally {
            consumer.shutdown();
        }
        return new ArrayList<>(received);
    }

    // ---- orderly (issue 13) ----

    /**
     * MessageListenerOrderly with a MessageQueueSelector: 3 keys x 60 messages sent with SelectMessageQueueByHash
     * while two orderly consumers of one group hold the queues through LOCK_BATCH_MQ; the second leaves halfway
     * (UNLOCK_BATCH_MQ) and the first takes its queues over. "B:10" answers SUSPEND_CURRENT_QUEUE_A_MOMENT twice.
     * Each delivery records key, seq, consumer, reconsumeTimes and start/end times (ms). Only with
     * -Dscenarios.orderly=true (its own test file runs it, with a short rebalance interval).
     */
    static Map<String, Object> orderly() throws Exception {
        if (!Boolean.getBoolean("scenarios.orderly")) return Map.of("skipped", true);
        String topic = n("JavaOrderly"), group = n("JavaOrderlyCG");
        String[] keys = {"A", "B", "C"};
        int perKey = 60;
        List<Map<String, Object>> deliveries = Collections.synchronizedList(new ArrayList<>());
        Set<String> consumed = ConcurrentHashMap.newKeySet();
        Map<String, Integer> suspended = new ConcurrentHashMap<>();
        DefaultMQProducer producer = producer(n("JavaOrderlyPG"), topic);
        createTopic(producer, "%RETRY%" + group, 1);
        DefaultMQPushConsumer first = orderlyConsumer(group, "1", topic, deliveries, consumed, suspended);
        DefaultMQPushConsumer second = orderlyConsumer(group, "2", topic, deliveries, consumed, suspended);
        Map<String, Object> queueOfKey = new LinkedHashMap<>();
        boolean secondStopped = false;
        try {
            // Both consumers hold their share before the first send: a consumer still starting on a loaded machine
            // would otherwise find the first half consumed by the other and leave without a delivery.
            long settled = System.currentTimeMillis() + WAIT_MS;
            while (System.currentTimeMillis() < settled) {
                int firstHeld = lockedQueues(first), secondHeld = lockedQueues(second);
                if (firstHeld > 0 && secondHeld > 0 && firstHeld + secondHeld == 4) break;
                Thread.sleep(20);
            }
            for (int s = 0; s < perKey; s++) {
                for (String k : keys) {
                    Message m = new Message(topic, "TagO", k, utf8(k + ":" + s));
                    SendResult r = producer.send(m, new SelectMessageQueueByHash(), k);
                    queueOfKey.put(k, r.getMessageQueue().getQueueId());
                }
                if (s == perKey / 2) {
                    long half = System.currentTimeMillis() + WAIT_MS;
                    while (consumed.size() < keys.length * perKey / 3 && System.currentTimeMillis() < half) Thread.sleep(20);
                    second.shutdown(); // unlocks its queues
                    secondStopped = true;
                }
            }
            long deadline = System.currentTimeMillis() + 2 * WAIT_MS;
            while (consumed.size() < keys.length * perKey && System.currentTimeMillis() < deadline) Thread.sleep(20);
            Thread.sleep(300); // a stray extra delivery would show
        } finally {
            producer.shutdown();
            first.shutdown();
            if (!secondStopped) second.shutdown();
        }
        return Map.of("queueOfKey", queueOfKey, "perKey", perKey, "deliveries", new ArrayList<>(deliveries));
    }

    /** Queues `consumer` holds locked (an orderly consumer consumes only these). */
    static int lockedQueues(DefaultMQPushConsumer consumer) {
        int n = 0;
        for (ProcessQueue pq : consumer.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().values()) {
            if (pq.isLocked() && !pq.isDropped()) n++;
        }
        return n;
    }

    static DefaultMQPushConsumer orderlyConsumer(String group, String name, String topic, List<Map<String, Object>> deliveries,
            Set<String> consumed, Map<String, Integer> suspended) throws Exception {
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
        consumer.setInstanceName(group + "-" + name);
        connect(consumer);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.setSuspendCurrentQueueTimeMillis(100);
        consumer.subscribe(topic, "*");
        consumer.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                double start = System.nanoTime() / 1e6;
                String body = new String(m.getBody(), StandardCharsets.UTF_8);
                boolean suspend = body.equals("B:10") && suspended.merge(body, 1, Integer::sum) <= 2;
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("k", body.split(":")[0]);
                d.put("s", Integer.parseInt(body.split(":")[1]));
                d.put("by", name);
                d.put("q", m.getQueueId());
                d.put("r", m.getReconsumeTimes());
                d.put("ts", start);
                d.put("te", System.nanoTime() / 1e6);
                deliveries.add(d);
                if (suspend) return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
                consumed.add(body);
            }
            return ConsumeOrderlyStatus.SUCCESS;
        });
        consumer.start();
        return consumer;
    }

    // ---- message trace, with -Dscenarios.trace=true against a broker with the trace topic (tsrocket start) ----

    /**
     * A producer and a push consumer with enableMsgTrace: their trace dispatchers write to RMQ_SYS_TRACE_TOPIC. Both
     * stay up until every Pub and SubAfter record is queryable: the client's dispatcher drops what has not left
     * 500 ms into its shutdown, which a loaded machine can pass.
     */
    static Map<String, Object> traceJava() throws Exception {
        if (!Boolean.getBoolean("scenarios.trace")) return Map.of("skipped", true);
        String topic = n("JavaTraced"), group = n("JavaTracedCG");
        DefaultMQProducer producer = new DefaultMQProducer(n("JavaTracedPG"), true);
        connect(producer);
        producer.setInstanceName(n("JavaTracedPG"));
        producer.start();
        List<Map<String, Object>> sent = new ArrayList<>();
        List<Map<String, Object>> received = Collections.synchronizedList(new ArrayList<>());
        boolean traced = false;
        try {
            createTopic(producer, topic, 2);
            for (int i = 0; i < 3; i++) {
                Message m = new Message(topic, "TagT", "trace-key-" + i, utf8("traced " + i));
                sent.add(sent(m, producer.send(m)));
            }
            CountDownLatch latch = new CountDownLatch(sent.size());
            DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group, true);
            consumer.setInstanceName(group);
            startPush(consumer, topic, "*", (msgs, ctx) -> {
                for (MessageExt m : msgs) { received.add(received(m)); latch.countDown(); }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            try {
                latch.await(WAIT_MS, TimeUnit.MILLISECONDS);
                long deadline = System.currentTimeMillis() + WAIT_MS;
                while (!traced && System.currentTimeMillis() < deadline) {
                    traced = true;
                    for (Map<String, Object> m : sent) {
                        String id = (String) m.get("msgId");
                        traced &= hasTraceRecord(producer, id, "Pub") && hasTraceRecord(producer, id, "SubAfter");
                    }
                    if (!traced) Thread.sleep(100);
                }
            } finally {
                consumer.shutdown();
            }
        } finally {
            producer.shutdown();
        }
        return Map.of("sent", sent, "received", new ArrayList<>(received), "tracedSeenByJava", traced);
    }

    /** Whether a trace message keyed by `msgId` holds a record of `type` for it. */
    static boolean hasTraceRecord(DefaultMQProducer admin, String msgId, String type) {
        try {
            for (MessageExt t : admin.queryMessage("RMQ_SYS_TRACE_TOPIC", msgId, 32, 0, Long.MAX_VALUE).getMessageList()) {
                for (String record : new String(t.getBody(), StandardCharsets.UTF_8).split("\u0002")) {
                    String[] f = record.split("\u0001");
                    if (f.length > 5 && f[0].equals(type) && Arrays.asList(f).contains(msgId)) return true;
                }
            }
        } catch (Exception e) {
            // nothing found yet (the client throws), or a query timed out: asked again
        }
        return false;
    }

    // ---- helpers ----

    /**
     * Points a client at the NameServer, heartbeating every second. A rebalance raises the consumer's subscription
     * version and heartbeats at once, but the client skips that heartbeat when another of its heartbeats is under
     * way; until the next one reaches it, the broker (as RocketMQ's) refuses the newer pulls with
     * SUBSCRIPTION_NOT_LATEST. The client's default period, 30 s, outlasts a scenario's wait on a loaded machine.
     */
    static void connect(ClientConfig client) {
        client.setNamesrvAddr(namesrv);
        client.setHeartbeatBrokerInterval(1000);
    }

    static DefaultMQProducer producer(String group, String topic) throws Exception {
        DefaultMQProducer producer = new DefaultMQProducer(group);
        connect(producer);
        producer.setInstanceName(group);
        producer.start();
        createTopic(producer, topic, 4);
        return producer;
    }

    /**
     * UPDATE_AND_CREATE_TOPIC through `producer`, then waits until the NameServer routes it. Asked again (an upsert)
     * while it fails on the way: on a loaded machine a request of the client's can pass its 3 s timeout, and the
     * client then closes that connection (closeSocketIfTimeout), failing every other request on it with "send
     * request to <addr> failed" — the NameServer's route query of createTopic among them.
     */
    static void createTopic(DefaultMQProducer producer, String topic, int queues) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            try {
                producer.createTopic("TBW102", topic, queues);
                break;
            } catch (MQClientException e) {
                if (!onTheWay(e) || System.currentTimeMillis() > deadline) throw e;
                Thread.sleep(100);
            }
        }
        while (true) { // the broker registers the new topic with the NameServer asynchronously
            try {
                if (!producer.fetchPublishMessageQueues(topic).isEmpty()) return;
            } catch (Exception e) {
                if (System.currentTimeMillis() > deadline) throw e;
            }
            Thread.sleep(50);
        }
    }

    /** Whether `e` was caused by the connection (a timeout, a failed send or connect), not by an answer. */
    static boolean onTheWay(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof RemotingException) return true;
        }
        return false;
    }

    static DefaultMQPushConsumer startPush(DefaultMQPushConsumer consumer, String topic, String expr, MessageListenerConcurrently listener) throws Exception {
        connect(consumer);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe(topic, expr);
        consumer.registerMessageListener(listener);
        consumer.start();
        return consumer;
    }

    /** Consumes until `count` messages arrived (or WAIT_MS), then `graceMs` (at least 200) more so that extras would show. */
    static List<Map<String, Object>> consume(String topic, String group, String expr, int count, long graceMs) throws Exception {
        List<Map<String, Object>> received = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch latch = new CountDownLatch(count);
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
        consumer.setInstanceName(group);
        startPush(consumer, topic, expr, (msgs, ctx) -> {
            for (MessageExt m : msgs) { received.add(received(m)); latch.countDown(); }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        try {
            latch.await(WAIT_MS, TimeUnit.MILLISECONDS);
            Thread.sleep(Math.max(200, graceMs)); // the last listener call returns and its offset is recorded
        } finally {
            consumer.shutdown(); // commits the offsets
        }
        return new ArrayList<>(received);
    }

    static List<Map<String, Object>> poll(DefaultLitePullConsumer consumer, int count) {
        List<Map<String, Object>> got = new ArrayList<>();
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (got.size() < count && System.currentTimeMillis() < deadline) {
            for (MessageExt m : consumer.poll(500)) got.add(received(m));
        }
        return got;
    }

    static Map<String, Object> sent(Message m, SendResult r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("msgId", m.getProperty("UNIQ_KEY"));
        out.put("body", new String(m.getBody(), StandardCharsets.UTF_8).length() > 200 ? "(long)" : new String(m.getBody(), StandardCharsets.UTF_8));
        out.put("tags", m.getTags());
        out.put("keys", m.getKeys());
        if (r != null) {
            out.put("status", r.getSendStatus().toString());
            out.put("resultMsgId", r.getMsgId());
            out.put("offsetMsgId", r.getOffsetMsgId());
            out.put("queueId", r.getMessageQueue().getQueueId());
            out.put("queueOffset", r.getQueueOffset());
        }
        return out;
    }

    static Map<String, Object> received(MessageExt m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("msgId", m.getMsgId());
        out.put("uniqKey", m.getProperty("UNIQ_KEY"));
        out.put("topic", m.getTopic());
        out.put("tags", m.getTags());
        out.put("keys", m.getKeys());
        out.put("body", m.getBody().length > 200 ? "(long)" : new String(m.getBody(), StandardCharsets.UTF_8));
        out.put("bodyBytes", m.getBody().length);
        out.put("bodySha256", sha256(m.getBody()));
        out.put("queueId", m.getQueueId());
        out.put("queueOffset", m.getQueueOffset());
        out.put("commitLogOffset", m.getCommitLogOffset());
        out.put("reconsumeTimes", m.getReconsumeTimes());
        out.put("storeTimestamp", m.getStoreTimestamp());
        out.put("sysFlag", m.getSysFlag());
        return out;
    }

    static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    static String sha256(byte[] b) {
        try {
            StringBuilder hex = new StringBuilder();
            for (byte x : MessageDigest.getInstance("SHA-256").digest(b)) hex.append(String.format("%02x", x));
            return hex.toString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Strict JSON of maps, collections, strings, numbers, booleans and null. */
    static String json(Object v) {
        if (v == null) return "null";
        if (v instanceof Number || v instanceof Boolean) return v.toString();
        if (v instanceof Map) {
            StringJoiner j = new StringJoiner(",", "{", "}");
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) j.add(json(String.valueOf(e.getKey())) + ":" + json(e.getValue()));
            return j.toString();
        }
        if (v instanceof Collection) {
            StringJoiner j = new StringJoiner(",", "[", "]");
            for (Object x : (Collection<?>) v) j.add(json(x));
            return j.toString();
        }
        StringBuilder s = new StringBuilder("\"");
        for (char c : v.toString().toCharArray()) {
            if (c == '"' || c == '\\') s.append('\\').append(c);
            else if (c < 0x20) s.append(String.format("\\u%04x", (int) c));
            else s.append(c);
        }
        return s.append('"').toString();
    }
}
