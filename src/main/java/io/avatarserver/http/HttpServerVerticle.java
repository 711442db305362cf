package io.avatarserver.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

import java.util.function.Function;

/** One event loop's HTTP listener; the server deploys one instance per core, all on one port. */
public final class HttpServerVerticle extends VerticleBase {

  private final HttpServerOptions options;
  private final Function<io.vertx.core.Vertx, Router> routerFactory;
  private HttpServer server;
  private Router router;
  private volatile long openingSinceNanos;

  public HttpServerVerticle(HttpServerOptions options, Function<io.vertx.core.Vertx, Router> routerFactory) {
    this.options = options;
    this.routerFactory = routerFactory;
  }

  @Override
  public Future<?> start() {
    openingSinceNanos = System.nanoTime();
    router = routerFactory.apply(vertx);
    String allowAnywhere = ApiRouter.allowAnywhere(router);
    return vertx.createHttpServer(options)
      .requestHandler(request -> {
        // Before routing: Vert.x Web fails a request without a Host with an exception (it was a 500).
        String badHost = RequestChecks.hostProblem(request);
        if (badHost != null) {
          ProblemResponder.refuseAndClose(request, Problem.BAD_REQUEST, badHost);
        } else if (request.method() == io.vertx.core.http.HttpMethod.OPTIONS && "*".equals(request.uri())) {
          // RFC 9110 §9.3.7: OPTIONS * asks about the server as a whole.
          request.response().setStatusCode(204).putHeader(io.vertx.core.http.HttpHeaders.ALLOW, allowAnywhere)
            .putHeader("X-Content-Type-Options", "nosniff").end();
        } else {
          router.handle(request);
        }
      })
      .invalidRequestHandler(ProblemResponder::invalidRequest)
      .connectionHandler(connection -> {
        StrictRequestDecoder.install(connection, options);
        PipelineGate.install(connection);
        SocketPausingBody.boundReads(connection);
      })
      .listen()
      .onSuccess(s -> server = s);
  }

  /**
   * Stops accepting connections; each open connection is closed once its request in flight is
   * answered, or when {@code grace} runs out.
   */
  public Future<Void> shutdown(java.time.Duration grace) {
    return server.shutdown(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** Every method and path routed, as {@code "GET /users/:id/avatar"}; a trailing {@code *} for prefixes. */
  public java.util.List<String> routes() {
    java.util.List<String> routes = new java.util.ArrayList<>();
    for (io.vertx.ext.web.Route route : router.getRoutes()) {
      if (route.getPath() == null || route.methods() == null) {
        continue; // handlers on every request: checks, failures
      }
      String path = route.getPath() + (route.isExactPath() ? "" : "*");
      route.methods().forEach(method -> routes.add(method.name() + " " + path));
    }
    return routes;
  }

  /** When this listener began to open ({@link System#nanoTime()}): it accepts no connection before. */
  public long openingSinceNanos() {
    return openingSinceNanos;
  }

  public int actualPort() {
    return server.actualPort();
  }
}
