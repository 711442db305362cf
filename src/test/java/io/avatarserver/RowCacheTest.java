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

import java.net.http.HttpResponse;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Users and avatar rows served from memory ({@code database.cacheSeconds}, an hour here so that no
 * test depends on timing), with the database behind a relay that can stop answering, and a second
 * server on the same database and data directory standing in for another server process.
 */
@DisplayName("Rows from memory: served without the database, own writes at once, another server's writes never serve a gone file")
class RowCacheTest extends ServerTestBase {

  private static TcpProxy proxy;
  private static TestServer other;

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx, new JsonObject().put("database", new JsonObject().put("cacheSeconds", 3600)), database -> {
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
}
