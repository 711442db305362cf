package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.TcpProxy;
import io.avatarserver.support.TestS3;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a read costs the object store, counted by a relay between a server and its store: a byte range is
 * read from the store alone (a ranged GET, not the object from its first byte), and a HEAD, a 304 or an
 * unsatisfiable range reads nothing, all being decided on the row.
 */
@DisplayName("Object store traffic: a range reads the range alone; HEAD, 304 and 416 read nothing")
class ObjectStoreTrafficTest extends ServerTestBase {

  private static final int SIZE = 3_000_000;
  private static TcpProxy relay;
  private static TestServer viaRelay;
  private static byte[] body;
  private static long user;

  @BeforeAll
  static void start(Vertx vertx) {
    TestS3 store = TestS3.shared();
    String bucket = store.newBucket();
    startServer(vertx, new JsonObject().put("storage", store.settings(bucket)));
    relay = new TcpProxy(new InetSocketAddress("127.0.0.1", URI.create(store.endpoint()).getPort()));
    viaRelay = server.sibling(vertx, new JsonObject().put("storage",
      new JsonObject().put("s3Endpoint", "http://127.0.0.1:" + relay.port())));
    body = Bodies.png(SIZE, 7);
    user = server.createUser("traffic");
    assertEquals(201, server.put(user, "image/png", body).statusCode());
  }

  @AfterAll
  static void stop() {
    viaRelay.close();
    relay.close();
  }

  private static HttpResponse<byte[]> get(String method, String... headers) {
    HttpRequest.Builder request = viaRelay.request("/users/" + user + "/avatar");
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return viaRelay.send(request.method(method, HttpRequest.BodyPublishers.noBody()));
  }

  /** Bytes the store sent for {@code read}. */
  private static long sentFor(Runnable read) {
    long before = relay.bytesFromUpstream();
    read.run();
    return relay.bytesFromUpstream() - before;
  }

  @Test
  @DisplayName("The last 1,000 bytes of a 3 MB avatar: 206 with those bytes, and the store sent them and a head, not the object")
  void rangeReadsTheRangeAlone() {
    long sent = sentFor(() -> {
      HttpResponse<byte[]> tail = get("GET", "Range", "bytes=-1000");
      assertEquals(206, tail.statusCode(), () -> new String(tail.body()));
      assertArrayEquals(Arrays.copyOfRange(body, SIZE - 1000, SIZE), tail.body());
    });
    assertTrue(sent < 1000 + 2000, "the store sent " + sent + " bytes for a 1,000-byte range");
    long whole = sentFor(() -> assertArrayEquals(body, get("GET").body()));
    assertTrue(whole >= SIZE, "the relay counts what the store sends: " + whole + " bytes for the whole avatar");
  }

  @Test
  @DisplayName("A HEAD, a 304 and a 416 are decided on the row: the store sends nothing")
  void decidedOnTheRow() {
    String etag = "\"" + Bodies.sha256(body) + "\"";
    long sent = sentFor(() -> {
      HttpResponse<byte[]> head = get("HEAD");
      assertEquals(200, head.statusCode());
      assertEquals(String.valueOf(SIZE), head.headers().firstValue("Content-Length").orElse(""));
      assertEquals(304, get("GET", "If-None-Match", etag).statusCode());
      HttpResponse<byte[]> beyond = get("GET", "Range", "bytes=" + SIZE + "-");
      assertEquals(416, beyond.statusCode());
      assertEquals("bytes */" + SIZE, beyond.headers().firstValue("Content-Range").orElse(""));
    });
    assertEquals(0, sent, "bytes the store sent");
  }
}
