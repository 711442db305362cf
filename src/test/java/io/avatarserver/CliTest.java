package io.avatarserver;

import io.avatarserver.auth.JwtSecret;
import io.avatarserver.auth.Principal;
import io.avatarserver.auth.Tokens;
import io.avatarserver.cli.Cli;
import io.avatarserver.config.ServerConfig;
import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("The command line: token, users create, and the generated secret")
class CliTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  private static ServerConfig config(Path dataDir, String secret) {
    return ServerConfig.fromJson(new JsonObject()
      .put("storage", new JsonObject().put("dataDir", dataDir.toString()))
      .put("auth", new JsonObject().put("jwtSecret", secret)));
  }

  private record Run(int code, String out, String err) {
  }

  private static Run run(ServerConfig config, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new Cli(config, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
      .run(List.of(args));
    return new Run(code, out.toString(StandardCharsets.UTF_8).trim(), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("token --user ID prints a token the server accepts for that user, and only that user")
  void userToken(Vertx vertx, @TempDir Path dir) {
    long user = server.createUser("cli-token");
    long other = server.createUser("cli-other");
    Run run = run(config(dir, TestServer.SECRET), "token", "--user", Long.toString(user), "--ttl", "600");
    assertEquals(0, run.code(), run.err());

    Principal principal = server.tokens().verify(run.out()).await();
    assertEquals(new Principal(user, false), principal);
    HttpRequest.Builder own = server.request("/users/" + user + "/avatar").header("Authorization", "Bearer " + run.out());
    assertEquals(201, server.send(own.header("Content-Type", "image/gif")
      .PUT(HttpRequest.BodyPublishers.ofByteArray(Bodies.fixture("images/avatar-64.gif")))).statusCode());
    assertRefused(server.send(server.request("/users/" + other + "/avatar").header("Authorization", "Bearer " + run.out())
      .header("Content-Type", "image/gif").PUT(HttpRequest.BodyPublishers.ofByteArray(Bodies.fixture("images/avatar-64.gif")))),
      403, "forbidden");
  }

  @Test
  @DisplayName("token --admin alone prints an admin token")
  void adminToken(@TempDir Path dir) {
    Run run = run(config(dir, TestServer.SECRET), "token", "--admin");
    assertEquals(0, run.code(), run.err());
    assertEquals(new Principal(0, true), server.tokens().verify(run.out()).await());
  }

  @Test
  @DisplayName("Bad invocations print the usage and exit 2")
  void usage(@TempDir Path dir) {
    for (String[] args : new String[][] {{"token"}, {"token", "--user", "x"}, {"nonsense"}, {"users", "create"},
      {"users", "create", "--count", "0", "--tokens", "f", "--url", "http://x"}}) {
      Run run = run(config(dir, TestServer.SECRET), args);
      assertEquals(2, run.code(), String.join(" ", args));
      assertTrue(run.err().contains("usage:"), run.err());
    }
  }

  @Test
  @DisplayName("users create makes N users through the running server and writes 'id token' lines that upload")
  void usersCreate(@TempDir Path dir) throws Exception {
    Path tokens = dir.resolve("tokens.txt");
    Run run = run(config(dir, TestServer.SECRET), "users", "create", "--count", "5", "--tokens", tokens.toString(),
      "--url", "http://127.0.0.1:" + server.port() + "/");
    assertEquals(0, run.code(), run.err());

    List<String> lines = Files.readAllLines(tokens);
    assertEquals(5, lines.size());
    assertEquals(5, lines.stream().map(l -> l.split(" ")[0]).distinct().count());
    byte[] png = Bodies.fixture("images/avatar-128.png");
    for (String line : lines) {
      String[] parts = line.split(" ");
      long id = Long.parseLong(parts[0]);
      assertEquals(new Principal(id, false), server.tokens().verify(parts[1]).await());
      assertEquals(201, server.send(server.request("/users/" + id + "/avatar").header("Authorization", "Bearer " + parts[1])
        .header("Content-Type", "image/png").PUT(HttpRequest.BodyPublishers.ofByteArray(png))).statusCode());
    }
    assertArrayEquals(Images.stored(png), server.get("/users/" + lines.get(0).split(" ")[0] + "/avatar").body());
  }

  @Test
  @DisplayName("Without a configured secret one is generated in the data directory, mode 0600, and reused")
  void generatedSecret(Vertx vertx, @TempDir Path dir) throws Exception {
    byte[] first = JwtSecret.resolve("", dir);
    Path file = dir.resolve("jwt-secret");
    assertTrue(Files.exists(file));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertTrue(first.length >= 32);
    assertArrayEquals(first, JwtSecret.resolve("", dir), "the secret is reused, not regenerated");

    // The token command signs with that file; the server on the same data directory accepts it.
    Run run = run(config(dir, ""), "token", "--user", "7");
    assertEquals(0, run.code(), run.err());
    assertEquals(new Principal(7, false), new Tokens(vertx, first).verify(run.out()).await());
  }
}
