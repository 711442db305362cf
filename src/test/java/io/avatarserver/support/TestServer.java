package io.avatarserver.support;

import io.avatarserver.AvatarServer;
import io.avatarserver.auth.Tokens;
import io.avatarserver.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The production wiring ({@link AvatarServer#start}) on port 0, in a fresh data directory, on the
 * database the Surefire execution names, with a real HTTP client (the JDK's, independent of Vert.x).
 */
public final class TestServer implements AutoCloseable {

  /**
   * The system property that picks the storage backend of the test servers: {@code local} (the default)
   * or {@code s3} (an in-process S3 API server, {@link TestS3}, a bucket per server). Set by the Surefire
   * execution; a test that sets {@code storage.backend} itself gets what it asked for.
   */
  public static final String STORAGE_PROPERTY = "avatar.test.storage";

  /** Whether this execution runs the servers on the object store backend. */
  public static boolean s3Backend() {
    return "s3".equals(System.getProperty(STORAGE_PROPERTY, "local"));
  }

  /** The signing secret of every test server; tokens are minted with it like the CLI does. */
  public static final String SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

  private final AvatarServer server;
  private final TestDatabase database;
  private final Path dataDir;
  private final Tokens tokens;
  private final String databaseUrl;
  /** False for a {@link #sibling}: the database and data directory are the first server's to close. */
  private final boolean owner;
  private final HttpClient http = HttpClient.newBuilder()
    .version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5))
    .build();

  private TestServer(AvatarServer server, TestDatabase database, Path dataDir, String databaseUrl, Tokens tokens,
                     boolean owner) {
    this.databaseUrl = databaseUrl;
    this.owner = owner;
    this.tokens = tokens;
    this.server = server;
    this.database = database;
    this.dataDir = dataDir;
  }

  public static TestServer start(Vertx vertx) {
    return start(vertx, new JsonObject());
  }

  /**
   * {@code overrides}: config sections merged over the test defaults: port 0, two event loops, no warm-up, the
   * test secret, and rate limits high enough not to interfere (RateLimitTest, AddressRateLimitTest and UploadLimitsTest set their own).
   */
  public static TestServer start(Vertx vertx, JsonObject overrides) {
    return start(vertx, overrides, TestDatabase::serverUrl);
  }

  /** As {@link #start(Vertx, JsonObject)}, reaching the database by the URL {@code databaseUrl} gives (a proxy's). */
  public static TestServer start(Vertx vertx, JsonObject overrides, java.util.function.Function<TestDatabase, String> databaseUrl) {
    return start(vertx, overrides, databaseUrl, newRegistry());
  }

  /** As {@link #start(Vertx, JsonObject)}, the server's meters (and /metrics) in {@code registry}. */
  public static TestServer start(Vertx vertx, JsonObject overrides, io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry) {
    return start(vertx, overrides, TestDatabase::serverUrl, registry);
  }

  /** Both: the database by a proxy's URL, the meters in {@code registry}. */
  public static TestServer start(Vertx vertx, JsonObject overrides, java.util.function.Function<TestDatabase, String> databaseUrl,
                                  io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry) {
    return start(vertx, overrides, databaseUrl, registry, null);
  }

  /** As {@link #start(Vertx, JsonObject)}, rendering sized variants with {@code renderer}. */
  public static TestServer start(Vertx vertx, JsonObject overrides, io.avatarserver.variant.Renderer renderer) {
    return start(vertx, overrides, TestDatabase::serverUrl, newRegistry(), renderer);
  }

  /** Both: the database by the URL {@code databaseUrl} gives, variants rendered with {@code renderer}. */
  public static TestServer start(Vertx vertx, JsonObject overrides, java.util.function.Function<TestDatabase, String> databaseUrl,
                                 io.avatarserver.variant.Renderer renderer) {
    return start(vertx, overrides, databaseUrl, newRegistry(), renderer);
  }

  private static TestServer start(Vertx vertx, JsonObject overrides, java.util.function.Function<TestDatabase, String> databaseUrl,
                                  io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry,
                                  io.avatarserver.variant.Renderer renderer) {
    Path dataDir;
    try {
      dataDir = Files.createTempDirectory("avatar-test-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    TestDatabase database = TestDatabase.create(vertx, dataDir);
    String url = databaseUrl.apply(database);
    if (s3Backend() && !overrides.getJsonObject("storage", new JsonObject()).containsKey("backend")) {
      TestS3 s3 = TestS3.shared();
      JsonObject storage = s3.settings(s3.newBucket()).mergeIn(overrides.getJsonObject("storage", new JsonObject()));
      overrides = overrides.copy().put("storage", storage);
    }
    ServerConfig config = config(overrides, dataDir, url);
    AvatarServer server = (renderer == null ? AvatarServer.start(vertx, config, registry)
      : AvatarServer.start(vertx, config, registry, renderer)).await();
    return new TestServer(server, database, dataDir, url, new Tokens(vertx, SECRET.getBytes(StandardCharsets.UTF_8)), true);
  }

  /**
   * A second server on this one's database and stored files, as another server process sharing
   * them would be, with {@code overrides}; its staging area is its own. This server must reach its database by a URL a second
   * pool can use too (PostgreSQL's; for H2, its TCP server's). Closing the sibling stops only it.
   */
  public TestServer sibling(Vertx vertx, JsonObject overrides) {
    return sibling(vertx, overrides, null);
  }

  /** As {@link #sibling(Vertx, JsonObject)}, rendering sized variants with {@code renderer} (null: the default). */
  public TestServer sibling(Vertx vertx, JsonObject overrides, io.avatarserver.variant.Renderer renderer) {
    if (onS3() && !overrides.getJsonObject("storage", new JsonObject()).containsKey("backend")) {
      ServerConfig.S3 s3 = server.config().storage().s3();
      JsonObject storage = s3().settings(s3.bucket()).put("s3Prefix", s3.prefix())
        .mergeIn(overrides.getJsonObject("storage", new JsonObject()));
      overrides = overrides.copy().put("storage", storage);
    }
    // A staging area of its own (one instance per staging directory, StagingLock); on the local backend
    // the same avatars directory, linked into its data directory.
    Path own;
    try {
      own = Files.createTempDirectory("avatar-test-sibling-");
      if (!onS3()) {
        Files.createSymbolicLink(own.resolve("avatars"), avatarsDir().toAbsolutePath());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ServerConfig config = config(overrides, own, databaseUrl);
    AvatarServer sibling = (renderer == null ? AvatarServer.start(vertx, config, newRegistry())
      : AvatarServer.start(vertx, config, newRegistry(), renderer)).await();
    return new TestServer(sibling, database, own, databaseUrl, tokens, false);
  }

  /**
   * Another instance behind the same load balancer: this server's database and object store bucket, but
   * a data directory (so a staging area) of its own, no shared disk. Only for a server on the s3
   * backend; on H2, this server must reach its database by its TCP server's URL. Closing the peer stops
   * only it; its data directory is {@code dataDir()}, for the test to remove.
   */
  public TestServer peer(Vertx vertx, JsonObject overrides) {
    ServerConfig.S3 s3 = server.config().storage().s3();
    JsonObject storage = s3().settings(s3.bucket()).put("s3Prefix", s3.prefix())
      .mergeIn(overrides.getJsonObject("storage", new JsonObject()));
    Path own;
    try {
      own = Files.createTempDirectory("avatar-test-peer-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    AvatarServer peer = AvatarServer.start(vertx, config(overrides.copy().put("storage", storage), own, databaseUrl),
      newRegistry()).await();
    return new TestServer(peer, database, own, databaseUrl, tokens, false);
  }

  public Path dataDir() {
    return dataDir;
  }

  private static io.micrometer.prometheusmetrics.PrometheusMeterRegistry newRegistry() {
    return new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
  }

  private static ServerConfig config(JsonObject overrides, Path dataDir, String databaseUrl) {
    JsonObject json = new JsonObject()
      // No warm-up uploads before the listener opens (seconds per start); ListenerWarmupTest runs them.
      .put("http", new JsonObject().put("port", 0).put("instances", 2).put("host", "127.0.0.1").put("warmupRequests", 0))
      .put("storage", new JsonObject().put("dataDir", dataDir.toString()))
      .put("database", new JsonObject().put("url", databaseUrl).put("poolSize", 8))
      .put("auth", new JsonObject().put("jwtSecret", SECRET))
      .put("limits", new JsonObject().put("userWritesPerMinute", 60_000).put("userBurst", 1000)
        .put("addressWritesPerSecond", 100_000).put("addressBurst", 100_000));
    for (String section : overrides.fieldNames()) {
      JsonObject merged = json.getJsonObject(section, new JsonObject()).mergeIn(overrides.getJsonObject(section));
      json.put(section, merged);
    }
    return ServerConfig.fromJson(json);
  }

  public AvatarServer server() {
    return server;
  }

  public int port() {
    return server.port();
  }

  public TestDatabase database() {
    return database;
  }

  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port() + path);
  }

  public HttpResponse<byte[]> send(HttpRequest.Builder request) {
    try {
      return http.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public HttpClient client() {
    return http;
  }

  /** An anonymous request. */
  public HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(uri(path));
  }

  /** A request with {@code user}'s bearer token. */
  public HttpRequest.Builder as(long user, String path) {
    return request(path).header("Authorization", "Bearer " + tokenFor(user));
  }

  /** A request with an admin's bearer token. */
  public HttpRequest.Builder asAdmin(String path) {
    return request(path).header("Authorization", "Bearer " + adminToken());
  }

  public String tokenFor(long user) {
    return tokens.mint(user, false, 3600);
  }

  public String adminToken() {
    return tokens.mint(0, true, 3600);
  }

  public Tokens tokens() {
    return tokens;
  }

  /** The head of a raw-socket PUT of {@code user}'s avatar with the user's token; {@code extra}: more header lines. */
  public String putHead(long user, String contentType, String lengthHeader, String extra) {
    return "PUT /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\n" + authHeader(user) + "Content-Type: " + contentType
      + "\r\n" + lengthHeader + "\r\n" + extra + "\r\n";
  }

  /** The head of a raw-socket PUT with a Content-Length. */
  public String putHead(long user, String contentType, long contentLength) {
    return putHead(user, contentType, "Content-Length: " + contentLength, "");
  }

  /** The Authorization header line for raw HTTP. */
  public String authHeader(long user) {
    return "Authorization: Bearer " + tokenFor(user) + "\r\n";
  }

  public long createUser(String name) {
    HttpResponse<byte[]> response = send(asAdmin("/users")
      .header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("name", name).encode())));
    assertEquals(201, response.statusCode(), () -> "create user: " + new String(response.body()));
    return json(response).getLong("id");
  }

  /** PUT with the user's own token. */
  public HttpResponse<byte[]> put(long userId, String contentType, byte[] body) {
    return send(as(userId, "/users/" + userId + "/avatar")
      .header("Content-Type", contentType)
      .PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  public HttpResponse<byte[]> get(String path) {
    return send(request(path).GET());
  }

  public static JsonObject json(HttpResponse<byte[]> response) {
    return new JsonObject(new String(response.body()));
  }

  /** The first column of the first row of {@code query} (a COUNT), on the database this server uses. */
  public long queryLong(String query) {
    if (!databaseUrl.startsWith("jdbc:")) {
      return database.queryLong(query);
    }
    // H2, embedded or by its TCP server (test thread, not an event loop).
    try (java.sql.Connection conn = java.sql.DriverManager.getConnection(databaseUrl);
         java.sql.Statement st = conn.createStatement(); java.sql.ResultSet rows = st.executeQuery(query)) {
      rows.next();
      return rows.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  public Path avatarsDir() {
    return server.config().storage().avatarsDir();
  }

  /** Whether this server stores in an object store (s3) rather than local files. */
  public boolean onS3() {
    return server.config().storage().isS3();
  }

  /** The test store this server's objects are in; only {@link #onS3()}. */
  public TestS3 s3() {
    return TestS3.byEndpoint(server.config().storage().s3().endpoint());
  }

  /** The key (as the rows name it) of a stored avatar that {@link #avatarFiles} listed, whichever the backend. */
  public String storedKey(Path file) {
    if (onS3()) {
      ServerConfig.S3 s3 = server.config().storage().s3();
      String name = s3().file(s3.bucket(), "").relativize(file).toString();
      return name.substring(s3.prefix().length());
    }
    return avatarsDir().relativize(file).toString();
  }

  /** Every stored key (as the rows name them), whichever the backend. */
  public List<String> storedKeys() {
    if (onS3()) {
      String prefix = server.config().storage().s3().prefix();
      return s3().keys(server.config().storage().s3().bucket()).stream()
        .filter(k -> k.startsWith(prefix)).map(k -> k.substring(prefix.length())).toList();
    }
    return avatarFiles().stream().map(p -> avatarsDir().relativize(p).toString()).toList();
  }

  public Path tmpDir() {
    return server.config().storage().tmpDir();
  }

  /**
   * Every stored avatar, as a file: under the avatars directory, or for the object store the files its
   * objects are kept in by the test store (so tests read and compare them alike).
   */
  public List<Path> avatarFiles() {
    if (onS3()) {
      ServerConfig.S3 s3 = server.config().storage().s3();
      return s3().files(s3.bucket(), s3.prefix() + "avatars/");
    }
    return files(avatarsDir());
  }

  /** The stored avatars of one user (files {@code <userId>-<uuid>.<ext>}, objects {@code avatars/<userId>/…}). */
  public List<Path> avatarFiles(long userId) {
    if (onS3()) {
      ServerConfig.S3 s3 = server.config().storage().s3();
      return s3().files(s3.bucket(), s3.prefix() + "avatars/" + userId + "/");
    }
    return avatarFiles().stream().filter(p -> p.getFileName().toString().startsWith(userId + "-")).toList();
  }

  /** Uploads in progress: the temporary area. */
  public List<Path> stagedFiles() {
    return files(tmpDir());
  }

  /**
   * Waits until the temporary area is empty, for cleanup that follows a client's disconnect (no
   * response tells the test when it is done). Bounded; returns what is left.
   */
  public List<Path> awaitNoStagedFiles() {
    return Eventually.await(this::stagedFiles, List::isEmpty, Duration.ofSeconds(10));
  }

  private static List<Path> files(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    // The server may delete a file while the walk lists it: then the listing is taken again.
    for (int attempt = 1; ; attempt++) {
      try (Stream<Path> walk = Files.walk(dir)) {
        return walk.filter(Files::isRegularFile).sorted(Comparator.naturalOrder()).toList();
      } catch (UncheckedIOException | IOException e) {
        Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (!(cause instanceof java.nio.file.NoSuchFileException) || attempt == 10) {
          throw e instanceof UncheckedIOException u ? u : new UncheckedIOException((IOException) e);
        }
      }
    }
  }

  @Override
  public void close() {
    try {
      server.stop().await();
    } finally {
      if (owner) {
        database.close();
        deleteRecursively(dataDir);
      }
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // A temp directory; leaving it is harmless.
    }
  }
}
