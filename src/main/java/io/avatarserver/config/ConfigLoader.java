package io.avatarserver.config;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds the {@link ServerConfig} from, in rising precedence: built-in defaults, a JSON file
 * ({@code conf/config.json} unless {@code AVATAR_CONFIG} names another; a missing default file is
 * fine), and environment variables. Runs on the main thread before Vert.x starts, so plain blocking
 * file reads are fine here.
 */
public final class ConfigLoader {

  /** Environment overrides, each documented in the README. */
  public static final String ENV_CONFIG = "AVATAR_CONFIG";
  public static final String ENV_HTTP_PORT = "AVATAR_HTTP_PORT";
  public static final String ENV_DATA_DIR = "AVATAR_DATA_DIR";
  public static final String ENV_DB_URL = "AVATAR_DB_URL";
  public static final String ENV_JWT_SECRET = "AVATAR_JWT_SECRET";
  public static final String ENV_SWEEP_GRACE = "AVATAR_SWEEP_GRACE_SECONDS";
  public static final String ENV_SWEEP_INTERVAL = "AVATAR_SWEEP_INTERVAL_SECONDS";
  public static final String ENV_METRICS_TOKEN = "AVATAR_METRICS_TOKEN";

  private static final Path DEFAULT_FILE = Path.of("conf", "config.json");

  private ConfigLoader() {
  }

  public static ServerConfig load(Map<String, String> env) {
    String named = env.get(ENV_CONFIG);
    Path file = named == null || named.isBlank() ? DEFAULT_FILE : Path.of(named);
    JsonObject json = new JsonObject();
    if (Files.exists(file)) {
      json = read(file);
    } else if (file != DEFAULT_FILE) {
      throw new IllegalArgumentException(ENV_CONFIG + " names " + file + ", which does not exist");
    }
    return ServerConfig.fromJson(applyEnv(json, env));
  }

  static JsonObject applyEnv(JsonObject json, Map<String, String> env) {
    JsonObject result = json.copy();
    number(env, ENV_HTTP_PORT, result, "http", "port");
    number(env, ENV_SWEEP_GRACE, result, "storage", "sweepGraceSeconds");
    number(env, ENV_SWEEP_INTERVAL, result, "storage", "sweepIntervalSeconds");
    String dataDir = env.get(ENV_DATA_DIR);
    if (dataDir != null && !dataDir.isBlank()) {
      child(result, "storage").put("dataDir", dataDir.trim());
    }
    String dbUrl = env.get(ENV_DB_URL);
    if (dbUrl != null && !dbUrl.isBlank()) {
      child(result, "database").put("url", dbUrl.trim());
    }
    String metricsToken = env.get(ENV_METRICS_TOKEN);
    if (metricsToken != null && !metricsToken.isBlank()) {
      child(result, "management").put("metricsToken", metricsToken.trim());
    }
    String secret = env.get(ENV_JWT_SECRET);
    if (secret != null && !secret.isBlank()) {
      child(result, "auth").put("jwtSecret", secret.trim());
    }
    return result;
  }

  private static void number(Map<String, String> env, String name, JsonObject json, String section, String field) {
    String value = env.get(name);
    if (value != null && !value.isBlank()) {
      try {
        child(json, section).put(field, Long.parseLong(value.trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + " must be a whole number, was '" + value + "'");
      }
    }
  }

  private static JsonObject child(JsonObject json, String name) {
    JsonObject child = json.getJsonObject(name);
    if (child == null) {
      child = new JsonObject();
      json.put(name, child);
    }
    return child;
  }

  private static JsonObject read(Path file) {
    try {
      return new JsonObject(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(file + " is not a JSON object: " + e.getMessage(), e);
    }
  }
}
