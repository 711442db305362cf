package io.avatarserver.support;

import io.avatarserver.AvatarServer;
import io.avatarserver.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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

  private final AvatarServer server;
  private final TestDatabase database;
  private final Path dataDir;
  private final HttpClient http = HttpClient.newBuilder()
    .version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5))
    .build();

  private TestServer(AvatarServer server, TestDatabase database, Path dataDir) {
    this.server = server;
    this.database = database;
    this.dataDir = dataDir;
  }

  public static TestServer start(Vertx vertx) {
    return start(vertx, new JsonObject());
  }

  /** {@code overrides}: config sections merged over the test defaults (port 0, two event loops). */
  public static TestServer start(Vertx vertx, JsonObject overrides) {
    Path dataDir;
    try {
      dataDir = Files.createTempDirectory("avatar-test-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    TestDatabase database = TestDatabase.create(vertx, dataDir);
    JsonObject json = new JsonObject()
      .put("http", new JsonObject().put("port", 0).put("instances", 2).put("host", "127.0.0.1"))
      .put("storage", new JsonObject().put("dataDir", dataDir.toString()))
      .put("database", new JsonObject().put("url", database.serverUrl()).put("poolSize", 8));
    for (String section : overrides.fieldNames()) {
      JsonObject merged = json.getJsonObject(section, new JsonObject()).mergeIn(overrides.getJsonObject(section));
      json.put(section, merged);
    }
    AvatarServer server = AvatarServer.start(vertx, ServerConfig.fromJson(json)).await();
    return new TestServer(server, database, dataDir);
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

  public HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(uri(path));
  }

  public long createUser(String name) {
    HttpResponse<byte[]> response = send(request("/users")
      .header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("name", name).encode())));
    assertEquals(201, response.statusCode(), () -> "create user: " + new String(response.body()));
    return json(response).getLong("id");
  }

  public HttpResponse<byte[]> put(long userId, String contentType, byte[] body) {
    return send(request("/users/" + userId + "/avatar")
      .header("Content-Type", contentType)
      .PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  public HttpResponse<byte[]> get(String path) {
    return send(request(path).GET());
  }

  public static JsonObject json(HttpResponse<byte[]> response) {
    return new JsonObject(new String(response.body()));
  }

  public Path avatarsDir() {
    return dataDir.resolve("avatars");
  }

  public Path tmpDir() {
    return dataDir.resolve("tmp");
  }

  /** Every stored avatar file. */
  public List<Path> avatarFiles() {
    return files(avatarsDir());
  }

  /** The stored avatar files of one user (named {@code <userId>-<uuid>.<ext>}). */
  public List<Path> avatarFiles(long userId) {
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
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).sorted(Comparator.naturalOrder()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      server.stop().await();
    } finally {
      database.close();
      deleteRecursively(dataDir);
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
