package io.avatarserver.config;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;

/**
 * Every setting of the server, read once at start. Each section documents its fields with their
 * defaults; {@code conf/config.json} ships the same defaults and the README's table describes them.
 */
public record ServerConfig(Http http, Storage storage, Database database, Upload upload, Auth auth, Limits limits,
                           Management management) {

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
      requireRange("management.port", port, -1, 65535);
      if (!metricsToken.isEmpty() && metricsToken.length() < 16) {
        throw new IllegalArgumentException("management.metricsToken must have at least 16 characters");
      }
    }

    /** Whether metrics and health have a listener of their own. */
    public boolean separate() {
      return port != 0;
    }
  }

  /**
   * The HTTP listener.
   *
   * @param host           address to bind; default {@code 0.0.0.0}
   * @param port           TCP port; default 8080; 0 picks a free port (tests)
   * @param instances      event-loop verticle instances; default 0, which means one per available processor
   * @param idleTimeoutSeconds a connection that sends and receives nothing this long is closed (and its
   *                       upload, if any, discarded); default 30; 0 disables the timeout
   * @param maxHeaderBytes largest request head (request line and headers) in bytes; default 8192; larger → 431
   * @param maxHeaders     most header fields a request may carry; default 64; more → 431
   * @param lingerMillis   after an early refusal (413, 404, …) while the client is still sending a body, how
   *                       long the server keeps reading and discarding it before closing the connection, so
   *                       the client sees the answer instead of a TCP reset; default 2000; 0 closes at once
   * @param page           serve the upload page at {@code /}; default true
   * @param shutdownSeconds on SIGTERM, how long uploads in flight may take to finish before they are aborted
   *                       and cleaned up; default 30
   */
  public record Http(String host, int port, int instances, int idleTimeoutSeconds, int maxHeaderBytes, int maxHeaders,
                     long lingerMillis, int shutdownSeconds, boolean page) {
    public Http {
      requireRange("http.port", port, 0, 65535);
      requireRange("http.instances", instances, 0, 1024);
      requireRange("http.idleTimeoutSeconds", idleTimeoutSeconds, 0, 86_400);
      requireRange("http.maxHeaderBytes", maxHeaderBytes, 1024, 1 << 20);
      requireRange("http.maxHeaders", maxHeaders, 8, 10_000);
      requireRange("http.lingerMillis", lingerMillis, 0, 600_000);
      requireRange("http.shutdownSeconds", shutdownSeconds, 0, 3600);
    }

    public int effectiveInstances() {
      return instances == 0 ? Runtime.getRuntime().availableProcessors() : instances;
    }
  }

  /**
   * Where the bytes live.
   *
   * @param dataDir directory for avatar files ({@code avatars/}), uploads in progress ({@code tmp/}) and the
   *                embedded database; default {@code ./data}; created when missing
   * @param sweepGraceSeconds    the recovery sweep deletes temporary files, and avatar files no row references,
   *                             only when they are older than this; default 3600. It must exceed the longest
   *                             upload, so that another instance's uploads in flight are safe
   * @param sweepIntervalSeconds the sweep runs at start and then this often; default 900; 0 = at start only
   * @param minFreeBytes         {@code /health/ready} reports DOWN below this much free space; default 104857600
   */
  public record Storage(Path dataDir, long sweepGraceSeconds, long sweepIntervalSeconds, long minFreeBytes) {
    public Storage {
      requireRange("storage.sweepGraceSeconds", sweepGraceSeconds, 0, 365L * 86_400);
      requireRange("storage.sweepIntervalSeconds", sweepIntervalSeconds, 0, 365L * 86_400);
      requireRange("storage.minFreeBytes", minFreeBytes, 0, Long.MAX_VALUE);
    }

    public Path avatarsDir() {
      return dataDir.resolve("avatars");
    }

    public Path tmpDir() {
      return dataDir.resolve("tmp");
    }
  }

  /**
   * The metadata database.
   *
   * @param url      {@code postgresql://user@host:port/db} selects the reactive PostgreSQL client;
   *                 {@code jdbc:h2:…} the JDBC client; empty (the default) means an embedded H2 database at
   *                 {@code dataDir/avatar-db}
   * @param poolSize maximum connections; default 16
   * @param cacheSeconds how long users and avatar rows read from the database are served from memory;
   *                 default 1; 0 reads the database every time. Writes through this server are seen at
   *                 once; writes by another server process sharing the database within this time
   * @param cacheEntries how many users, and as many avatar rows, the cache holds at most; default 10000
   */
  public record Database(String url, int poolSize, int cacheSeconds, int cacheEntries) {
    public Database {
      url = url == null ? "" : url.trim();
      requireRange("database.poolSize", poolSize, 1, 1000);
      requireRange("database.cacheSeconds", cacheSeconds, 0, 3600);
      requireRange("database.cacheEntries", cacheEntries, 1, 10_000_000);
    }

    public boolean isPostgres() {
      return url.startsWith("postgresql://") || url.startsWith("postgres://");
    }
  }

  /**
   * The upload pipeline's limits.
   *
   * @param maxBytes          largest accepted avatar in bytes; default 10485760 (10 MiB)
   * @param minBytes          smallest accepted avatar in bytes; default 100; 0 accepts any non-empty file
   *                          whose first bytes identify an image
   * @param multipartOverhead bytes a multipart request may carry beyond {@code maxBytes} (boundaries and part
   *                          headers) before its Content-Length alone is refused; default 16384
   * @param writeBufferBytes  request chunks are coalesced into file writes of this size; default 262144
   *                          (measured: fewer, larger writes are markedly faster than one write per 8 KiB chunk)
   * @param progressLogBytes  a DEBUG progress line every this many bytes; default 262144 (256 KiB)
   * @param minBytesPerSecond a body that arrives slower than this, averaged over {@code minRateWindowSeconds},
   *                          is cut with 408 and discarded (slowloris); default 1024; 0 disables the check
   * @param minRateWindowSeconds the window of that average; default 30
   * @param maxDimension      largest width or height of an image, read from its header; default 4096; larger → 422
   * @param maxPixels         largest width × height; default 16777216 (16.7 Mpx); larger → 422
   * @param stripMetadata     remove EXIF (but the orientation), XMP, comments and text chunks while streaming;
   *                          default true
   * @param writeBudgetBytes  memory all uploads together may hold in coalescing buffers; default 0, which
   *                          means a quarter of the maximum heap; beyond it uploads write chunk by chunk
   */
  public record Upload(long maxBytes, int minBytes, int multipartOverhead, int writeBufferBytes, int progressLogBytes,
                       int minBytesPerSecond, int minRateWindowSeconds, int maxDimension, long maxPixels,
                       boolean stripMetadata, long writeBudgetBytes) {
    public Upload {
      requireRange("upload.maxBytes", maxBytes, 1, Long.MAX_VALUE / 2);
      requireRange("upload.minBytes", minBytes, 0, maxBytes);
      requireRange("upload.multipartOverhead", multipartOverhead, 0, 1 << 20);
      requireRange("upload.writeBufferBytes", writeBufferBytes, 512, 8 << 20);
      requireRange("upload.progressLogBytes", progressLogBytes, 1, Integer.MAX_VALUE);
      requireRange("upload.minBytesPerSecond", minBytesPerSecond, 0, Integer.MAX_VALUE);
      requireRange("upload.minRateWindowSeconds", minRateWindowSeconds, 1, 3600);
      requireRange("upload.maxDimension", maxDimension, 1, 65_535);
      requireRange("upload.maxPixels", maxPixels, 1, 1L << 32);
      requireRange("upload.writeBudgetBytes", writeBudgetBytes, 0, Long.MAX_VALUE);
    }
  }

  /**
   * Bearer-token authentication.
   *
   * @param jwtSecret       HS256 signing secret (at least 32 bytes); empty (the default) means the file
   *                        {@code dataDir/jwt-secret}, generated on first start with mode 0600 and reused
   * @param tokenTtlSeconds lifetime of tokens minted by the {@code token} and {@code users create} commands;
   *                        default 86400
   */
  public record Auth(String jwtSecret, int tokenTtlSeconds) {
    public Auth {
      jwtSecret = jwtSecret == null ? "" : jwtSecret;
      requireRange("auth.tokenTtlSeconds", tokenTtlSeconds, 1, 10 * 365 * 86_400);
    }
  }

  /**
   * Abuse limits, each decided before a request body is read. 0 disables a limit.
   *
   * @param maxUploads             uploads in flight in the whole server; default 4096; beyond → 503
   * @param maxUploadsPerUser      uploads in flight for one user; default 4; beyond → 429
   * @param userWritesPerMinute    sustained writes (uploads, deletes) per user and minute; default 60; beyond → 429
   * @param userBurst              writes a user may make at once before that rate applies; default 20
   * @param addressWritesPerSecond sustained write requests per client address and second; default 2000 (a load
   *                               generator on one machine must stay under it); beyond → 429
   * @param addressBurst           write requests an address may make at once; default 4000
   */
  public record Limits(int maxUploads, int maxUploadsPerUser, int userWritesPerMinute, int userBurst,
                       int addressWritesPerSecond, int addressBurst) {
    public Limits {
      requireRange("limits.maxUploads", maxUploads, 0, 1_000_000);
      requireRange("limits.maxUploadsPerUser", maxUploadsPerUser, 0, 1_000_000);
      requireRange("limits.userWritesPerMinute", userWritesPerMinute, 0, 1_000_000);
      requireRange("limits.userBurst", userBurst, 0, 1_000_000);
      requireRange("limits.addressWritesPerSecond", addressWritesPerSecond, 0, 1_000_000);
      requireRange("limits.addressBurst", addressBurst, 0, 1_000_000);
    }
  }

  /** Reads a config object (see {@link ConfigLoader}); every missing field takes its default. */
  public static ServerConfig fromJson(JsonObject json) {
    JsonObject http = section(json, "http");
    JsonObject storage = section(json, "storage");
    JsonObject database = section(json, "database");
    JsonObject upload = section(json, "upload");
    JsonObject auth = section(json, "auth");
    JsonObject limits = section(json, "limits");
    JsonObject management = section(json, "management");
    return new ServerConfig(
      new Http(
        http.getString("host", "0.0.0.0"),
        http.getInteger("port", 8080),
        http.getInteger("instances", 0),
        http.getInteger("idleTimeoutSeconds", 30),
        http.getInteger("maxHeaderBytes", 8192),
        http.getInteger("maxHeaders", 64),
        http.getLong("lingerMillis", 2000L),
        http.getInteger("shutdownSeconds", 30),
        http.getBoolean("page", true)),
      new Storage(Path.of(storage.getString("dataDir", "./data")).toAbsolutePath().normalize(),
        storage.getLong("sweepGraceSeconds", 3600L),
        storage.getLong("sweepIntervalSeconds", 900L),
        storage.getLong("minFreeBytes", 100L * 1024 * 1024)),
      new Database(database.getString("url", ""), database.getInteger("poolSize", 16),
        database.getInteger("cacheSeconds", 1), database.getInteger("cacheEntries", 10_000)),
      new Upload(
        upload.getLong("maxBytes", 10L * 1024 * 1024),
        upload.getInteger("minBytes", 100),
        upload.getInteger("multipartOverhead", 16 * 1024),
        upload.getInteger("writeBufferBytes", 256 * 1024),
        upload.getInteger("progressLogBytes", 256 * 1024),
        upload.getInteger("minBytesPerSecond", 1024),
        upload.getInteger("minRateWindowSeconds", 30),
        upload.getInteger("maxDimension", 4096),
        upload.getLong("maxPixels", 16_777_216L),
        upload.getBoolean("stripMetadata", true),
        upload.getLong("writeBudgetBytes", 0L)),
      new Auth(auth.getString("jwtSecret", ""), auth.getInteger("tokenTtlSeconds", 86_400)),
      new Limits(
        limits.getInteger("maxUploads", 4096),
        limits.getInteger("maxUploadsPerUser", 4),
        limits.getInteger("userWritesPerMinute", 60),
        limits.getInteger("userBurst", 20),
        limits.getInteger("addressWritesPerSecond", 2000),
        limits.getInteger("addressBurst", 4000)),
      new Management(management.getString("host", "127.0.0.1"), management.getInteger("port", 0),
        management.getString("metricsToken", "")));
  }

  private static JsonObject section(JsonObject json, String name) {
    JsonObject section = json.getJsonObject(name);
    return section == null ? new JsonObject() : section;
  }

  private static void requireRange(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", was " + value);
    }
  }
}
