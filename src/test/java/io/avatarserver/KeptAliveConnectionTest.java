package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.Multipart;
import io.avatarserver.support.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One kept-alive HTTP/1.1 connection, one request after another (no pipelining: each is sent once the
 * one before is answered), uploads and every other kind of request in turn. Each must be answered.
 *
 * <p>Found in a full-suite run: a {@code POST /users} that reused the connection of a finished upload
 * got no answer until the idle timeout closed the connection. An upload pauses its connection while
 * its file write is behind; when it paused while taking its body's last chunk, that pause outlived the
 * request, and the next request stayed unread in Vert.x's queue for good. Here every upload is
 * written with its head in one go and with no share of the coalescing budget (as under load, when
 * other uploads hold it all): its last two chunks arrive in one socket read, so the last one always
 * comes while the write before it is in flight and pauses the upload. An upload refused with the
 * connection kept open (before its empty body was read, or after its whole body was) must not leave
 * the connection paused either.
 */
@DisplayName("On a kept-alive connection, every request after an upload is answered, and every upload after another request")
class KeptAliveConnectionTest extends ServerTestBase {

  /** Larger than one 8 KiB body chunk, smaller than one 16 KiB socket read once reads have grown. */
  private static final int BODY = 12 * 1024;

  @BeforeAll
  static void start(Vertx vertx) {
    // One byte: no upload ever gets a coalescing buffer, so a chunk arriving during a write pauses it.
    startServer(vertx, new JsonObject().put("upload", new JsonObject().put("writeBudgetBytes", 1)));
  }

  /** What is sent on the connection. */
  enum Kind {
    /** PUT with a Content-Length: the last body chunk carries bytes. */
    PUT,
    PUT_CHUNKED,
    MULTIPART,
    /** PUT refused on its Content-Type (415) before its (empty) body is read: the connection stays open. */
    REFUSED_PUT,
    /** PUT for a user that does not exist (404 from the database), without a body: the connection stays open. */
    UNKNOWN_USER_PUT,
    /** PUT of a PNG without its end, refused (422) once the whole body is read: the connection stays open. */
    TRUNCATED_PUT,
    USERS,
    GET,
    HEAD,
    INFO,
    DELETE
  }

  /** A user id no test creates (the token for it is valid: the database says there is no such user). */
  private static final long NO_SUCH_USER = 999_999_999L;
  /** The IEND chunk that ends every PNG: length, type, CRC. */
  private static final int IEND_BYTES = 12;

  private static final List<Kind> UPLOADS = List.of(Kind.PUT, Kind.PUT_CHUNKED, Kind.MULTIPART, Kind.REFUSED_PUT,
    Kind.UNKNOWN_USER_PUT, Kind.TRUNCATED_PUT);

  static Stream<Arguments> pairs() {
    List<Arguments> pairs = new ArrayList<>();
    for (Kind upload : UPLOADS) {
      for (Kind other : Kind.values()) {
        pairs.add(Arguments.of(upload, other));
      }
    }
    return pairs.stream();
  }

  @ParameterizedTest(name = "{0}, {1}, {0}, {1} on one connection")
  @MethodSource("pairs")
  void everyRequestAnswered(Kind upload, Kind other) {
    Exchange exchange = new Exchange(server.createUser("kept-alive-" + upload + "-" + other));
    try (RawHttp client = new RawHttp(server.port())) {
      int step = 0;
      for (Kind kind : List.of(upload, other, upload, other)) {
        exchange.run(client, kind, ++step);
      }
    }
  }

  /** One user's requests, and what the server holds for that user (an avatar or not). */
  private static final class Exchange {
    private final long user;
    private byte[] stored;

    Exchange(long user) {
      this.user = user;
    }

    void run(RawHttp client, Kind kind, int step) {
      String what = "request " + step + " (" + kind + ")";
      switch (kind) {
        case PUT -> {
          byte[] image = Bodies.png(BODY, step);
          upload(client, what, join(server.putHead(user, "image/png", image.length), image), image);
        }
        case PUT_CHUNKED -> {
          byte[] image = Bodies.png(BODY, step);
          ByteArrayOutputStream request = new ByteArrayOutputStream();
          request.writeBytes(latin1(server.putHead(user, "image/png", "Transfer-Encoding: chunked", "")));
          for (int offset = 0; offset < image.length; offset += 5000) {
            int length = Math.min(5000, image.length - offset);
            request.writeBytes(latin1(Integer.toHexString(length) + "\r\n"));
            request.write(image, offset, length);
            request.writeBytes(latin1("\r\n"));
          }
          request.writeBytes(latin1("0\r\n\r\n"));
          upload(client, what, request.toByteArray(), image);
        }
        case MULTIPART -> {
          byte[] image = Bodies.png(BODY, step);
          byte[] body = new Multipart().file("avatar", "a.png", "image/png", image).build();
          String head = "POST /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\n" + server.authHeader(user)
            + "Content-Type: " + Multipart.CONTENT_TYPE + "\r\nContent-Length: " + body.length + "\r\n\r\n";
          upload(client, what, join(head, body), image);
        }
        case REFUSED_PUT -> {
          client.write(server.putHead(user, "text/plain", 0));
          assertEquals(415, RawHttp.status(client.readResponse()), what);
        }
        case UNKNOWN_USER_PUT -> {
          client.write(server.putHead(NO_SUCH_USER, "image/png", 0));
          assertEquals(404, RawHttp.status(client.readResponse()), what);
        }
        case TRUNCATED_PUT -> {
          byte[] image = Bodies.png(BODY, step);
          byte[] truncated = java.util.Arrays.copyOf(image, image.length - IEND_BYTES);
          client.write(join(server.putHead(user, "image/png", truncated.length), truncated));
          String response = client.readResponse();
          assertEquals(422, RawHttp.status(response), () -> what + ": " + response);
        }
        case USERS -> {
          String json = "{\"name\": \"next-" + step + "\"}";
          client.write("POST /users HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + server.adminToken()
            + "\r\nContent-Type: application/json\r\nContent-Length: " + json.length() + "\r\n\r\n" + json);
          assertEquals(201, RawHttp.status(client.readResponse()), what);
        }
        case GET -> {
          client.write("GET /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\n\r\n");
          String head = client.readHead();
          byte[] body = client.readBody(RawHttp.contentLength(head));
          assertEquals(stored == null ? 404 : 200, RawHttp.status(head), what);
          if (stored != null) {
            assertArrayEquals(stored, body, what);
          }
        }
        case HEAD -> {
          client.write("HEAD /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\n\r\n");
          assertEquals(stored == null ? 404 : 200, RawHttp.status(client.readHead()), what);
        }
        case INFO -> {
          client.write("GET /users/" + user + "/avatar/info HTTP/1.1\r\nHost: t\r\n\r\n");
          assertEquals(stored == null ? 404 : 200, RawHttp.status(client.readResponse()), what);
        }
        case DELETE -> {
          client.write("DELETE /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\n" + server.authHeader(user) + "\r\n");
          assertEquals(stored == null ? 404 : 204, RawHttp.status(client.readResponse()), what);
          stored = null;
        }
      }
    }

    /** Head and body in one write: the server takes them in as few socket reads as it can. */
    private void upload(RawHttp client, String what, byte[] request, byte[] image) {
      client.write(request);
      String response = client.readResponse();
      assertEquals(stored == null ? 201 : 200, RawHttp.status(response), () -> what + ": " + response);
      stored = Images.stored(image);
    }
  }

  private static byte[] join(String head, byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(latin1(head));
    out.writeBytes(body);
    return out.toByteArray();
  }

  private static byte[] latin1(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }
}
