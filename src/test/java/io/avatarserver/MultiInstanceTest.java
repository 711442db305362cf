package io.avatarserver;

import io.avatarserver.config.ConfigException;
import io.avatarserver.config.ServerConfig;
import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.RawHttp;
import io.avatarserver.support.Images;
import io.avatarserver.support.TestS3;
import io.avatarserver.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several instances over one database and one object store bucket, no shared disk: server A and its
 * peer B each have a data directory (a staging area) of their own, as two machines behind a load
 * balancer without sticky sessions. Upload through one, read, replace and delete through the other;
 * a row cached by one instance never serves an object the other replaced or deleted (it is gone: the
 * row is read again), and what needs no object (the info, HEAD, a 304) is stale for at most
 * {@code database.cacheSeconds}. Same-user races spread over both keep exactly the referenced objects.
 * On PostgreSQL; on H2 through its TCP server, which a second pool can reach.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Two instances, one database, one bucket: any instance serves any request")
class MultiInstanceTest {

  private static final int CACHE_SECONDS = 1;
  private static final int ROUNDS = 30;

  private static TestServer a;
  private static TestServer b;
  /** A third instance that reads the database every time: what the race test checks the rows with. */
  private static TestServer observer;

  @BeforeAll
  static void start(Vertx vertx) {
    TestS3 store = TestS3.shared();
    JsonObject cache = new JsonObject().put("cacheSeconds", CACHE_SECONDS);
    a = TestServer.start(vertx, new JsonObject().put("storage", store.settings(store.newBucket()))
        .put("database", cache),
      database -> database.isPostgres() ? database.serverUrl() : database.serverUrlAt(database.endpoint().getPort()));
    b = a.peer(vertx, new JsonObject().put("database", cache));
    observer = a.peer(vertx, new JsonObject().put("database", new JsonObject().put("cacheSeconds", 0)));
  }

  @AfterAll
  static void stop() {
    for (TestServer peer : new TestServer[] {observer, b}) {
      if (peer != null) {
        peer.close();
        deleteRecursively(peer.dataDir());
      }
    }
    if (a != null) {
      a.close();
    }
  }

  @AfterEach
  void noStagingLeft() {
    for (TestServer server : List.of(a, b, observer)) {
      assertEquals(List.of(), server.awaitNoStagedFiles(), "temporary files left behind");
    }
  }

  @Test
  @DisplayName("The instances stage uploads in directories of their own and share the bucket")
  void ownStagingSharedBucket() {
    assertNotEquals(a.tmpDir(), b.tmpDir());
    assertEquals(a.server().config().storage().s3().bucket(), b.server().config().storage().s3().bucket());
  }

  @Test
  @DisplayName("A second instance on A's data directory is refused at start, and A's upload in flight survives it")
  void sharedStagingRefused(Vertx vertx) throws Exception {
    long user = a.createUser("staging owner");
    byte[] body = Bodies.png(64 * 1024, 11);
    ServerConfig sharing = ServerConfig.fromJson(new JsonObject()
      .put("http", new JsonObject().put("port", 0).put("host", "127.0.0.1").put("instances", 1))
      .put("storage", a.s3().settings(a.server().config().storage().s3().bucket())
        .put("dataDir", a.dataDir().toString()))
      .put("database", new JsonObject().put("url", a.server().config().database().url()))
      .put("auth", new JsonObject().put("jwtSecret", TestServer.SECRET)));
    try (RawHttp raw = new RawHttp(a.port())) {
      raw.write(a.putHead(user, "image/png", body.length));
      raw.write(body, 0, body.length / 2);
      assertEquals(1, Eventually.await(a::stagedFiles, files -> !files.isEmpty(), Duration.ofSeconds(10)).size());
      // Its start would remove every staging file it found: A's upload's among them.
      Throwable refused = AvatarServer.start(vertx, sharing)
        .transform(ar -> Future.succeededFuture(ar.cause())).await(60, TimeUnit.SECONDS);
      assertTrue(refused instanceof ConfigException, () -> "started on a shared staging directory: " + refused);
      assertTrue(refused.getMessage().contains(a.tmpDir().toString()), refused::getMessage);
      raw.write(body, body.length / 2, body.length - body.length / 2);
      String response = raw.readResponse();
      assertEquals(201, RawHttp.status(response), response);
    }
    assertArrayEquals(Images.stored(body), b.get("/users/" + user + "/avatar").body());
  }

