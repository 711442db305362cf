package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.Multipart;
import io.avatarserver.support.RawHttp;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/1.1 pipelining (RFC 9112 §9.3.2): several requests written in one go, uploads among them, are
 * answered in order, one response each, with Vert.x metrics on (as Main runs) and off. An upload
 * pauses its connection while it waits; the connection's one pause flag is also what holds a
 * pipelined request back until the response before it is sent.
 */
@DisplayName("Pipelined requests, uploads among them, are answered in order, with metrics on and off")
class PipeliningTest {

  private static Vertx plain;
  private static Vertx metered;
  private static TestServer withoutMetrics;
  private static TestServer withMetrics;
  private static final byte[] JPEG = Bodies.fixture("images/avatar-256.jpg");

  @BeforeAll
  static void start() {
    plain = Vertx.vertx();
    withoutMetrics = TestServer.start(plain);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    metered = Vertx.builder()
      .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
        .setJvmMetricsEnabled(false).setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))))
      .withMetrics(new MicrometerMetricsFactory(registry))
      .build();
    withMetrics = TestServer.start(metered, new JsonObject(), registry);
  }

  @AfterAll
  static void stop() {
    withoutMetrics.close();
    withMetrics.close();
    plain.close().await();
    metered.close().await();
  }

  @AfterEach
  void noTemporaryFiles() {
    assertEquals(List.of(), withoutMetrics.awaitNoStagedFiles());
    assertEquals(List.of(), withMetrics.awaitNoStagedFiles());
  }

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (boolean metrics : new boolean[] {false, true}) {
      for (String sequence : new String[] {"get-put-get", "get-chunked-put-get", "get-post-get", "put-put-delete-head",
        "users-put-info-head-get", "404-put-get", "get-put-413-rest-unanswered", "put-put-put-get"}) {
        cases.add(Arguments.of(metrics ? "metrics" : "no-metrics", sequence));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void pipelined(String metrics, String sequence) {
    TestServer server = metrics.equals("metrics") ? withMetrics : withoutMetrics;
    long user = server.createUser("pipe-" + metrics + "-" + sequence);
    String auth = server.authHeader(user);
    String path = "/users/" + user + "/avatar";
    String get = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
    String put = "PUT " + path + " HTTP/1.1\r\nHost: t\r\n" + auth + "Content-Type: image/jpeg\r\nContent-Length: "
      + JPEG.length + "\r\n\r\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<Integer> expected = new ArrayList<>();
    List<Boolean> head = new ArrayList<>();
    boolean closes = false;
    switch (sequence) {
      case "get-put-get" -> {
        add(out, get, expected, head, 200);
        add(out, put, expected, head, 201);
        out.writeBytes(JPEG);
        add(out, get, expected, head, 200);
      }
      case "get-chunked-put-get" -> {
        add(out, get, expected, head, 200);
        add(out, "PUT " + path + " HTTP/1.1\r\nHost: t\r\n" + auth
          + "Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n", expected, head, 201);
        for (int at = 0; at < JPEG.length; at += 5000) {
          int length = Math.min(5000, JPEG.length - at);
          out.writeBytes((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
          out.write(JPEG, at, length);
          out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        add(out, get, expected, head, 200);
      }
      case "get-post-get" -> {
        byte[] form = new Multipart().file("avatar", "me.jpg", "image/jpeg", JPEG).build();
        add(out, get, expected, head, 200);
        add(out, "POST " + path + " HTTP/1.1\r\nHost: t\r\n" + auth + "Content-Type: " + Multipart.CONTENT_TYPE
          + "\r\nContent-Length: " + form.length + "\r\n\r\n", expected, head, 201);
        out.writeBytes(form);
        add(out, get, expected, head, 200);
      }
      case "put-put-delete-head" -> {
        add(out, put, expected, head, 201);
        out.writeBytes(JPEG);
        add(out, put, expected, head, 200);
        out.writeBytes(JPEG);
        add(out, "DELETE " + path + " HTTP/1.1\r\nHost: t\r\n" + auth + "\r\n", expected, head, 204);
        addHead(out, "HEAD " + path + " HTTP/1.1\r\nHost: t\r\n\r\n", expected, head, 404);
        add(out, "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n", expected, head, 404);
      }
      case "users-put-info-head-get" -> {
        String json = "{\"name\":\"piped\"}";
        add(out, "POST /users HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + server.adminToken()
          + "\r\nContent-Type: application/json\r\nContent-Length: " + json.length() + "\r\n\r\n" + json, expected, head, 201);
        add(out, put, expected, head, 201);
        out.writeBytes(JPEG);
        add(out, "GET " + path + "/info HTTP/1.1\r\nHost: t\r\n\r\n", expected, head, 200);
        addHead(out, "HEAD " + path + " HTTP/1.1\r\nHost: t\r\n\r\n", expected, head, 200);
        add(out, "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n", expected, head, 200);
      }
      case "404-put-get" -> {
        add(out, "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n", expected, head, 404);
        add(out, put, expected, head, 201);
        out.writeBytes(JPEG);
        add(out, get, expected, head, 200);
      }
      case "get-put-413-rest-unanswered" -> {
        // A 413 refuses the body unread, so the connection closes after it: what follows is not answered.
        add(out, get, expected, head, 200);
        add(out, put, expected, head, 201);
        out.writeBytes(JPEG);
        add(out, "PUT " + path + " HTTP/1.1\r\nHost: t\r\n" + auth
          + "Content-Type: image/jpeg\r\nContent-Length: 999999999\r\n\r\n", expected, head, 413);
        out.writeBytes(JPEG);
        out.writeBytes(get.getBytes(StandardCharsets.ISO_8859_1));
        closes = true;
      }
      case "put-put-put-get" -> {
        for (int i = 0; i < 3; i++) {
          add(out, put, expected, head, i == 0 ? 201 : 200);
          out.writeBytes(JPEG);
        }
        add(out, get, expected, head, 200);
      }
      default -> throw new IllegalArgumentException(sequence);
    }
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(out.toByteArray());
      List<Integer> statuses = new ArrayList<>();
      StringBuilder seen = new StringBuilder();
      for (int i = 0; i < expected.size(); i++) {
        String response;
        try {
          response = head.get(i) ? raw.readHead() : raw.readResponse();
        } catch (RuntimeException e) {
          throw new AssertionError("response " + (i + 1) + " of " + expected + " missing after:\n" + seen, e);
        }
        seen.append(response).append("\n---\n");
        statuses.add(RawHttp.status(response));
        assertTrue(!response.startsWith("HTTP/1.1 5"), seen::toString);
      }
      assertEquals(expected, statuses, seen::toString);
      if (closes) {
        assertTrue(raw.closedByServer(), "connection left open after 413");
      } else {
        // Nothing more: no response without a request, and the connection is still usable.
        raw.write(get);
        assertEquals(200, RawHttp.status(raw.readResponse()));
      }
    }
    if (!sequence.equals("put-put-delete-head")) {
      assertEquals(1, Eventually.await(() -> server.avatarFiles(user), files -> files.size() == 1,
        Duration.ofSeconds(10)).size(), "one published avatar");
    } else {
      assertEquals(List.of(), server.avatarFiles(user));
    }
  }

  private static void add(ByteArrayOutputStream out, String request, List<Integer> expected, List<Boolean> head, int status) {
    out.writeBytes(request.getBytes(StandardCharsets.ISO_8859_1));
    expected.add(status);
    head.add(false);
  }

  private static void addHead(ByteArrayOutputStream out, String request, List<Integer> expected, List<Boolean> head, int status) {
    out.writeBytes(request.getBytes(StandardCharsets.ISO_8859_1));
    expected.add(status);
    head.add(true);
  }

  @org.junit.jupiter.api.Test
  @DisplayName("Hundreds of requests pipelined around uploads are each answered once, in order")
  void longPipeline() {
    for (TestServer server : List.of(withoutMetrics, withMetrics)) {
      long user = server.createUser("long-pipe");
      String put = "PUT /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\n" + server.authHeader(user)
        + "Content-Type: image/jpeg\r\nContent-Length: " + JPEG.length + "\r\n\r\n";
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      List<Integer> expected = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        if (i % 50 == 25) {
          out.writeBytes(put.getBytes(StandardCharsets.ISO_8859_1));
          out.writeBytes(JPEG);
          expected.add(i == 25 ? 201 : 200);
        } else {
          out.writeBytes(("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
          expected.add(200);
        }
      }
      try (RawHttp raw = new RawHttp(server.port())) {
        // Written from another thread: the server stops reading while it holds what follows a request,
        // so a writer that waits for all of it to be taken before reading would deadlock with it.
        Thread writer = new Thread(() -> raw.write(out.toByteArray()));
        writer.start();
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < expected.size(); i++) {
          statuses.add(RawHttp.status(raw.readResponse()));
        }
        assertEquals(expected, statuses);
        assertTrue(raw.silentFor(300), "a response without a request");
        writer.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}
