package io.avatarserver;

import io.avatarserver.cli.Cli;
import io.avatarserver.config.ConfigException;
import io.avatarserver.config.ConfigLoader;
import io.avatarserver.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar avatar-server.jar [serve]} runs the server with {@code conf/config.json} and the
 * environment; the other commands ({@code token}, {@code users create}) are in {@link Cli}. A
 * configuration it refuses ends it, before anything starts, with one line on stderr and exit status 2.
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  /**
   * Before the listener opens, on this thread (not an event loop): synthetic PNG uploads through the
   * upload pipeline (SHA-256, the parser, the writer), {@code http.warmupBytes} of them (64 MiB by
   * default, 0 for none), so that the JIT has compiled SHA-256 with its intrinsic before the first
   * client: until then an upload costs several times its steady CPU.
   */
  private static void warmUp(long bytes) {
    if (bytes <= 0) {
      return;
    }
    long started = System.nanoTime();
    long pushed = io.avatarserver.upload.Warmup.run(bytes);
    LOG.info("warmed the upload pipeline with {} MiB in {} ms", pushed >> 20,
      TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
  }

  public static void main(String[] args) throws Exception {
    ServerConfig config;
    try {
      config = ConfigLoader.load(System.getenv());
    } catch (ConfigException e) {
      // One line that says what to fix; a stack trace would only bury it. Same for serve and the commands.
      System.err.println("avatar-server: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (args.length > 0 && !"serve".equals(args[0])) {
      System.exit(new Cli(config, System.out, System.err).run(List.of(args)));
    }
    // Before anything is compiled for load: see JitDirectives.
    JitDirectives.install();
    // Native epoll when the platform has it (measured faster for many concurrent uploads); NIO otherwise.
    // Prometheus metrics: Vert.x's (HTTP server, pools) and the JVM's, in the registry the server adds its own to.
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = Vertx.builder()
      .with(new VertxOptions().setPreferNativeTransport(true).setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true).setJvmMetricsEnabled(true).setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))))
      .withMetrics(new MicrometerMetricsFactory(registry))
      .build();
    warmUp(config.http().warmupBytes());
    AvatarServer server;
    try {
      server = AvatarServer.start(vertx, config, registry).await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.error("avatar-server failed to start", e);
      vertx.close();
      System.exit(1);
      return;
    }
    LOG.info("avatar-server listening on http://localhost:{} (transport: {}, data: {}, storage: {}, database: {})",
      server.port(), vertx.isNativeTransportEnabled() ? "epoll" : "nio", config.storage().dataDir(),
      config.storage().isS3() ? "S3 bucket " + config.storage().s3().bucket() : "local files",
      config.database().isPostgres() ? "PostgreSQL" : "embedded H2");
    // SIGTERM (and Ctrl-C): drain gracefully, then exit 0. Handling the signal ourselves, rather than in a
    // shutdown hook alone, is what lets the exit status say "stopped cleanly" instead of 143.
    Runnable stop = () -> {
      stopGracefully(server, vertx, config.http().shutdownSeconds());
      Runtime.getRuntime().halt(0);
    };
    for (String name : List.of("TERM", "INT")) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> new Thread(stop, "shutdown").start());
      } catch (IllegalArgumentException unsupported) {
        LOG.debug("signal {} cannot be handled here", name);
      }
    }
    // Any other exit (System.exit, the last thread ending) still drains.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stopGracefully(server, vertx, config.http().shutdownSeconds()),
      "shutdown-hook"));
  }

  private static void stopGracefully(AvatarServer server, Vertx vertx, int graceSeconds) {
    try {
      // Each step awaited from this thread: closing Vert.x from one of its own callbacks races its executors.
      server.shutdown(Duration.ofSeconds(graceSeconds)).await(graceSeconds + 30L, TimeUnit.SECONDS);
      vertx.close().await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("unclean shutdown: {}", e.toString());
    }
  }
}
