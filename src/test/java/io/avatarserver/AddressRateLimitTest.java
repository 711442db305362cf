package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Rate limits per client address: 429 with Retry-After, before the token is even checked")
class AddressRateLimitTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx, new JsonObject().put("limits", new JsonObject()
      .put("addressWritesPerSecond", 1).put("addressBurst", 3)));
  }

  @Test
  @DisplayName("The fourth write from one address in a burst of three gets 429, even with no token")
  void perAddress() {
    byte[] jpeg = Bodies.fixture("images/avatar-256.jpg");
    // Writes without a token still spend the address's budget: they answer 401 until it is gone.
    for (int i = 0; i < 3; i++) {
      assertRefused(server.send(server.request("/users/1/avatar").header("Content-Type", "image/jpeg")
        .PUT(java.net.http.HttpRequest.BodyPublishers.ofByteArray(jpeg))), 401, "unauthorized");
    }
    HttpResponse<byte[]> fourth = server.send(server.request("/users/1/avatar").header("Content-Type", "image/jpeg")
      .PUT(java.net.http.HttpRequest.BodyPublishers.ofByteArray(jpeg)));
    assertRefused(fourth, 429, "too-many-requests");
    long retryAfter = Long.parseLong(fourth.headers().firstValue("Retry-After").orElse("0"));
    assertTrue(retryAfter >= 1 && retryAfter <= 2, "Retry-After " + retryAfter);
  }
}
