package io.avatarserver.metrics;

import io.avatarserver.recovery.Sweeper;
import io.avatarserver.upload.AvatarUploads;
import io.avatarserver.upload.UploadEvents;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The server's own meters, beside those Vert.x registers (HTTP server, pools) and the JVM's, all in
 * one Prometheus registry served at {@code /metrics}:
 * {@code avatar_uploads_total{outcome}}, {@code avatar_upload_received_bytes_total},
 * {@code avatar_uploads_in_flight}, {@code avatar_upload_duration_seconds} (a histogram),
 * {@code avatar_write_budget_reserved_bytes}, {@code avatar_sweep_removed_*_total},
 * {@code avatar_missing_objects_total} (requests that found their current avatar's bytes gone) and
 * {@code avatar_sweep_missing_objects} (rows whose object the last sweep found missing).
 */
public final class ServerMetrics implements UploadEvents {

  /** Histogram buckets of the upload duration: from a small avatar on loopback to a slow phone. */
  private static final Duration[] BUCKETS = java.util.stream.Stream.of(5, 10, 25, 50, 100, 250, 500, 1000, 2500,
    5000, 10_000, 30_000, 60_000).map(Duration::ofMillis).toArray(Duration[]::new);

  private final PrometheusMeterRegistry registry;
  private final Counter bytesReceived;
  private final Counter missingObjects;
  private final Map<String, Counter> outcomes = new ConcurrentHashMap<>();
  private final Map<String, Timer> durations = new ConcurrentHashMap<>();

  public ServerMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    this.bytesReceived = Counter.builder("avatar.upload.received")
      .description("Body bytes received by uploads, refused ones included").baseUnit("bytes").register(registry);
    this.missingObjects = Counter.builder("avatar.missing.objects")
      .description("Requests that found the stored object of a current avatar row missing").register(registry);
  }

  /** A current avatar row's stored object was found missing. */
  public void missingObject() {
    missingObjects.increment();
  }

  /** Gauges and counters read from the parts when scraped. */
  public void bind(AvatarUploads uploads, Sweeper sweeper) {
    Gauge.builder("avatar.uploads.in.flight", uploads, AvatarUploads::active)
      .description("Uploads from an opened temporary file to the end of their commit or cleanup").register(registry);
    Gauge.builder("avatar.write.budget.reserved", uploads.budget(), b -> b.reserved())
      .description("Bytes of coalescing buffers held by uploads now").baseUnit("bytes").register(registry);
    FunctionCounter.builder("avatar.sweep.removed.temporary", sweeper, Sweeper::stagedRemoved)
      .description("Temporary files removed by the recovery sweep").register(registry);
    FunctionCounter.builder("avatar.sweep.removed.unreferenced", sweeper, Sweeper::unreferencedRemoved)
      .description("Unreferenced avatar files removed by the recovery sweep").register(registry);
    Gauge.builder("avatar.sweep.missing.objects", sweeper, Sweeper::missingObjects)
      .description("Avatar rows whose stored object the last recovery sweep found missing").register(registry);
  }

  @Override
  public void received(long bytes) {
    bytesReceived.increment(bytes);
  }

  @Override
  public void finished(String outcome, long bytes, long durationNanos) {
    outcomes.computeIfAbsent(outcome, o -> Counter.builder("avatar.uploads").tag("outcome", o)
      .description("Finished uploads by outcome").register(registry)).increment();
    durations.computeIfAbsent(outcome, o -> Timer.builder("avatar.upload.duration").tag("outcome", o)
      .description("From the request to the committed row, or to the refusal")
      .serviceLevelObjectives(BUCKETS)
      .register(registry)).record(durationNanos, TimeUnit.NANOSECONDS);
  }
}
