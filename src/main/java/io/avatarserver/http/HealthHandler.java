package io.avatarserver.http;

import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.AvatarStorage;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Health for people and for orchestrators. {@code /health/live}: the process answers (an event loop
 * ran this handler), so it should not be restarted. {@code /health/ready}: it should get traffic: the
 * database answers, the storage accepts a write, free space is above {@code minFreeBytes}, and the
 * server is not shutting down. {@code /health}: the database answers and the storage accepts a
 * write, for people and simple monitors.
 * Each answers 200 or 503 with the state of every check.
 */
final class HealthHandler {

  private final AvatarRepository repository;
  private final AvatarStorage storage;
  private final long minFreeBytes;
  private final BooleanSupplier draining;

  HealthHandler(AvatarRepository repository, AvatarStorage storage, long minFreeBytes, BooleanSupplier draining) {
    this.repository = repository;
    this.storage = storage;
    this.minFreeBytes = minFreeBytes;
    this.draining = draining;
  }

  void live(RoutingContext ctx) {
    respond(ctx, Map.of());
  }

  void health(RoutingContext ctx) {
    respond(ctx, usable());
  }

  void ready(RoutingContext ctx) {
    Map<String, Future<?>> checks = usable();
    checks.put("freeSpace", storage.freeSpace().compose(free -> free >= minFreeBytes
      ? Future.succeededFuture()
      : Future.failedFuture(free + " bytes free, below the minimum of " + minFreeBytes)));
    checks.put("accepting", draining.getAsBoolean()
      ? Future.failedFuture("shutting down")
      : Future.succeededFuture());
    respond(ctx, checks);
  }

  /** The checks of {@code /health}, and the first two of {@code /health/ready}. */
  private Map<String, Future<?>> usable() {
    Map<String, Future<?>> checks = new LinkedHashMap<>();
    checks.put("database", repository.ping());
    checks.put("storage", storage.checkWritable());
    return checks;
  }

  private static void respond(RoutingContext ctx, Map<String, Future<?>> checks) {
    Future.join(java.util.List.copyOf(checks.values())).onComplete(ignored -> {
      boolean up = checks.values().stream().allMatch(Future::succeeded);
      JsonObject states = new JsonObject();
      checks.forEach((name, check) -> states.put(name, check.succeeded() ? "UP" : "DOWN: " + check.cause().getMessage()));
      JsonObject body = new JsonObject().put("status", up ? "UP" : "DOWN");
      if (!checks.isEmpty()) {
        body.put("checks", states);
      }
      ctx.response()
        .setStatusCode(up ? 200 : 503)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(body.toBuffer());
    });
  }
}
