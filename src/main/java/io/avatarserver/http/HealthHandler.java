package io.avatarserver.http;

import io.avatarserver.db.AvatarRepository;
import io.avatarserver.storage.AvatarStorage;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /health}: 200 when the database answers and the storage accepts a write, else 503. */
final class HealthHandler {

  private final AvatarRepository repository;
  private final AvatarStorage storage;

  HealthHandler(AvatarRepository repository, AvatarStorage storage) {
    this.repository = repository;
    this.storage = storage;
  }

  void health(RoutingContext ctx) {
    Future<Void> database = repository.ping();
    Future<Void> disk = storage.checkWritable();
    Future.join(database, disk).onComplete(ignored -> {
      boolean up = database.succeeded() && disk.succeeded();
      JsonObject body = new JsonObject()
        .put("status", up ? "UP" : "DOWN")
        .put("checks", new JsonObject()
          .put("database", state(database))
          .put("storage", state(disk)));
      ctx.response()
        .setStatusCode(up ? 200 : 503)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(body.toBuffer());
    });
  }

  private static String state(Future<Void> check) {
    return check.succeeded() ? "UP" : "DOWN: " + check.cause().getMessage();
  }
}
