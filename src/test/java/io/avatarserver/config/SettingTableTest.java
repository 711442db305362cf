package io.avatarserver.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("The settings table: its shape, and ServerConfig built from it")
class SettingTableTest {

  /** Where each setting ends up in ServerConfig; every setting must be here. */
  private static final Map<Setting, Function<ServerConfig, Object>> ACCESSORS = new EnumMap<>(Setting.class);

  static {
    ACCESSORS.put(Setting.HTTP_HOST, c -> c.http().host());
    ACCESSORS.put(Setting.HTTP_PORT, c -> c.http().port());
    ACCESSORS.put(Setting.HTTP_INSTANCES, c -> c.http().instances());
    ACCESSORS.put(Setting.HTTP_IDLE_TIMEOUT_SECONDS, c -> c.http().idleTimeoutSeconds());
    ACCESSORS.put(Setting.HTTP_MAX_HEADER_BYTES, c -> c.http().maxHeaderBytes());
    ACCESSORS.put(Setting.HTTP_MAX_HEADERS, c -> c.http().maxHeaders());
    ACCESSORS.put(Setting.HTTP_LINGER_MILLIS, c -> c.http().lingerMillis());
    ACCESSORS.put(Setting.HTTP_SHUTDOWN_SECONDS, c -> c.http().shutdownSeconds());
    ACCESSORS.put(Setting.HTTP_PAGE, c -> c.http().page());
    ACCESSORS.put(Setting.HTTP_WARMUP_REQUESTS, c -> c.http().warmupRequests());
    ACCESSORS.put(Setting.HTTP_WARMUP_BYTES, c -> c.http().warmupBytes());
    ACCESSORS.put(Setting.STORAGE_DATA_DIR, c -> c.storage().dataDir());
    ACCESSORS.put(Setting.STORAGE_SWEEP_GRACE_SECONDS, c -> c.storage().sweepGraceSeconds());
    ACCESSORS.put(Setting.STORAGE_SWEEP_INTERVAL_SECONDS, c -> c.storage().sweepIntervalSeconds());
    ACCESSORS.put(Setting.STORAGE_MIN_FREE_BYTES, c -> c.storage().minFreeBytes());
    ACCESSORS.put(Setting.STORAGE_BACKEND, c -> c.storage().backend());
    ACCESSORS.put(Setting.STORAGE_S3_ENDPOINT, c -> c.storage().s3().endpoint());
    ACCESSORS.put(Setting.STORAGE_S3_REGION, c -> c.storage().s3().region());
    ACCESSORS.put(Setting.STORAGE_S3_BUCKET, c -> c.storage().s3().bucket());
    ACCESSORS.put(Setting.STORAGE_S3_PREFIX, c -> c.storage().s3().prefix());
    ACCESSORS.put(Setting.STORAGE_S3_PATH_STYLE, c -> c.storage().s3().pathStyle());
    ACCESSORS.put(Setting.STORAGE_S3_CHECKSUM, c -> c.storage().s3().checksum());
    ACCESSORS.put(Setting.STORAGE_S3_MAX_ATTEMPTS, c -> c.storage().s3().maxAttempts());
    ACCESSORS.put(Setting.STORAGE_S3_API_TIMEOUT_MILLIS, c -> c.storage().s3().apiTimeoutMillis());
    ACCESSORS.put(Setting.STORAGE_S3_ATTEMPT_TIMEOUT_MILLIS, c -> c.storage().s3().attemptTimeoutMillis());
    ACCESSORS.put(Setting.STORAGE_S3_MAX_PUTS, c -> c.storage().s3().maxPuts());
    ACCESSORS.put(Setting.STORAGE_S3_PRESIGN_SECONDS, c -> c.storage().s3().presignSeconds());
    ACCESSORS.put(Setting.DATABASE_URL, c -> c.database().url());
    ACCESSORS.put(Setting.DATABASE_POOL_SIZE, c -> c.database().poolSize());
    ACCESSORS.put(Setting.DATABASE_CACHE_SECONDS, c -> c.database().cacheSeconds());
    ACCESSORS.put(Setting.DATABASE_CACHE_ENTRIES, c -> c.database().cacheEntries());
    ACCESSORS.put(Setting.UPLOAD_MAX_BYTES, c -> c.upload().maxBytes());
    ACCESSORS.put(Setting.UPLOAD_MIN_BYTES, c -> c.upload().minBytes());
    ACCESSORS.put(Setting.UPLOAD_MULTIPART_OVERHEAD, c -> c.upload().multipartOverhead());
    ACCESSORS.put(Setting.UPLOAD_WRITE_BUFFER_BYTES, c -> c.upload().writeBufferBytes());
    ACCESSORS.put(Setting.UPLOAD_WRITE_BUDGET_BYTES, c -> c.upload().writeBudgetBytes());
    ACCESSORS.put(Setting.UPLOAD_PROGRESS_LOG_BYTES, c -> c.upload().progressLogBytes());
    ACCESSORS.put(Setting.UPLOAD_MIN_BYTES_PER_SECOND, c -> c.upload().minBytesPerSecond());
    ACCESSORS.put(Setting.UPLOAD_MIN_RATE_WINDOW_SECONDS, c -> c.upload().minRateWindowSeconds());
    ACCESSORS.put(Setting.UPLOAD_MAX_DIMENSION, c -> c.upload().maxDimension());
    ACCESSORS.put(Setting.UPLOAD_MAX_PIXELS, c -> c.upload().maxPixels());
    ACCESSORS.put(Setting.UPLOAD_STRIP_METADATA, c -> c.upload().stripMetadata());
    ACCESSORS.put(Setting.AUTH_JWT_SECRET, c -> c.auth().jwtSecret());
    ACCESSORS.put(Setting.AUTH_TOKEN_TTL_SECONDS, c -> c.auth().tokenTtlSeconds());
    ACCESSORS.put(Setting.LIMITS_MAX_UPLOADS, c -> c.limits().maxUploads());
    ACCESSORS.put(Setting.LIMITS_MAX_UPLOADS_PER_USER, c -> c.limits().maxUploadsPerUser());
    ACCESSORS.put(Setting.LIMITS_USER_WRITES_PER_MINUTE, c -> c.limits().userWritesPerMinute());
    ACCESSORS.put(Setting.LIMITS_USER_BURST, c -> c.limits().userBurst());
    ACCESSORS.put(Setting.LIMITS_ADDRESS_WRITES_PER_SECOND, c -> c.limits().addressWritesPerSecond());
    ACCESSORS.put(Setting.LIMITS_ADDRESS_BURST, c -> c.limits().addressBurst());
    ACCESSORS.put(Setting.MANAGEMENT_HOST, c -> c.management().host());
    ACCESSORS.put(Setting.MANAGEMENT_PORT, c -> c.management().port());
    ACCESSORS.put(Setting.MANAGEMENT_METRICS_TOKEN, c -> c.management().metricsToken());
    ACCESSORS.put(Setting.VARIANTS_SIZES, c -> c.variants().sizes().stream().map(String::valueOf)
      .collect(java.util.stream.Collectors.joining(",")));
    ACCESSORS.put(Setting.VARIANTS_ENGINE, c -> c.variants().engine());
    ACCESSORS.put(Setting.VARIANTS_WORKERS, c -> c.variants().workers());
    ACCESSORS.put(Setting.VARIANTS_QUEUE, c -> c.variants().queue());
    ACCESSORS.put(Setting.VARIANTS_MAX_SOURCE_PIXELS, c -> c.variants().maxSourcePixels());
    ACCESSORS.put(Setting.VARIANTS_MAX_ANIMATION_FRAMES, c -> c.variants().maxAnimationFrames());
    ACCESSORS.put(Setting.VARIANTS_MAX_ANIMATION_PIXELS, c -> c.variants().maxAnimationPixels());
    ACCESSORS.put(Setting.VARIANTS_MAX_ANIMATION_SOURCE_PIXELS, c -> c.variants().maxAnimationSourcePixels());
  }

