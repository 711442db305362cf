package io.avatarserver;

import io.avatarserver.auth.Tokens;
import io.avatarserver.support.Bodies;
import io.avatarserver.support.Eventually;
import io.avatarserver.support.RawHttp;
import io.avatarserver.support.ServerProcess;
import io.avatarserver.support.TestDatabase;
import io.avatarserver.support.TestS3;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server as a real process, killed and stopped by signals, on the execution's database
 * (PostgreSQL, or the embedded H2 file in the data directory).
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Process: SIGKILL under load, then restart; graceful SIGTERM")
class ProcessLifecycleTest {

  private Path dataDir;
  private TestDatabase database;
  private Tokens tokens;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final List<ServerProcess> processes = new ArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) throws IOException {
    dataDir = Files.createTempDirectory("avatar-process-");
    database = TestDatabase.create(vertx, dataDir);
    tokens = new Tokens(vertx, TestServer.SECRET.getBytes(StandardCharsets.UTF_8));
  }

  @AfterEach
  void tearDown() {
    processes.forEach(ServerProcess::close);
    database.close();
  }

  private ServerProcess start(int shutdownSeconds, Map<String, String> env) throws IOException {
    return start(dataDir, new JsonObject(), database.serverUrl(), shutdownSeconds, env);
  }

  /** An instance with its data directory {@code dir}, {@code storage} settings over the defaults, on {@code databaseUrl}. */
  private ServerProcess start(Path dir, JsonObject storage, String databaseUrl, int shutdownSeconds,
      Map<String, String> env) throws IOException {
    Files.createDirectories(dir);
    Path config = dir.resolve("config.json");
    Files.writeString(config, new JsonObject()
      .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("instances", 2)
        .put("shutdownSeconds", shutdownSeconds))
      .put("storage", new JsonObject().put("dataDir", dir.toString()).put("sweepIntervalSeconds", 0).mergeIn(storage))
      .put("database", new JsonObject().put("url", databaseUrl).put("poolSize", 8))
      .put("auth", new JsonObject().put("jwtSecret", TestServer.SECRET))
      .put("limits", new JsonObject().put("maxUploadsPerUser", 0).put("userWritesPerMinute", 600_000)
        .put("userBurst", 100_000).put("addressWritesPerSecond", 100_000).put("addressBurst", 100_000))
      .encodePrettily());
    Path log = Path.of("target", "process-logs", getClass().getSimpleName() + "-" + database.name().replace(' ', '-')
      + (dir.equals(dataDir) ? "" : "-" + dir.getFileName()) + ".log");
    Files.createDirectories(log.getParent());
    ServerProcess process = ServerProcess.start(config, env, log);
    processes.add(process);
    return process;
  }

  private HttpResponse<byte[]> send(HttpRequest.Builder request) {
    try {
      return client.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private HttpRequest.Builder request(ServerProcess server, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
  }

  private long createUser(ServerProcess server, String name) {
    HttpResponse<byte[]> created = send(request(server, "/users")
      .header("Authorization", "Bearer " + tokens.mint(0, true, 3600)).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("name", name).encode())));
    assertEquals(201, created.statusCode(), () -> new String(created.body()));
    return new JsonObject(new String(created.body())).getLong("id");
  }

  private HttpResponse<byte[]> put(ServerProcess server, long user, byte[] png) {
    return send(request(server, "/users/" + user + "/avatar")
      .header("Authorization", "Bearer " + tokens.mint(user, false, 3600)).header("Content-Type", "image/png")
      .PUT(HttpRequest.BodyPublishers.ofByteArray(png)));
  }

  private List<Path> files(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).sorted().toList();
    }
  }

  @Test
  @DisplayName("SIGKILL during concurrent uploads and replacements; after restart and sweep every row has its complete file, and nothing else remains")
  void killedUnderLoad() throws Exception {
    ServerProcess first = start(30, Map.of());
    long[] users = new long[12];
    for (int i = 0; i < users.length; i++) {
      users[i] = createUser(first, "crash-" + i);
    }
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger succeeded = new AtomicInteger();
    AtomicInteger seed = new AtomicInteger();
    ExecutorService load = Executors.newFixedThreadPool(12);
    for (int t = 0; t < 12; t++) {
      load.submit(() -> {
        while (running.get()) {
          long user = users[ThreadLocalRandom.current().nextInt(users.length)];
          int size = 32 * 1024 + ThreadLocalRandom.current().nextInt(1024 * 1024);
          try {
            if (put(first, user, Bodies.png(size, seed.incrementAndGet())).statusCode() / 100 == 2) {
              succeeded.incrementAndGet();
            }
          } catch (RuntimeException killed) {
            // The server died under this request: expected once the kill comes.
          }
        }
        return null;
      });
    }
    Eventually.await(succeeded::get, n -> n >= 60, Duration.ofSeconds(120));
    assertTrue(succeeded.get() >= 60, "the load never got going");
    first.kill();
    running.set(false);
    load.shutdown();
    assertTrue(load.awaitTermination(120, java.util.concurrent.TimeUnit.SECONDS));

    // Restart on the same data, the sweep's grace at zero (no other instance runs): it cleans at start.
    ServerProcess second = start(30, Map.of("AVATAR_SWEEP_GRACE_SECONDS", "0"));
    assertFalse(second.awaitLine(Pattern.compile("sweep removed"), Duration.ofSeconds(60)).isEmpty(), "no sweep ran");

    Map<String, Long> rows = new HashMap<>();
    for (long user : users) {
      HttpResponse<byte[]> info = send(request(second, "/users/" + user + "/avatar/info").GET());
      if (info.statusCode() == 404) {
        continue;
      }
      assertEquals(200, info.statusCode());
      JsonObject row = new JsonObject(new String(info.body()));
      HttpResponse<byte[]> get = send(request(second, "/users/" + user + "/avatar").GET());
      assertEquals(200, get.statusCode(), "the row's file is there");
      assertEquals(row.getLong("size"), (long) get.body().length, "never a truncated file");
      assertEquals(row.getString("sha256"), Bodies.sha256(get.body()), "the bytes are the row's");
      rows.put(row.getString("sha256"), user);
    }
    assertNotEquals(0, rows.size());
    assertEquals(List.of(), files(dataDir.resolve("tmp")), "temporary files swept");
    List<Path> stored = files(dataDir.resolve("avatars"));
    assertEquals(rows.size(), stored.size(), "exactly one file per row, no unreferenced file: " + stored);
    for (Path file : stored) {
      assertTrue(rows.containsKey(Bodies.sha256(Files.readAllBytes(file))), file + " is no row's file");
    }
  }

  @Test
  @DisplayName("An object store over HTTPS: with its certificate trusted (the JVM's trust store), uploads, reads, a range"
    + " and a replace work; with it not trusted, the store is unreachable: 503, nothing stored")
  void objectStoreOverHttps() throws Exception {
    Path tls = Files.createDirectories(dataDir.resolve("tls"));
    try (TestS3 store = TestS3.startNewTls(tls)) {
      assertTrue(store.endpoint().startsWith("https://"), store.endpoint());
      String bucket = store.newBucket();
      // A first TLS handshake on a cold, busy JVM can outlast the tests' usual 2 s try.
      JsonObject s3 = store.settings(bucket).put("s3AttemptTimeoutMillis", 10_000).put("s3ApiTimeoutMillis", 20_000);
      String url = database.isPostgres() ? database.serverUrl() : database.serverUrlAt(database.endpoint().getPort());
      Map<String, String> trusting = Map.of("AWS_ACCESS_KEY_ID", TestS3.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", TestS3.SECRET_KEY,
        "JAVA_TOOL_OPTIONS", "-Djavax.net.ssl.trustStore=" + tls.resolve("trust.p12")
          + " -Djavax.net.ssl.trustStorePassword=" + TestS3.TLS_PASSWORD);
      ServerProcess server = start(dataDir.resolve("trusting"), s3, url, 5, trusting);
      HttpResponse<byte[]> ready = Eventually.await(() -> send(request(server, "/health/ready").GET()),
        r -> r.statusCode() == 200, Duration.ofSeconds(60));
      assertEquals(200, ready.statusCode(), () -> new String(ready.body()));
      long user = createUser(server, "tls");
      byte[] first = Bodies.png(300_000, 21);
      assertEquals(201, put(server, user, first).statusCode());
      assertArrayEquals(first, send(request(server, "/users/" + user + "/avatar").GET()).body());
      HttpResponse<byte[]> tail = send(request(server, "/users/" + user + "/avatar").header("Range", "bytes=-100").GET());
      assertEquals(206, tail.statusCode());
      assertArrayEquals(java.util.Arrays.copyOfRange(first, first.length - 100, first.length), tail.body());
      byte[] second = Bodies.png(200_000, 22);
      assertEquals(200, put(server, user, second).statusCode());
      assertArrayEquals(second, send(request(server, "/users/" + user + "/avatar").GET()).body());
      assertEquals(1, store.keys(bucket).size(), "the replaced object was deleted: " + store.keys(bucket));

      Map<String, String> untrusting = Map.of("AWS_ACCESS_KEY_ID", TestS3.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", TestS3.SECRET_KEY);
      // The handshake fails at once: the tests' usual short tries.
      ServerProcess doubting = start(dataDir.resolve("doubting"), store.settings(bucket), url, 5, untrusting);
      HttpResponse<byte[]> refused = put(doubting, user, Bodies.png(100_000, 23));
      assertEquals(503, refused.statusCode(), () -> new String(refused.body()));
      assertEquals(1, store.keys(bucket).size(), "nothing stored through an unverified connection");
      assertArrayEquals(second, send(request(server, "/users/" + user + "/avatar").GET()).body());
    }
  }

  @Test
  @DisplayName("Two instances over one database and one bucket, one SIGKILLed under load: the other keeps serving, no row lacks"
    + " its object, and the sweep leaves exactly the rows' objects")
  void instanceKilledBesideAnother() throws Exception {
    TestS3 store = TestS3.shared();
    String bucket = store.newBucket();
    JsonObject s3 = store.settings(bucket);
    // H2 through its TCP server, which both processes reach; PostgreSQL as it is.
    String url = database.isPostgres() ? database.serverUrl() : database.serverUrlAt(database.endpoint().getPort());
    Map<String, String> credentials = Map.of("AWS_ACCESS_KEY_ID", TestS3.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", TestS3.SECRET_KEY);
    ServerProcess a = start(dataDir.resolve("a"), s3, url, 30, credentials);
    ServerProcess b = start(dataDir.resolve("b"), s3, url, 30, credentials);
    long[] users = new long[12];
    for (int i = 0; i < users.length; i++) {
      users[i] = createUser(i % 2 == 0 ? a : b, "two-" + i);
    }
    AtomicBoolean aAlive = new AtomicBoolean(true);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger succeeded = new AtomicInteger();
    AtomicInteger afterKill = new AtomicInteger();
    AtomicInteger seed = new AtomicInteger(1000);
    ExecutorService load = Executors.newFixedThreadPool(12);
    List<java.util.concurrent.Future<Void>> clients = new ArrayList<>();
    for (int t = 0; t < 12; t++) {
      clients.add(load.submit(() -> {
        while (running.get()) {
          long user = users[ThreadLocalRandom.current().nextInt(users.length)];
          boolean viaA = aAlive.get() && ThreadLocalRandom.current().nextBoolean();
          int size = 32 * 1024 + ThreadLocalRandom.current().nextInt(512 * 1024);
          try {
            int status = put(viaA ? a : b, user, Bodies.png(size, seed.incrementAndGet())).statusCode();
            if (status / 100 == 2) {
              succeeded.incrementAndGet();
              if (!aAlive.get() && !viaA) {
                afterKill.incrementAndGet();
              }
            } else if (!viaA) {
              throw new AssertionError("the survivor refused an upload with " + status);
            }
          } catch (UncheckedIOException killed) {
            if (!viaA) {
              throw killed;
            }
            // A died under this request: expected once the kill comes.
          }
        }
        return null;
      }));
    }
    Eventually.await(succeeded::get, n -> n >= 60, Duration.ofSeconds(120));
    assertTrue(succeeded.get() >= 60, "the load never got going");
    a.kill();
    aAlive.set(false);
    Eventually.await(afterKill::get, n -> n >= 30, Duration.ofSeconds(120));
    running.set(false);
    load.shutdown();
    assertTrue(load.awaitTermination(120, java.util.concurrent.TimeUnit.SECONDS));
    for (java.util.concurrent.Future<Void> client : clients) {
      client.get(); // the survivor answered every request sent to it with a 2xx
    }
    assertTrue(afterKill.get() >= 30, "the survivor took too few uploads after the kill: " + afterKill.get());

    // A restarts on its data directory with the sweep's grace at zero (B is idle): its start empties its
    // own staging, and its sweep, elected through the database, deletes what A's death left in the bucket.
    Map<String, String> sweepAtOnce = new HashMap<>(credentials);
    sweepAtOnce.put("AVATAR_SWEEP_GRACE_SECONDS", "0");
    ServerProcess restarted = start(dataDir.resolve("a"), s3, url, 30, sweepAtOnce);
    assertFalse(restarted.awaitLine(Pattern.compile("sweep removed"), Duration.ofSeconds(60)).isEmpty(), "no sweep ran");
    assertEquals(List.of(), files(dataDir.resolve("a").resolve("tmp")), "A's temporary files survived its restart");

    Map<String, Long> rows = new HashMap<>();
    for (long user : users) {
      HttpResponse<byte[]> info = send(request(b, "/users/" + user + "/avatar/info").GET());
      if (info.statusCode() == 404) {
        continue;
      }
      assertEquals(200, info.statusCode());
      JsonObject row = new JsonObject(new String(info.body()));
      for (ServerProcess server : List.of(b, restarted)) {
        HttpResponse<byte[]> get = send(request(server, "/users/" + user + "/avatar").GET());
        assertEquals(200, get.statusCode(), "the row's object is there");
        assertEquals(row.getString("sha256"), Bodies.sha256(get.body()), "the bytes are the row's");
      }
      rows.put(row.getString("sha256"), user);
    }
    assertNotEquals(0, rows.size());
    List<Path> objects = store.files(bucket, "");
    assertEquals(rows.size(), objects.size(), "exactly one object per row, no unreferenced object: " + store.keys(bucket));
    for (Path object : objects) {
      assertTrue(rows.containsKey(Bodies.sha256(Files.readAllBytes(object))), object + " is no row's object");
    }
  }

  @Test
  @DisplayName("SIGKILL with uploads in flight: the restart removes their temporary files at once, without the sweep's grace; young stored files stay")
  void restartRemovesAbandonedStagingAtOnce() throws Exception {
    ServerProcess first = start(30, Map.of());
    long user = createUser(first, "kept");
    byte[] kept = Bodies.png(64 * 1024, 80);
    assertEquals(201, put(first, user, kept).statusCode());
    // A stored file no row references yet, as another instance's upload between publish and commit leaves it.
    Path another = dataDir.resolve("avatars").resolve("ff").resolve("255-" + java.util.UUID.randomUUID() + ".png");
    Files.createDirectories(another.getParent());
    Files.write(another, Bodies.png(4096, 81));

    List<RawHttp> inFlight = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        long uploader = createUser(first, "in-flight-" + i);
        byte[] body = Bodies.png(1024 * 1024, 82 + i);
        int before = listOrEmpty(dataDir.resolve("tmp")).size();
        inFlight.add(halfUpload(first, uploader, body));
        Eventually.await(() -> listOrEmpty(dataDir.resolve("tmp")).size(), n -> n > before, Duration.ofSeconds(10));
      }
      first.kill();
    } finally {
      inFlight.forEach(RawHttp::close);
    }
    assertEquals(3, files(dataDir.resolve("tmp")).size(), "the kill left the uploads' temporary files");

    // The default grace (an hour) and no periodic sweep: only the start's own cleanup can remove them.
    ServerProcess second = start(30, Map.of());
    assertEquals(List.of(), files(dataDir.resolve("tmp")), "temporary files of the killed run survived the restart");
    assertFalse(second.awaitLine(Pattern.compile("removed 3 temporary files .* of an earlier run"), Duration.ofSeconds(10))
      .isEmpty(), "the cleanup is not logged");
    assertTrue(Files.exists(another), "an unreferenced stored file younger than the grace was deleted");
    HttpResponse<byte[]> served = send(request(second, "/users/" + user + "/avatar").GET());
    assertEquals(200, served.statusCode());
    assertEquals(Bodies.sha256(kept), Bodies.sha256(served.body()));
  }

  @Test
  @DisplayName("SIGTERM: stops accepting, lets an upload in flight finish, exits 0")
  void gracefulStop() throws Exception {
    ServerProcess server = start(20, Map.of());
    long user = createUser(server, "graceful");
    byte[] body = Bodies.png(1024 * 1024, 77);
    try (RawHttp raw = halfUpload(server, user, body)) {

      server.terminate();
      assertTrue(Eventually.await(() -> refused(server.port()), r -> r, Duration.ofSeconds(20)), "still accepting after SIGTERM");
      raw.write(body, body.length / 2, body.length - body.length / 2);
      String response = raw.readResponse();
      assertEquals(201, RawHttp.status(response), response);
    }
    assertEquals(0, server.waitFor(Duration.ofSeconds(60)), "exit status");
    assertEquals(List.of(), files(dataDir.resolve("tmp")));
    List<Path> stored = files(dataDir.resolve("avatars"));
    assertEquals(1, stored.size());
    assertEquals(Bodies.sha256(body), Bodies.sha256(Files.readAllBytes(stored.get(0))));
  }

  @Test
  @DisplayName("SIGTERM: an upload that does not finish within the deadline is aborted and cleaned up, then exit 0")
  void deadline() throws Exception {
    ServerProcess server = start(1, Map.of());
    long user = createUser(server, "too-slow");
    byte[] body = Bodies.png(1024 * 1024, 78);
    try (RawHttp raw = halfUpload(server, user, body)) {

      server.terminate();
      assertEquals(0, server.waitFor(Duration.ofSeconds(60)), "exit status");
    }
    assertEquals(List.of(), files(dataDir.resolve("tmp")), "the aborted upload's file is deleted");
    assertEquals(List.of(), files(dataDir.resolve("avatars")));
    assertTrue(server.output().stream().anyMatch(l -> l.contains("outcome=client_aborted") || l.contains("outcome=error")),
      "the aborted upload is logged");
  }

  /** Sends the head and half the body of an upload, and returns once the server is writing it. */
  private RawHttp halfUpload(ServerProcess server, long user, byte[] body) {
    RawHttp raw = new RawHttp(server.port());
    raw.write("PUT /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + tokens.mint(user, false, 3600)
      + "\r\nContent-Type: image/png\r\nContent-Length: " + body.length + "\r\n\r\n");
    raw.write(body, 0, body.length / 2);
    assertFalse(Eventually.await(() -> listOrEmpty(dataDir.resolve("tmp")), l -> !l.isEmpty(), Duration.ofSeconds(10)).isEmpty(),
      "the upload never started");
    return raw;
  }

  private List<Path> listOrEmpty(Path dir) {
    try {
      return files(dir);
    } catch (IOException e) {
      return List.of();
    }
  }

  private static boolean refused(int port) {
    try (Socket ignored = new Socket("127.0.0.1", port)) {
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
