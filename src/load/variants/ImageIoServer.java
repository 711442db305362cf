import io.avatarserver.AvatarServer;
import io.avatarserver.config.ConfigLoader;
import io.avatarserver.config.ServerConfig;
import io.avatarserver.variant.ImageIoTestRenderer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;

import java.util.concurrent.TimeUnit;

/**
 * The server as {@code Main} runs it (configuration from {@code AVATAR_CONFIG} and the environment), but
 * rendering variants with the test suite's ImageIO renderer: for {@code variants_bench.py --test-renderer}
 * on a build that has no render engine yet. Runs until killed.
 *
 * <pre>
 *   java -cp target/classes:target/test-classes:$(cat target/bench.classpath) src/load/variants/ImageIoServer.java
 * </pre>
 */
public final class ImageIoServer {
  public static void main(String[] args) throws Exception {
    ServerConfig config = ConfigLoader.load(System.getenv());
    Vertx vertx = Vertx.vertx();
    AvatarServer server = AvatarServer.start(vertx, config,
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), new ImageIoTestRenderer()).await(60, TimeUnit.SECONDS);
    System.out.println("avatar-server (ImageIO test renderer) listening on " + server.port());
    Thread.currentThread().join();
  }
}