  /** The accessor's value in the table's terms: numbers as Long, the data directory as the text it was given. */
  private static Object read(Setting setting, ServerConfig config) {
    Object value = ACCESSORS.get(setting).apply(config);
    return value instanceof Integer i ? Long.valueOf(i) : value;
  }

  /** An allowed value other than the default, as it would be written in the environment. */
  private static String another(Setting setting) {
    return switch (setting) {
      case HTTP_HOST -> "127.0.0.1";
      case STORAGE_DATA_DIR -> "/srv/avatars";
      case DATABASE_URL -> "postgresql://avatar@db.example:5432/avatars";
      case AUTH_JWT_SECRET -> "0123456789abcdef0123456789abcdef";
      case MANAGEMENT_HOST -> "0.0.0.0";
      case MANAGEMENT_METRICS_TOKEN -> "a-metrics-token-of-24ch";
      case STORAGE_BACKEND -> "s3";
      case STORAGE_S3_ENDPOINT -> "http://127.0.0.1:9000";
      case STORAGE_S3_REGION -> "eu-west-1";
      case STORAGE_S3_BUCKET -> "avatars";
      case STORAGE_S3_PREFIX -> "tenant/";
      case STORAGE_S3_CHECKSUM -> "when_required";
      case VARIANTS_SIZES -> "64,128";
      case VARIANTS_ENGINE -> "java";
      default -> {
        Object value = setting.defaultValue();
        if (value instanceof Boolean b) {
          yield String.valueOf(!b);
        }
        long whole = (Long) value;
        yield String.valueOf(setting.parse(String.valueOf(whole + 1)) != null ? whole + 1 : whole - 1);
      }
    };
  }

