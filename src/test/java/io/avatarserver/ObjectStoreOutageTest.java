package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.Images;
import io.avatarserver.support.RawHttp;
import io.avatarserver.support.TcpProxy;
import io.avatarserver.support.TestS3;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The object store backend when the store goes down and comes back: uploads answer 503 with Retry-After
 * (after their body was read, and before it once the store is known down), nothing is committed or left
 * staged, the previous avatar stays, readiness is DOWN with the reason, and everything works again
 * without a restart. The store here is this class's own, so stopping it troubles no other test.
 */
@DisplayName("Object store down and back: 503 with Retry-After, nothing committed, readiness, recovery")
class ObjectStoreOutageTest extends ServerTestBase {

  private static TestS3 store;
  private static String bucket;

  @BeforeAll
  static void start(Vertx vertx) {
    store = TestS3.startNew();
    bucket = store.newBucket();
    startServer(vertx, new JsonObject().put("storage", store.settings(bucket)));
  }

  @AfterEach
  void storeBackUp() {
    store.start();
    awaitReady();
  }

  @AfterAll
  static void stopStore() {
    if (store != null) {
      store.close();
    }
  }

  @Test
  @DisplayName("Store down: an upload whose body was read answers 503 storage-unavailable with Retry-After; the next is refused before its body; the old avatar stays")
  void downThenBack() {
    long user = server.createUser("outage");
    byte[] first = Bodies.fixture("images/avatar-256.jpg");
    assertEquals(201, server.put(user, "image/jpeg", first).statusCode());
    List<Path> before = server.avatarFiles(user);
    String sha = info(user).getString("sha256");

    store.stop();
    byte[] second = Bodies.fixture("images/avatar-200.png");
    HttpResponse<byte[]> refused = server.put(user, "image/png", second);
    assertRefused(refused, 503, "storage-unavailable");
    assertEquals("5", refused.headers().firstValue("Retry-After").orElse(""));

    // Now known down: refused before a byte of the body is read (no 100 Continue).
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(server.putHead(user, "image/png", "Content-Length: " + second.length, "Expect: 100-continue\r\n"));
      String response = raw.readResponse();
      assertEquals(503, RawHttp.status(response), response);
      assertTrue(response.toLowerCase(java.util.Locale.ROOT).contains("\nretry-after: 5"), response);
      assertTrue(response.contains("storage-unavailable"), response);
    }

    // Reading is refused the same way while the store is away.
    HttpResponse<byte[]> read = server.get("/users/" + user + "/avatar");
    assertRefused(read, 503, "storage-unavailable");
    assertEquals("5", read.headers().firstValue("Retry-After").orElse(""));

    HttpResponse<byte[]> ready = server.get("/health/ready");
    assertEquals(503, ready.statusCode());
    String storage = TestServer.json(ready).getJsonObject("checks").getString("storage");
    assertTrue(storage.startsWith("DOWN: object store"), storage);
    // Nothing committed: the row still names the first avatar, whose object is still there.
    assertEquals(sha, info(user).getString("sha256"));
    assertEquals(before, server.avatarFiles(user));
    assertEquals(List.of(), server.stagedFiles());

