package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestServer;
import io.avatarserver.variant.ImageIoTestRenderer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Two instances render the same new variant at once: the unique row decides, the loser serves the winner's")
class VariantInstancesTest extends ServerTestBase {

  private static final ImageIoTestRenderer FIRST = new ImageIoTestRenderer();
  private static final ImageIoTestRenderer SECOND = new ImageIoTestRenderer();
  private static TestServer other;

  @BeforeAll
  static void start(Vertx vertx) {
    server = TestServer.start(vertx, new JsonObject(), database -> database.serverUrlAt(database.endpoint().getPort()), FIRST);
    other = server.sibling(vertx, new JsonObject(), SECOND);
  }

  @AfterAll
  static void stopOther() {
    other.close();
  }

  private static CompletableFuture<HttpResponse<byte[]>> getAsync(TestServer target, String path) {
    return target.client().sendAsync(target.request(path).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  @DisplayName("both render, one row and one stored variant remain, both answers are its bytes")
  void uniqueRowDecides() throws Exception {
    long user = server.createUser("two instances");
    assertEquals(201, server.put(user, "image/jpeg", Bodies.fixture("images/avatar-256.jpg")).statusCode());
    String path = "/users/" + user + "/avatar?size=96&format=png";

    FIRST.close();
    SECOND.close();
    CompletableFuture<HttpResponse<byte[]>> a;
    CompletableFuture<HttpResponse<byte[]>> b;
    try {
      a = getAsync(server, path);
      b = getAsync(other, path);
      assertTrue(FIRST.waiting.tryAcquire(30, TimeUnit.SECONDS));
      assertTrue(SECOND.waiting.tryAcquire(30, TimeUnit.SECONDS));
    } finally {
      FIRST.open();
      SECOND.open();
    }
    HttpResponse<byte[]> first = a.get(30, TimeUnit.SECONDS);
    HttpResponse<byte[]> second = b.get(30, TimeUnit.SECONDS);
    assertEquals(200, first.statusCode());
    assertEquals(200, second.statusCode());
    assertEquals("public, max-age=300", first.headers().firstValue("Cache-Control").orElse(""));
    assertEquals("public, max-age=300", second.headers().firstValue("Cache-Control").orElse(""));
    assertArrayEquals(first.body(), second.body());
    assertEquals(first.headers().firstValue("ETag"), second.headers().firstValue("ETag"));

    assertEquals(1, server.queryLong("SELECT COUNT(*) FROM variants WHERE user_id = " + user));
    assertEquals(2, server.avatarFiles(user).size(), "the original and the winner's variant: " + server.avatarFiles(user));
    assertEquals(1, FIRST.renders.get());
    assertEquals(1, SECOND.renders.get());
  }
}
