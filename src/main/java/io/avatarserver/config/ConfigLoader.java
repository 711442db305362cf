package io.avatarserver.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Builds the {@link ServerConfig} from, in rising precedence: the defaults of the {@link Setting}
 * table, a JSON file ({@code conf/config.json} unless {@code AVATAR_CONFIG} names another; a missing
 * default file is fine), and environment variables ({@link Setting#env()}, or an older name in
 * {@link Setting#aliases()}; an empty variable counts as unset). Strict: an unknown key in the file, an
 * unknown {@code AVATAR_*} variable (but {@link #NON_SETTINGS} and {@code AVATAR_TEST_*}), a value of the
 * wrong type or out of range, and a setting given under both its name and an older name with different
 * values, each stop the start with a {@link ConfigException} whose one line says which. Runs on the
 * main thread before Vert.x starts, so plain blocking file reads are fine here.
 */
public final class ConfigLoader {

  /** Names the JSON file; not a setting itself. */
  public static final String ENV_CONFIG = "AVATAR_CONFIG";
  /** The log level of the server's own loggers (read by logback.xml); not a setting of this table. */
  public static final String ENV_LOG_LEVEL = "AVATAR_LOG_LEVEL";
  /** {@code AVATAR_*} variables that are not settings, and so not refused as unknown. */
  public static final Set<String> NON_SETTINGS = Set.of(ENV_CONFIG, ENV_LOG_LEVEL);
  /** Variables of the test suite, never read by the server. */
  public static final String TEST_PREFIX = "AVATAR_TEST_";

  static final Path DEFAULT_FILE = Path.of("conf", "config.json");

  private ConfigLoader() {
  }

  /** The configuration of this process: {@code conf/config.json} (or {@code AVATAR_CONFIG}) and {@code env}. */
  public static ServerConfig load(Map<String, String> env) {
    return load(env, DEFAULT_FILE);
  }

  static ServerConfig load(Map<String, String> env, Path defaultFile) {
    String named = env.get(ENV_CONFIG);
    boolean isNamed = named != null && !named.isBlank();
    Path file = isNamed ? Path.of(named.trim()) : defaultFile;
    JsonObject json = new JsonObject();
    if (Files.exists(file)) {
      json = read(file);
    } else if (isNamed) {
      throw new ConfigException(ENV_CONFIG + " names " + file + ", which does not exist");
    }
    return resolve(json, file.toString(), env);
  }

  /** A value and where it came from, in the words of an error message ("from conf/config.json"). */
  private record Value(Object value, String source) {
  }

  /**
   * The configuration of {@code json} (read from {@code origin}, as error messages name it) over the
   * defaults, with {@code env} over both.
   */
  static ServerConfig resolve(JsonObject json, String origin, Map<String, String> env) {
    Map<Setting, Value> values = new EnumMap<>(Setting.class);
    for (Setting setting : Setting.values()) {
      values.put(setting, new Value(setting.defaultValue(), "by default"));
    }
    fromJson(json, origin, values);
    fromEnv(env, values);
    Value min = values.get(Setting.UPLOAD_MIN_BYTES);
    Value max = values.get(Setting.UPLOAD_MAX_BYTES);
    if ((Long) min.value() > (Long) max.value()) {
      throw new ConfigException(Setting.UPLOAD_MIN_BYTES.key() + " = " + min.value() + " " + min.source()
        + " exceeds " + Setting.UPLOAD_MAX_BYTES.key() + " = " + max.value() + " " + max.source()
        + "; allowed: at most " + Setting.UPLOAD_MAX_BYTES.key());
    }
    Map<Setting, Object> plain = new EnumMap<>(Setting.class);
    values.forEach((setting, value) -> plain.put(setting, value.value()));
    return ServerConfig.of(plain);
  }

  private static void fromJson(JsonObject json, String origin, Map<Setting, Value> values) {
    String source = "from " + origin;
    for (Map.Entry<String, Object> section : json) {
      if (!Setting.SECTIONS.contains(section.getKey())) {
        throw unknownKey(section.getKey(), origin);
      }
      if (!(section.getValue() instanceof JsonObject settings)) {
        throw new ConfigException("\"" + section.getKey() + "\" " + source + " must be an object of settings, was "
          + shown(section.getValue()));
      }
      for (Map.Entry<String, Object> entry : settings) {
        String key = section.getKey() + "." + entry.getKey();
        Setting setting = Setting.byKey(key);
        if (setting == null) {
          throw unknownKey(key, origin);
        }
        Object value = setting.accept(entry.getValue());
        if (value == null) {
          String hint = entry.getValue() instanceof String text && setting.parse(text) != null
            ? " (write it as a JSON " + (setting.defaultValue() instanceof Boolean ? "boolean" : "number")
            + ", without quotes)" : "";
          throw invalid(setting, setting.display(entry.getValue()), source, hint);
        }
        values.put(setting, new Value(value, source));
      }
    }
  }

  private static void fromEnv(Map<String, String> env, Map<Setting, Value> values) {
    List<String> unknown = env.keySet().stream()
      .filter(name -> name.startsWith("AVATAR_") && !NON_SETTINGS.contains(name) && !name.startsWith(TEST_PREFIX))
      .filter(name -> Stream.of(Setting.values())
        .noneMatch(setting -> setting.env().equals(name) || setting.aliases().contains(name)))
      .sorted().toList();
    if (!unknown.isEmpty()) {
      String name = unknown.get(0);
      String suggestion = nearest(name, Stream.of(Setting.values())
        .flatMap(setting -> Stream.concat(Stream.of(setting.env()), setting.aliases().stream())).toList());
      throw new ConfigException("unknown environment variable " + name
        + (suggestion == null ? "" : "; did you mean " + suggestion + "?")
        + " (the settings and their variables are in the README's Configuration table)");
    }
    for (Setting setting : Setting.values()) {
      String name = null;
      String text = null;
      for (String candidate : Stream.concat(Stream.of(setting.env()), setting.aliases().stream()).toList()) {
        String given = env.get(candidate);
        if (given == null || given.isBlank()) {
          continue;
        }
        if (text == null) {
          name = candidate;
          text = given;
        } else if (!text.trim().equals(given.trim())) {
          throw new ConfigException(setting.key() + " is set by both " + name + " and its older name " + candidate
            + ", to different values; set only " + name);
        }
      }
      if (text != null) {
        String source = "from environment variable " + name;
        Object value = setting.parse(text);
        if (value == null) {
          throw invalid(setting, setting.display(text), source, "");
        }
        values.put(setting, new Value(value, source));
      }
    }
  }

  private static ConfigException invalid(Setting setting, String shownValue, String source, String hint) {
    return new ConfigException(setting.key() + " = " + shownValue + " " + source + " is not allowed: it must be "
      + setting.kind().describe() + hint);
  }

  private static ConfigException unknownKey(String key, String origin) {
    List<String> keys = Stream.of(Setting.values()).map(Setting::key).toList();
    String suggestion = nearest(key, keys);
    if (suggestion == null) {
      // The right name in the wrong section: storage.dataDir written under "http".
      String field = key.substring(key.indexOf('.') + 1);
      suggestion = Stream.of(Setting.values()).filter(s -> s.field().equals(field)).map(Setting::key)
        .findFirst().orElse(null);
    }
    return new ConfigException("unknown setting " + key + " in " + origin
      + (suggestion == null ? "" : "; did you mean " + suggestion + "?")
      + " (the settings are in the README's Configuration table)");
  }

  /**
   * The candidate closest to {@code name} when it is close enough to be a typo of it, or else the one
   * it begins (ignoring case: {@code tokenTTL} for {@code tokenTtlSeconds}); else null.
   */
  static String nearest(String name, List<String> candidates) {
    String lower = name.toLowerCase(Locale.ROOT);
    return candidates.stream()
      .filter(c -> distance(lower, c.toLowerCase(Locale.ROOT)) <= Math.max(2, name.length() / 8))
      .min(Comparator.comparingInt(c -> distance(lower, c.toLowerCase(Locale.ROOT))))
      .or(() -> candidates.stream().filter(c -> c.toLowerCase(Locale.ROOT).startsWith(lower)).findFirst())
      .orElse(null);
  }

  /** Levenshtein distance. */
  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  private static String shown(Object json) {
    if (json instanceof JsonObject object) {
      return object.encode();
    }
    if (json instanceof JsonArray array) {
      return array.encode();
    }
    return json instanceof String ? "\"" + json + "\"" : String.valueOf(json);
  }

  private static JsonObject read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new ConfigException("cannot read " + file + ": " + e);
    }
    if (!text.strip().startsWith("{")) {
      throw new ConfigException(file + " is not a JSON object: it must hold one object of sections, {\"http\": {…}, …}");
    }
    try {
      return new JsonObject(text);
    } catch (RuntimeException e) {
      throw new ConfigException(file + " is not a JSON object: " + parseProblem(e));
    }
  }

  /** Jackson's message in one line: what it found, and where, without its notes on the source. */
  private static String parseProblem(RuntimeException e) {
    String message = String.valueOf(e.getMessage()).replaceAll("\\s+", " ");
    Matcher where = Pattern.compile("line: (\\d+), column: (\\d+)").matcher(message);
    int source = message.indexOf(" at [Source");
    String what = (source < 0 ? message : message.substring(0, source)).replaceFirst("^Failed to decode: ?", "");
    return where.find() ? what + " (line " + where.group(1) + ", column " + where.group(2) + ")" : what;
  }
}
