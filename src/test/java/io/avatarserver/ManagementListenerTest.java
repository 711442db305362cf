package io.avatarserver;

import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
@DisplayName("/metrics and /health: on the API port by default, on a management port of their own when set, and a metrics token when set")
class ManagementListenerTest {

  private static final String TOKEN = "metrics-token-0123456789abcdef";

  private static HttpResponse<byte[]> get(TestServer server, int port, String path, String authorization) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET();
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return server.send(request);
  }

  @Test
  @DisplayName("By default both are on the API port, /metrics without a token")
  void defaultOnApiPort(Vertx vertx) {
    try (TestServer server = TestServer.start(vertx)) {
      assertEquals(server.port(), server.server().managementPort());
      assertEquals(200, get(server, server.port(), "/metrics", null).statusCode());
      assertEquals(200, get(server, server.port(), "/health", null).statusCode());
    }
  }

  @Test
  @DisplayName("With management.port, metrics and health answer there only; the API port answers 404 for them")
  void separatePort(Vertx vertx) {
    JsonObject overrides = new JsonObject().put("management", new JsonObject().put("port", -1).put("host", "127.0.0.1"));
    try (TestServer server = TestServer.start(vertx, overrides)) {
      int api = server.port();
      int management = server.server().managementPort();
      assertNotEquals(api, management);
      for (String path : List.of("/metrics", "/health", "/health/live", "/health/ready")) {
        HttpResponse<byte[]> onApi = get(server, api, path, null);
        assertEquals(404, onApi.statusCode(), path + " on the API port");
        assertTrue(onApi.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
        assertEquals(200, get(server, management, path, null).statusCode(), path + " on the management port");
      }
      HttpResponse<byte[]> metrics = get(server, management, "/metrics", null);
      assertTrue(new String(metrics.body()).contains("avatar_uploads_in_flight"), "Prometheus text");
      // The API stays on the API port only.
      assertEquals(404, get(server, management, "/users/1/avatar/info", null).statusCode());
      assertEquals(404, get(server, management, "/openapi.json", null).statusCode());
      assertEquals(200, get(server, api, "/openapi.json", null).statusCode());
    }
  }

  @Test
  @DisplayName("With management.metricsToken, /metrics needs it (401 without or with another); health does not")
  void metricsToken(Vertx vertx) {
    for (int port : new int[] {0, -1}) {
      JsonObject overrides = new JsonObject().put("management", new JsonObject().put("port", port).put("metricsToken", TOKEN));
      try (TestServer server = TestServer.start(vertx, overrides)) {
        int management = server.server().managementPort();
        HttpResponse<byte[]> none = get(server, management, "/metrics", null);
        assertEquals(401, none.statusCode());
        assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
        assertTrue(new String(none.body()).contains("urn:problem:avatar-server:unauthorized"), new String(none.body()));
        assertTrue(!new String(none.body()).contains("jvm_"), "no metrics in the refusal");
        assertEquals(401, get(server, management, "/metrics", "Bearer " + TOKEN + "x").statusCode());
        assertEquals(401, get(server, management, "/metrics", "Bearer " + server.adminToken()).statusCode());
        assertEquals(401, get(server, management, "/metrics", TOKEN).statusCode());
        HttpResponse<byte[]> allowed = get(server, management, "/metrics", "Bearer " + TOKEN);
        assertEquals(200, allowed.statusCode());
        assertTrue(new String(allowed.body()).contains("avatar_uploads_in_flight"));
        assertEquals(200, get(server, management, "/health", null).statusCode());
      }
    }
  }

  @Test
  @DisplayName("A metrics token shorter than 16 characters is refused at start")
  void shortToken() {
    JsonObject json = new JsonObject().put("management", new JsonObject().put("metricsToken", "short"));
    IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
      () -> io.avatarserver.config.ServerConfig.fromJson(json));
    assertTrue(refused.getMessage().contains("management.metricsToken"), refused.getMessage());
  }
}
