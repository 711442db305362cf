package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.RawHttp;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("HTTP conformance: Host, Allow on 405, OPTIONS, HEAD wherever GET, Expect")
class ProtocolConformanceTest extends ServerTestBase {

  private static long user;

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
    user = server.createUser("conformance");
    assertEquals(201, server.put(user, "image/jpeg", Bodies.fixture("images/avatar-256.jpg")).statusCode());
  }

  private static String exchange(String request) {
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(request);
      return request.startsWith("HEAD ") ? raw.readHead() : raw.readResponse();
    }
  }

  private static String header(String response, String name) {
    for (String line : response.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
        return line.substring(colon + 1).trim();
      }
    }
    return null;
  }

  private static Set<String> allow(String response) {
    String allow = header(response, "Allow");
    assertTrue(allow != null, () -> "no Allow in " + response);
    return Arrays.stream(allow.split(",")).map(String::trim).collect(Collectors.toCollection(TreeSet::new));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"no-host-get", "no-host-put", "two-hosts", "empty-host", "bad-host"})
  @DisplayName("HTTP/1.1 without exactly one valid Host is 400 with a problem body (RFC 9112 §3.2)")
  void host(String kind) {
    String auth = server.authHeader(user);
    String request = switch (kind) {
      case "no-host-get" -> "GET /health HTTP/1.1\r\n\r\n";
      case "no-host-put" -> "PUT /users/" + user + "/avatar HTTP/1.1\r\n" + auth + "Content-Type: image/png\r\nContent-Length: 5\r\n\r\nhello";
      case "two-hosts" -> "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
      case "empty-host" -> "GET /users/" + user + "/avatar/info HTTP/1.1\r\nHost:\r\n\r\n";
      case "bad-host" -> "GET /health HTTP/1.1\r\nHost: a b/c\r\n\r\n";
      default -> throw new IllegalArgumentException(kind);
    };
    List<java.nio.file.Path> before = server.avatarFiles(user);
    String response = exchange(request);
    if (kind.equals("empty-host")) {
      // RFC 9112 §3.2: an empty Host is allowed when the target URI has no authority.
      assertEquals(200, RawHttp.status(response), response);
      return;
    }
    assertEquals(400, RawHttp.status(response), response);
    assertTrue(response.contains("application/problem+json"), response);
    assertTrue(response.contains("Host"), response);
    assertEquals(before, server.avatarFiles(user));
  }

  @Test
  @DisplayName("HTTP/1.0 needs no Host")
  void http10WithoutHost() {
    String response = exchange("GET /health HTTP/1.0\r\n\r\n");
    assertEquals(200, RawHttp.status(response), response);
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "PATCH, /users/{user}/avatar, GET HEAD PUT POST DELETE OPTIONS",
    "PUT, /users/{user}/avatar/info, GET HEAD OPTIONS",
    "GET, /users, POST OPTIONS",
    "POST, /health, GET HEAD OPTIONS",
    "DELETE, /health/live, GET HEAD OPTIONS",
    "PUT, /health/ready, GET HEAD OPTIONS",
    "POST, /metrics, GET HEAD OPTIONS",
    "DELETE, /openapi.json, GET HEAD OPTIONS",
    "PUT, /, GET HEAD OPTIONS",
    "POST, /docs, GET HEAD OPTIONS",
  })
  @DisplayName("A method a route does not take is 405 with Allow, as problem JSON; OPTIONS is 204 with the same Allow")
  void methodNotAllowedAndOptions(String method, String path, String methods) {
    String target = path.replace("{user}", Long.toString(user));
    Set<String> expected = new TreeSet<>(Arrays.asList(methods.split(" ")));
    String refused = exchange(method + " " + target + " HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    assertEquals(405, RawHttp.status(refused), refused);
    assertTrue(refused.contains("application/problem+json"), refused);
    assertEquals(expected, allow(refused), refused);

    String options = exchange("OPTIONS " + target + " HTTP/1.1\r\nHost: t\r\n\r\n");
    assertEquals(204, RawHttp.status(options), options);
    assertEquals(expected, allow(options), options);
  }

  @Test
  @DisplayName("OPTIONS * answers 204 with every method the server takes somewhere")
  void optionsStar() {
    String response = exchange("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n");
    assertEquals(204, RawHttp.status(response), response);
    assertEquals(new TreeSet<>(List.of("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS")), allow(response));
  }

  @Test
  @DisplayName("An unknown path is still 404, whatever the method, OPTIONS included")
  void unknownPath() {
    for (String method : List.of("GET", "HEAD", "OPTIONS", "PATCH")) {
      String response = exchange(method + " /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
      assertEquals(404, RawHttp.status(response), method + ": " + response);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"/users/{user}/avatar", "/users/{user}/avatar/info", "/health", "/health/live", "/health/ready",
    "/metrics", "/openapi.json", "/", "/docs", "/docs/init.js", "/page/app.js"})
  @DisplayName("HEAD works wherever GET does: the same status and headers, no body")
  void headWhereverGet(String path) {
    String target = path.replace("{user}", Long.toString(user));
    String get = exchange("GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n");
    assertEquals(200, RawHttp.status(get), get);
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write("HEAD " + target + " HTTP/1.1\r\nHost: t\r\n\r\n");
      String head = raw.readHead();
      assertEquals(200, RawHttp.status(head), head);
      assertEquals(header(get, "Content-Type"), header(head, "Content-Type"), head);
      // No body: the next response on the connection follows the head at once.
      raw.write("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n");
      String next = raw.readHead();
      assertTrue(next.startsWith("HTTP/1.1 200"), () -> "a body after HEAD's head: " + next);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"get-foo", "put-foo", "put-continue-and-foo", "get-100-continue-typo"})
  @DisplayName("An Expect other than 100-continue is 417 with a problem body, and no file")
  void expectationFailed(String kind) {
    String expect = switch (kind) {
      case "get-foo", "put-foo" -> "foo";
      case "put-continue-and-foo" -> "100-continue, foo";
      case "get-100-continue-typo" -> "100-continu";
      default -> throw new IllegalArgumentException(kind);
    };
    String request = kind.startsWith("get")
      ? "GET /health HTTP/1.1\r\nHost: t\r\nExpect: " + expect + "\r\n\r\n"
      : server.putHead(user, "image/png", "Content-Length: 5", "Expect: " + expect + "\r\n") + "hello";
    List<java.nio.file.Path> before = server.avatarFiles(user);
    String response = exchange(request);
    assertEquals(417, RawHttp.status(response), response);
    assertTrue(response.contains("application/problem+json"), response);
    assertTrue(response.contains("expectation-failed"), response);
    assertEquals(before, server.avatarFiles(user));
  }

  @Test
  @DisplayName("Expect: 100-continue in any case still works")
  void expectContinueCaseInsensitive() {
    String response = exchange("GET /health HTTP/1.1\r\nHost: t\r\nExpect: 100-Continue\r\n\r\n");
    assertFalse(RawHttp.status(response) == 417, response);
  }
}
