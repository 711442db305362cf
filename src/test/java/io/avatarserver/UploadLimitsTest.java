package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Uploads in flight are bounded: 503 for the server, 429 for a user, decided before the body")
class UploadLimitsTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx, new JsonObject().put("limits", new JsonObject().put("maxUploads", 2).put("maxUploadsPerUser", 1)));
  }

  private static RawHttp startUpload(long user) {
    RawHttp raw = new RawHttp(server.port());
    byte[] body = Bodies.png(100_000, user);
    raw.write(server.putHead(user, "image/png", body.length)).write(body, 0, 1000);
    return raw;
  }

  @Test
  @DisplayName("With one upload in flight a user's second gets 429; with two in flight a third user gets 503")
  void bounded() {
    long a = server.createUser("slot-a");
    long b = server.createUser("slot-b");
    long c = server.createUser("slot-c");
    try (RawHttp first = startUpload(a)) {
      Eventually.await(server::stagedFiles, f -> f.size() == 1, Duration.ofSeconds(10));

      HttpResponse<byte[]> sameUser = server.put(a, "image/jpeg", Bodies.fixture("images/avatar-256.jpg"));
      assertRefused(sameUser, 429, "too-many-requests");
      assertEquals("1", sameUser.headers().firstValue("Retry-After").orElse(""));

      try (RawHttp second = startUpload(b)) {
        Eventually.await(server::stagedFiles, f -> f.size() == 2, Duration.ofSeconds(10));
        HttpResponse<byte[]> busy = server.put(c, "image/jpeg", Bodies.fixture("images/avatar-256.jpg"));
        assertRefused(busy, 503, "server-busy");
        assertEquals("1", busy.headers().firstValue("Retry-After").orElse(""));
      }
    }
    // Slots come back when uploads end, however they end.
    assertEquals(List.of(), server.awaitNoStagedFiles());
    int status = Eventually.await(() -> server.put(c, "image/jpeg", Bodies.fixture("images/avatar-256.jpg")).statusCode(),
      s -> s == 201, Duration.ofSeconds(10));
    assertEquals(201, status);
  }

  @Test
  @DisplayName("The defaults let 1,000 different users upload at once")
  void defaultsAdmitAThousand() {
    io.avatarserver.config.ServerConfig.Limits defaults =
      io.avatarserver.config.ServerConfig.fromJson(new JsonObject()).limits();
    assertTrue(defaults.maxUploads() == 0 || defaults.maxUploads() >= 1000, "maxUploads " + defaults.maxUploads());
    assertTrue(defaults.maxUploadsPerUser() == 0 || defaults.maxUploadsPerUser() >= 1);
    assertTrue(defaults.addressBurst() == 0 || defaults.addressBurst() >= 1000 || defaults.addressWritesPerSecond() == 0,
      "a load test from one address must not be refused at 1,000 concurrent uploads: burst " + defaults.addressBurst());
  }
}
