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
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

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
                         io.micrometer.prometheusmetrics.PrometheusMeterRegistry metrics,
                         io.avatarserver.variant.VariantService variants,
                         io.avatarserver.variant.DefaultAvatarSource defaults) {
  }

  public static Router create(Vertx vertx, Services services) {
    ServerConfig config = services.config();
    AvatarHandler avatars = new AvatarHandler(services.avatars());
    VariantHandler variants = new VariantHandler(services.avatars(), services.repository(), services.variants(),
      services.defaults());
    UploadHandler upload = new UploadHandler(services.avatars(), config.upload().maxBytes(), config.upload().multipartOverhead(),
      variants::info);
    UserHandler users = new UserHandler(services.avatars(), USER_BODY_LIMIT);
    WriteGuards guards = new WriteGuards(services.tokens(), services.byAddress(), services.byUser(), services.slots());
    RequestChecks checks = new RequestChecks(config.http().maxHeaders());
    ProblemResponder problems = new ProblemResponder(config.http().lingerMillis());

    Router router = Router.router(vertx);
    router.route().handler(checks::check);
    if (!config.management().separate()) {
      mountManagement(router, services);
    }
    // No BodyHandler anywhere: UserHandler reads its few KiB of JSON itself, after the token.
    router.post("/users").handler(guards::addressRate).handler(guards::authenticate)
      .handler(guards::adminOnly).handler(users::create);
    router.put("/users/:id/avatar").handler(guards::addressRate).handler(guards::authenticate)
      .handler(guards::ownerOnly).handler(guards::uploadSlot).handler(upload::put);
    router.post("/users/:id/avatar").handler(guards::addressRate).handler(guards::authenticate)
      .handler(guards::ownerOnly).handler(guards::uploadSlot).handler(upload::postMultipart);
    router.delete("/users/:id/avatar").handler(guards::addressRate).handler(guards::authenticate)
      .handler(guards::ownerOnly).handler(avatars::delete);
    // ?size=, ?s= or ?d= make it a variant's request; without them, the original as always.
    router.get("/users/:id/avatar").handler(variants::dispatch).handler(avatars::get);
    router.head("/users/:id/avatar").handler(variants::dispatch).handler(avatars::get);
    router.get("/users/:id/avatar/info").handler(variants::info);
    router.get("/avatars/:id/:version/:file").handler(variants::versioned);
    PageRoutes.mount(router, config.http().page());
    methodFallbacks(router);

    router.route().failureHandler(problems);
    for (int status : new int[] {400, 404, 405, 413, 415, 417, 500}) {
      router.errorHandler(status, problems);
    }
    return router;
  }


  /**
   * The management listener's router ({@code management.port} set): health and metrics only, with the
   * same checks and problem answers as the API.
   */
  public static Router management(Vertx vertx, Services services) {
    ServerConfig config = services.config();
    Router router = Router.router(vertx);
    router.route().handler(new RequestChecks(config.http().maxHeaders())::check);
    mountManagement(router, services);
    methodFallbacks(router);
    ProblemResponder problems = new ProblemResponder(config.http().lingerMillis());
    router.route().failureHandler(problems);
    for (int status : new int[] {400, 404, 405, 413, 415, 417, 500}) {
      router.errorHandler(status, problems);
    }
    return router;
  }

  private static void mountManagement(Router router, Services services) {
    ServerConfig config = services.config();
    HealthHandler health = new HealthHandler(services.repository(), services.storage(),
      config.storage().minFreeBytes(), services.draining());
    router.get("/health").handler(health::health);
    router.get("/health/live").handler(health::live);
    router.get("/metrics").handler(metricsToken(config.management().metricsToken()))
      .handler(io.vertx.micrometer.PrometheusScrapingHandler.create(services.metrics()));
    router.get("/health/ready").handler(health::ready);
  }

  /**
   * With a token configured, {@code /metrics} (the JVM's version, the traffic) needs it as a bearer
   * token: 401 without it or with another. Compared in constant time.
   */
  private static io.vertx.core.Handler<io.vertx.ext.web.RoutingContext> metricsToken(String token) {
    if (token.isEmpty()) {
      return io.vertx.ext.web.RoutingContext::next;
    }
    byte[] expected = token.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return ctx -> {
      String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
      if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        ctx.fail(Problem.UNAUTHORIZED.exception("/metrics needs the metrics token (management.metricsToken) as a bearer token"));
        return;
      }
      byte[] given = header.substring(7).trim().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      if (!java.security.MessageDigest.isEqual(expected, given)) {
        ctx.fail(Problem.INVALID_TOKEN.exception("Not the metrics token"));
        return;
      }
      ctx.next();
    };
  }

  /** The order methods are listed in an Allow header. */
  private static final List<HttpMethod> ALLOW_ORDER = List.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT,
    HttpMethod.POST, HttpMethod.DELETE, HttpMethod.OPTIONS);

  /**
   * Behind every routed path, for the methods its routes do not take: {@code OPTIONS} is 204 with
   * {@code Allow}; {@code HEAD} where {@code GET} is routed is answered as that {@code GET} (Vert.x sends
   * its head without the body); anything else is 405 with {@code Allow} (RFC 9110 §15.5.6). A path no
   * route takes stays 404.
   */
  private static void methodFallbacks(Router router) {
    Map<String, Set<HttpMethod>> byPath = new LinkedHashMap<>();
    for (Route route : router.getRoutes()) {
      if (route.getPath() != null && route.methods() != null) {
        byPath.computeIfAbsent(route.getPath() + (route.isExactPath() ? "" : "*"), p -> new HashSet<>())
          .addAll(route.methods());
      }
    }
    byPath.forEach((path, methods) -> {
      String allow = allow(methods);
      boolean get = methods.contains(HttpMethod.GET);
      router.route(path).handler(ctx -> {
        HttpMethod method = ctx.request().method();
        if (method == HttpMethod.HEAD && get) {
          ctx.reroute(HttpMethod.GET, ctx.request().uri());
          return;
        }
        ctx.response().putHeader(HttpHeaders.ALLOW, allow);
        if (method == HttpMethod.OPTIONS) {
          ctx.response().setStatusCode(204).end();
          return;
        }
        ctx.fail(Problem.METHOD_NOT_ALLOWED.exception(method.name() + " is not allowed on " + ctx.request().path()
          + "; allowed: " + allow));
      });
    });
  }

  /** The Allow value for a path routed for {@code methods}: HEAD wherever GET, and OPTIONS always. */
  static String allow(Set<HttpMethod> methods) {
    Set<HttpMethod> allowed = new HashSet<>(methods);
    if (allowed.contains(HttpMethod.GET)) {
      allowed.add(HttpMethod.HEAD);
    }
    allowed.add(HttpMethod.OPTIONS);
    return ALLOW_ORDER.stream().filter(allowed::contains).map(HttpMethod::name).collect(Collectors.joining(", "));
  }

  /** The Allow value of {@code OPTIONS *}: every method some route of {@code router} takes. */
  static String allowAnywhere(Router router) {
    Set<HttpMethod> methods = new HashSet<>();
    for (Route route : router.getRoutes()) {
      if (route.methods() != null) {
        methods.addAll(route.methods());
      }
    }
    return allow(methods);
  }
}
