package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Jwts;
import io.avatarserver.support.Multipart;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A deterministic fuzz of whole requests over raw sockets against one server: random methods,
 * paths, headers (Content-Type, Content-Length, Transfer-Encoding, Expect, Authorization, odd
 * bytes), tokens with random claims of random types (signed correctly), and bodies made of truncated
 * or mutated fixtures. Every answer must come (no hang), be below 500, and be a problem+json for 4xx;
 * no temporary file may be left once the requests are answered (checked after the test).
 */
@DisplayName("Fuzz: a few hundred hostile requests, every answer a 2xx/3xx or a 4xx problem, never a 500 or a hang")
class FuzzTest extends ServerTestBase {

  private static final long SEED = 0x5EED_16L;
  private static final int REQUESTS = 600;
  private static final String[] FIXTURES = {"images/avatar-128.png", "images/avatar-256.jpg", "images/avatar-64.gif",
    "images/avatar-200.webp", "images/avatar-200.png", "hostile/html-as-png.png", "hostile/polyglot-gif-html.gif",
    "hostile/random-bytes.bin", "hostile/script.svg", "hostile/truncated.jpg"};
  private static final String[] CONTENT_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml",
    "text/html", "application/json", "application/json; charset=utf-8", Multipart.CONTENT_TYPE,
    "multipart/form-data", "multipart/form-data; boundary=", "image/png; charset=\"\u00ff\"", "", ";;;", "IMAGE/PNG",
    "application/octet-stream", "image/*"};

  private static final List<Long> users = new ArrayList<>();

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
    for (int i = 0; i < 4; i++) {
      users.add(server.createUser("fuzz-" + i));
    }
  }

  private record Outcome(int status, String head, byte[] body) {
  }

  @Test
  @DisplayName("Seeded requests: statuses below 500, problem bodies for 4xx, answers within the socket timeout")
  void fuzz() throws Exception {
    Random random = new Random(SEED);
    List<String> failures = new ArrayList<>();
    int[] byClass = new int[6];
    for (int n = 0; n < REQUESTS; n++) {
      Request request = request(random, n);
      Outcome outcome;
      try {
        outcome = send(request);
      } catch (SocketTimeoutException hang) {
        failures.add("#" + n + " no answer within the timeout: " + request.describe());
        continue;
      }
      if (outcome == null) {
        if (!request.mayGoUnanswered) {
          failures.add("#" + n + " connection closed without an answer: " + request.describe());
        }
        continue;
      }
      byClass[outcome.status / 100]++;
      String problem = check(request, outcome);
      if (problem != null) {
        failures.add("#" + n + " " + problem + ": " + request.describe() + "\n" + outcome.head
          + new String(outcome.body, StandardCharsets.UTF_8));
      }
    }
    System.out.println("fuzz: answers by status class (0xx-5xx) " + Arrays.toString(byClass));
    assertEquals(List.of(), failures, () -> String.join("\n\n", failures));
    // The fuzz reaches past the checks: some uploads were stored, many refused.
    assertTrue(byClass[2] > 0 && byClass[4] > 0, () -> Arrays.toString(byClass));
    assertEquals(200, server.get("/health").statusCode());
  }

  private static String check(Request request, Outcome outcome) {
    if (outcome.status >= 500) {
      return "status " + outcome.status;
    }
    if (outcome.status < 400 || request.method.equals("HEAD")) {
      return null;
    }
    if (!header(outcome.head, "content-type").equals("application/problem+json")) {
      return "a " + outcome.status + " without problem+json";
    }
    try {
      JsonObject problem = new JsonObject(new String(outcome.body, StandardCharsets.UTF_8));
      if (problem.getInteger("status") != outcome.status || !problem.getString("type").startsWith("urn:problem:avatar-server:")
        || problem.getString("title") == null || problem.getString("detail") == null) {
        return "an incomplete problem";
      }
      AuthTest.assertOwnWords(problem.getString("detail"));
    } catch (RuntimeException | AssertionError e) {
      return "a bad problem body (" + e.getMessage() + ")";
    }
    return null;
  }

  // ---- building requests ----

  private static final class Request {
    String method;
    String target;
    final List<String> headers = new ArrayList<>();
    byte[] body = new byte[0];
    /** How the body is framed: a (possibly wrong) Content-Length, chunked, or none. */
    String framing;
    boolean expectContinue;
    /** A body shorter than its Content-Length: the client stops sending; closing without an answer is fine. */
    boolean mayGoUnanswered;

    String describe() {
      return method + " " + target + " " + headers.stream().map(h -> h.length() > 120 ? h.substring(0, 120) + "…" : h).toList()
        + " body " + body.length + " bytes, " + framing;
    }
  }

  private static <T> T pick(Random random, T[] values) {
    return values[random.nextInt(values.length)];
  }

  private static Request request(Random random, int n) {
    Request r = new Request();
    long user = users.get(random.nextInt(users.size()));
    r.method = pick(random, new String[] {"PUT", "PUT", "PUT", "POST", "POST", "GET", "HEAD", "DELETE", "OPTIONS", "PATCH",
      "TRACE", "put", "BREW", "G\u00e9T"});
    r.target = pick(random, new String[] {
      "/users/" + user + "/avatar", "/users/" + user + "/avatar", "/users/" + user + "/avatar", "/users",
      "/users/" + user + "/avatar/info", "/users/0/avatar", "/users/-1/avatar", "/users/99999999999999999999/avatar",
      "/users/1e3/avatar", "/users/%31/avatar", "/users/" + user + "/avatar?x=%00", "/users/" + user + "//avatar",
      "/users/" + user + "/avatar/../avatar", "/../../etc/passwd", "/health", "/health/ready", "/%zz", "/openapi.json",
      "/users/" + user + "/avatar#frag", "*", "/" + "a".repeat(3000), "/users/\u00e9/avatar"});
    r.body = body(random, r);
    r.headers.add("Host: fuzz");
    if (random.nextInt(10) < 8) {
      r.headers.add("Content-Type: " + pick(random, CONTENT_TYPES));
    }
    r.headers.add(authorization(random, user));
    if (random.nextInt(8) == 0) {
      r.headers.add("Expect: " + pick(random, new String[] {"100-continue", "100-continue", "200-ok", ""}));
      r.expectContinue = r.headers.get(r.headers.size() - 1).equals("Expect: 100-continue");
    }
    framing(random, r);
    if (random.nextInt(10) == 0) {
      r.headers.add(pick(random, new String[] {"X-Odd: \u0001\u007f", "X-Obs-Fold: a\r\n  b", "Bad Name: x", "X-Empty:",
        ": no-name", "X-Latin: caf\u00e9", "X-Long: " + "L".repeat(9000), "Connection: keep-alive, Upgrade",
        "Upgrade: h2c", "Content-Encoding: gzip", "X-Null: \u0000"}));
    }
    return r;
  }

  private static byte[] body(Random random, Request r) {
    int kind = random.nextInt(10);
    if (kind == 0 || r.method.equals("GET") || r.method.equals("HEAD") || r.method.equals("DELETE")) {
      return random.nextInt(4) == 0 ? randomBytes(random, random.nextInt(64)) : new byte[0];
    }
    if (r.target.equals("/users")) {
      return pick(random, new String[] {"{\"name\":\"fuzz\"}", "{\"name\":\"\\ud800\"}", "{\"name\":\"a\\u0000b\"}", "{\"name\":",
        "[]", "{\"name\":" + random.nextLong() + "}", "\u00ff\u00fe", "{\"name\":\"" + "n".repeat(5000) + "\"}"})
        .getBytes(StandardCharsets.ISO_8859_1);
    }
    byte[] image = Bodies.fixture(pick(random, FIXTURES));
    if (kind < 4) {
      image = mutate(random, image);
    }
    if (r.method.equals("POST") && random.nextInt(3) > 0) {
      Multipart form = new Multipart();
      if (random.nextInt(5) == 0) {
        form.field("note", "x".repeat(random.nextInt(20_000)));
      }
      form.file(random.nextInt(6) == 0 ? "other" : "avatar", "f", pick(random, CONTENT_TYPES), image);
      byte[] built = form.build();
      return random.nextInt(5) == 0 ? Arrays.copyOf(built, random.nextInt(built.length)) : built;
    }
    return image;
  }

  private static byte[] mutate(Random random, byte[] image) {
    byte[] out = image.clone();
    switch (random.nextInt(4)) {
      case 0 -> out = Arrays.copyOf(out, random.nextInt(out.length));
      case 1 -> {
        for (int i = 0; i < 1 + random.nextInt(16); i++) {
          out[random.nextInt(out.length)] = (byte) random.nextInt(256);
        }
      }
      case 2 -> {
        // Garbage somewhere in the first kilobyte, where the headers and chunk lengths are.
        int at = random.nextInt(Math.min(1024, out.length));
        byte[] junk = randomBytes(random, 1 + random.nextInt(32));
        System.arraycopy(junk, 0, out, at, Math.min(junk.length, out.length - at));
      }
      default -> {
        byte[] tail = randomBytes(random, 1 + random.nextInt(256));
        byte[] longer = Arrays.copyOf(out, out.length + tail.length);
        System.arraycopy(tail, 0, longer, out.length, tail.length);
        out = longer;
      }
    }
    return out;
  }

  private static byte[] randomBytes(Random random, int n) {
    byte[] bytes = new byte[n];
    random.nextBytes(bytes);
    return bytes;
  }

  private static String authorization(Random random, long user) {
    return switch (random.nextInt(8)) {
      case 0, 1, 2 -> "Authorization: Bearer " + server.tokenFor(user);
      case 3 -> "Authorization: Bearer " + server.adminToken();
      case 4, 5 -> "Authorization: Bearer " + randomToken(random, user);
      case 6 -> "Authorization: " + pick(random, new String[] {"Bearer", "Bearer ", "Basic Zm9vOmJhcg==", "bearer x.y.z",
        "Bearer " + "A".repeat(5000), "Bearer a.b", "Bearer ..", "Bearer \u00e9.\u00e9.\u00e9"});
      default -> "X-No-Authorization: 1";
    };
  }

  /** Claims of random names and types, under a random header, signed with the server's secret. */
  private static String randomToken(Random random, long user) {
    long now = System.currentTimeMillis() / 1000;
    JsonObject claims = Jwts.claims(Long.toString(user), 600);
    for (String claim : new String[] {"sub", "exp", "nbf", "iat", "iss", "aud", "roles"}) {
      if (random.nextInt(3) == 0) {
        claims.put(claim, randomValue(random, now, user));
      }
    }
    JsonObject header = new JsonObject().put("alg", "HS256");
    if (random.nextInt(4) == 0) {
      header.put(pick(random, new String[] {"alg", "typ", "crit", "kid", "b64"}), randomValue(random, now, user));
    }
    return Jwts.hs256(header, claims, TestServer.SECRET);
  }

  private static Object randomValue(Random random, long now, long user) {
    return switch (random.nextInt(12)) {
      case 0 -> null;
      case 1 -> random.nextBoolean();
      case 2 -> random.nextLong();
      case 3 -> now + random.nextInt(7200) - 3600;
      case 4 -> random.nextDouble() * 1e12;
      case 5 -> Long.toString(user);
      case 6 -> "admin";
      case 7 -> new JsonArray().add("admin").add(random.nextInt());
      case 8 -> new JsonArray().add("admin");
      case 9 -> new JsonObject().put("k", random.nextInt());
      case 10 -> "avatar-server";
      default -> new String(randomBytes(random, 8), StandardCharsets.ISO_8859_1);
    };
  }

  private static void framing(Random random, Request r) {
    int length = r.body.length;
    switch (random.nextInt(12)) {
      case 0 -> {
        r.framing = "chunked";
        r.headers.add("Transfer-Encoding: chunked");
      }
      case 1 -> {
        r.framing = "none";
        if (length > 0) {
          r.body = new byte[0];
        }
      }
      case 2 -> {
        r.framing = "length and chunked";
        r.headers.add("Content-Length: " + length);
        r.headers.add("Transfer-Encoding: chunked");
      }
      case 3 -> {
        r.framing = "odd length";
        r.headers.add("Content-Length: " + pick(random, new String[] {"-1", "abc", "1e3", length + ", " + length,
          "99999999999999999999999", " " + length + " ", "0x10"}));
      }
      case 4 -> {
        r.framing = "short body";
        r.mayGoUnanswered = true;
        r.headers.add("Content-Length: " + (length + 1 + random.nextInt(100_000)));
      }
      case 5 -> {
        r.framing = "odd transfer-encoding";
        r.headers.add("Transfer-Encoding: " + pick(random, new String[] {"gzip", "chunked, chunked", "identity", "chunked\u000b",
          "gzip, chunked"}));
        r.mayGoUnanswered = true;
      }
      default -> {
        r.framing = "length";
        r.headers.add("Content-Length: " + length);
      }
    }
  }

  // ---- sending and reading ----

  private static Outcome send(Request r) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(15_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      StringBuilder head = new StringBuilder(r.method + " " + r.target + " HTTP/1.1\r\n");
      for (String header : r.headers) {
        head.append(header).append("\r\n");
      }
      head.append("\r\n");
      try {
        out.write(head.toString().getBytes(r.target.contains("\u00e9") || r.method.contains("\u00e9")
          ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1));
        out.flush();
        if (r.expectContinue) {
          // As curl does: wait a moment for 100 Continue (or a final answer), then send anyway.
          socket.setSoTimeout(1000);
          try {
            Outcome early = read(in, r);
            if (early == null || early.status != 100) {
              return early;
            }
          } catch (SocketTimeoutException noInterim) {
            // Send the body anyway.
          }
          socket.setSoTimeout(15_000);
        }
        writeBody(out, r);
        if (r.mayGoUnanswered) {
          socket.shutdownOutput();
        }
      } catch (IOException refusedMidway) {
        // The server answered and closed before the body was sent: read what it said.
      }
      return read(in, r);
    }
  }

  private static void writeBody(OutputStream out, Request r) throws IOException {
    if (r.framing.equals("chunked") || r.framing.equals("length and chunked")) {
      for (int at = 0; at < r.body.length; at += 4096) {
        int n = Math.min(4096, r.body.length - at);
        out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(r.body, at, n);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    } else {
      out.write(r.body);
    }
    out.flush();
  }

  /** One response (skipping nothing: a 100 is returned as such), or null when the server closed first. */
  private static Outcome read(InputStream in, Request r) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    try {
      int matched = 0;
      while (matched < 4) {
        int b = in.read();
        if (b < 0) {
          return null;
        }
        head.write(b);
        matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
    } catch (SocketTimeoutException timeout) {
      throw timeout;
    } catch (IOException reset) {
      return head.size() == 0 ? null : fail("connection reset inside a response head: " + head);
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    int status = Integer.parseInt(text.substring(9, 12));
    if (status == 100 || status == 204 || status == 304 || r.method.equals("HEAD")) {
      return new Outcome(status, text, new byte[0]);
    }
    String length = header(text, "content-length");
    byte[] body;
    if (!length.isEmpty()) {
      body = in.readNBytes(Integer.parseInt(length));
    } else if (header(text, "transfer-encoding").equalsIgnoreCase("chunked")) {
      body = readChunked(in);
    } else {
      body = in.readAllBytes();
    }
    return new Outcome(status, text, body);
  }

  private static byte[] readChunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      StringBuilder line = new StringBuilder();
      for (int b = in.read(); b != '\n'; b = in.read()) {
        if (b < 0) {
          return body.toByteArray();
        }
        line.append((char) b);
      }
      int size = Integer.parseInt(line.toString().trim().split(";")[0], 16);
      if (size == 0) {
        in.readNBytes(2);
        return body.toByteArray();
      }
      body.write(in.readNBytes(size));
      in.readNBytes(2);
    }
  }

  private static String header(String head, String name) {
    for (String line : head.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
        return line.substring(colon + 1).trim();
      }
    }
    return "";
  }
}
