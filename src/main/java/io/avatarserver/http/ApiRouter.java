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

/** Every route of the API in one table, and the one failure handler behind them. */
public final class ApiRouter {

  /** Largest JSON body POST /users reads. */
  private static final int USER_BODY_LIMIT = 4096;

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
    UserHandler users = new UserHandler(services.avatars(), USER_BODY_LIMIT);
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
    // No BodyHandler anywhere: UserHandler reads its few KiB of JSON itself, after the token.
    router.post("/users").handler(guards::addressRate).handler(guards::authenticate)
      .handler(guards::adminOnly).handler(users::create);
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
