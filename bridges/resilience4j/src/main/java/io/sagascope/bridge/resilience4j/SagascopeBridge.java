package io.sagascope.bridge.resilience4j;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Bridges a Resilience4j {@link CircuitBreaker} to Sagascope: its state changes and a stats
 * window every few seconds go to the breaker events topic, so that the pair appears on the
 * dashboard; with a control topic, it obeys an operator's forced state for its pair (forced
 * open: {@code FORCED_OPEN}; forced closed or disabled: {@code DISABLED}, every call let
 * through; cleared: {@code CLOSED}, its own rules again) and reports it back.
 *
 * <pre>{@code
 * SagascopeBridge bridge = SagascopeBridge.start(breaker, SagascopeBridge.options()
 *     .bootstrapServers("127.0.0.1:9092").caller("payments").callee("ledger").instance("payments-1"));
 * }</pre>
 */
public final class SagascopeBridge implements AutoCloseable {
  /** What a service says when it bridges a breaker; every setter returns the options. */
  public static final class Options {
    private String bootstrapServers = "127.0.0.1:9092";
    private String topic = "sagascope.breaker-events";
    private String controlTopic = "sagascope.breaker-control";
    private String caller;
    private String callee;
    private String operation;
    private String instance;
    private String source;
    private Duration statsEvery = Duration.ofSeconds(10);
    private Consumer<Exception> onError = e -> {};

    public Options bootstrapServers(String v) { bootstrapServers = v; return this; }
    /** The breaker events topic, with the deployment's topic prefix. */
    public Options topic(String v) { topic = v; return this; }
    /** The control channel, with the deployment's prefix; null: report only, obey nothing. */
    public Options controlTopic(String v) { controlTopic = v; return this; }
    public Options caller(String v) { caller = v; return this; }
    public Options callee(String v) { callee = v; return this; }
    public Options operation(String v) { operation = v; return this; }
    /** This process, as the dashboard names it (host and pid, say). */
    public Options instance(String v) { instance = v; return this; }
    /** The CloudEvents source; {@code /resilience4j/<caller>} when not set. */
    public Options source(String v) { source = v; return this; }
    public Options statsEvery(Duration v) { statsEvery = v; return this; }
    /** Told when an event could not be sent or the control channel failed. */
    public Options onError(Consumer<Exception> v) { onError = v; return this; }
  }

  public static Options options() {
    return new Options();
  }

