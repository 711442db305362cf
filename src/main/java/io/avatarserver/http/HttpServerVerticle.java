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

  public HttpServerVerticle(HttpServerOptions options, Function<io.vertx.core.Vertx, Router> routerFactory) {
    this.options = options;
    this.routerFactory = routerFactory;
  }

  @Override
  public Future<?> start() {
    return vertx.createHttpServer(options)
      .requestHandler(routerFactory.apply(vertx))
      .invalidRequestHandler(ProblemResponder::invalidRequest)
      .connectionHandler(connection -> StrictRequestDecoder.install(connection, options))
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

  public int actualPort() {
    return server.actualPort();
  }
}
