package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Idle and trickling clients are cut, and their partial uploads deleted")
class SlowClientTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx, new JsonObject()
      .put("http", new JsonObject().put("idleTimeoutSeconds", 2))
      .put("upload", new JsonObject().put("minBytesPerSecond", 2000).put("minRateWindowSeconds", 1)));
  }

  @Test
  @DisplayName("A connection that goes silent mid-body is closed after the idle timeout; no file is left")
  void idleTimeout() {
    long user = server.createUser("idle");
    byte[] body = Bodies.png(200_000, 1);
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(server.putHead(user, "image/png", body.length)).write(body, 0, 50_000);
      assertFalse(Eventually.await(server::stagedFiles, f -> !f.isEmpty(), Duration.ofSeconds(10)).isEmpty());
      // Then nothing: the rate check sees no progress either, so one of the two guards ends it.
      assertTrue(raw.closedByServer(), "a silent connection was kept open");
    }
    assertEquals(List.of(), server.awaitNoStagedFiles());
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A body trickling below the minimum rate is answered 408 and closed; no file is left")
  void slowloris() throws Exception {
    long user = server.createUser("trickle");
    byte[] body = Bodies.png(200_000, 2);
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(server.putHead(user, "image/png", body.length));
      // 100 bytes every 100 ms: 1000 B/s, half the minimum, yet never idle long enough for the idle timeout.
      int offset = 0;
      while (offset < body.length) {
        try {
          raw.write(body, offset, 100);
        } catch (RuntimeException closed) {
          break;
        }
        offset += 100;
        Thread.sleep(100);
        if (offset > 60_000) {
          break;
        }
      }
      String response = raw.readResponse();
      assertEquals(408, RawHttp.status(response), response);
      assertTrue(response.contains("request-timeout"), response);
      assertTrue(offset < 60_000, "the trickle was not cut");
    }
    assertEquals(List.of(), server.awaitNoStagedFiles());
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A client above the minimum rate is not disturbed")
  void steadyClient() throws Exception {
    long user = server.createUser("steady");
    byte[] body = Bodies.png(30_000, 3);
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(server.putHead(user, "image/png", body.length));
      for (int offset = 0; offset < body.length; offset += 1000) {
        raw.write(body, offset, Math.min(1000, body.length - offset));
        Thread.sleep(50); // 20 KB/s, ten times the minimum
      }
      String response = raw.readResponse();
      assertEquals(201, RawHttp.status(response), response);
    }
  }
}