  @Test
  @DisplayName("Every setting reaches its own ServerConfig accessor (and the test's list of them is complete)")
  void accessors() {
    assertEquals(Set.of(Setting.values()), ACCESSORS.keySet());
    ServerConfig defaults = ServerConfig.fromJson(new JsonObject());
    for (Setting setting : Setting.values()) {
      Map<String, String> env = Map.of(setting.env(), another(setting));
      ServerConfig changed = ConfigLoader.resolve(new JsonObject(), "test", env);
      for (Setting other : Setting.values()) {
        if (other == setting) {
          Object expected = setting == Setting.STORAGE_DATA_DIR ? Path.of(another(setting)) : setting.parse(another(setting));
          assertEquals(expected, read(setting, changed), setting.env());
        } else {
          assertEquals(read(other, defaults), read(other, changed), setting.env() + " must change only " + setting.key());
        }
      }
    }
  }

  @Test
  @DisplayName("The defaults of ServerConfig are the table's")
  void defaults() {
    ServerConfig config = ServerConfig.fromJson(new JsonObject());
    for (Setting setting : Setting.values()) {
      Object expected = setting == Setting.STORAGE_DATA_DIR
        ? Path.of(setting.defaultText()).toAbsolutePath().normalize() : setting.defaultValue();
      assertEquals(expected, read(setting, config), setting.key());
    }
    // The values the rest of the server relies on, spelled out once more.
    assertEquals(8080, config.http().port());
    assertEquals(10L * 1024 * 1024, config.upload().maxBytes());
    assertEquals("", config.database().url());
    assertEquals(Path.of("data").toAbsolutePath(), config.storage().dataDir());
    assertTrue(config.http().page());
  }

