package io.avatarserver;

import io.avatarserver.auth.JwtSecret;
import io.avatarserver.auth.Tokens;
import io.avatarserver.config.ServerConfig;
import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.AvatarService;
import io.avatarserver.db.CachedAvatarRepository;
import io.avatarserver.db.JdbcAvatarRepository;
import io.avatarserver.db.PgAvatarRepository;
import io.avatarserver.http.ApiRouter;
import io.avatarserver.http.HttpServerVerticle;
import io.avatarserver.limits.RateLimiter;
import io.avatarserver.limits.UploadSlots;
import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.storage.LocalDirectoryStorage;
import io.avatarserver.storage.StagingLock;
import io.avatarserver.storage.s3.S3Storage;
import io.avatarserver.upload.AvatarUploads;
import io.avatarserver.upload.UploadLimits;
import io.avatarserver.upload.WriteBudget;
import io.avatarserver.upload.image.ImageLimits;
import io.avatarserver.variant.DefaultAvatarSource;
import io.avatarserver.variant.DefaultAvatarSettings;
import io.avatarserver.variant.DefaultAvatars;
import io.avatarserver.variant.GeneratedDefaultAvatars;
import io.avatarserver.variant.RenderException;
import io.avatarserver.variant.RenderLimits;
import io.avatarserver.variant.RenderPool;
import io.avatarserver.variant.Rendered;
import io.avatarserver.variant.Renderer;
import io.avatarserver.variant.SourceInfo;
import io.avatarserver.variant.VariantDroppingRepository;
import io.avatarserver.variant.VariantRepository;
import io.avatarserver.variant.VariantService;
import io.avatarserver.variant.VariantSpec;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.avatarserver.metrics.ServerMetrics;
import io.avatarserver.recovery.Sweeper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * The one place where the parts are composed: storage, repository, upload pipeline and HTTP
 * verticles. {@code Main} uses it to run the server; tests use the very same wiring on port 0.
 */
public final class AvatarServer {

  private static final Logger LOG = LoggerFactory.getLogger(AvatarServer.class);
  /** Vert.x shares a random port between servers that listen on the same negative port (NetServerImpl). */
  private static final AtomicInteger RANDOM_PORT_GROUP = new AtomicInteger();
  private static final long EVICT_EVERY_MILLIS = 60_000;
  /** After the listeners closed, how long aborted uploads may take to delete their files. */
  private static final Duration CLEANUP_WAIT = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final ServerConfig config;
  private final AvatarRepository repository;
  private final java.util.function.Supplier<Future<Void>> closeStorage;
  private final AvatarUploads uploads;
  private final Sweeper sweeper;
  private final List<HttpServerVerticle> verticles;
  /** The management listener's, when {@code management.port} gives it one; else empty. */
  private final List<HttpServerVerticle> managementVerticles;
  private final AtomicBoolean draining;
  private final String deploymentId;
  /** Null without a management listener. */
  private final String managementDeploymentId;
  private final int port;
  private final long evictor;
  private final long sweepTimer;
  private Future<Void> stopping;
  private final ListenerWarmup.Report warmup;

  private AvatarServer(Vertx vertx, ServerConfig config, AvatarRepository repository,
                       java.util.function.Supplier<Future<Void>> closeStorage, AvatarUploads uploads,
                       Sweeper sweeper, List<HttpServerVerticle> verticles, List<HttpServerVerticle> managementVerticles,
                       AtomicBoolean draining, String deploymentId, String managementDeploymentId, long evictor,
                       long sweepTimer, ListenerWarmup.Report warmup) {
    this.warmup = warmup;
    this.vertx = vertx;
    this.config = config;
    this.repository = repository;
    this.closeStorage = closeStorage;
    this.uploads = uploads;
    this.sweeper = sweeper;
    this.verticles = verticles;
    this.managementVerticles = managementVerticles;
    this.draining = draining;
    this.deploymentId = deploymentId;
    this.managementDeploymentId = managementDeploymentId;
    this.port = verticles.get(0).actualPort();
    this.evictor = evictor;
    this.sweepTimer = sweepTimer;
  }

