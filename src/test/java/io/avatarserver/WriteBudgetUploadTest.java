package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

@DisplayName("Without a share of the coalescing budget, uploads write chunk by chunk and stay correct")
class WriteBudgetUploadTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    // One byte: no upload ever gets a coalescing buffer.
    startServer(vertx, new JsonObject().put("upload", new JsonObject().put("writeBudgetBytes", 1)));
  }

  @Test
  void noBudget() {
    List<Long> users = new ArrayList<>();
    List<CompletableFuture<HttpResponse<byte[]>>> puts = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      long user = server.createUser("no-budget-" + i);
      users.add(user);
      byte[] body = Bodies.png(5 * 1024 * 1024, i);
      HttpRequest.Builder request = server.as(user, "/users/" + user + "/avatar").header("Content-Type", "image/png");
      // Half with a length, half chunked.
      request = i % 2 == 0
        ? request.PUT(HttpRequest.BodyPublishers.ofByteArray(body))
        : request.PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)));
      puts.add(server.client().sendAsync(request.build(), HttpResponse.BodyHandlers.ofByteArray()));
    }
    for (int i = 0; i < puts.size(); i++) {
      HttpResponse<byte[]> put = puts.get(i).join();
      assertEquals(201, put.statusCode(), () -> new String(put.body()));
      assertArrayEquals(Bodies.png(5 * 1024 * 1024, i), server.get("/users/" + users.get(i) + "/avatar").body());
    }
    assertEquals(0, server.server().uploads().budget().reserved());
  }

  @Test
  @DisplayName("With the default budget, every share is returned once uploads are done")
  void sharesReturned(Vertx vertx) {
    try (TestServer other = TestServer.start(vertx, new JsonObject())) {
      List<CompletableFuture<HttpResponse<byte[]>>> puts = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        long user = other.createUser("budget-" + i);
        puts.add(other.client().sendAsync(other.as(user, "/users/" + user + "/avatar").header("Content-Type", "image/png")
          .PUT(HttpRequest.BodyPublishers.ofByteArray(Bodies.png(5 * 1024 * 1024, 100 + i))).build(),
          HttpResponse.BodyHandlers.ofByteArray()));
      }
      puts.forEach(put -> assertEquals(201, put.join().statusCode()));
      assertEquals(0, other.server().uploads().budget().reserved());
    }
  }
}
