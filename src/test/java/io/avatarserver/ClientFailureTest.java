package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.RawHttp;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Clients that vanish, and clients that race")
class ClientFailureTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    // No per-user bound on uploads in flight: the race below is about 20 at once for one user.
    startServer(vertx, new JsonObject().put("limits", new JsonObject().put("maxUploadsPerUser", 0)));
  }

  @ParameterizedTest(name = "{0} after {1} bytes")
  @CsvSource({"close, 1", "close, 262144", "close, 1048575", "reset, 1", "reset, 524288"})
  @DisplayName("A client that disconnects mid-body leaves no file and the previous avatar intact")
  void disconnectMidBody(String how, int sent) throws Exception {
    long user = server.createUser("vanishing");
    byte[] old = Bodies.fixture("images/avatar-256.jpg");
    assertEquals(201, server.put(user, "image/jpeg", old).statusCode());
    List<Path> before = server.avatarFiles(user);
    byte[] body = Bodies.png(1024 * 1024, 9);

    RawHttp raw = new RawHttp(server.port());
    raw.write(server.putHead(user, "image/png", body.length));
    raw.write(body, 0, sent);
    // Wait until the upload is really in progress (its temporary file exists) before vanishing.
    assertFalse(Eventually.await(server::stagedFiles, files -> !files.isEmpty(), Duration.ofSeconds(10)).isEmpty(),
      "the upload never started");
    if (how.equals("reset")) {
      raw.reset();
    } else {
      raw.close();
    }

    assertEquals(List.of(), server.awaitNoStagedFiles(), "partial file left behind");
    assertEquals(before, server.avatarFiles(user));
    assertArrayEquals(old, Files.readAllBytes(before.get(0)));
    assertArrayEquals(old, server.get("/users/" + user + "/avatar").body());
  }

  @Test
  @DisplayName("Clients reset at many points of the body while others upload: the others succeed, the reset leave nothing")
  void resetsUnderLoad() throws Exception {
    byte[] body = Bodies.png(1024 * 1024, 21);
    // After the head only, inside the signature, just after it, mid-chunk, at 64 KiB, mid-body, one byte short.
    int[] points = {0, 5, 13, 8191, 65_536, 524_288, body.length - 1};
    long[] resetUsers = new long[points.length];
    byte[] previous = Bodies.fixture("images/avatar-64.gif");
    for (int i = 0; i < points.length; i++) {
      resetUsers[i] = server.createUser("reset-" + points[i]);
      if (i % 2 == 0) {
        assertEquals(201, server.put(resetUsers[i], "image/gif", previous).statusCode());
      }
    }
    long[] goodUsers = new long[6];
    for (int i = 0; i < goodUsers.length; i++) {
      goodUsers[i] = server.createUser("steady-" + i);
    }

    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(points.length + goodUsers.length);
    try {
      List<java.util.concurrent.Future<Integer>> good = new java.util.ArrayList<>();
      for (long user : goodUsers) {
        good.add(pool.submit(() -> {
          int last = 0;
          for (int round = 0; round < 3; round++) {
            last = server.put(user, "image/png", Bodies.png(512 * 1024, user * 10 + round)).statusCode();
            if (last / 100 != 2) {
              return last;
            }
          }
          return last;
        }));
      }
      List<java.util.concurrent.Future<?>> resets = new java.util.ArrayList<>();
      for (int i = 0; i < points.length; i++) {
        long user = resetUsers[i];
        int sent = points[i];
        resets.add(pool.submit(() -> {
          RawHttp raw = new RawHttp(server.port());
          raw.write(server.putHead(user, "image/png", body.length));
          raw.write(body, 0, sent);
          raw.reset();
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> reset : resets) {
        reset.get();
      }
      for (java.util.concurrent.Future<Integer> upload : good) {
        assertEquals(200, upload.get(), "an upload beside the resets failed");
      }
    } finally {
      pool.shutdownNow();
    }

    assertEquals(List.of(), server.awaitNoStagedFiles(), "partial files left behind");
    for (int i = 0; i < points.length; i++) {
      if (i % 2 == 0) {
        assertArrayEquals(previous, server.get("/users/" + resetUsers[i] + "/avatar").body());
        assertEquals(1, server.avatarFiles(resetUsers[i]).size());
      } else {
        assertRefused(server.get("/users/" + resetUsers[i] + "/avatar"), 404, "avatar-not-found");
        assertEquals(List.of(), server.avatarFiles(resetUsers[i]));
      }
    }
    for (long user : goodUsers) {
      assertArrayEquals(Bodies.png(512 * 1024, user * 10 + 2), server.get("/users/" + user + "/avatar").body());
      assertEquals(1, server.avatarFiles(user).size());
    }
  }

  @Test
  @DisplayName("While one client stalls mid-body, other uploads are served normally")
  void stalledClientDoesNotBlockOthers() {
    long staller = server.createUser("staller");
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(server.putHead(staller, "image/png", 100_000));
      raw.write(Bodies.png(100_000, 4), 0, 5000);
      for (int i = 0; i < 5; i++) {
        long user = server.createUser("other-" + i);
        assertEquals(201, server.put(user, "image/gif", Bodies.fixture("images/avatar-64.gif")).statusCode());
      }
    }
    assertEquals(List.of(), server.awaitNoStagedFiles());
    assertEquals(List.of(), server.avatarFiles(staller));
  }

  @Test
  @DisplayName("20 parallel uploads for one user all answer 2xx; afterwards one file exists and the row points at it")
  void parallelUploadsForOneUser() throws Exception {
    long user = server.createUser("racer");
    List<CompletableFuture<HttpResponse<byte[]>>> responses = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      HttpRequest request = server.as(user, "/users/" + user + "/avatar")
        .header("Content-Type", "image/png")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(Bodies.png(64 * 1024 + i, i)))
        .timeout(Duration.ofSeconds(60))
        .build();
      responses.add(server.client().sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()));
    }
    int created = 0;
    int ok = 0;
    for (CompletableFuture<HttpResponse<byte[]>> future : responses) {
      HttpResponse<byte[]> response = future.get();
      assertTrue(response.statusCode() == 200 || response.statusCode() == 201 || response.statusCode() == 409,
        () -> response.statusCode() + " " + new String(response.body()));
      created += response.statusCode() == 201 ? 1 : 0;
      ok += response.statusCode() == 200 ? 1 : 0;
    }
    assertEquals(1, created, "exactly one upload creates the avatar");

    List<Path> files = server.avatarFiles(user);
    assertEquals(1, files.size(), () -> "files: " + files);
    JsonObject info = TestServer.json(server.get("/users/" + user + "/avatar/info"));
    byte[] stored = Files.readAllBytes(files.get(0));
    assertEquals(Bodies.sha256(stored), info.getString("sha256"));
    assertEquals(created + ok, info.getLong("version"), "every 2xx is one committed version");
    assertArrayEquals(stored, server.get("/users/" + user + "/avatar").body());
  }
}
