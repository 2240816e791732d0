package io.sagascope.bridge.resilience4j;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes breaker events as binary-mode CloudEvents on the breaker events topic, keyed by
 * the pair (docs/breakers.md, "Breakers of other libraries"). A send that fails is told to
 * {@code onSendError}; the breaker goes on regardless.
 */
final class BreakerEventPublisher implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final KafkaProducer<String, String> producer;
  private final String topic;
  private final String source;
  private final Consumer<Exception> onSendError;

  BreakerEventPublisher(String bootstrapServers, String topic, String source, Consumer<Exception> onSendError) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "sagascope-resilience4j-bridge");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    this.producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    this.topic = topic;
    this.source = source;
    this.onSendError = onSendError;
  }

  /** One event of {@code type} ("io.sagascope.breaker.stats", say) with {@code data}, at {@code time}. */
  void publish(String type, String pair, Map<String, Object> data, Instant time) {
    String value;
    try {
      value = JSON.writeValueAsString(data);
    } catch (Exception e) {
      onSendError.accept(e);
      return;
    }
    ProducerRecord<String, String> record = new ProducerRecord<>(topic, pair, value);
    header(record, "ce_specversion", "1.0");
    header(record, "ce_id", UUID.randomUUID().toString());
    header(record, "ce_source", source);
    header(record, "ce_type", type);
    header(record, "ce_time", time.toString());
    header(record, "ce_subject", pair);
    header(record, "content-type", "application/json");
    // Breaker events belong to no saga: each starts a trace of its own (W3C trace context).
    header(record, "traceparent", "00-" + hex(16) + "-" + hex(8) + "-01");
    producer.send(record, (metadata, error) -> {
      if (error != null) onSendError.accept(error);
    });
  }

  private static void header(ProducerRecord<String, String> record, String name, String value) {
    record.headers().add(name, value.getBytes(StandardCharsets.UTF_8));
  }

  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  @Override
  public void close() {
    producer.close(java.time.Duration.ofSeconds(10));
  }
}
