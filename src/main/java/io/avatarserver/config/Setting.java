package io.avatarserver.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * Every setting of the server, in one table: its key ({@code section.name}, as in the JSON file), its
 * kind and allowed values, its default, its environment variable ({@code AVATAR_<SECTION>_<NAME>}, the
 * name in UPPER_SNAKE case; a few settings also answer to an older name) and one line of documentation.
 * Defaults are declared here and nowhere else; {@link ConfigLoader} layers the JSON file and the
 * environment over them and {@link ServerConfig} is built from the result. The README's configuration
 * table is this table, rendered by {@link #markdownRow()} (a test keeps the two equal).
 */
public enum Setting {

  HTTP_HOST("http.host", Kind.text("non-empty", v -> !v.isBlank()), "0.0.0.0",
    "address to bind"),
  HTTP_PORT("http.port", Kind.whole(0, 65_535), "8080",
    "TCP port; 0 picks a free one"),
  HTTP_INSTANCES("http.instances", Kind.whole(0, 1024), "0",
    "event-loop verticles; 0 = one per processor"),
  HTTP_IDLE_TIMEOUT_SECONDS("http.idleTimeoutSeconds", Kind.whole(0, 86_400), "30",
    "close a connection idle this long (its upload is discarded); not counted while the server owes the answer"
      + " to a request read to its end; 0 = never"),
  HTTP_MAX_HEADER_BYTES("http.maxHeaderBytes", Kind.whole(1024, 1 << 20), "8192",
    "largest request head (request line and headers); beyond → 431"),
  HTTP_MAX_HEADERS("http.maxHeaders", Kind.whole(8, 10_000), "64",
    "most header fields; beyond → 431"),
  HTTP_LINGER_MILLIS("http.lingerMillis", Kind.whole(0, 600_000), "2000",
    "after an early refusal, how long to discard a body still arriving before closing, so the client sees"
      + " the answer rather than a reset; 0 = close at once"),
  HTTP_SHUTDOWN_SECONDS("http.shutdownSeconds", Kind.whole(0, 3600), "30",
    "on SIGTERM, how long uploads in flight may take before they are aborted"),
  HTTP_PAGE("http.page", Kind.flag(), "true",
    "serve the upload page at `/`"),
  HTTP_WARMUP_REQUESTS("http.warmupRequests", Kind.whole(0, 1_000_000), "3000",
    "before the listener opens, this many uploads over loopback through the same routes, pipeline, storage and"
      + " database, by a reserved user deleted afterwards with all it stored, so the first clients meet a warm JIT;"
      + " 0 = none"),
  HTTP_WARMUP_BYTES("http.warmupBytes", Kind.whole(0, 1L << 40), "67108864",
    "before that, this many bytes of synthetic uploads through the upload pipeline alone (hash, parser, writer),"
      + " so that SHA-256 is compiled with its CPU intrinsic first; 0 = none"),

  STORAGE_DATA_DIR("storage.dataDir", Kind.path(), "./data",
    "avatars (`avatars/`), uploads in progress (`tmp/`) and the embedded database; created when missing",
    "AVATAR_DATA_DIR"),
  STORAGE_SWEEP_GRACE_SECONDS("storage.sweepGraceSeconds", Kind.whole(0, 365L * 86_400), "3600",
    "the sweep deletes temporary and unreferenced files only when older than this; must exceed the longest upload",
    "AVATAR_SWEEP_GRACE_SECONDS"),
  STORAGE_SWEEP_INTERVAL_SECONDS("storage.sweepIntervalSeconds", Kind.whole(0, 365L * 86_400), "900",
    "the sweep runs at start and this often; 0 = at start only",
    "AVATAR_SWEEP_INTERVAL_SECONDS"),
  STORAGE_MIN_FREE_BYTES("storage.minFreeBytes", Kind.whole(0, Long.MAX_VALUE), "104857600",
    "`/health/ready` is DOWN below this much free space (with `s3`: in the staging directory)"),
  STORAGE_BACKEND("storage.backend", Kind.text("`local` or `s3`", v -> v.equals("local") || v.equals("s3")), "local",
    "where avatars are stored: `local` = files under `dataDir/avatars/`; `s3` = objects in an S3-compatible store"
      + " (AWS S3, MinIO, Ceph, R2), uploads still staged in `dataDir/tmp/`; credentials from `AWS_ACCESS_KEY_ID` and"
      + " `AWS_SECRET_ACCESS_KEY` or the standard AWS chain"),
  STORAGE_S3_ENDPOINT("storage.s3Endpoint", Kind.text("empty, or an `http://` or `https://` URL",
    v -> v.isEmpty() || v.startsWith("http://") || v.startsWith("https://")), "",
    "the object store's URL (MinIO, Ceph, R2…); empty = AWS S3 in `storage.s3Region`"),
  STORAGE_S3_REGION("storage.s3Region", Kind.text("a region name", v -> v.matches("[a-z0-9-]+")), "us-east-1",
    "the region signed for (any for most S3-compatible stores)"),
  STORAGE_S3_BUCKET("storage.s3Bucket", Kind.text("empty, or a bucket name", v -> v.matches("[a-z0-9.-]{0,63}")), "",
    "the bucket (it must exist); required with `storage.backend` `s3`"),
  STORAGE_S3_PREFIX("storage.s3Prefix", Kind.text("empty, or a key prefix not starting with `/`",
    v -> !v.startsWith("/") && v.length() <= 512), "",
    "put before every key: `{prefix}avatars/{userId}/{uuid}.{ext}` (write `tenant/` for a folder)"),
  STORAGE_S3_PATH_STYLE("storage.s3PathStyle", Kind.flag(), "false",
    "address the bucket in the path (`endpoint/bucket/key`, as MinIO and s3proxy need) rather than the host name"),
  STORAGE_S3_CHECKSUM("storage.s3Checksum", Kind.text("`when_supported` or `when_required`",
    v -> v.equals("when_supported") || v.equals("when_required")), "when_supported",
    "the SDK's own request checksums; `when_required` for older S3-compatible stores that refuse them. Uploads"
      + " always carry their SHA-256 (`x-amz-checksum-sha256`), which the store verifies"),
  STORAGE_S3_MAX_ATTEMPTS("storage.s3MaxAttempts", Kind.whole(1, 10), "3",
    "tries of one call to the store, the first included"),
  STORAGE_S3_API_TIMEOUT_MILLIS("storage.s3ApiTimeoutMillis", Kind.whole(100, 600_000), "30000",
    "longest time of one call to the store, all tries included; beyond, uploads answer 503"),
  STORAGE_S3_ATTEMPT_TIMEOUT_MILLIS("storage.s3AttemptTimeoutMillis", Kind.whole(100, 600_000), "10000",
    "longest time of one try; also the longest a GET's body may stop arriving while the client reads it"),
  STORAGE_S3_MAX_PUTS("storage.s3MaxPuts", Kind.whole(1, 1024), "16",
    "PUTs to the store in flight at once; more wait, their bytes on the staging disk, not the heap (each PUT"
      + " holds up to 256 KiB of heap while it sends)"),
  STORAGE_S3_PRESIGN_SECONDS("storage.s3PresignSeconds", Kind.whole(0, 604_800), "0",
    "answer a GET with 302 to a URL of the store signed for this long; 0 = stream the bytes through the server"),

  DATABASE_URL("database.url", Kind.text("empty, `postgresql://…`, `postgres://…` or `jdbc:…`",
    v -> v.isEmpty() || v.startsWith("postgresql://") || v.startsWith("postgres://") || v.startsWith("jdbc:")), "",
    "`postgresql://user:pass@host:5432/db` = PostgreSQL; `jdbc:h2:…` = that H2 database; empty = embedded H2 at"
      + " `dataDir/avatar-db`",
    "AVATAR_DB_URL"),
  DATABASE_POOL_SIZE("database.poolSize", Kind.whole(1, 1000), "16",
    "maximum connections"),
  DATABASE_CACHE_SECONDS("database.cacheSeconds", Kind.whole(0, 3600), "1",
    "users and avatar rows are served from memory this long after a read; 0 = read the database every time."
      + " This server sees its own writes at once; another server process sharing the database sees them"
      + " within this time (a stale row whose file is gone is read again, so only what needs no file can be"
      + " that stale: a `304`, a `HEAD`, `/info`, a presigned `302`)"),
  DATABASE_CACHE_ENTRIES("database.cacheEntries", Kind.whole(1, 10_000_000), "10000",
    "users, and as many avatar rows, held at most"),

  UPLOAD_MAX_BYTES("upload.maxBytes", Kind.whole(1, Long.MAX_VALUE / 2), "10485760",
    "largest accepted avatar (10 MiB); larger → 413"),
  UPLOAD_MIN_BYTES("upload.minBytes", Kind.whole(0, Integer.MAX_VALUE), "100",
    "smallest accepted avatar, at most `upload.maxBytes`; 0 = any size whose first bytes identify an image"),
  UPLOAD_MULTIPART_OVERHEAD("upload.multipartOverhead", Kind.whole(0, 1 << 20), "16384",
    "bytes a multipart request may carry beyond `upload.maxBytes` before its Content-Length alone is refused"),
  UPLOAD_WRITE_BUFFER_BYTES("upload.writeBufferBytes", Kind.whole(512, 8 << 20), "262144",
    "request chunks are coalesced into file writes of this size"),
  UPLOAD_WRITE_BUDGET_BYTES("upload.writeBudgetBytes", Kind.whole(0, Long.MAX_VALUE), "0",
    "memory all uploads together may hold in coalescing buffers; 0 = a quarter of the max heap; beyond it,"
      + " uploads write chunk by chunk"),
  UPLOAD_PROGRESS_LOG_BYTES("upload.progressLogBytes", Kind.whole(1, Integer.MAX_VALUE), "262144",
    "a DEBUG progress line every this many bytes"),
  UPLOAD_MIN_BYTES_PER_SECOND("upload.minBytesPerSecond", Kind.whole(0, Integer.MAX_VALUE), "1024",
    "a body slower than this (averaged over `upload.minRateWindowSeconds`) is cut with 408; 0 = no check"),
  UPLOAD_MIN_RATE_WINDOW_SECONDS("upload.minRateWindowSeconds", Kind.whole(1, 3600), "30",
    "the window of that average"),
  UPLOAD_MAX_DIMENSION("upload.maxDimension", Kind.whole(1, 65_535), "4096",
    "largest width or height; larger → 422"),
  UPLOAD_MAX_PIXELS("upload.maxPixels", Kind.whole(1, 1L << 32), "16777216",
    "largest width × height; more → 422"),
  UPLOAD_STRIP_METADATA("upload.stripMetadata", Kind.flag(), "true",
    "drop EXIF (but the orientation), XMP, comments and text chunks while streaming"),

  AUTH_JWT_SECRET("auth.jwtSecret", Kind.secret("empty, or at least 32 bytes",
    v -> v.isBlank() || v.getBytes(StandardCharsets.UTF_8).length >= 32), "",
    "HS256 signing secret; empty = generated into `dataDir/jwt-secret` (mode 0600) on first start and reused",
    "AVATAR_JWT_SECRET"),
  AUTH_TOKEN_TTL_SECONDS("auth.tokenTtlSeconds", Kind.whole(1, 10L * 365 * 86_400), "86400",
    "lifetime of the tokens the `token` and `users create` commands mint"),

  LIMITS_MAX_UPLOADS("limits.maxUploads", Kind.whole(0, 1_000_000), "4096",
    "uploads in flight in the server; beyond → 503; 0 = unbounded"),
  LIMITS_MAX_UPLOADS_PER_USER("limits.maxUploadsPerUser", Kind.whole(0, 1_000_000), "4",
    "uploads in flight per user; beyond → 429; 0 = unbounded"),
  LIMITS_USER_WRITES_PER_MINUTE("limits.userWritesPerMinute", Kind.whole(0, 1_000_000), "60",
    "sustained writes (uploads, deletes) per user and minute; beyond → 429; 0 = unlimited"),
  LIMITS_USER_BURST("limits.userBurst", Kind.whole(0, 1_000_000), "20",
    "writes a user may make at once before that rate applies"),
  LIMITS_ADDRESS_WRITES_PER_SECOND("limits.addressWritesPerSecond", Kind.whole(0, 1_000_000), "2000",
    "sustained write requests per client address and second (a load generator on one machine must stay"
      + " under it); beyond → 429; 0 = unlimited"),
  LIMITS_ADDRESS_BURST("limits.addressBurst", Kind.whole(0, 1_000_000), "4000",
    "write requests an address may make at once"),

  MANAGEMENT_HOST("management.host", Kind.text("non-empty", v -> !v.isBlank()), "127.0.0.1",
    "address the management listener binds when it has a port of its own (`0.0.0.0` in containers)"),
  MANAGEMENT_PORT("management.port", Kind.whole(-1, 65_535), "0",
    "0 = `/metrics` and `/health*` on the API listener; 1 – 65535 = on a listener of their own, and not on the"
      + " API's; -1 = their own on a free port (tests)"),
  MANAGEMENT_METRICS_TOKEN("management.metricsToken", Kind.secret("empty, or at least 16 characters",
    v -> v.isEmpty() || v.length() >= 16), "",
    "when set, `/metrics` needs `Authorization: Bearer <token>` (401 otherwise); empty = open"),

  VARIANTS_SIZES("variants.sizes", Kind.text("comma-separated sizes from 1 to 4096 px", Setting::isSizeList),
    "16,32,48,64,80,96,128,160,256,320,512,1024",
    "the sizes `?size=N` snaps to (the smallest listed ≥ N, else the largest), never above the original's"
      + " short side"),
  VARIANTS_ENGINE("variants.engine", Kind.text("`auto`, `java` or `vips`",
    v -> v.equals("auto") || v.equals("java") || v.equals("vips")), "java",
    "the render engine: `java` = pure Java (needs nothing installed); `vips` = libvips 8.13+ (`apt-get install"
      + " libvips42`; the start fails without it); `auto` = libvips when the library loads, else pure Java"),
  VARIANTS_WORKERS("variants.workers", Kind.whole(1, 256), "2",
    "renders at once (a worker pool of their own, never an event loop)"),
  VARIANTS_QUEUE("variants.queue", Kind.whole(0, 100_000), "32",
    "renders waiting for a worker at most; beyond, the nearest stored variant or the original is served with"
      + " `max-age=60`"),
  VARIANTS_MAX_SOURCE_PIXELS("variants.maxSourcePixels", Kind.whole(1, 1L << 32), "100000000",
    "an original with more pixels (per frame, read from its header) is not rendered: the original is served"),
  VARIANTS_MAX_ANIMATION_FRAMES("variants.maxAnimationFrames", Kind.whole(1, 100_000), "100",
    "an animated variant keeps its animation up to this many frames, else it is the first frame"),
  VARIANTS_MAX_ANIMATION_PIXELS("variants.maxAnimationPixels", Kind.whole(1, 1L << 40), "6553600",
    "… and up to this many pixels over all its frames at the target size"),
  VARIANTS_MAX_ANIMATION_SOURCE_PIXELS("variants.maxAnimationSourcePixels", Kind.whole(1, 1L << 40), "100000000",
    "… and up to this many pixels over all the original's frames at its own size (frames × width × height from"
      + " the header: what keeping the animation decodes)");

  /** The JSON file's sections, in the table's order. */
  public static final List<String> SECTIONS = List.of("http", "storage", "database", "upload", "auth", "limits",
    "management", "variants");

  private final String key;
  private final Kind kind;
  private final String defaultText;
  private final String doc;
  private final List<String> aliases;

  Setting(String key, Kind kind, String defaultText, String doc, String... aliases) {
    this.key = key;
    this.kind = kind;
    this.defaultText = defaultText;
    this.doc = doc;
    this.aliases = List.of(aliases);
  }

  /** {@code section.name}, as in the JSON file. */
  public String key() {
    return key;
  }

  public String section() {
    return key.substring(0, key.indexOf('.'));
  }

  /** The name inside its section. */
  public String field() {
    return key.substring(key.indexOf('.') + 1);
  }

  /** The environment variable: {@code AVATAR_}, the section and the name in UPPER_SNAKE case. */
  public String env() {
    return "AVATAR_" + section().toUpperCase(Locale.ROOT) + "_" + upperSnake(field());
  }

  /** Older environment variable names that still set this setting. */
  public List<String> aliases() {
    return aliases;
  }

  public Kind kind() {
    return kind;
  }

  /** The default as it would be written in the environment. */
  public String defaultText() {
    return defaultText;
  }

  /** The default, typed as {@link #parse} returns it. */
  public Object defaultValue() {
    return kind.parse(defaultText);
  }

  public String doc() {
    return doc;
  }

  /** Whether a value must never be shown (in error messages, logs). */
  public boolean secret() {
    return kind.secret;
  }

  /**
   * Reads a value given in the environment; null when it is not allowed. Surrounding blanks are
   * ignored.
   */
  Object parse(String text) {
    return kind.parse(text.trim());
  }

  /** Checks a value given in JSON; returns it typed as {@link #parse} does, or null when it is not allowed. */
  Object accept(Object json) {
    return kind.accept(json);
  }

  /**
   * Checks a value set in code, as the {@link ServerConfig} records do for any that bypass the loader:
   * the table's range is the only one.
   */
  void require(Object value) {
    if (accept(value) == null) {
      throw new ConfigException(key + " = " + display(value) + " is not allowed: it must be " + kind.describe());
    }
  }

  /** A value as an error message may show it: secrets hidden, a URL's password masked. */
  String display(Object value) {
    if (secret()) {
      return "(hidden)";
    }
    if (value instanceof String s) {
      return "\"" + s.replaceAll("(://[^/@:]*:)[^/@]*@", "$1***@") + "\"";
    }
    return String.valueOf(value);
  }

  /** This setting's row of the README's configuration table. */
  public String markdownRow() {
    String envs = "`" + env() + "`" + (aliases.isEmpty() ? ""
      : " (or `" + String.join("`, `", aliases) + "`)");
    String shownDefault = defaultText.isEmpty() ? "empty" : "`" + defaultText + "`";
    return "| `" + key + "` | " + envs + " | " + shownDefault + " | " + kind.allowed + " | " + doc + " |";
  }

  /** The setting with this key, or null. */
  public static Setting byKey(String key) {
    for (Setting setting : values()) {
      if (setting.key.equals(key)) {
        return setting;
      }
    }
    return null;
  }

  /** A non-empty comma-separated list of sizes from 1 to 4096 (blanks around them allowed). */
  static boolean isSizeList(String text) {
    String[] parts = text.split(",", -1);
    for (String part : parts) {
      String p = part.trim();
      if (!p.matches("[1-9][0-9]{0,3}") || Integer.parseInt(p) > 4096) {
        return false;
      }
    }
    return true;
  }

  static String upperSnake(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }

  /** What values a setting takes. */
  public static final class Kind {

    private enum Type { WHOLE, FLAG, TEXT, PATH }

    private final Type type;
    private final long min;
    private final long max;
    private final Predicate<String> valid;
    private final boolean secret;
    /** What is allowed, in the README's words (markdown). */
    private final String allowed;

    private Kind(Type type, long min, long max, Predicate<String> valid, boolean secret, String allowed) {
      this.type = type;
      this.min = min;
      this.max = max;
      this.valid = valid;
      this.secret = secret;
      this.allowed = allowed;
    }

    static Kind whole(long min, long max) {
      return new Kind(Type.WHOLE, min, max, null, false,
        max == Long.MAX_VALUE ? "≥ " + min : min + " – " + max);
    }

    static Kind flag() {
      return new Kind(Type.FLAG, 0, 0, null, false, "`true` or `false`");
    }

    static Kind text(String allowed, Predicate<String> valid) {
      return new Kind(Type.TEXT, 0, 0, valid, false, allowed);
    }

    static Kind secret(String allowed, Predicate<String> valid) {
      return new Kind(Type.TEXT, 0, 0, valid, true, allowed);
    }

    static Kind path() {
      return new Kind(Type.PATH, 0, 0, Kind::isPath, false, "a directory path");
    }

    /** What is allowed, in the README's words (markdown). */
    public String allowed() {
      return allowed;
    }

    /** What is allowed, for an error message. */
    public String describe() {
      return switch (type) {
        case WHOLE -> max == Long.MAX_VALUE ? "a whole number ≥ " + min : "a whole number from " + min + " to " + max;
        case FLAG -> "true or false";
        case TEXT -> "text: " + allowed.replace("`", "");
        case PATH -> "a directory path";
      };
    }

    private Object parse(String text) {
      return switch (type) {
        case WHOLE -> {
          try {
            yield inRange(new BigInteger(text));
          } catch (NumberFormatException e) {
            yield null;
          }
        }
        case FLAG -> text.equalsIgnoreCase("true") ? Boolean.TRUE : text.equalsIgnoreCase("false") ? Boolean.FALSE : null;
        case TEXT, PATH -> valid.test(text) ? text : null;
      };
    }

    private Object accept(Object json) {
      return switch (type) {
        case WHOLE -> {
          if (!(json instanceof Number number)) {
            yield null;
          }
          try {
            // Any JSON number with a whole value: 8080, 8080.0 and 1e4 alike.
            yield inRange(new BigDecimal(number.toString()).toBigIntegerExact());
          } catch (ArithmeticException | NumberFormatException e) {
            yield null;
          }
        }
        case FLAG -> json instanceof Boolean ? json : null;
        case TEXT, PATH -> json instanceof String s && valid.test(s) ? s : null;
      };
    }

    private Long inRange(BigInteger value) {
      return value.compareTo(BigInteger.valueOf(min)) >= 0 && value.compareTo(BigInteger.valueOf(max)) <= 0
        ? value.longValueExact() : null;
    }

    private static boolean isPath(String text) {
      if (text.isBlank()) {
        return false;
      }
      try {
        Path.of(text);
        return true;
      } catch (InvalidPathException e) {
        return false;
      }
    }
  }
}
