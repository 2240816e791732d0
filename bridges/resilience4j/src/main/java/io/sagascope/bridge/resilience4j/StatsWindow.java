package io.sagascope.bridge.resilience4j;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The calls Resilience4j reported since the last window, as breaker.stats counts them. */
final class StatsWindow {
  private Instant start = Instant.now();
  private int calls;
  private int successes;
  private int failures;
  private int rejections;
  private final List<Double> latencies = new ArrayList<>();

  synchronized void succeeded(double latencyMs) {
    calls++;
    successes++;
    latencies.add(latencyMs);
  }

  synchronized void failed(double latencyMs) {
    calls++;
    failures++;
    latencies.add(latencyMs);
  }

  synchronized void rejected() {
    rejections++;
  }

  /** The window's figures (with {@code ref} and the state), and a new window from now. */
  synchronized Map<String, Object> close(Map<String, Object> ref, String state, String forced) {
    Instant end = Instant.now();
    List<Double> sorted = new ArrayList<>(latencies);
    sorted.sort(null);
    Map<String, Object> data = new LinkedHashMap<>(ref);
    data.put("windowStart", start.toString());
    data.put("windowEnd", end.toString());
    data.put("state", state);
    data.put("forced", forced);
    data.put("calls", calls);
    data.put("successes", successes);
    data.put("business", 0);
    data.put("failures", failures);
    data.put("rejections", rejections);
    data.put("trials", 0);
    data.put(
        "latencyMs",
        Map.of(
            "p50", percentile(sorted, 50),
            "p95", percentile(sorted, 95),
            "p99", percentile(sorted, 99),
            "max", sorted.isEmpty() ? 0.0 : sorted.get(sorted.size() - 1)));
    start = end;
    calls = successes = failures = rejections = 0;
    latencies.clear();
    return data;
  }

  private static double percentile(List<Double> sorted, int p) {
    if (sorted.isEmpty()) return 0.0;
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }
}
