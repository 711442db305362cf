package io.avatarserver.config;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;

/**
 * Every setting of the server, read once at start. Each section documents its fields with their
 * defaults; {@code conf/config.json} ships the same defaults and the README's table describes them.
 */
public record ServerConfig(Http http, Storage storage, Database database, Upload upload) {

  /**
   * The HTTP listener.
   *
   * @param host           address to bind; default {@code 0.0.0.0}
   * @param port           TCP port; default 8080; 0 picks a free port (tests)
   * @param instances      event-loop verticle instances; default 0, which means one per available processor
   * @param idleTimeoutSeconds a connection that sends and receives nothing this long is closed (and its
   *                       upload, if any, discarded); default 30; 0 disables the timeout
   * @param lingerMillis   after an early refusal (413, 404, …) while the client is still sending a body, how
   *                       long the server keeps reading and discarding it before closing the connection, so
   *                       the client sees the answer instead of a TCP reset; default 2000; 0 closes at once
   */
  public record Http(String host, int port, int instances, int idleTimeoutSeconds, long lingerMillis) {
    public Http {
      requireRange("http.port", port, 0, 65535);
      requireRange("http.instances", instances, 0, 1024);
      requireRange("http.idleTimeoutSeconds", idleTimeoutSeconds, 0, 86_400);
      requireRange("http.lingerMillis", lingerMillis, 0, 600_000);
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
   */
  public record Storage(Path dataDir) {
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
   */
  public record Database(String url, int poolSize) {
    public Database {
      url = url == null ? "" : url.trim();
      requireRange("database.poolSize", poolSize, 1, 1000);
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
   * @param writeBufferBytes  request chunks are coalesced into file writes of this size; default 65536
   *                          (measured: fewer, larger writes are markedly faster than one write per 8 KiB chunk)
   * @param progressLogBytes  a DEBUG progress line every this many bytes; default 262144 (256 KiB)
   */
  public record Upload(long maxBytes, int minBytes, int multipartOverhead, int writeBufferBytes, int progressLogBytes) {
    public Upload {
      requireRange("upload.maxBytes", maxBytes, 1, Long.MAX_VALUE / 2);
      requireRange("upload.minBytes", minBytes, 0, maxBytes);
      requireRange("upload.multipartOverhead", multipartOverhead, 0, 1 << 20);
      requireRange("upload.writeBufferBytes", writeBufferBytes, 512, 8 << 20);
      requireRange("upload.progressLogBytes", progressLogBytes, 1, Integer.MAX_VALUE);
    }
  }

  /** Reads a config object (see {@link ConfigLoader}); every missing field takes its default. */
  public static ServerConfig fromJson(JsonObject json) {
    JsonObject http = section(json, "http");
    JsonObject storage = section(json, "storage");
    JsonObject database = section(json, "database");
    JsonObject upload = section(json, "upload");
    return new ServerConfig(
      new Http(
        http.getString("host", "0.0.0.0"),
        http.getInteger("port", 8080),
        http.getInteger("instances", 0),
        http.getInteger("idleTimeoutSeconds", 30),
        http.getLong("lingerMillis", 2000L)),
      new Storage(Path.of(storage.getString("dataDir", "./data")).toAbsolutePath().normalize()),
      new Database(database.getString("url", ""), database.getInteger("poolSize", 16)),
      new Upload(
        upload.getLong("maxBytes", 10L * 1024 * 1024),
        upload.getInteger("minBytes", 100),
        upload.getInteger("multipartOverhead", 16 * 1024),
        upload.getInteger("writeBufferBytes", 64 * 1024),
        upload.getInteger("progressLogBytes", 256 * 1024)));
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
