package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.TestServer;
import io.avatarserver.variant.ImageIoTestRenderer;
import io.avatarserver.variant.VariantFormat;
import io.avatarserver.variant.VariantSpec;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Sizes of one avatar asked for while its render waits for a worker are rendered from one decode")
class VariantBatchTest extends ServerTestBase {

  private static final ImageIoTestRenderer RENDERER = new ImageIoTestRenderer();

  @BeforeAll
  static void start(Vertx vertx) {
    server = TestServer.start(vertx, new JsonObject().put("variants", new JsonObject().put("workers", 1).put("queue", 4)),
      RENDERER);
  }

  private long userWithAvatar() {
    long user = server.createUser("batch");
    assertEquals(201, server.put(user, "image/jpeg", Bodies.fixture("images/avatar-256.jpg")).statusCode());
    return user;
  }

  private static CompletableFuture<HttpResponse<byte[]>> getAsync(String path) {
    return server.client().sendAsync(server.request(path).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static double batched() {
    for (String line : new String(server.get("/metrics").body()).split("\n")) {
      if (line.startsWith("avatar_variant_render_batched ")) {
        return Double.parseDouble(line.substring(line.indexOf(' ') + 1));
      }
    }
    return -1;
  }

  @Test
  @DisplayName("two sizes waiting behind a busy worker: one render call with both, each served at its size")
  void oneDecode() throws Exception {
    long busy = userWithAvatar();
    long user = userWithAvatar();
    RENDERER.close();
    CompletableFuture<HttpResponse<byte[]>> first;
    CompletableFuture<HttpResponse<byte[]>> small;
    CompletableFuture<HttpResponse<byte[]>> large;
    try {
      first = getAsync("/users/" + busy + "/avatar?size=32");
      assertTrue(RENDERER.waiting.tryAcquire(30, TimeUnit.SECONDS), "the only worker is busy");
      small = getAsync("/users/" + user + "/avatar?size=64&format=png");
      large = getAsync("/users/" + user + "/avatar?size=128&format=png");
      assertEquals(2.0, Eventually.await(VariantBatchTest::batched, n -> n == 2.0, Duration.ofSeconds(30)),
        "both sizes wait in one batch");
    } finally {
      RENDERER.open();
    }
    assertEquals(200, first.get(30, TimeUnit.SECONDS).statusCode());
    HttpResponse<byte[]> s = small.get(30, TimeUnit.SECONDS);
    HttpResponse<byte[]> l = large.get(30, TimeUnit.SECONDS);
    assertEquals(64, ImageIoTestRenderer.dimensions(s.body())[0]);
    assertEquals(128, ImageIoTestRenderer.dimensions(l.body())[0]);
    assertEquals("public, max-age=300", s.headers().firstValue("Cache-Control").orElse(""));
    assertEquals("public, max-age=300", l.headers().firstValue("Cache-Control").orElse(""));
    assertEquals(2, RENDERER.calls.size(), "one call for the busy user, one for both sizes: " + RENDERER.calls);
    assertEquals(List.of(new VariantSpec(128, VariantFormat.PNG, false), new VariantSpec(64, VariantFormat.PNG, false)),
      List.copyOf(RENDERER.calls).get(1));
    assertEquals(3, server.avatarFiles(user).size(), "the original and both variants");
    assertEquals(0.0, batched());
  }
}
