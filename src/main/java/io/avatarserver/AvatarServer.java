package io.avatarserver;

import io.avatarserver.auth.JwtSecret;
import io.avatarserver.auth.Tokens;
import io.avatarserver.config.ServerConfig;
import io.avatarserver.db.AvatarRepository;
import io.avatarserver.db.JdbcAvatarRepository;
import io.avatarserver.db.PgAvatarRepository;
import io.avatarserver.http.ApiRouter;
import io.avatarserver.http.HttpServerVerticle;
import io.avatarserver.limits.RateLimiter;
import io.avatarserver.limits.UploadSlots;
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
  private static final long EVICT_EVERY_MILLIS = 60_000;

  private final Vertx vertx;
  private final ServerConfig config;
  private final AvatarRepository repository;
  private final String deploymentId;
  private final int port;
  private final long evictor;

  private AvatarServer(Vertx vertx, ServerConfig config, AvatarRepository repository, String deploymentId, int port,
                       long evictor) {
    this.evictor = evictor;
    this.vertx = vertx;
    this.config = config;
    this.repository = repository;
    this.deploymentId = deploymentId;
    this.port = port;
  }

  public static Future<AvatarServer> start(Vertx vertx, ServerConfig config) {
    LocalDirectoryStorage storage = new LocalDirectoryStorage(vertx, config.storage().avatarsDir(), config.storage().tmpDir());
    AvatarRepository repository = repository(vertx, config);
    AvatarUploads uploads = new AvatarUploads(vertx, repository, storage, UploadLimits.of(config.upload()));
    ServerConfig.Limits limits = config.limits();
    RateLimiter byAddress = new RateLimiter(limits.addressWritesPerSecond(), limits.addressBurst());
    RateLimiter byUser = new RateLimiter(limits.userWritesPerMinute() / 60.0, limits.userBurst());
    UploadSlots slots = new UploadSlots(limits.maxUploads(), limits.maxUploadsPerUser());
    HttpServerOptions options = httpOptions(config.http());
    AtomicReference<HttpServerVerticle> first = new AtomicReference<>();
    return storage.init()
      .compose(v -> vertx.executeBlocking(() -> JwtSecret.resolve(config.auth().jwtSecret(), config.storage().dataDir())))
      .compose(secret -> repository.migrate().map(v -> new Tokens(vertx, secret)))
      .compose(tokens -> {
        ApiRouter.Services services = new ApiRouter.Services(config, repository, storage, uploads, tokens, byAddress,
          byUser, slots);
        return vertx.deployVerticle(() -> {
          HttpServerVerticle verticle = new HttpServerVerticle(options, v2 -> ApiRouter.create(v2, services));
          first.compareAndSet(null, verticle);
          return verticle;
        }, new DeploymentOptions().setInstances(config.http().effectiveInstances()));
      })
      .map(id -> {
        // Forget rate-limit buckets that have refilled, so their number follows the active clients.
        long evictor = vertx.setPeriodic(EVICT_EVERY_MILLIS, t -> {
          byAddress.evictIdle(System.nanoTime());
          byUser.evictIdle(System.nanoTime());
        });
        return new AvatarServer(vertx, config, repository, id, first.get().actualPort(), evictor);
      })
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
      .setMaxHeaderSize(http.maxHeaderBytes())
      .setTcpNoDelay(true)
      // No cleartext HTTP/2 upgrade: browsers speak HTTP/2 only over TLS, and without h2c the HTTP/1
      // pipeline exists before the first byte is read, so StrictRequestDecoder can take its place.
      .setHttp2ClearTextEnabled(false);
  }

  public int port() {
    return port;
  }

  public ServerConfig config() {
    return config;
  }

  /** Stops listening, then closes the database pool. */
  public Future<Void> stop() {
    vertx.cancelTimer(evictor);
    return vertx.undeploy(deploymentId)
      .eventually(() -> repository.close())
      .onComplete(ar -> LOG.info("avatar-server stopped"));
  }
}
