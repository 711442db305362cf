package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Rate limits per user: 429 with Retry-After")
class RateLimitTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx, new JsonObject().put("limits", new JsonObject().put("userWritesPerMinute", 1).put("userBurst", 2)));
  }

  @Test
  @DisplayName("A user's third write in a burst of two, at one a minute, gets 429; another user is unaffected")
  void perUser() {
    long user = server.createUser("rate");
    long other = server.createUser("rate-other");
    byte[] jpeg = Bodies.fixture("images/avatar-256.jpg");
    assertEquals(201, server.put(user, "image/jpeg", jpeg).statusCode());
    assertEquals(200, server.put(user, "image/jpeg", jpeg).statusCode());

    HttpResponse<byte[]> third = server.put(user, "image/jpeg", jpeg);

    assertRefused(third, 429, "too-many-requests");
    long retryAfter = Long.parseLong(third.headers().firstValue("Retry-After").orElse("0"));
    assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
    assertEquals(201, server.put(other, "image/jpeg", jpeg).statusCode());
  }
}