    store.start();
    awaitReady();
    assertEquals(200, server.put(user, "image/png", second).statusCode());
    assertArrayEquals(Images.stored(second), server.get("/users/" + user + "/avatar").body());
    assertEquals(1, server.avatarFiles(user).size(), "the first object was deleted after the commit");
  }

  @Test
  @DisplayName("Store stops in the middle of an upload: 503 with Retry-After once the body is in, nothing stored, staged or committed")
  void downMidUpload() {
    long user = server.createUser("mid-upload");
    byte[] first = Bodies.fixture("images/avatar-200.png");
    assertEquals(201, server.put(user, "image/png", first).statusCode());
    List<Path> before = server.avatarFiles(user);
    byte[] body = Bodies.fixture("images/avatar-256.jpg");
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(server.putHead(user, "image/jpeg", body.length));
      raw.write(body, 0, body.length / 2);
      // The first half is being staged: only then does the store go away.
      assertFalse(Eventually.await(server::stagedFiles, files -> !files.isEmpty(), Duration.ofSeconds(10)).isEmpty());
      store.stop();
      raw.write(body, body.length / 2, body.length - body.length / 2);
      String response = raw.readResponse();
      assertEquals(503, RawHttp.status(response), response);
      assertTrue(response.toLowerCase(java.util.Locale.ROOT).contains("\nretry-after: 5"), response);
    }
    assertEquals(List.of(), server.awaitNoStagedFiles());
    assertEquals(before, server.avatarFiles(user));
    store.start();
    awaitReady();
    assertArrayEquals(Images.stored(first), server.get("/users/" + user + "/avatar").body());
  }

  @Test
  @DisplayName("A server started while the store is down refuses uploads before their body, is not ready, and recovers when the store is back")
  void downAtStart(Vertx vertx) {
    long user = server.createUser("down-at-start");
    byte[] body = Bodies.fixture("images/avatar-200.png");
    store.stop();
    try (TestServer second = server.sibling(vertx, new JsonObject())) {
      try (RawHttp raw = new RawHttp(second.port())) {
        raw.write(second.putHead(user, "image/png", "Content-Length: " + body.length, "Expect: 100-continue\r\n"));
        String response = raw.readResponse();
        assertEquals(503, RawHttp.status(response), response);
        assertTrue(response.contains("storage-unavailable"), response);
      }
      assertEquals(503, second.get("/health/ready").statusCode());
      assertEquals(List.of(), second.stagedFiles());

      store.start();
      HttpResponse<byte[]> ready = Eventually.await(() -> second.get("/health/ready"), r -> r.statusCode() == 200,
        Duration.ofSeconds(30));
      assertEquals(200, ready.statusCode(), () -> new String(ready.body()));
      assertEquals(201, second.put(user, "image/png", body).statusCode());
    }
    assertArrayEquals(Images.stored(body), server.get("/users/" + user + "/avatar").body());
  }

  @Test
  @DisplayName("Store hangs (connections open, nothing answered): the upload answers 503 with Retry-After once the bounded"
    + " attempts time out, nothing committed or staged; when the store answers again, uploads work without a restart")
  void storeHangs(Vertx vertx) {
    long user = server.createUser("hanging-store");
    byte[] first = Bodies.fixture("images/avatar-200.png");
    assertEquals(201, server.put(user, "image/png", first).statusCode());
    String sha = info(user).getString("sha256");
    List<String> objects = store.keys(bucket);
    byte[] second = Bodies.fixture("images/avatar-256.jpg");
    // A second instance reaching the store through a relay that can stop answering.
    try (TcpProxy relay = new TcpProxy(new java.net.InetSocketAddress("127.0.0.1", java.net.URI.create(store.endpoint()).getPort()));
         TestServer viaRelay = server.sibling(vertx, new JsonObject().put("storage",
           new JsonObject().put("s3Endpoint", "http://127.0.0.1:" + relay.port())))) {
      relay.hold();
      // Settings of the test store: 2 attempts of at most 2 s each, 5 s for the whole call.
      HttpResponse<byte[]> refused = viaRelay.put(user, "image/jpeg", second);
      assertRefused(refused, 503, "storage-unavailable");
      assertEquals("5", refused.headers().firstValue("Retry-After").orElse(""));
      assertEquals(List.of(), viaRelay.awaitNoStagedFiles());
      assertEquals(objects, store.keys(bucket), "the held PUT stored nothing");
      assertEquals(sha, info(user).getString("sha256"), "nothing committed");

      relay.release();
      HttpResponse<byte[]> ready = Eventually.await(() -> viaRelay.get("/health/ready"), r -> r.statusCode() == 200,
        Duration.ofSeconds(30));
      assertEquals(200, ready.statusCode(), () -> new String(ready.body()));
      assertEquals(200, viaRelay.put(user, "image/jpeg", second).statusCode());
    }
    assertArrayEquals(Images.stored(second), server.get("/users/" + user + "/avatar").body());
  }

  @Test
  @DisplayName("A store that stops in the middle of a GET's body: the client's response is cut (its connection closed)"
    + " after s3AttemptTimeoutMillis, not left hanging; the next GET is whole")
  void storeStopsMidBody(Vertx vertx) throws Exception {
    long user = server.createUser("stalling-store");
    byte[] body = Bodies.png(3_000_000, 11);
    assertEquals(201, server.put(user, "image/png", body).statusCode());
    try (TcpProxy relay = new TcpProxy(new java.net.InetSocketAddress("127.0.0.1", java.net.URI.create(store.endpoint()).getPort()));
         TestServer viaRelay = server.sibling(vertx, new JsonObject().put("storage",
           new JsonObject().put("s3Endpoint", "http://127.0.0.1:" + relay.port())))) {
      relay.holdAfter(1_000_000);
      java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
      java.net.http.HttpRequest request = viaRelay.request("/users/" + user + "/avatar")
        .timeout(Duration.ofSeconds(60)).GET().build();
      // The head and a third of the body arrive; then nothing: after the 2 s of an attempt, the server
      // gives up on the store and closes the connection (the body cannot be finished, nor turned into a
      // problem: its 200 is sent). Without that it would wait for the store for ever (the idle timeout
      // does not cut a response the server owes).
      java.io.IOException cut = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> client.send(request, HttpResponse.BodyHandlers.ofByteArray()));
      assertFalse(cut instanceof java.net.http.HttpTimeoutException, "the response was left hanging: " + cut);
      relay.release();
      assertArrayEquals(body, viaRelay.get("/users/" + user + "/avatar").body());
    }
  }

  @Test
  @DisplayName("A store slower than http.idleTimeoutSeconds: the upload still gets its 201; the idle timeout never cuts a"
    + " connection whose request was read and whose answer the server owes")
  void slowStoreOutlastsTheIdleTimeout(Vertx vertx) throws Exception {
    long user = server.createUser("slow-store");
    byte[] body = Bodies.fixture("images/avatar-256.jpg");
    try (TcpProxy relay = new TcpProxy(new java.net.InetSocketAddress("127.0.0.1", java.net.URI.create(store.endpoint()).getPort()));
         TestServer viaRelay = server.sibling(vertx, new JsonObject()
           .put("http", new JsonObject().put("idleTimeoutSeconds", 1))
           .put("storage", new JsonObject().put("s3Endpoint", "http://127.0.0.1:" + relay.port())
             .put("s3AttemptTimeoutMillis", 10_000).put("s3ApiTimeoutMillis", 20_000)))) {
      relay.hold();
      java.util.concurrent.CompletableFuture<HttpResponse<byte[]>> upload =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> viaRelay.put(user, "image/jpeg", body));
      // The body is in and the PUT to the store waits: well past the idle timeout.
      Thread.sleep(3_000);
      assertFalse(upload.isDone(), () -> "answered while the store was held: " + upload.join().statusCode());
      relay.release();
      HttpResponse<byte[]> answer = upload.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(201, answer.statusCode(), () -> new String(answer.body()));
    }
    assertArrayEquals(Images.stored(body), server.get("/users/" + user + "/avatar").body());
  }

  private static JsonObject info(long user) {
    HttpResponse<byte[]> response = server.get("/users/" + user + "/avatar/info");
    assertEquals(200, response.statusCode());
    return TestServer.json(response);
  }

  private static void awaitReady() {
    HttpResponse<byte[]> ready = Eventually.await(() -> server.get("/health/ready"), r -> r.statusCode() == 200,
      Duration.ofSeconds(30));
    assertEquals(200, ready.statusCode(), () -> new String(ready.body()));
  }
}
