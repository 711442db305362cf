package io.avatarserver;

import io.avatarserver.cli.Cli;
import io.avatarserver.config.ConfigLoader;
import io.avatarserver.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar avatar-server.jar [serve]} runs the server with {@code conf/config.json} and the
 * environment; the other commands ({@code token}, {@code users create}) are in {@link Cli}.
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  public static void main(String[] args) throws Exception {
    ServerConfig config = ConfigLoader.load(System.getenv());
    if (args.length > 0 && !"serve".equals(args[0])) {
      System.exit(new Cli(config, System.out, System.err).run(List.of(args)));
    }
    // Native epoll when the platform has it (measured faster for many concurrent uploads); NIO otherwise.
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    AvatarServer server;
    try {
      server = AvatarServer.start(vertx, config).await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.error("avatar-server failed to start", e);
      vertx.close();
      System.exit(1);
      return;
    }
    LOG.info("avatar-server listening on http://localhost:{} (transport: {}, data: {}, database: {})", server.port(),
      vertx.isNativeTransportEnabled() ? "epoll" : "nio", config.storage().dataDir(),
      config.database().isPostgres() ? "PostgreSQL" : "embedded H2");
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        // Each step awaited from this thread: closing Vert.x from one of its own callbacks races its executors.
        server.stop().await(30, TimeUnit.SECONDS);
        vertx.close().await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("unclean shutdown: {}", e.toString());
      }
    }, "shutdown"));
  }
}
