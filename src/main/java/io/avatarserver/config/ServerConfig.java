package io.avatarserver.config;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.Map;

import static io.avatarserver.config.Setting.*;

/**
 * Every setting of the server, read once at start, in eight sections. The settings themselves (keys,
 * defaults, allowed values, environment variables, documentation) are declared once, in {@link Setting};
 * {@link ConfigLoader} checks and layers them, and {@link #of} builds this record from the result.
 * The records' constructors check each value against the same table, for code that builds them directly.
 */
public record ServerConfig(Http http, Storage storage, Database database, Upload upload, Auth auth, Limits limits,
                           Management management, Variants variants) {

  /**
   * Sized variants ({@code ?size=N}, {@code /avatars/{id}/{version}/{size}.{ext}}).
   *
   * @param sizes              the sizes a request snaps to, ascending, distinct
   * @param engine             {@code auto}, {@code java} or {@code vips}
   * @param workers            renders at once, on a worker pool of their own
   * @param queue              renders waiting for a worker at most; beyond, a fallback is served
   * @param maxSourcePixels    an original with more pixels per frame is not rendered (served as is)
   * @param maxAnimationFrames an animated variant keeps at most this many frames, else its first
   * @param maxAnimationPixels … and at most this many pixels over all its frames
   * @param maxAnimationSourcePixels … and the original at most this many over all its frames at its size
   */
  public record Variants(java.util.List<Integer> sizes, String engine, int workers, int queue, long maxSourcePixels,
                         int maxAnimationFrames, long maxAnimationPixels, long maxAnimationSourcePixels) {
    public Variants {
      if (sizes == null || sizes.isEmpty()) {
        throw new ConfigException("variants.sizes must list at least one size");
      }
      sizes = sizes.stream().distinct().sorted().toList();
      VARIANTS_SIZES.require(sizes.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")));
      VARIANTS_ENGINE.require(engine);
      VARIANTS_WORKERS.require(workers);
      VARIANTS_QUEUE.require(queue);
      VARIANTS_MAX_SOURCE_PIXELS.require(maxSourcePixels);
      VARIANTS_MAX_ANIMATION_FRAMES.require(maxAnimationFrames);
      VARIANTS_MAX_ANIMATION_PIXELS.require(maxAnimationPixels);
      VARIANTS_MAX_ANIMATION_SOURCE_PIXELS.require(maxAnimationSourcePixels);
    }

    /** Parses the text form of {@code variants.sizes} (already checked by the table). */
    static java.util.List<Integer> parseSizes(String text) {
      return java.util.Arrays.stream(text.split(",")).map(String::trim).map(Integer::valueOf).toList();
    }
  }

  /**
   * Where {@code /metrics} and {@code /health*} are served, and who may read {@code /metrics}.
   *
   * @param host         address of the management listener when it has a port of its own; default
   *                     {@code 127.0.0.1}
   * @param port         0 (the default): metrics and health are on the API listener; 1 to 65535: on a
   *                     listener of their own on that port, and not on the API's; -1: on their own
   *                     listener on a free port (tests)
   * @param metricsToken when not empty, {@code /metrics} needs {@code Authorization: Bearer <token>}
   *                     (401 otherwise); at least 16 characters; default empty (no token)
   */
  public record Management(String host, int port, String metricsToken) {
    public Management {
      MANAGEMENT_HOST.require(host);
      MANAGEMENT_PORT.require(port);
      MANAGEMENT_METRICS_TOKEN.require(metricsToken);
    }

    /** Whether metrics and health have a listener of their own. */
    public boolean separate() {
      return port != 0;
    }
  }

  /**
   * The HTTP listener. Defaults and allowed values: {@link Setting}, as for every section.
   *
   * @param host           address to bind
   * @param port           TCP port; 0 picks a free port (tests)
   * @param instances      event-loop verticle instances; 0 means one per available processor
   * @param idleTimeoutSeconds a connection that sends and receives nothing this long is closed (and its
   *                       upload, if any, discarded); 0 disables the timeout
   * @param maxHeaderBytes largest request head (request line and headers) in bytes; larger → 431
   * @param maxHeaders     most header fields a request may carry; more → 431
   * @param lingerMillis   after an early refusal (413, 404, …) while the client is still sending a body, how
   *                       long the server keeps reading and discarding it before closing the connection, so
   *                       the client sees the answer instead of a TCP reset; 0 closes at once
   * @param page           serve the upload page at {@code /}
   * @param warmupRequests uploads over loopback before the listener opens ({@code ListenerWarmup}); 0 = none
   * @param warmupBytes    before those, bytes of synthetic uploads through the upload pipeline alone
   *                       ({@code upload.Warmup}); 0 = none
   * @param shutdownSeconds on SIGTERM, how long uploads in flight may take to finish before they are aborted
   *                       and cleaned up
   */
  public record Http(String host, int port, int instances, int idleTimeoutSeconds, int maxHeaderBytes, int maxHeaders,
                     long lingerMillis, int shutdownSeconds, boolean page, int warmupRequests, long warmupBytes) {
    public Http {
      HTTP_HOST.require(host);
      HTTP_PORT.require(port);
      HTTP_INSTANCES.require(instances);
      HTTP_IDLE_TIMEOUT_SECONDS.require(idleTimeoutSeconds);
      HTTP_MAX_HEADER_BYTES.require(maxHeaderBytes);
      HTTP_MAX_HEADERS.require(maxHeaders);
      HTTP_LINGER_MILLIS.require(lingerMillis);
      HTTP_SHUTDOWN_SECONDS.require(shutdownSeconds);
      HTTP_WARMUP_REQUESTS.require(warmupRequests);
      HTTP_WARMUP_BYTES.require(warmupBytes);
    }

    public int effectiveInstances() {
      return instances == 0 ? Runtime.getRuntime().availableProcessors() : instances;
    }
  }

  /**
   * Where the bytes live.
   *
   * @param dataDir directory for avatar files ({@code avatars/}), uploads in progress ({@code tmp/}) and the
   *                embedded database; created when missing
   * @param sweepGraceSeconds    the recovery sweep deletes temporary files, and avatar files no row references,
   *                             only when they are older than this. It must exceed the longest
   *                             upload, so that another instance's uploads in flight are safe
   * @param sweepIntervalSeconds the sweep runs at start and then this often; 0 = at start only
   * @param minFreeBytes         {@code /health/ready} reports DOWN below this much free space
   */
  public record Storage(Path dataDir, long sweepGraceSeconds, long sweepIntervalSeconds, long minFreeBytes,
                        String backend, S3 s3) {
    public Storage {
      STORAGE_SWEEP_GRACE_SECONDS.require(sweepGraceSeconds);
      STORAGE_SWEEP_INTERVAL_SECONDS.require(sweepIntervalSeconds);
      STORAGE_MIN_FREE_BYTES.require(minFreeBytes);
      STORAGE_BACKEND.require(backend);
    }

    /** The local backend. */
    public Storage(Path dataDir, long sweepGraceSeconds, long sweepIntervalSeconds, long minFreeBytes) {
      this(dataDir, sweepGraceSeconds, sweepIntervalSeconds, minFreeBytes, "local", S3.DEFAULTS);
    }

    public boolean isS3() {
      return backend.equals("s3");
    }


    public Path avatarsDir() {
      return dataDir.resolve("avatars");
    }

    public Path tmpDir() {
      return dataDir.resolve("tmp");
    }
  }

  /**
   * The S3-compatible object store, used when {@code storage.backend} is {@code s3}.
   *
   * @param endpoint            the store's URL; empty = AWS S3 in {@code region}
   * @param region              the region requests are signed for
   * @param bucket              the bucket, which must exist
   * @param prefix              put before every key
   * @param pathStyle           bucket in the path rather than the host name
   * @param checksum            {@code when_supported} or {@code when_required}: the SDK's own request checksums
   * @param maxAttempts         tries of one call, the first included
   * @param apiTimeoutMillis    longest time of one call, all tries included
   * @param attemptTimeoutMillis longest time of one try
   * @param maxPuts             PUTs in flight at once; more wait for one to finish
   * @param presignSeconds      a GET answers 302 to a URL signed for this long; 0 = streamed through
   */
  public record S3(String endpoint, String region, String bucket, String prefix, boolean pathStyle, String checksum,
                   int maxAttempts, long apiTimeoutMillis, long attemptTimeoutMillis, int maxPuts, long presignSeconds) {
    public static final S3 DEFAULTS = new S3((String) STORAGE_S3_ENDPOINT.defaultValue(),
      (String) STORAGE_S3_REGION.defaultValue(), (String) STORAGE_S3_BUCKET.defaultValue(),
      (String) STORAGE_S3_PREFIX.defaultValue(), (Boolean) STORAGE_S3_PATH_STYLE.defaultValue(),
      (String) STORAGE_S3_CHECKSUM.defaultValue(), Math.toIntExact((Long) STORAGE_S3_MAX_ATTEMPTS.defaultValue()),
      (Long) STORAGE_S3_API_TIMEOUT_MILLIS.defaultValue(), (Long) STORAGE_S3_ATTEMPT_TIMEOUT_MILLIS.defaultValue(),
      Math.toIntExact((Long) STORAGE_S3_MAX_PUTS.defaultValue()), (Long) STORAGE_S3_PRESIGN_SECONDS.defaultValue());

    public S3 {
      endpoint = endpoint == null ? "" : endpoint.trim();
      prefix = prefix == null ? "" : prefix;
      STORAGE_S3_ENDPOINT.require(endpoint);
      STORAGE_S3_REGION.require(region);
      STORAGE_S3_BUCKET.require(bucket);
      STORAGE_S3_PREFIX.require(prefix);
      STORAGE_S3_CHECKSUM.require(checksum);
      STORAGE_S3_MAX_ATTEMPTS.require(maxAttempts);
      STORAGE_S3_API_TIMEOUT_MILLIS.require(apiTimeoutMillis);
      STORAGE_S3_ATTEMPT_TIMEOUT_MILLIS.require(attemptTimeoutMillis);
      STORAGE_S3_MAX_PUTS.require(maxPuts);
      STORAGE_S3_PRESIGN_SECONDS.require(presignSeconds);
    }
  }

  /**
   * The metadata database.
   *
   * @param url      {@code postgresql://user@host:port/db} selects the reactive PostgreSQL client;
   *                 {@code jdbc:h2:…} the JDBC client; empty means an embedded H2 database at
   *                 {@code dataDir/avatar-db}
   * @param poolSize maximum connections
   * @param cacheSeconds how long users and avatar rows read from the database are served from memory;
   *                 0 reads the database every time. Writes through this server are seen at
   *                 once; writes by another server process sharing the database within this time
   * @param cacheEntries how many users, and as many avatar rows, the cache holds at most
   */
  public record Database(String url, int poolSize, int cacheSeconds, int cacheEntries) {
    public Database {
      url = url == null ? "" : url.trim();
      DATABASE_URL.require(url);
      DATABASE_POOL_SIZE.require(poolSize);
      DATABASE_CACHE_SECONDS.require(cacheSeconds);
      DATABASE_CACHE_ENTRIES.require(cacheEntries);
    }

    public boolean isPostgres() {
      return url.startsWith("postgresql://") || url.startsWith("postgres://");
    }
  }

  /**
   * The upload pipeline's limits.
   *
   * @param maxBytes          largest accepted avatar in bytes
   * @param minBytes          smallest accepted avatar in bytes; 0 accepts any non-empty file
   *                          whose first bytes identify an image
   * @param multipartOverhead bytes a multipart request may carry beyond {@code maxBytes} (boundaries and part
   *                          headers) before its Content-Length alone is refused
   * @param writeBufferBytes  request chunks are coalesced into file writes of this size
   *                          (measured: fewer, larger writes are markedly faster than one write per 8 KiB chunk)
   * @param progressLogBytes  a DEBUG progress line every this many bytes
   * @param minBytesPerSecond a body that arrives slower than this, averaged over {@code minRateWindowSeconds},
   *                          is cut with 408 and discarded (slowloris); 0 disables the check
   * @param minRateWindowSeconds the window of that average
   * @param maxDimension      largest width or height of an image, read from its header; larger → 422
   * @param maxPixels         largest width × height; larger → 422
   * @param stripMetadata     remove EXIF (but the orientation), XMP, comments and text chunks while streaming
   * @param writeBudgetBytes  memory all uploads together may hold in coalescing buffers; 0
   *                          means a quarter of the maximum heap; beyond it uploads write chunk by chunk
   */
  public record Upload(long maxBytes, int minBytes, int multipartOverhead, int writeBufferBytes, int progressLogBytes,
                       int minBytesPerSecond, int minRateWindowSeconds, int maxDimension, long maxPixels,
                       boolean stripMetadata, long writeBudgetBytes) {
    public Upload {
      UPLOAD_MAX_BYTES.require(maxBytes);
      UPLOAD_MIN_BYTES.require(minBytes);
      if (minBytes > maxBytes) {
        throw new ConfigException("upload.minBytes = " + minBytes + " exceeds upload.maxBytes = " + maxBytes);
      }
      UPLOAD_MULTIPART_OVERHEAD.require(multipartOverhead);
      UPLOAD_WRITE_BUFFER_BYTES.require(writeBufferBytes);
      UPLOAD_PROGRESS_LOG_BYTES.require(progressLogBytes);
      UPLOAD_MIN_BYTES_PER_SECOND.require(minBytesPerSecond);
      UPLOAD_MIN_RATE_WINDOW_SECONDS.require(minRateWindowSeconds);
      UPLOAD_MAX_DIMENSION.require(maxDimension);
      UPLOAD_MAX_PIXELS.require(maxPixels);
      UPLOAD_WRITE_BUDGET_BYTES.require(writeBudgetBytes);
    }

  }

  /**
   * Bearer-token authentication.
   *
   * @param jwtSecret       HS256 signing secret (at least 32 bytes); empty means the file
   *                        {@code dataDir/jwt-secret}, generated on first start with mode 0600 and reused
   * @param tokenTtlSeconds lifetime of tokens minted by the {@code token} and {@code users create} commands
   */
  public record Auth(String jwtSecret, int tokenTtlSeconds) {
    public Auth {
      jwtSecret = jwtSecret == null ? "" : jwtSecret;
      AUTH_JWT_SECRET.require(jwtSecret);
      AUTH_TOKEN_TTL_SECONDS.require(tokenTtlSeconds);
    }
  }

  /**
   * Abuse limits, each decided before a request body is read. 0 disables a limit.
   *
   * @param maxUploads             uploads in flight in the whole server; beyond → 503
   * @param maxUploadsPerUser      uploads in flight for one user; beyond → 429
   * @param userWritesPerMinute    sustained writes (uploads, deletes) per user and minute; beyond → 429
   * @param userBurst              writes a user may make at once before that rate applies
   * @param addressWritesPerSecond sustained write requests per client address and second (a load
   *                               generator on one machine must stay under it); beyond → 429
   * @param addressBurst           write requests an address may make at once
   */
  public record Limits(int maxUploads, int maxUploadsPerUser, int userWritesPerMinute, int userBurst,
                       int addressWritesPerSecond, int addressBurst) {
    public Limits {
      LIMITS_MAX_UPLOADS.require(maxUploads);
      LIMITS_MAX_UPLOADS_PER_USER.require(maxUploadsPerUser);
      LIMITS_USER_WRITES_PER_MINUTE.require(userWritesPerMinute);
      LIMITS_USER_BURST.require(userBurst);
      LIMITS_ADDRESS_WRITES_PER_SECOND.require(addressWritesPerSecond);
      LIMITS_ADDRESS_BURST.require(addressBurst);
    }

  }

  /**
   * Reads a configuration object shaped like {@code conf/config.json} (the environment plays no part);
   * every missing setting takes its default. Strict like {@link ConfigLoader#load}: an unknown key or a
   * value it does not allow is a {@link ConfigException}.
   */
  public static ServerConfig fromJson(JsonObject json) {
    return ConfigLoader.resolve(json, "the configuration JSON", Map.of());
  }

  /** Builds the configuration from a value for every setting, each already checked against the table. */
  static ServerConfig of(Map<Setting, Object> values) {
    Values v = new Values(values);
    return new ServerConfig(
      new Http(v.text(HTTP_HOST), v.integer(HTTP_PORT), v.integer(HTTP_INSTANCES), v.integer(HTTP_IDLE_TIMEOUT_SECONDS),
        v.integer(HTTP_MAX_HEADER_BYTES), v.integer(HTTP_MAX_HEADERS), v.whole(HTTP_LINGER_MILLIS),
        v.integer(HTTP_SHUTDOWN_SECONDS), v.flag(HTTP_PAGE), v.integer(HTTP_WARMUP_REQUESTS),
        v.whole(HTTP_WARMUP_BYTES)),
      new Storage(Path.of(v.text(STORAGE_DATA_DIR)).toAbsolutePath().normalize(), v.whole(STORAGE_SWEEP_GRACE_SECONDS),
        v.whole(STORAGE_SWEEP_INTERVAL_SECONDS), v.whole(STORAGE_MIN_FREE_BYTES), v.text(STORAGE_BACKEND),
        new S3(v.text(STORAGE_S3_ENDPOINT), v.text(STORAGE_S3_REGION), v.text(STORAGE_S3_BUCKET),
          v.text(STORAGE_S3_PREFIX), v.flag(STORAGE_S3_PATH_STYLE), v.text(STORAGE_S3_CHECKSUM),
          v.integer(STORAGE_S3_MAX_ATTEMPTS), v.whole(STORAGE_S3_API_TIMEOUT_MILLIS),
          v.whole(STORAGE_S3_ATTEMPT_TIMEOUT_MILLIS), v.integer(STORAGE_S3_MAX_PUTS), v.whole(STORAGE_S3_PRESIGN_SECONDS))),
      new Database(v.text(DATABASE_URL), v.integer(DATABASE_POOL_SIZE), v.integer(DATABASE_CACHE_SECONDS),
        v.integer(DATABASE_CACHE_ENTRIES)),
      new Upload(v.whole(UPLOAD_MAX_BYTES), v.integer(UPLOAD_MIN_BYTES), v.integer(UPLOAD_MULTIPART_OVERHEAD),
        v.integer(UPLOAD_WRITE_BUFFER_BYTES), v.integer(UPLOAD_PROGRESS_LOG_BYTES), v.integer(UPLOAD_MIN_BYTES_PER_SECOND),
        v.integer(UPLOAD_MIN_RATE_WINDOW_SECONDS), v.integer(UPLOAD_MAX_DIMENSION), v.whole(UPLOAD_MAX_PIXELS),
        v.flag(UPLOAD_STRIP_METADATA), v.whole(UPLOAD_WRITE_BUDGET_BYTES)),
      new Auth(v.text(AUTH_JWT_SECRET), v.integer(AUTH_TOKEN_TTL_SECONDS)),
      new Limits(v.integer(LIMITS_MAX_UPLOADS), v.integer(LIMITS_MAX_UPLOADS_PER_USER),
        v.integer(LIMITS_USER_WRITES_PER_MINUTE), v.integer(LIMITS_USER_BURST),
        v.integer(LIMITS_ADDRESS_WRITES_PER_SECOND), v.integer(LIMITS_ADDRESS_BURST)),
      new Management(v.text(MANAGEMENT_HOST), v.integer(MANAGEMENT_PORT), v.text(MANAGEMENT_METRICS_TOKEN)),
      new Variants(Variants.parseSizes(v.text(VARIANTS_SIZES)), v.text(VARIANTS_ENGINE), v.integer(VARIANTS_WORKERS),
        v.integer(VARIANTS_QUEUE), v.whole(VARIANTS_MAX_SOURCE_PIXELS), v.integer(VARIANTS_MAX_ANIMATION_FRAMES),
        v.whole(VARIANTS_MAX_ANIMATION_PIXELS), v.whole(VARIANTS_MAX_ANIMATION_SOURCE_PIXELS)));
  }

  /** Typed reads of checked values: the table's ranges make every narrowing exact. */
  private record Values(Map<Setting, Object> values) {
    long whole(Setting setting) {
      return (Long) values.get(setting);
    }

    int integer(Setting setting) {
      return Math.toIntExact(whole(setting));
    }

    boolean flag(Setting setting) {
      return (Boolean) values.get(setting);
    }

    String text(Setting setting) {
      return (String) values.get(setting);
    }
  }
}
