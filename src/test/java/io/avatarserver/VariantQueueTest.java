package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestServer;
import io.avatarserver.variant.ImageIoTestRenderer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Sized variants under pressure: a full render queue and an original beyond the render limits get a fallback, not a 503")
class VariantQueueTest extends ServerTestBase {

  private static final ImageIoTestRenderer RENDERER = new ImageIoTestRenderer();

  @BeforeAll
  static void start(Vertx vertx) {
    // One render at a time, none waiting; originals above 100,000 pixels are not rendered.
    server = TestServer.start(vertx, new JsonObject().put("variants", new JsonObject().put("workers", 1).put("queue", 0)
      .put("maxSourcePixels", 100_000)), RENDERER);
  }

  private long userWith(String fixture) {
    long user = server.createUser("queue");
    assertEquals(201, server.put(user, "image/jpeg", Bodies.fixture(fixture)).statusCode());
    return user;
  }

  private static String header(HttpResponse<?> response, String name) {
    return response.headers().firstValue(name).orElse("");
  }

  @Test
  @DisplayName("with the queue full: the nearest stored variant, else the original, with max-age=60; the waiting render completes")
  void queueFull() throws Exception {
    long user = userWith("images/avatar-256.jpg");
    long other = userWith("images/avatar-256.jpg");
    HttpResponse<byte[]> v64 = server.get("/users/" + user + "/avatar?size=64");
    assertEquals("public, max-age=300", header(v64, "Cache-Control"));

    RENDERER.close();
    CompletableFuture<HttpResponse<byte[]>> blocked;
    try {
      blocked = server.client().sendAsync(server.request("/users/" + user + "/avatar?size=128").build(),
        HttpResponse.BodyHandlers.ofByteArray());
      assertTrue(RENDERER.waiting.tryAcquire(30, TimeUnit.SECONDS), "the render of 128 started");
      int renders = RENDERER.renders.get();

      HttpResponse<byte[]> nearest = server.get("/users/" + user + "/avatar?size=256");
      assertEquals(200, nearest.statusCode());
      assertEquals("public, max-age=60", header(nearest, "Cache-Control"));
      assertEquals(header(v64, "ETag"), header(nearest, "ETag"));
      assertArrayEquals(v64.body(), nearest.body());
      assertEquals("Accept", header(nearest, "Vary"));

      HttpResponse<byte[]> original = server.get("/users/" + other + "/avatar?size=64");
      assertEquals(200, original.statusCode());
      assertEquals("public, max-age=60", header(original, "Cache-Control"));
      assertArrayEquals(Bodies.fixture("images/avatar-256.jpg"), original.body());
      assertEquals("\"" + Bodies.sha256(Bodies.fixture("images/avatar-256.jpg")) + "\"", header(original, "ETag"));
      assertEquals(renders, RENDERER.renders.get(), "nothing queued beyond the bound");
    } finally {
      RENDERER.open();
    }
    HttpResponse<byte[]> rendered = blocked.get(30, TimeUnit.SECONDS);
    assertEquals(200, rendered.statusCode());
    assertEquals("public, max-age=300", header(rendered, "Cache-Control"));
    assertEquals(128, ImageIoTestRenderer.dimensions(rendered.body())[0]);

    // The queue has room again: the variant itself.
    HttpResponse<byte[]> v256 = server.get("/users/" + user + "/avatar?size=256");
    assertEquals("public, max-age=300", header(v256, "Cache-Control"));
    assertEquals(256, ImageIoTestRenderer.dimensions(v256.body())[0]);
  }

  @Test
  @DisplayName("an original with more pixels than variants.maxSourcePixels is not rendered (nor probed again soon): the original, with max-age=60")
  void sourceTooLarge() {
    long user = userWith("images/large-1200.jpg");
    int renders = RENDERER.renders.get();
    int probes = RENDERER.probes.get();
    for (int i = 0; i < 3; i++) {
      HttpResponse<byte[]> response = server.get("/users/" + user + "/avatar?size=64");
      assertEquals(200, response.statusCode());
      assertEquals("public, max-age=60", header(response, "Cache-Control"));
      assertArrayEquals(Bodies.fixture("images/large-1200.jpg"), response.body());
    }
    assertEquals(renders, RENDERER.renders.get());
    assertEquals(probes + 1, RENDERER.probes.get(), "the header read once; the refusal remembered for a while");
    assertEquals(1, server.avatarFiles(user).size(), "nothing stored");
  }
}