  /** Starts with a registry of its own: the server's meters and, with no Vert.x metrics, only those. */
  public static Future<AvatarServer> start(Vertx vertx, ServerConfig config) {
    return start(vertx, config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /**
   * Starts the server; {@code registry} is served at {@code /metrics} and gets the server's meters. Give
   * it the registry the Vert.x instance was built with, for HTTP, pool and JVM metrics too (as Main does).
   */
  public static Future<AvatarServer> start(Vertx vertx, ServerConfig config, PrometheusMeterRegistry registry) {
    Renderer renderer;
    try {
      renderer = renderer(config);
    } catch (RuntimeException noEngine) {
      return Future.failedFuture(noEngine);
    }
    return start(vertx, config, registry, renderer);
  }

  /**
   * The render engine {@code variants.engine} names: pure Java, libvips (the start fails when it does
   * not load), or libvips when it loads and else pure Java.
   */
  static Renderer renderer(ServerConfig config) {
    return io.avatarserver.variant.vips.RendererChoice.choose(config.variants().engine(),
      io.avatarserver.variant.JavaRenderer::new);
  }


  /** As {@link #start(Vertx, ServerConfig, PrometheusMeterRegistry)}, rendering variants with {@code renderer}. */
  public static Future<AvatarServer> start(Vertx vertx, ServerConfig config, PrometheusMeterRegistry registry,
                                           Renderer renderer) {
    ServerMetrics metrics = new ServerMetrics(registry);
    AvatarStorage storage;
    Future<Void> storageReady;
    java.util.function.Supplier<Future<Void>> closeStorage;
    if (config.storage().isS3()) {
      S3Storage s3;
      try {
        s3 = S3Storage.create(vertx, config.storage().s3(), config.storage().tmpDir());
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
      storage = s3;
      storageReady = s3.init();
      closeStorage = s3::close;
    } else {
      LocalDirectoryStorage local = new LocalDirectoryStorage(vertx, config.storage().avatarsDir(), config.storage().tmpDir());
      storage = local;
      storageReady = local.init();
      closeStorage = Future::succeededFuture;
    }
    Databases databases = database(vertx, config);
    ServerConfig.Variants variantSettings = config.variants();
    RenderPool renderPool = new RenderPool(vertx, variantSettings.workers(), variantSettings.queue());
    VariantService variants = new VariantService(vertx, storage, databases.variants(), renderer, renderPool,
      new RenderLimits(variantSettings.maxSourcePixels(), variantSettings.maxAnimationFrames(),
        variantSettings.maxAnimationPixels(), variantSettings.maxAnimationSourcePixels()),
      variantSettings.sizes(), config.storage().tmpDir());
    // Replacing or deleting an avatar takes its variants along, after the commit.
    AvatarRepository repository = cached(new VariantDroppingRepository(databases.avatars(), variants), config);
    DefaultAvatarSource defaults = new GeneratedDefaultAvatars(new DefaultAvatars(new DefaultAvatarSettings(
      variantSettings.sizes(), DefaultAvatarSettings.DEFAULT.maxCacheEntries(), DefaultAvatarSettings.DEFAULT.maxCacheBytes())),
      renderPool);
    io.micrometer.core.instrument.FunctionCounter.builder("avatar.variant.renders", variants, VariantService::renders)
      .description("Variant renders started (a stored or in-flight variant is not rendered again)").register(registry);
    io.micrometer.core.instrument.Gauge.builder("avatar.variant.render.admitted", renderPool, RenderPool::admitted)
      .description("Renders running or waiting for a render worker").register(registry);
    io.micrometer.core.instrument.Gauge.builder("avatar.variant.render.batched", variants, VariantService::batched)
      .description("Variant sizes waiting for a render worker, in batches rendered from one decode each").register(registry);
    AvatarUploads uploads = new AvatarUploads(vertx, repository, storage, uploadLimits(config.upload()),
      config.upload().writeBudgetBytes() == 0 ? WriteBudget.ofHeap() : new WriteBudget(config.upload().writeBudgetBytes()),
      metrics, err -> err instanceof HttpClosedException);
    // Renders in the heap leave room for the uploads in flight.
    renderer.shareHeapWith(uploads::heapBytes);
    io.micrometer.core.instrument.Gauge.builder("avatar.variant.render.heap.reserved", renderer, Renderer::heapReservedBytes)
      .description("Heap reserved by renders in progress (java engine), in bytes").baseUnit("bytes").register(registry);
    // A row cache forgets a row whose file is gone (another server replaced the avatar) before it is read again.
    LongConsumer staleRow = repository instanceof CachedAvatarRepository cache ? cache::forget : userId -> { };
    AvatarService avatars = new AvatarService(repository, storage, uploads, staleRow, metrics::missingObject);
    ServerConfig.Limits limits = config.limits();
    RateLimiter byAddress = new RateLimiter(limits.addressWritesPerSecond(), limits.addressBurst());
    RateLimiter byUser = new RateLimiter(limits.userWritesPerMinute() / 60.0, limits.userBurst());
    UploadSlots slots = new UploadSlots(limits.maxUploads(), limits.maxUploadsPerUser());
    HttpServerOptions options = httpOptions(config.http());
    List<HttpServerVerticle> verticles = new CopyOnWriteArrayList<>();
    List<HttpServerVerticle> managementVerticles = new CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicReference<String> managementDeployment = new java.util.concurrent.atomic.AtomicReference<>();
    AtomicBoolean draining = new AtomicBoolean();
    java.util.concurrent.atomic.AtomicReference<ListenerWarmup.Report> warmup =
      new java.util.concurrent.atomic.AtomicReference<>(ListenerWarmup.Report.NONE);
    Sweeper sweeper = new Sweeper(storage, repository, Duration.ofSeconds(config.storage().sweepGraceSeconds()),
      Clock.systemUTC());
    // The staging area is this instance's alone (its start-up cleanup would destroy another's uploads):
    // held under a lock until the storage is closed, a second instance on it refused.
    java.util.concurrent.atomic.AtomicReference<StagingLock> staging = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.function.Supplier<Future<Void>> closeStorageThenUnlock = () -> closeStorage.get().eventually(() -> {
      StagingLock held = staging.getAndSet(null);
      return held == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
        held.release();
        return null;
      });
    });
    return vertx.executeBlocking(() -> StagingLock.acquire(config.storage().tmpDir())).onSuccess(staging::set)
      .compose(v -> storageReady)
      // Before the listeners open, no upload of this process owns a staging file: all are a crashed run's.
      .compose(v -> sweeper.removeEarlierRunsStaging())
      .compose(v -> vertx.executeBlocking(() -> JwtSecret.resolve(config.auth().jwtSecret(), config.storage().dataDir())))
      .compose(secret -> repository.migrate().map(v -> new Tokens(vertx, secret)))
      // Before the public listener opens: see ListenerWarmup.
      .compose(tokens -> ListenerWarmup.run(vertx, config.http().warmupRequests(), config.http().effectiveInstances(),
          tokens, databases.avatars(), databases.reserved(),
          warmupRouter(vertx, config, databases, variants, storage, tokens, defaults))
        .map(report -> {
          warmup.set(report);
          return tokens;
        }))
      .compose(tokens -> {
        ApiRouter.Services services = new ApiRouter.Services(config, avatars, repository, storage, uploads, tokens, byAddress,
          byUser, slots, draining::get, registry, variants, defaults);
        Future<String> api = vertx.deployVerticle(() -> {
          HttpServerVerticle verticle = new HttpServerVerticle(options, v2 -> ApiRouter.create(v2, services));
          verticles.add(verticle);
          return verticle;
        }, new DeploymentOptions().setInstances(config.http().effectiveInstances()));
        if (!config.management().separate()) {
          return api;
        }
        // Metrics and health on a listener of their own: one event loop is plenty for scrapes and probes.
        HttpServerOptions management = httpOptions(config.http()).setHost(config.management().host())
          .setPort(config.management().port() == -1 ? 0 : config.management().port());
        return api.compose(id -> vertx.deployVerticle(() -> {
          HttpServerVerticle verticle = new HttpServerVerticle(management, v2 -> ApiRouter.management(v2, services));
          managementVerticles.add(verticle);
          return verticle;
        }, new DeploymentOptions().setInstances(1)).map(managementId -> {
          managementDeployment.set(managementId);
          return id;
        }));
      })
      .map(id -> {
        // Forget rate-limit buckets that have refilled, so their number follows the active clients.
        long evictor = vertx.setPeriodic(EVICT_EVERY_MILLIS, t -> {
          byAddress.evictIdle(System.nanoTime());
          byUser.evictIdle(System.nanoTime());
        });
        // The recovery sweep: now, then every interval; a sweep that fails is logged and retried next time.
        metrics.bind(uploads, sweeper);
        sweeper.sweep();
        long interval = config.storage().sweepIntervalSeconds();
        long sweepTimer = interval == 0 ? -1 : vertx.setPeriodic(interval * 1000, t -> sweeper.sweep());
        AvatarServer server = new AvatarServer(vertx, config, repository, closeStorageThenUnlock, uploads, sweeper,
          List.copyOf(verticles), List.copyOf(managementVerticles), draining, id, managementDeployment.get(), evictor,
          sweepTimer, warmup.get());
        if (config.management().separate()) {
          LOG.info("metrics and health on http://{}:{} (not on the API port)", config.management().host(),
            server.managementPort());
        }
        return server;
      })
      .onFailure(err -> {
        repository.close();
        closeStorageThenUnlock.get();
      });
  }

  /** The limits the upload pipeline is held to, from the {@code upload} section of the configuration. */
  private static UploadLimits uploadLimits(ServerConfig.Upload upload) {
    return new UploadLimits(upload.maxBytes(), upload.minBytes(), upload.writeBufferBytes(), upload.progressLogBytes(),
      upload.minBytesPerSecond(), upload.minRateWindowSeconds(),
      new ImageLimits(upload.maxDimension(), upload.maxPixels(), upload.stripMetadata()));
  }

  private static AvatarRepository cached(AvatarRepository database, ServerConfig config) {
    ServerConfig.Database db = config.database();
    return db.cacheSeconds() == 0 ? database : new CachedAvatarRepository(database, db.cacheSeconds(), db.cacheEntries());
  }

  /** The avatar rows and the variant rows, on one pool. */
  private record Databases(AvatarRepository avatars, VariantRepository variants, ListenerWarmup.ReservedUsers reserved) {
  }

  private static Databases database(Vertx vertx, ServerConfig config) {
    ServerConfig.Database db = config.database();
    if (db.isPostgres()) {
      PgAvatarRepository pg = PgAvatarRepository.create(vertx, db.url(), db.poolSize());
      return new Databases(pg, pg.variants(), reservedUsers(pg::deleteUser, pg::deleteUsersNamedBefore));
    }
    String url = db.url().isEmpty() ? JdbcAvatarRepository.embeddedUrl(config.storage().dataDir()) : db.url();
    if (!url.startsWith("jdbc:")) {
      throw new IllegalArgumentException("database.url must start with postgresql:// or jdbc:, was " + db.url());
    }
    JdbcAvatarRepository jdbc = JdbcAvatarRepository.create(vertx, url, db.poolSize());
    return new Databases(jdbc, jdbc.variants(), reservedUsers(jdbc::deleteUser, jdbc::deleteUsersNamedBefore));
  }

  private static ListenerWarmup.ReservedUsers reservedUsers(java.util.function.LongFunction<Future<Void>> delete,
                                                           java.util.function.BiFunction<String, Long, Future<Integer>> older) {
    return new ListenerWarmup.ReservedUsers() {
      @Override
      public Future<Void> delete(long userId) {
        return delete.apply(userId);
      }

      @Override
      public Future<Integer> deleteOlder(String name, long secondsAgo) {
        return older.apply(name, secondsAgo);
      }
    };
  }

  /**
   * The private listener's router for {@link ListenerWarmup}: the API's routes over the same storage,
   * database pool, variants and pipeline code, with a row cache, uploads, metrics, rate limits and upload
   * slots of its own, so that nothing the public listener counts or remembers sees the warm-up.
   */
  private static java.util.function.Function<Vertx, io.vertx.ext.web.Router> warmupRouter(
    Vertx vertx, ServerConfig config, Databases databases, VariantService variants, AvatarStorage storage, Tokens tokens,
    DefaultAvatarSource defaults) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ServerMetrics metrics = new ServerMetrics(registry);
    AvatarRepository repository = cached(new VariantDroppingRepository(databases.avatars(), variants), config);
    AvatarUploads uploads = new AvatarUploads(vertx, repository, storage, uploadLimits(config.upload()),
      config.upload().writeBudgetBytes() == 0 ? WriteBudget.ofHeap() : new WriteBudget(config.upload().writeBudgetBytes()),
      metrics, err -> err instanceof HttpClosedException);
    LongConsumer staleRow = repository instanceof CachedAvatarRepository cache ? cache::forget : userId -> { };
    AvatarService avatars = new AvatarService(repository, storage, uploads, staleRow, metrics::missingObject);
    ApiRouter.Services services = new ApiRouter.Services(config, avatars, repository, storage, uploads, tokens,
      new RateLimiter(0, 1), new RateLimiter(0, 1), new UploadSlots(0, 0), () -> false, registry, variants, defaults);
    return v -> ApiRouter.create(v, services);
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
      // Bodies keep Netty's 8 KiB chunks (maxChunkSize): each chunk is a heap copy, and an upload
      // holds up to two of them while its file write waits. Chunks of 64 KiB took 2-4 % less CPU on
      // 1 MiB uploads but up to ~128 KiB of heap per upload: 1,000 uploads at 128 KiB/s whose writes
      // fell behind ran a 64 MiB heap out of memory (src/load/memory/MemoryProof.java).
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

  /** The port of the management listener (metrics, health): the API's unless {@code management.port} is set. */
  public int managementPort() {
    return managementVerticles.isEmpty() ? port : managementVerticles.get(0).actualPort();
  }

  /** What the HTTP listeners route (the same on every event loop). */
  public List<String> routes() {
    return verticles.get(0).routes();
  }

  /** What the warm-up before the listener opened did ({@link ListenerWarmup}). */
  ListenerWarmup.Report warmup() {
    return warmup;
  }

  /** When each API listener began to open ({@link System#nanoTime()}). */
  List<Long> openingSinceNanos() {
    return verticles.stream().map(HttpServerVerticle::openingSinceNanos).toList();
  }

  public AvatarUploads uploads() {
    return uploads;
  }

  public Sweeper sweeper() {
    return sweeper;
  }

  /** Stops at once: uploads in flight are cut (and cleaned up). */
  public Future<Void> stop() {
    return shutdown(Duration.ZERO);
  }

  /**
   * Graceful shutdown: readiness turns DOWN and the listeners stop accepting; requests in flight,
   * uploads included, get {@code grace} to finish; then the remaining connections are closed, which
   * aborts their uploads, and once every upload's cleanup has run the pool is closed. Idempotent.
   */
  public synchronized Future<Void> shutdown(Duration grace) {
    if (stopping != null) {
      return stopping;
    }
    draining.set(true);
    vertx.cancelTimer(evictor);
    vertx.cancelTimer(sweepTimer);
    LOG.info("avatar-server shutting down: {} uploads in flight, up to {} s to finish", uploads.active(),
      grace.toSeconds());
    List<Future<Void>> listeners = java.util.stream.Stream.concat(verticles.stream(), managementVerticles.stream())
      .map(v -> v.shutdown(grace)).toList();
    stopping = Future.join(listeners)
      .transform(ar -> uploadsSettled(System.nanoTime() + CLEANUP_WAIT.toNanos()))
      .transform(ar -> vertx.undeploy(deploymentId))
      .transform(ar -> managementDeploymentId == null ? Future.<Void>succeededFuture() : vertx.undeploy(managementDeploymentId))
      .transform(ar -> repository.close())
      .transform(ar -> closeStorage.get())
      .onComplete(ar -> LOG.info("avatar-server stopped"));
    return stopping;
  }

  /** Completes when no upload is in progress (aborted ones have deleted their files), or at the deadline. */
  private Future<Void> uploadsSettled(long deadlineNanos) {
    if (uploads.active() == 0) {
      return Future.succeededFuture();
    }
    if (System.nanoTime() > deadlineNanos) {
      LOG.warn("{} uploads still cleaning up at shutdown; the next start's sweep removes what they leave", uploads.active());
      return Future.succeededFuture();
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(20, t -> uploadsSettled(deadlineNanos).onComplete(later));
    return later.future();
  }
}