  private final CircuitBreaker breaker;
  private final Options options;
  private final String pair;
  private final Map<String, Object> ref = new LinkedHashMap<>();
  private final BreakerEventPublisher events;
  private final StatsWindow window = new StatsWindow();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "sagascope-breaker-stats");
    t.setDaemon(true);
    return t;
  });
  private final ControlListener control;
  private volatile String operatorForced;
  private long appliedVersion = -1;
  private ScheduledFuture<?> expiry;
  private long lastChangeAt;

  private SagascopeBridge(CircuitBreaker breaker, Options o) {
    this.breaker = breaker;
    this.options = o;
    Objects.requireNonNull(o.caller, "caller");
    Objects.requireNonNull(o.callee, "callee");
    Objects.requireNonNull(o.instance, "instance");
    this.pair = o.caller + "→" + o.callee + (o.operation == null ? "" : "/" + o.operation);
    ref.put("pair", pair);
    ref.put("caller", o.caller);
    ref.put("callee", o.callee);
    if (o.operation != null) ref.put("operation", o.operation);
    ref.put("instance", o.instance);
    this.events = new BreakerEventPublisher(
        o.bootstrapServers, o.topic, o.source == null ? "/resilience4j/" + o.caller : o.source, o.onError);
    var published = breaker.getEventPublisher();
    published.onSuccess(e -> window.succeeded(millis(e.getElapsedDuration())));
    published.onIgnoredError(e -> window.succeeded(millis(e.getElapsedDuration())));
    published.onError(e -> window.failed(millis(e.getElapsedDuration())));
    published.onCallNotPermitted(e -> window.rejected());
    published.onStateTransition(e -> changed(e.getStateTransition()));
    long every = o.statsEvery.toMillis();
    timer.scheduleAtFixedRate(this::reportWindow, every, every, TimeUnit.MILLISECONDS);
    this.control = o.controlTopic == null
        ? null
        : new ControlListener(o.bootstrapServers, o.controlTopic, pair, this::apply, o.onError);
  }

  /** Starts reporting {@code breaker}, and obeying the control channel unless it is set to null. */
  public static SagascopeBridge start(CircuitBreaker breaker, Options options) {
    return new SagascopeBridge(breaker, options);
  }

  /** The pair id the dashboard shows: {@code caller→callee} or {@code caller→callee/operation}. */
  public String pair() {
    return pair;
  }

  /** Waits until the control channel was read once, so the decision in force is applied. */
  public boolean awaitControl(Duration timeout) throws InterruptedException {
    return control == null || control.awaitCaughtUp(timeout);
  }

  private static double millis(Duration d) {
    return d.toNanos() / 1_000_000.0;
  }

  /** Resilience4j's states as the contract names them: forced open is open, disabled lets calls through. */
  static String contractState(CircuitBreaker.State s) {
    return switch (s) {
      case OPEN, FORCED_OPEN -> "open";
      case HALF_OPEN -> "half_open";
      case CLOSED, DISABLED, METRICS_ONLY -> "closed";
    };
  }

  /** The override in force: the operator's, else Resilience4j's own (forced open, disabled). */
  private String forced() {
    if (operatorForced != null) return operatorForced;
    return switch (breaker.getState()) {
      case FORCED_OPEN -> "open";
      case DISABLED -> "disabled";
      default -> null;
    };
  }

  private synchronized void changed(CircuitBreaker.StateTransition transition) {
    String from = contractState(transition.getFromState());
    String to = contractState(transition.getToState());
    if (from.equals(to)) {
      reportWindow(); // e.g. OPEN → FORCED_OPEN: the forced state changed, not the state
      return;
    }
    lastChangeAt = Math.max(System.currentTimeMillis(), lastChangeAt + 1);
    CircuitBreakerConfig config = breaker.getCircuitBreakerConfig();
    CircuitBreaker.Metrics metrics = breaker.getMetrics();
    Map<String, Object> data = new LinkedHashMap<>(ref);
    data.put("from", from);
    data.put("to", to);
    data.put("forced", forced());
    data.put("reason", reason(transition, metrics, config));
    data.put("calls", metrics.getNumberOfBufferedCalls());
    data.put("failures", metrics.getNumberOfFailedCalls());
    data.put("failureRateThreshold", config.getFailureRateThreshold() / 100.0);
    data.put("minimumCalls", Math.max(1, config.getMinimumNumberOfCalls()));
    if (to.equals("open")) data.put("openUntil", Instant.ofEpochMilli(lastChangeAt + openMs(config)).toString());
    events.publish("io.sagascope.breaker.state_changed", pair, data, Instant.ofEpochMilli(lastChangeAt));
  }

  private static long openMs(CircuitBreakerConfig config) {
    return config.getWaitIntervalFunctionInOpenState().apply(1);
  }

  private String reason(CircuitBreaker.StateTransition t, CircuitBreaker.Metrics m, CircuitBreakerConfig c) {
    if (operatorForced != null) return "forced " + operatorForced + " by an operator (Sagascope control channel)";
    return switch (t.getToState()) {
      case OPEN -> String.format(
          "Resilience4j: failure rate %.1f%% of %d calls ≥ %.0f%%", m.getFailureRate(),
          m.getNumberOfBufferedCalls(), c.getFailureRateThreshold());
      case HALF_OPEN -> "Resilience4j: open for " + openMs(c) + " ms, trial calls allowed";
      case CLOSED -> "Resilience4j: trial calls succeeded";
      default -> "Resilience4j: " + t;
    };
  }

  private void reportWindow() {
    events.publish(
        "io.sagascope.breaker.stats", pair,
        window.close(ref, contractState(breaker.getState()), forced()), Instant.now());
  }

  /** An operator's decision, newer than the last applied, made Resilience4j's state. */
  private synchronized void apply(ControlListener.Decision d) {
    if (d.version() <= appliedVersion) return;
    appliedVersion = d.version();
    if (expiry != null) expiry.cancel(false);
    Instant until = d.forcedUntil() == null ? null : Instant.parse(d.forcedUntil());
    boolean live = until == null || until.isAfter(Instant.now());
    setForced(live ? d.forced() : null);
    if (live && d.forced() != null && until != null) {
      long delay = Math.max(0, until.toEpochMilli() - System.currentTimeMillis());
      expiry = timer.schedule(() -> { synchronized (this) { setForced(null); } }, delay, TimeUnit.MILLISECONDS);
    }
  }

  private void setForced(String next) {
    String before = operatorForced;
    operatorForced = next;
    if (next == null) {
      if (before != null) breaker.transitionToClosedState();
    } else if (next.equals("open")) {
      breaker.transitionToForcedOpenState();
    } else {
      breaker.transitionToDisabledState();
    }
    // The next report carries the forced state: that is how the dashboard sees it applied.
    reportWindow();
  }

  /** Reports the last window and stops listening; the breaker itself goes on. */
  @Override
  public void close() throws InterruptedException {
    if (control != null) control.close();
    timer.shutdownNow();
    reportWindow();
    events.close();
  }
}
