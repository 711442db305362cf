package io.avatarserver.http;

import io.avatarserver.auth.Tokens;
import io.avatarserver.config.ServerConfig;
import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.AvatarService;
import io.avatarserver.limits.RateLimiter;
import io.avatarserver.limits.UploadSlots;
import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.upload.AvatarUploads;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/** Every route of the API in one table, and the one failure handler behind them. */
public final class ApiRouter {

  /** Largest JSON body POST /users reads. */
  private static final long USER_BODY_LIMIT = 4096;

  private ApiRouter() {
  }

  /** What the routes serve from, shared by every event loop's router. */
  public record Services(ServerConfig config, AvatarService avatars, AvatarRepository repository, AvatarStorage storage,
                         AvatarUploads uploads, Tokens tokens, RateLimiter byAddress, RateLimiter byUser,
                         UploadSlots slots, java.util.function.BooleanSupplier draining,
                         io.micrometer.prometheusmetrics.PrometheusMeterRegistry metrics) {
  }

  public static Router create(Vertx vertx, Services services) {
    ServerConfig config = services.config();
    UploadHandler upload = new UploadHandler(services.avatars(), services.uploads(), config.upload().multipartOverhead());
    AvatarHandler avatars = new AvatarHandler(services.avatars());
    UserHandler users = new UserHandler(services.avatars());
    HealthHandler health = new HealthHandler(services.repository(), services.storage(),
      config.storage().minFreeBytes(), services.draining());
    WriteGuards guards = new WriteGuards(services.tokens(), services.byAddress(), services.byUser(), services.slots());
    RequestChecks checks = new RequestChecks(config.http().maxHeaders());
    ProblemResponder problems = new ProblemResponder(config.http().lingerMillis());

    Router router = Router.router(vertx);
    router.route().handler(checks::check);
    router.get("/health").handler(health::health);
    router.get("/health/live").handler(health::live);
    router.get("/metrics").handler(io.vertx.micrometer.PrometheusScrapingHandler.create(services.metrics()));
    router.get("/health/ready").handler(health::ready);
    // The only BodyHandler in the server: a few KiB of JSON, never on an upload route. Vert.x Web
    // requires it first on its route, so this small body is read before the token is checked.
    router.post("/users").handler(BodyHandler.create(false).setBodyLimit(USER_BODY_LIMIT))
      .handler(guards::addressRate).handler(guards::authenticate).handler(guards::adminOnly).handler(users::create);
    router.put("/users/:id/avatar").handler(guards::addressRate).handler(guards::authenticate)
      .handler(guards::ownerOnly).handler(guards::uploadSlot).handler(upload::put);
    router.post("/users/:id/avatar").handler(guards::addressRate).handler(guards::authenticate)
      .handler(guards::ownerOnly).handler(guards::uploadSlot).handler(upload::postMultipart);
    router.delete("/users/:id/avatar").handler(guards::addressRate).handler(guards::authenticate)
      .handler(guards::ownerOnly).handler(avatars::delete);
    router.get("/users/:id/avatar").handler(avatars::get);
    router.head("/users/:id/avatar").handler(avatars::get);
    router.get("/users/:id/avatar/info").handler(avatars::info);
    PageRoutes.mount(router, config.http().page());

    router.route().failureHandler(problems);
    for (int status : new int[] {400, 404, 405, 413, 415, 500}) {
      router.errorHandler(status, problems);
    }
    return router;
  }

}
