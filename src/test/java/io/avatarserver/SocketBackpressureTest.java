package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.Multipart;
import io.avatarserver.support.RawHttp;
import io.avatarserver.support.TcpProxy;
import io.avatarserver.support.TestServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backpressure reaches the socket. While an upload waits (here on the database, held still by a
 * relay that stops forwarding), the server must stop taking its body off the socket: what it has not
 * read stays in the kernel's buffers and TCP flow control slows the client. A paused Vert.x request
 * alone keeps reading into a heap queue until it holds 16 chunks (about 128 KiB) and its connection
 * a few more; over 1,000 uploads that ran a 64 MiB heap out of memory. What the connection read last
 * stays with it while paused, so reads are capped at 16 KiB (Netty grows them to 64 KiB on a fast
 * connection). The server's own count of the bytes it read (Vert.x's HTTP server metrics) shows which.
 */
@DisplayName("Backpressure reaches the socket: a waiting upload's body stays in the kernel, not in the heap")
class SocketBackpressureTest {

  /**
   * One socket read at most beyond the request head: the server reads at most 16 KiB at a time
   * (Netty's default is 64 KiB, and a paused connection keeps what it last read).
   */
  private static final int ONE_READ = 16 * 1024;
  private static final int BODY = 4 * 1024 * 1024;

  private static Vertx vertx;
  private static TestServer server;
  private static TcpProxy proxy;
  private static PrometheusMeterRegistry registry;

  @BeforeAll
  static void start() {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    vertx = Vertx.builder()
      .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
      .withMetrics(new MicrometerMetricsFactory(registry))
      .build();
    // No row cache: every upload's user check goes to the (held) database.
    JsonObject config = new JsonObject().put("database", new JsonObject().put("cacheSeconds", 0));
    server = TestServer.start(vertx, config, database -> {
      proxy = new TcpProxy(database.endpoint());
      return database.serverUrlAt(proxy.port());
    }, registry);
  }

  @AfterEach
  void releaseDatabase() {
    proxy.release();
    assertEquals(List.of(), server.awaitNoStagedFiles(), "temporary files left behind");
  }

  @AfterAll
  static void stop() {
    server.close();
    proxy.close();
    vertx.close().await();
  }

  @Test
  @DisplayName("PUT while the user check waits: at most one socket read of the 4 MiB body is taken; then 201 with every byte")
  void putWaitingOnTheDatabase() throws Exception {
    long user = server.createUser("held-put");
    byte[] body = Bodies.png(BODY, 11);
    String head = server.putHead(user, "image/png", body.length);
    assertReadsOneSocketReadWhileHeld(head, body, "HTTP/1.1 201");
    assertArrayEquals(Images.stored(body), server.get("/users/" + user + "/avatar").body());
  }

  @Test
  @DisplayName("Multipart POST while the user check waits: at most one socket read is taken; then 201 with every byte")
  void multipartWaitingOnTheDatabase() throws Exception {
    long user = server.createUser("held-post");
    byte[] image = Bodies.png(BODY, 12);
    byte[] body = new Multipart().file("avatar", "a.png", "image/png", image).build();
    String head = "POST /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\n" + server.authHeader(user)
      + "Content-Type: " + Multipart.CONTENT_TYPE + "\r\nContent-Length: " + body.length + "\r\n\r\n";
    assertReadsOneSocketReadWhileHeld(head, body, "HTTP/1.1 201");
    assertArrayEquals(Images.stored(image), server.get("/users/" + user + "/avatar").body());
  }

  @Test
  @DisplayName("Second PUT on a kept-alive connection whose reads grew on a fast first body: still at most 16 KiB taken while it waits")
  void keptAliveConnectionAfterAFastBody() throws Exception {
    long user = server.createUser("held-second");
    byte[] first = Bodies.png(BODY, 13);
    byte[] second = Bodies.png(BODY, 14);
    try (RawHttp client = new RawHttp(server.port())) {
      // Streamed as fast as the server takes it: Netty's adaptive reads grow to their largest size.
      client.write(server.putHead(user, "image/png", first.length)).write(first);
      String answer = client.readResponse();
      assertTrue(answer.startsWith("HTTP/1.1 201"), answer);
      assertReadsOneSocketReadWhileHeld(client, server.putHead(user, "image/png", second.length), second,
        "HTTP/1.1 200");
    }
    assertArrayEquals(Images.stored(second), server.get("/users/" + user + "/avatar").body());
  }

  private void assertReadsOneSocketReadWhileHeld(String head, byte[] body, String expectedStatus) throws Exception {
    try (RawHttp client = new RawHttp(server.port())) {
      assertReadsOneSocketReadWhileHeld(client, head, body, expectedStatus);
    }
  }

  private void assertReadsOneSocketReadWhileHeld(RawHttp client, String head, byte[] body, String expectedStatus)
    throws Exception {
    double before = bytesRead();
    proxy.hold();
    // The client writes as fast as the socket takes it; it blocks once the kernel's buffers are full.
    CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> client.write(head).write(body));
    double taken = settledBytesRead();
    double headBytes = head.getBytes(StandardCharsets.ISO_8859_1).length;
    assertTrue(taken - before <= headBytes + ONE_READ,
      "the server took " + (long) (taken - before) + " bytes off the socket while the upload waited");

    proxy.release();
    sending.get(30, TimeUnit.SECONDS);
    String response = client.readHead();
    assertTrue(response.startsWith(expectedStatus), response);
    // The count is the one that saw so little above: it does see a whole body.
    assertTrue(bytesRead() - before >= body.length, "the metric counts the body's bytes");
  }

  /** The server's count once it has stopped moving for a second (it has stopped reading). */
  private static double settledBytesRead() throws InterruptedException {
    double last = -1;
    double now = bytesRead();
    while (now != last) {
      last = now;
      Thread.sleep(1000);
      now = bytesRead();
    }
    return now;
  }

  /** Request body bytes the HTTP server has read from its sockets (Vert.x's TCP metrics, counters). */
  private static double bytesRead() {
    return registry.find("vertx.http.server.bytes.read").counters().stream().mapToDouble(Counter::count).sum();
  }
}
