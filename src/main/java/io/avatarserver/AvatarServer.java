package io.avatarserver;

import io.avatarserver.config.ServerConfig;
import io.avatarserver.db.AvatarRepository;
import io.avatarserver.db.JdbcAvatarRepository;
import io.avatarserver.db.PgAvatarRepository;
import io.avatarserver.http.ApiRouter;
import io.avatarserver.http.HttpServerVerticle;
import io.avatarserver.storage.LocalDirectoryStorage;
import io.avatarserver.upload.AvatarUploads;
import io.avatarserver.upload.UploadLimits;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one place where the parts are composed: storage, repository, upload pipeline and HTTP
 * verticles. {@code Main} uses it to run the server; tests use the very same wiring on port 0.
 */
public final class AvatarServer {

  private static final Logger LOG = LoggerFactory.getLogger(AvatarServer.class);
  /** Vert.x shares a random port between servers that listen on the same negative port (NetServerImpl). */
  private static final AtomicInteger RANDOM_PORT_GROUP = new AtomicInteger();

  private final Vertx vertx;
  private final ServerConfig config;
  private final AvatarRepository repository;
  private final String deploymentId;
  private final int port;

  private AvatarServer(Vertx vertx, ServerConfig config, AvatarRepository repository, String deploymentId, int port) {
    this.vertx = vertx;
    this.config = config;
    this.repository = repository;
    this.deploymentId = deploymentId;
    this.port = port;
  }

  public static Future<AvatarServer> start(Vertx vertx, ServerConfig config) {
    LocalDirectoryStorage storage = new LocalDirectoryStorage(vertx, config.storage().avatarsDir(), config.storage().tmpDir());
    AvatarRepository repository = repository(vertx, config);
    AvatarUploads uploads = new AvatarUploads(repository, storage, UploadLimits.of(config.upload()));
    HttpServerOptions options = httpOptions(config.http());
    AtomicReference<HttpServerVerticle> first = new AtomicReference<>();
    return storage.init()
      .compose(v -> repository.migrate())
      .compose(v -> vertx.deployVerticle(() -> {
        HttpServerVerticle verticle = new HttpServerVerticle(options,
          v2 -> ApiRouter.create(v2, config, repository, storage, uploads));
        first.compareAndSet(null, verticle);
        return verticle;
      }, new DeploymentOptions().setInstances(config.http().effectiveInstances())))
      .map(id -> new AvatarServer(vertx, config, repository, id, first.get().actualPort()))
      .onFailure(err -> repository.close());
  }

  private static AvatarRepository repository(Vertx vertx, ServerConfig config) {
    ServerConfig.Database db = config.database();
    if (db.isPostgres()) {
      return PgAvatarRepository.create(vertx, db.url(), db.poolSize());
    }
    String url = db.url().isEmpty() ? JdbcAvatarRepository.embeddedUrl(config.storage().dataDir()) : db.url();
    if (!url.startsWith("jdbc:")) {
      throw new IllegalArgumentException("database.url must start with postgresql:// or jdbc:, was " + db.url());
    }
    return JdbcAvatarRepository.create(vertx, url, db.poolSize());
  }

  private static HttpServerOptions httpOptions(ServerConfig.Http http) {
    int port = http.port() == 0 ? -RANDOM_PORT_GROUP.incrementAndGet() : http.port();
    return new HttpServerOptions()
      .setHost(http.host())
      .setPort(port)
      // 100 Continue is ours to send, after the checks that may refuse the upload (UploadHandler).
      .setHandle100ContinueAutomatically(false)
      .setIdleTimeout(http.idleTimeoutSeconds())
      .setTcpNoDelay(true);
  }

  public int port() {
    return port;
  }

  public ServerConfig config() {
    return config;
  }

  /** Stops listening, then closes the database pool. */
  public Future<Void> stop() {
    return vertx.undeploy(deploymentId)
      .eventually(() -> repository.close())
      .onComplete(ar -> LOG.info("avatar-server stopped"));
  }
}
