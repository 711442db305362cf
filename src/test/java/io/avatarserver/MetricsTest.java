package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.Optional;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A Vert.x instance built with Micrometer metrics, as Main builds it. */
@DisplayName("GET /metrics: Prometheus text with uploads, bytes, in flight, durations, HTTP, pools and the JVM")
class MetricsTest {

  private static Vertx vertx;
  private static TestServer server;

  @BeforeAll
  static void start() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    vertx = Vertx.builder()
      .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
        .setJvmMetricsEnabled(true).setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))))
      .withMetrics(new MicrometerMetricsFactory(registry))
      .build();
    server = TestServer.start(vertx, new JsonObject(), registry);
  }

  @AfterAll
  static void stop() {
    server.close();
    vertx.close().await();
  }

  private static Optional<Double> value(String text, String series) {
    return Arrays.stream(text.split("\n")).filter(l -> l.startsWith(series + " ")).findFirst()
      .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim()));
  }

  @Test
  void metrics() {
    long user = server.createUser("metered");
    byte[] jpeg = Bodies.fixture("images/avatar-256.jpg");
    assertEquals(201, server.put(user, "image/jpeg", jpeg).statusCode());
    assertEquals(200, server.put(user, "image/jpeg", jpeg).statusCode());
    assertRefused(server.put(user, "image/png", Bodies.fixture("hostile/pixel-flood-100000x100000.png")), 422, "invalid-image");

    HttpResponse<byte[]> response = server.get("/metrics");
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    String text = new String(response.body());

    assertEquals(Optional.of(1.0), value(text, "avatar_uploads_total{outcome=\"created\"}"), text);
    assertEquals(Optional.of(1.0), value(text, "avatar_uploads_total{outcome=\"replaced\"}"));
    assertEquals(Optional.of(1.0), value(text, "avatar_uploads_total{outcome=\"invalid_image\"}"));
    assertTrue(value(text, "avatar_upload_received_bytes_total").orElse(0.0) >= 2 * jpeg.length);
    assertEquals(Optional.of(0.0), value(text, "avatar_uploads_in_flight"));
    assertEquals(Optional.of(1.0), value(text, "avatar_upload_duration_seconds_count{outcome=\"created\"}"));
    assertTrue(text.contains("avatar_upload_duration_seconds_bucket{outcome=\"created\",le=\"60.0\"} 1"), "a histogram");
    assertTrue(value(text, "vertx_http_server_requests_total{code=\"201\",method=\"PUT\"}").orElse(0.0) >= 1, "HTTP server metrics");
    assertTrue(text.contains("vertx_pool_in_use{pool_name=\"avatar-db\",pool_type=\"sql\"}"), "pool metrics");
    assertTrue(text.contains("jvm_memory_used_bytes{area=\"heap\""), "JVM metrics");
    assertTrue(text.contains("avatar_sweep_removed_unreferenced_total"));
  }
}
