package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.TcpProxy;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Users and avatar rows served from memory ({@code database.cacheSeconds}, an hour here so that no
 * test depends on timing), with the database behind a relay that can stop answering, and a second
 * server on the same database and data directory standing in for another server process.
 */
@DisplayName("Rows from memory: served without the database, own writes at once, another server's writes never serve a gone file")
class RowCacheTest extends ServerTestBase {

  private static final int PARALLEL = 20;

  private static TcpProxy proxy;
  private static TestServer other;

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx, new JsonObject().put("database", new JsonObject().put("cacheSeconds", 3600))
      .put("limits", new JsonObject().put("maxUploadsPerUser", PARALLEL)), database -> {
      proxy = new TcpProxy(database.endpoint());
      return database.serverUrlAt(proxy.port());
    });
    other = server.sibling(vertx, new JsonObject());
  }

  @AfterAll
  static void stopOthers() {
    proxy.release();
    other.close();
    proxy.close();
  }

  private static HttpResponse<byte[]> getWithin(TestServer target, String path, Duration timeout) {
    return target.send(target.request(path).timeout(timeout));
  }

  @Test
  @DisplayName("An avatar read recently is served (200, its bytes, its ETag) while the database does not answer")
  void servedWhileTheDatabaseIsSilent() {
    long user = server.createUser("cached");
    byte[] png = Bodies.png(64 * 1024, 1);
    assertEquals(201, server.put(user, "image/png", png).statusCode());
    HttpResponse<byte[]> first = server.get("/users/" + user + "/avatar");
    proxy.hold();
    try {
      HttpResponse<byte[]> held = getWithin(server, "/users/" + user + "/avatar", Duration.ofSeconds(5));
      assertEquals(200, held.statusCode());
      assertArrayEquals(Images.stored(png), held.body());
      assertEquals(first.headers().firstValue("ETag"), held.headers().firstValue("ETag"));
      HttpResponse<byte[]> info = getWithin(server, "/users/" + user + "/avatar/info", Duration.ofSeconds(5));
      assertEquals(200, info.statusCode());
    } finally {
      proxy.release();
    }
  }

  @Test
  @DisplayName("This server's own replace and delete are served at once, cache or not")
  void ownWritesAtOnce() {
    long user = server.createUser("own-writes");
    byte[] first = Bodies.png(32 * 1024, 2);
    byte[] second = Bodies.fixture("images/avatar-256.jpg");
    assertEquals(201, server.put(user, "image/png", first).statusCode());
    assertArrayEquals(Images.stored(first), server.get("/users/" + user + "/avatar").body());
    assertEquals(200, server.put(user, "image/jpeg", second).statusCode());
    HttpResponse<byte[]> replaced = server.get("/users/" + user + "/avatar");
    assertEquals("image/jpeg", replaced.headers().firstValue("Content-Type").orElse(""));
    assertArrayEquals(Images.stored(second), replaced.body());
    assertEquals(2L, TestServer.json(server.get("/users/" + user + "/avatar/info")).getLong("version"));
    assertEquals(204, server.send(server.as(user, "/users/" + user + "/avatar").DELETE()).statusCode());
    assertEquals(404, server.get("/users/" + user + "/avatar").statusCode());
  }

  @Test
  @DisplayName("Replaced, then deleted, by another server: this one serves the new bytes, then 404, never the gone file or a 500")
  void anotherServersWrites() {
    long user = server.createUser("shared");
    byte[] first = Bodies.png(48 * 1024, 3);
    byte[] second = Bodies.fixture("images/avatar-200.webp");
    assertEquals(201, server.put(user, "image/png", first).statusCode());
    assertArrayEquals(Images.stored(first), server.get("/users/" + user + "/avatar").body());

    // The other server commits its row and deletes the first file; this one still holds the old row.
    assertEquals(200, other.put(user, "image/webp", second).statusCode());
    HttpResponse<byte[]> served = server.get("/users/" + user + "/avatar");
    assertEquals(200, served.statusCode(), () -> new String(served.body()));
    assertEquals("image/webp", served.headers().firstValue("Content-Type").orElse(""));
    assertArrayEquals(Images.stored(second), served.body());

    assertEquals(204, other.send(other.as(user, "/users/" + user + "/avatar").DELETE()).statusCode());
    assertEquals(404, server.get("/users/" + user + "/avatar").statusCode());
  }

  @Test
  @DisplayName("After 20 concurrent replacements the info, the ETag and the bytes served all name the same, last image")
  void concurrentReplacements() {
    long user = server.createUser("racing");
    assertEquals(201, server.put(user, "image/png", Bodies.png(4 * 1024, 100)).statusCode());
    List<CompletableFuture<HttpResponse<byte[]>>> puts = new ArrayList<>();
    for (int i = 0; i < PARALLEL; i++) {
      puts.add(server.client().sendAsync(server.as(user, "/users/" + user + "/avatar")
        .header("Content-Type", "image/png").timeout(Duration.ofSeconds(60))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(Bodies.png(4 * 1024 + i, 200 + i))).build(),
        HttpResponse.BodyHandlers.ofByteArray()));
    }
    long lastVersion = 0;
    for (CompletableFuture<HttpResponse<byte[]>> put : puts) {
      HttpResponse<byte[]> response = put.join();
      assertEquals(200, response.statusCode(), () -> new String(response.body()));
      lastVersion = Math.max(lastVersion, TestServer.json(response).getLong("version"));
    }

    JsonObject info = TestServer.json(server.get("/users/" + user + "/avatar/info"));
    HttpResponse<byte[]> served = server.get("/users/" + user + "/avatar");
    assertEquals(lastVersion, info.getLong("version"));
    assertEquals(PARALLEL + 1, lastVersion);
    assertEquals(Bodies.sha256(served.body()), info.getString("sha256"));
    assertEquals("\"" + info.getString("sha256") + "\"", served.headers().firstValue("ETag").orElse(""));
  }

  @Test
  @DisplayName("An avatar uploaded after a deletion gets a higher version, so a ?v= URL never names two images")
  void versionsGrowAcrossDeletion() {
    long user = server.createUser("again");
    assertEquals(201, server.put(user, "image/png", Bodies.png(8 * 1024, 5)).statusCode());
    assertEquals(204, server.send(server.as(user, "/users/" + user + "/avatar").DELETE()).statusCode());
    byte[] second = Bodies.png(8 * 1024, 6);
    HttpResponse<byte[]> created = server.put(user, "image/png", second);
    assertEquals(201, created.statusCode());
    assertEquals(2L, TestServer.json(created).getLong("version"));
    assertEquals(2L, TestServer.json(server.get("/users/" + user + "/avatar/info")).getLong("version"));
    assertArrayEquals(Images.stored(second), server.get("/users/" + user + "/avatar?v=2").body());
  }
}
