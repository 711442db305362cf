package io.avatarserver;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;

@DisplayName("http.page: false turns the upload page off; the API and its document stay")
class PageSwitchTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx, new JsonObject().put("http", new JsonObject().put("page", false)));
  }

  @Test
  void pageOff() {
    assertRefused(server.get("/"), 404, "not-found");
    assertRefused(server.get("/page/app.js"), 404, "not-found");
    assertEquals(200, server.get("/openapi.json").statusCode());
    assertEquals(200, server.get("/health/live").statusCode());
  }
}
