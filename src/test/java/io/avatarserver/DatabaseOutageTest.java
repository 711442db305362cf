package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.Images;
import io.avatarserver.support.TcpProxy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The database taken away under a running server (a TCP relay in front of it is cut: open
 * connections drop, new ones are refused) and brought back, with no restart in between. On H2 the
 * server reaches the database over H2's TCP server, so that it too can be unreachable.
 */
@DisplayName("Database unreachable: uploads fail fast with 503, nothing stored; recovery without restart")
class DatabaseOutageTest extends ServerTestBase {

  private static TcpProxy proxy;

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx, new JsonObject(), database -> {
      proxy = new TcpProxy(database.endpoint());
      return database.serverUrlAt(proxy.port());
    });
  }

  @AfterAll
  static void closeProxy() {
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  @DisplayName("Outage: PUT → 503 database-unavailable and no file; readiness DOWN; back: uploads succeed again")
  void outageAndRecovery() {
    long user = server.createUser("outage");
    byte[] first = Bodies.fixture("images/avatar-256.jpg");
    assertEquals(201, server.put(user, "image/jpeg", first).statusCode());

    proxy.cut();
    try {
      for (int i = 0; i < 3; i++) {
        HttpResponse<byte[]> put = server.put(user, "image/png", Bodies.png(256 * 1024, i));
        assertRefused(put, 503, "database-unavailable");
      }
      assertEquals(1, server.avatarFiles(user).size(), "only the previous avatar's file");
      assertEquals(List.of(), server.stagedFiles());
      assertEquals(503, server.get("/health/ready").statusCode());
      assertEquals(200, server.get("/health/live").statusCode());
    } finally {
      proxy.restore();
    }

    byte[] second = Bodies.fixture("images/avatar-200.webp");
    HttpResponse<byte[]> recovered = Eventually.await(() -> server.put(user, "image/webp", second),
      r -> r.statusCode() == 200, Duration.ofSeconds(30));
    assertEquals(200, recovered.statusCode(), () -> new String(recovered.body()));
    assertArrayEquals(Images.stored(second), server.get("/users/" + user + "/avatar").body());
    assertEquals(1, server.avatarFiles(user).size());
    assertEquals(200, server.get("/health/ready").statusCode());
  }
}