  @Test
  @DisplayName("Upload via A, GET via B; replace via B, A serves the new bytes at once; delete via A, B answers 404 at once")
  void crossInstanceLifecycle() throws Exception {
    long user = a.createUser("roaming");
    byte[] first = Bodies.png(40 * 1024, 1);
    byte[] second = Bodies.fixture("images/avatar-200.webp");
    byte[] third = Bodies.png(20 * 1024, 3);

    assertEquals(201, a.put(user, "image/png", first).statusCode());
    HttpResponse<byte[]> viaB = b.get("/users/" + user + "/avatar");
    assertEquals(200, viaB.statusCode());
    assertArrayEquals(Images.stored(first), viaB.body());
    // A has its own row cached (its upload), B the one it just read.
    assertEquals(200, a.get("/users/" + user + "/avatar").statusCode());

    // Replaced through B: B deleted the first object after its commit, so A finds A's cached row's
    // object gone and reads the row again, however fresh its cache entry.
    assertEquals(200, b.put(user, "image/webp", second).statusCode());
    HttpResponse<byte[]> viaA = a.get("/users/" + user + "/avatar");
    assertEquals(200, viaA.statusCode(), () -> new String(viaA.body()));
    assertEquals("image/webp", viaA.headers().firstValue("Content-Type").orElse(""));
    assertArrayEquals(Images.stored(second), viaA.body());
    assertEquals(List.of(Bodies.sha256(Images.stored(second))), storedHashes(user));

    // What needs no object (the info) may be stale for the cache's lifetime, never longer.
    assertEquals(2L, TestServer.json(b.get("/users/" + user + "/avatar/info")).getLong("version"));
    assertEquals(200, a.put(user, "image/png", third).statusCode());
    Thread.sleep(CACHE_SECONDS * 1000L + 100);
    assertEquals(3L, TestServer.json(b.get("/users/" + user + "/avatar/info")).getLong("version"));
    assertEquals(Bodies.sha256(Images.stored(third)), b.send(b.request("/users/" + user + "/avatar").method("HEAD",
      HttpRequest.BodyPublishers.noBody())).headers().firstValue("ETag").orElse("").replace("\"", ""));

    // B holds version 3 in its cache; A deletes it: B's GET finds the object gone, reads again, 404.
    assertEquals(204, a.send(a.as(user, "/users/" + user + "/avatar").DELETE()).statusCode());
    assertEquals(404, b.get("/users/" + user + "/avatar").statusCode());
    Thread.sleep(CACHE_SECONDS * 1000L + 100);
    assertEquals(404, b.get("/users/" + user + "/avatar/info").statusCode());
    assertEquals(404, b.send(b.request("/users/" + user + "/avatar").method("HEAD",
      HttpRequest.BodyPublishers.noBody())).statusCode());
    assertEquals(List.of(), storedHashes(user));
  }

  @Test
  @DisplayName("PUT via A, PUT via B and DELETE via either, at once, for one user: after every round the bucket holds exactly the row's object")
  void racesAcrossInstances() throws Exception {
    long user = a.createUser("racing across");
    List<String> outcomes = new ArrayList<>();
    for (int round = 0; round < ROUNDS; round++) {
      byte[] viaA = Bodies.png(2048 + round, 7000L * round + 1);
      byte[] viaB = Bodies.png(3072 + round, 7000L * round + 2);
      TestServer deleter = round % 2 == 0 ? a : b;
      CompletableFuture<HttpResponse<byte[]>> putA = sendAsync(a, put(a, user, viaA));
      CompletableFuture<HttpResponse<byte[]>> delete = sendAsync(deleter,
        deleter.as(user, "/users/" + user + "/avatar").DELETE());
      CompletableFuture<HttpResponse<byte[]>> putB = sendAsync(b, put(b, user, viaB));
      HttpResponse<byte[]> ra = putA.get(60, TimeUnit.SECONDS);
      HttpResponse<byte[]> rd = delete.get(60, TimeUnit.SECONDS);
      HttpResponse<byte[]> rb = putB.get(60, TimeUnit.SECONDS);
      String outcome = "round " + round + ": PUT via A " + ra.statusCode() + ", DELETE via "
        + (deleter == a ? "A " : "B ") + rd.statusCode() + ", PUT via B " + rb.statusCode();
      outcomes.add(outcome);
      assertTrue(ra.statusCode() == 200 || ra.statusCode() == 201, () -> outcome + " " + new String(ra.body()));
      assertTrue(rb.statusCode() == 200 || rb.statusCode() == 201, () -> outcome + " " + new String(rb.body()));
      assertTrue(rd.statusCode() == 204 || rd.statusCode() == 404, () -> outcome + " " + new String(rd.body()));

      HttpResponse<byte[]> info = observer.get("/users/" + user + "/avatar/info");
      List<String> stored = storedHashes(user);
      if (info.statusCode() == 404) {
        assertEquals(204, rd.statusCode(), () -> outcome + ": no row, yet the DELETE did not delete one");
        assertEquals(List.of(), stored, () -> outcome + ": objects without a row");
      } else {
        assertEquals(200, info.statusCode(), outcome);
        JsonObject row = TestServer.json(info);
        long versionA = TestServer.json(ra).getLong("version");
        long versionB = TestServer.json(rb).getLong("version");
        assertEquals(Math.max(versionA, versionB), row.getLong("version"), () -> outcome + " after " + outcomes);
        assertEquals(Bodies.sha256(versionA > versionB ? viaA : viaB), row.getString("sha256"), outcome);
        assertEquals(List.of(row.getString("sha256")), stored, () -> outcome + ": the bucket's objects are not the row's");
        // And either instance serves exactly that.
        assertEquals(row.getString("sha256"), Bodies.sha256(a.get("/users/" + user + "/avatar").body()), outcome);
        assertEquals(row.getString("sha256"), Bodies.sha256(b.get("/users/" + user + "/avatar").body()), outcome);
      }
    }
  }

  private static HttpRequest.Builder put(TestServer server, long user, byte[] png) {
    return server.as(user, "/users/" + user + "/avatar").header("Content-Type", "image/png")
      .PUT(HttpRequest.BodyPublishers.ofByteArray(png));
  }

  private static CompletableFuture<HttpResponse<byte[]>> sendAsync(TestServer server, HttpRequest.Builder request) {
    return server.client().sendAsync(request.timeout(Duration.ofSeconds(60)).build(),
      HttpResponse.BodyHandlers.ofByteArray());
  }

  /** The SHA-256 of each object the bucket holds for {@code user}. */
  private static List<String> storedHashes(long user) {
    List<String> hashes = new ArrayList<>();
    for (Path file : a.avatarFiles(user)) {
      try {
        hashes.add(Bodies.sha256(Files.readAllBytes(file)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return hashes;
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // A temp directory.
    }
  }
}
