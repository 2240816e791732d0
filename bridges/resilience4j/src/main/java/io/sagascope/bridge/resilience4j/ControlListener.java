package io.sagascope.bridge.resilience4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the compacted breaker control channel from its beginning (no group, nothing
 * committed: a restarted service applies the decision in force before its first call) and
 * hands each newer decision for one pair to {@code apply}.
 */
final class ControlListener implements AutoCloseable {
  static final String CONTROL_TYPE = "io.sagascope.breaker.control";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An operator's decision: the forced state (null: the breaker decides) and its end, if any. */
  record Decision(String forced, String forcedUntil, long version) {}

  private final KafkaConsumer<String, String> consumer;
  private final Thread thread;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private volatile boolean running = true;

  ControlListener(String bootstrapServers, String topic, String pair, Consumer<Decision> apply, Consumer<Exception> onError) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "sagascope-resilience4j-bridge-control");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    this.thread = new Thread(() -> run(topic, pair, apply, onError), "sagascope-breaker-control");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Waits until the channel was read to its end once (the decision in force is applied). */
  boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private void run(String topic, String pair, Consumer<Decision> apply, Consumer<Exception> onError) {
    try {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(topic, p.partition()))
          .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      var ends = consumer.endOffsets(partitions);
      while (running) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          if (!pair.equals(record.key()) || record.value() == null) continue;
          if (!CONTROL_TYPE.equals(header(record, "ce_type"))) continue;
          Decision decision = decode(record.value(), pair);
          if (decision != null) apply.accept(decision);
        }
        if (caughtUp.getCount() > 0
            && partitions.stream().allMatch(p -> consumer.position(p) >= ends.getOrDefault(p, 0L))) {
          caughtUp.countDown();
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (Exception e) {
      onError.accept(e);
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  /** The decision in a control event's data, or null when it is not one for this pair. */
  static Decision decode(String value, String pair) {
    try {
      JsonNode data = JSON.readTree(value);
      if (!pair.equals(data.path("pair").asText(null)) || !data.path("version").canConvertToLong()) return null;
      JsonNode forced = data.path("forced");
      JsonNode until = data.path("forcedUntil");
      return new Decision(
          forced.isTextual() ? forced.asText() : null,
          until.isTextual() ? until.asText() : null,
          data.path("version").asLong());
    } catch (Exception e) {
      return null;
    }
  }

  private static String header(ConsumerRecord<String, String> record, String name) {
    Header h = record.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    consumer.wakeup();
    thread.join(10_000);
  }
}
