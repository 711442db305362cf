package io.avatarserver.http;

import io.avatarserver.config.ServerConfig;
import io.avatarserver.db.AvatarRepository;
import io.avatarserver.storage.AvatarStorage;
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

  public static Router create(Vertx vertx, ServerConfig config, AvatarRepository repository, AvatarStorage storage,
                              AvatarUploads uploads) {
    UploadHandler upload = new UploadHandler(uploads, config.upload().multipartOverhead());
    AvatarHandler avatars = new AvatarHandler(repository, storage);
    UserHandler users = new UserHandler(repository);
    HealthHandler health = new HealthHandler(repository, storage);
    ProblemResponder problems = new ProblemResponder(config.http().lingerMillis());

    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      ctx.response().putHeader("X-Content-Type-Options", "nosniff");
      ctx.next();
    });
    router.get("/health").handler(health::health);
    // The only BodyHandler in the server: a few KiB of JSON, never on an upload route.
    router.post("/users").handler(BodyHandler.create(false).setBodyLimit(USER_BODY_LIMIT)).handler(users::create);
    router.put("/users/:id/avatar").handler(upload::put);
    router.post("/users/:id/avatar").handler(upload::postMultipart);
    router.get("/users/:id/avatar").handler(avatars::get);
    router.head("/users/:id/avatar").handler(avatars::get);
    router.delete("/users/:id/avatar").handler(avatars::delete);
    router.get("/users/:id/avatar/info").handler(avatars::info);

    router.route().failureHandler(problems);
    for (int status : new int[] {400, 404, 405, 413, 415, 500}) {
      router.errorHandler(status, problems);
    }
    return router;
  }

}
