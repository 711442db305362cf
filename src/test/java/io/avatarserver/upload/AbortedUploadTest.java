package io.avatarserver.upload;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.RawHttp;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chunks are gathered in a share of the write budget before they are written: a client that goes
 * away while its chunks are gathered (no write in flight) must not keep that share, or a few hundred
 * dropped uploads would leave every later upload without one.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Aborted uploads: a client gone while its chunks are gathered returns its share of the budget")
class AbortedUploadTest {

  @Test
  @DisplayName("20 clients send 100 KiB of a 1 MiB PUT and reset: the budget is whole again, no staging file stays")
  void resetWhileGathering(Vertx vertx) throws Exception {
    try (TestServer server = TestServer.start(vertx, new JsonObject())) {
      byte[] body = Bodies.png(1 << 20, 5);
      for (int i = 0; i < 20; i++) {
        long user = server.createUser("gone-" + i);
        try (RawHttp raw = new RawHttp(server.port())) {
          raw.write(server.putHead(user, "image/png", body.length));
          raw.write(body, 0, 100 * 1024);
          assertTrue(Eventually.await(() -> server.server().uploads().budget().reserved(), r -> r > 0,
            Duration.ofSeconds(30)) > 0, "the chunks were never gathered");
          raw.reset();
        }
        WriteBudget budget = server.server().uploads().budget();
        assertEquals(0L, Eventually.await(budget::reserved, r -> r == 0, Duration.ofSeconds(30)),
          "upload " + i + ": a share outlived its upload");
      }
      assertEquals(List.of(), Eventually.await(server::stagedFiles, List::isEmpty, Duration.ofSeconds(30)));
    }
  }
}
