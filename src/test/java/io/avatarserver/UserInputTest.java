package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Multipart;
import io.avatarserver.support.RawHttp;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("User input: POST /users' body and names, and problem details in the server's own words")
class UserInputTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  private static HttpResponse<byte[]> createUser(String contentType, byte[] body) {
    HttpRequest.Builder request = server.asAdmin("/users").POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    return server.send(request);
  }

  /** A name given as raw JSON text (so escapes such as a lone surrogate reach the server as sent). */
  private static HttpResponse<byte[]> createNamed(String jsonString) {
    return createUser("application/json", ("{\"name\":" + jsonString + "}").getBytes(StandardCharsets.UTF_8));
  }

  private static JsonObject assertProblem(HttpResponse<byte[]> response, int status, String type) {
    assertEquals(status, response.statusCode(), () -> new String(response.body(), StandardCharsets.UTF_8));
    assertEquals("application/problem+json", response.headers().firstValue("Content-Type").orElse(""));
    JsonObject problem = TestServer.json(response);
    assertEquals("urn:problem:avatar-server:" + type, problem.getString("type"));
    AuthTest.assertOwnWords(problem.getString("detail"));
    return problem;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/jsonx", "application/json-patch+json", "none"})
  @DisplayName("POST /users refuses a body that is not declared application/json with 415")
  void notJson(String contentType) {
    HttpResponse<byte[]> response = createUser(contentType.equals("none") ? null : contentType,
      "{\"name\":\"Ada\"}".getBytes(StandardCharsets.UTF_8));
    assertProblem(response, 415, "unsupported-media-type");
  }

  @Test
  @DisplayName("application/json with parameters, in any case, is accepted")
  void jsonWithCharset() {
    assertEquals(201, createUser("Application/JSON; charset=utf-8", "{\"name\":\"Ada\"}".getBytes(StandardCharsets.UTF_8))
      .statusCode());
  }

  @Test
  @DisplayName("A body over 4 KiB is 413 request-too-large (not \"Avatar too large\"), by Content-Length or chunked")
  void bodyTooLarge() {
    byte[] big = ("{\"name\":\"" + "a".repeat(5000) + "\"}").getBytes(StandardCharsets.UTF_8);
    JsonObject declared = assertProblem(createUser("application/json", big), 413, "request-too-large");
    assertEquals("Request body too large", declared.getString("title"));

    HttpResponse<byte[]> chunked = server.send(server.asAdmin("/users").header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))));
    assertEquals("Request body too large", assertProblem(chunked, 413, "request-too-large").getString("title"));

    // Exactly at the limit is read (and then judged on its content).
    byte[] atLimit = ("{\"name\":\"ok\",\"pad\":\"" + "p".repeat(4096 - 22) + "\"}").getBytes(StandardCharsets.UTF_8);
    assertEquals(4096, atLimit.length);
    assertEquals(201, createUser("application/json", atLimit).statusCode());
  }

  @Test
  @DisplayName("POST /users with Expect: 100-continue gets its 100 once the token and headers pass, then 201")
  void expectContinue() {
    byte[] body = "{\"name\":\"Patient\"}".getBytes(StandardCharsets.UTF_8);
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write("POST /users HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + server.adminToken()
        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\nExpect: 100-continue\r\n\r\n");
      String interim = raw.readHead();
      assertEquals(100, RawHttp.status(interim), interim);
      raw.write(body);
      String response = raw.readResponse();
      assertEquals(201, RawHttp.status(response), response);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"\\u0000", "\\u0007", "\\u001b[31m", "\\t", "\\n", "\\r", "\\u007f", "\\u0085", "\\u009b",
    "\\u202e", "\\u202a", "\\u2066", "\\u2069", "\\u200e", "\\u200f", "\\u061c", "\\u200b", "\\u2060", "\\ufeff",
    "\\u00ad", "\\u2028", "\\u2029", "\\udb40\\udc41", "\\ufffe", "\\ufdd0",
    "\\ud800", "\\udfff", "\\udc00\\ud800", "\\ud83d"})
  @DisplayName("Names with control, format, invisible characters or a lone surrogate are 400 invalid-user")
  void refusedNames(String escaped) {
    assertProblem(createNamed("\"Mallory" + escaped + "x\""), 400, "invalid-user");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"Zoë", "José Ñúñez", "李小龍", "محمد", "👩‍💻 Ada", "🏳️‍🌈", "नमस्ते", "می‌خواهم", "O'Brien-Smith"})
  @DisplayName("Real names in any script, emoji sequences with joiners included, are accepted as sent")
  void acceptedNames(String name) {
    HttpResponse<byte[]> response = createUser("application/json",
      new JsonObject().put("name", name).encode().getBytes(StandardCharsets.UTF_8));
    assertEquals(201, response.statusCode(), () -> new String(response.body(), StandardCharsets.UTF_8));
    assertEquals(name, TestServer.json(response).getString("name"));
  }

  @Test
  @DisplayName("The 200-character limit counts UTF-16 units, as both databases can store them: 100 emoji fit, 101 do not")
  void lengthInUtf16Units() {
    String emoji = "😀".repeat(100);
    assertEquals(201, createUser("application/json",
      new JsonObject().put("name", emoji).encode().getBytes(StandardCharsets.UTF_8)).statusCode());
    assertProblem(createUser("application/json",
      new JsonObject().put("name", emoji + "😀").encode().getBytes(StandardCharsets.UTF_8)), 400, "invalid-user");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"truncated", "not-utf8", "array", "string", "number-name", "empty", "deep"})
  @DisplayName("A body that is not a JSON object with a name is 400 invalid-user, in our words")
  void badBodies(String kind) {
    byte[] body = switch (kind) {
      case "truncated" -> "{\"name\":".getBytes(StandardCharsets.UTF_8);
      case "not-utf8" -> new byte[] {'{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
      case "array" -> "[\"Ada\"]".getBytes(StandardCharsets.UTF_8);
      case "string" -> "\"Ada\"".getBytes(StandardCharsets.UTF_8);
      case "number-name" -> "{\"name\":12}".getBytes(StandardCharsets.UTF_8);
      case "empty" -> new byte[0];
      case "deep" -> "[".repeat(2000).getBytes(StandardCharsets.UTF_8);
      default -> throw new IllegalArgumentException(kind);
    };
    assertProblem(createUser("application/json", body), 400, "invalid-user");
  }

  @Test
  @DisplayName("Multipart errors are told in our words: a malformed body, an oversized text field")
  void multipartDetails() {
    long user = server.createUser("multipart-details");
    byte[] field = new Multipart().field("note", "n".repeat(200_000))
      .file("avatar", "a.png", "image/png", Bodies.png(4096, 1)).build();
    HttpResponse<byte[]> oversized = server.send(server.as(user, "/users/" + user + "/avatar")
      .header("Content-Type", Multipart.CONTENT_TYPE).POST(HttpRequest.BodyPublishers.ofByteArray(field)));
    assertProblem(oversized, 400, "bad-request");

    byte[] broken = ("--" + Multipart.BOUNDARY + "\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a\"\r\n"
      + "Content-Type: image/png\r\n").getBytes(StandardCharsets.UTF_8);
    HttpResponse<byte[]> malformed = server.send(server.as(user, "/users/" + user + "/avatar")
      .header("Content-Type", Multipart.CONTENT_TYPE).POST(HttpRequest.BodyPublishers.ofByteArray(broken)));
    assertTrue(malformed.statusCode() == 400, () -> new String(malformed.body(), StandardCharsets.UTF_8));
    AuthTest.assertOwnWords(TestServer.json(malformed).getString("detail"));
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"GET /%zz", "PUT /%zz", "GET /users/%zz/avatar", "DELETE /users/1/avatar%", "GET /%", "GET /users/1/avatar/info%2"})
  @DisplayName("A path with a malformed percent-encoding is 400, not 500")
  void malformedPercentEncoding(String requestLine) {
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(requestLine + " HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
      String response = raw.readResponse();
      assertEquals(400, RawHttp.status(response), response);
      assertTrue(response.contains("application/problem+json"), response);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"", "multipart/form-data"})
  @DisplayName("A multipart upload without a usable boundary is 400 in our words, not 500")
  void multipartWithoutBoundary(String contentType) {
    long user = server.createUser("no-boundary");
    HttpResponse<byte[]> response = server.send(server.as(user, "/users/" + user + "/avatar")
      .header("Content-Type", contentType)
      .POST(HttpRequest.BodyPublishers.ofByteArray(new Multipart().file("avatar", "a.png", "image/png", Bodies.png(4096, 2)).build())));
    assertProblem(response, 400, "bad-request");
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cl-and-te", "two-lengths", "length-not-a-number", "bad-version", "bad-header-name",
    "long-header", "long-uri"})
  @DisplayName("A request the decoder refuses is answered in our words, not Netty's")
  void framingDetails(String kind) {
    String head = switch (kind) {
      case "cl-and-te" -> "POST /users HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
      case "two-lengths" -> "POST /users HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd";
      case "length-not-a-number" -> "POST /users HTTP/1.1\r\nHost: t\r\nContent-Length: 4x\r\n\r\nabcd";
      case "bad-version" -> "GET / HTTP/9.Z\r\nHost: t\r\n\r\n";
      case "bad-header-name" -> "GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n";
      case "long-header" -> "GET / HTTP/1.1\r\nHost: t\r\nX-Long: " + "x".repeat(20_000) + "\r\n\r\n";
      case "long-uri" -> "GET /" + "u".repeat(20_000) + " HTTP/1.1\r\nHost: t\r\n\r\n";
      default -> throw new IllegalArgumentException(kind);
    };
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(head);
      String response = raw.readResponse();
      int status = RawHttp.status(response);
      assertTrue(status == 400 || status == 431, response);
      String body = response.substring(response.indexOf("\r\n\r\n") + 4);
      JsonObject problem = new JsonObject(body);
      AuthTest.assertOwnWords(problem.getString("detail"));
      String detail = problem.getString("detail");
      // Netty quotes the offending bytes back ("… but received a 'Z' (0x5a)", "…: 4x"): not here.
      for (String quoted : List.of("x".repeat(50), "[4, 5]", "4x", "0x5a", "'Z'", "Bad Header", "prohibited")) {
        assertTrue(!detail.contains(quoted), () -> "'" + quoted + "' quoted back: " + detail);
      }
    }
  }
}