  @Test
  @DisplayName("The records check what code builds directly against the same table")
  void recordsCheck() {
    ConfigException port = assertThrows(ConfigException.class,
      () -> new ServerConfig.Http("0.0.0.0", 70_000, 0, 30, 8192, 64, 2000, 30, true, 0, 0));
    assertEquals("invalid configuration: http.port = 70000 is not allowed: it must be a whole number from 0 to 65535",
      port.getMessage());
    assertThrows(ConfigException.class, () -> new ServerConfig.Upload(100, 200, 0, 512, 1, 0, 1, 1, 1, true, 0));
    assertThrows(ConfigException.class, () -> new ServerConfig.Database("mysql://x", 1, 0, 1));
    assertThrows(ConfigException.class, () -> new ServerConfig.Limits(0, 0, 0, 0, 0, -1));
    assertThrows(ConfigException.class, () -> new ServerConfig.Storage(Path.of("/x"), -1, 0, 0));
    assertThrows(ConfigException.class, () -> new ServerConfig.Auth("short", 60));
  }

  @Test
  @DisplayName("Keys are section.camelCase and unique, every default is allowed, every setting documented")
  void shape() {
    Pattern key = Pattern.compile("[a-z]+\\.[a-z][a-zA-Z0-9]*");
    Set<String> keys = new HashSet<>();
    for (Setting setting : Setting.values()) {
      assertTrue(key.matcher(setting.key()).matches(), setting.key());
      assertTrue(keys.add(setting.key()), setting.key());
      assertTrue(Setting.SECTIONS.contains(setting.section()), setting.key());
      assertNotNull(setting.defaultValue(), setting.key() + "'s default is not allowed by its own kind");
      assertNotNull(setting.accept(setting.defaultValue()), setting.key());
      assertTrue(!setting.doc().isBlank() && !setting.doc().contains("|") && !setting.doc().contains("\n"), setting.key());
      assertEquals(setting, Setting.byKey(setting.key()));
    }
  }

  @Test
  @DisplayName("Every setting has its AVATAR_<SECTION>_<KEY> variable; the older names are aliases of the right settings")
  void environmentNames() {
    assertEquals("AVATAR_STORAGE_SWEEP_GRACE_SECONDS", Setting.STORAGE_SWEEP_GRACE_SECONDS.env());
    assertEquals("AVATAR_HTTP_PORT", Setting.HTTP_PORT.env());
    assertEquals("AVATAR_UPLOAD_MIN_BYTES_PER_SECOND", Setting.UPLOAD_MIN_BYTES_PER_SECOND.env());
    assertEquals("AVATAR_AUTH_JWT_SECRET", Setting.AUTH_JWT_SECRET.env());
    Map<String, Setting> byName = new HashMap<>();
    for (Setting setting : Setting.values()) {
      assertEquals("AVATAR_" + setting.section().toUpperCase() + "_" + Setting.upperSnake(setting.field()), setting.env());
      for (String name : Stream.concat(Stream.of(setting.env()), setting.aliases().stream()).toList()) {
        assertEquals(null, byName.put(name, setting), name + " names two settings");
        assertTrue(!ConfigLoader.NON_SETTINGS.contains(name) && !name.startsWith(ConfigLoader.TEST_PREFIX), name);
      }
    }
    assertEquals(Map.of(
        "AVATAR_DATA_DIR", Setting.STORAGE_DATA_DIR,
        "AVATAR_DB_URL", Setting.DATABASE_URL,
        "AVATAR_JWT_SECRET", Setting.AUTH_JWT_SECRET,
        "AVATAR_SWEEP_GRACE_SECONDS", Setting.STORAGE_SWEEP_GRACE_SECONDS,
        "AVATAR_SWEEP_INTERVAL_SECONDS", Setting.STORAGE_SWEEP_INTERVAL_SECONDS),
      Map.copyOf(Stream.of(Setting.values()).flatMap(s -> s.aliases().stream().map(a -> Map.entry(a, s)))
        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue))));
    List<String> old = List.of("AVATAR_HTTP_PORT", "AVATAR_DATA_DIR", "AVATAR_DB_URL",
      "AVATAR_JWT_SECRET", "AVATAR_SWEEP_GRACE_SECONDS", "AVATAR_SWEEP_INTERVAL_SECONDS");
    old.forEach(name -> assertNotNull(byName.get(name), name));
  }
}
