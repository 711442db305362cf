package io.avatarserver.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("ConfigLoader: defaults < file < environment, and every refusal in one line")
class ConfigLoaderTest {

  @TempDir
  Path dir;

  /** The default file of these tests: absent unless a test writes it. */
  private Path defaultFile() {
    return dir.resolve("config.json");
  }

  private Path file(String json) throws IOException {
    Path file = defaultFile();
    Files.writeString(file, json);
    return file;
  }

  private ServerConfig load(Map<String, String> env) {
    return ConfigLoader.load(env, defaultFile());
  }

  /** The refusal's message, checked to be one line that starts as Main prints it. */
  private String refusal(Map<String, String> env) {
    ConfigException e = assertThrows(ConfigException.class, () -> load(env));
    String message = e.getMessage();
    assertFalse(message.contains("\n") || message.contains("\r"), message);
    assertTrue(message.startsWith("invalid configuration: "), message);
    return message;
  }

  private static void assertMentions(String message, String... parts) {
    for (String part : parts) {
      assertTrue(message.contains(part), () -> "'" + part + "' not in: " + message);
    }
  }

  @Nested
  @DisplayName("Precedence")
  class Precedence {

    @Test
    @DisplayName("No file and no environment: the table's defaults")
    void defaults() {
      assertEquals(ServerConfig.fromJson(new JsonObject()), load(Map.of()));
      assertEquals(8080, load(Map.of()).http().port());
    }

    @Test
    @DisplayName("The file overrides a default; the environment overrides the file; the rest keep their defaults")
    void layers() throws IOException {
      file("""
        {"http": {"port": 9000, "maxHeaders": 100}, "upload": {"stripMetadata": false}}""");
      ServerConfig fromFile = load(Map.of());
      assertEquals(9000, fromFile.http().port());
      assertEquals(100, fromFile.http().maxHeaders());
      assertFalse(fromFile.upload().stripMetadata());
      assertEquals(30, fromFile.http().idleTimeoutSeconds());

      ServerConfig fromEnv = load(Map.of("AVATAR_HTTP_PORT", "9100", "AVATAR_UPLOAD_STRIP_METADATA", "TRUE",
        "AVATAR_UPLOAD_MAX_BYTES", " 2048 "));
      assertEquals(9100, fromEnv.http().port());
      assertTrue(fromEnv.upload().stripMetadata());
      assertEquals(2048, fromEnv.upload().maxBytes());
      assertEquals(100, fromEnv.http().maxHeaders());
    }

    @Test
    @DisplayName("AVATAR_CONFIG names the file instead of the default one; a named file that is missing is refused")
    void namedFile() throws IOException {
      Path other = dir.resolve("other.json");
      Files.writeString(other, "{\"database\": {\"poolSize\": 3}}");
      file("{\"database\": {\"poolSize\": 5}}");
      assertEquals(3, load(Map.of("AVATAR_CONFIG", other.toString())).database().poolSize());
      assertEquals(5, load(Map.of()).database().poolSize());
      assertMentions(refusal(Map.of("AVATAR_CONFIG", dir.resolve("missing.json").toString())),
        "AVATAR_CONFIG names", "missing.json", "does not exist");
    }

    @Test
    @DisplayName("An empty environment variable counts as unset")
    void emptyVariable() throws IOException {
      file("{\"http\": {\"port\": 9000}}");
      assertEquals(9000, load(Map.of("AVATAR_HTTP_PORT", " ")).http().port());
    }
  }

  @Nested
  @DisplayName("The older environment names")
  class Aliases {

    @Test
    @DisplayName("Each older name still sets its setting, over the file")
    void olderNames() throws IOException {
      file("{\"storage\": {\"sweepGraceSeconds\": 10}}");
      ServerConfig config = load(Map.of(
        "AVATAR_DATA_DIR", dir.resolve("d").toString(),
        "AVATAR_DB_URL", "postgresql://u@h:5432/db",
        "AVATAR_JWT_SECRET", "x".repeat(32),
        "AVATAR_SWEEP_GRACE_SECONDS", "120",
        "AVATAR_SWEEP_INTERVAL_SECONDS", "30"));
      assertEquals(dir.resolve("d"), config.storage().dataDir());
      assertTrue(config.database().isPostgres());
      assertEquals("x".repeat(32), config.auth().jwtSecret());
      assertEquals(120, config.storage().sweepGraceSeconds());
      assertEquals(30, config.storage().sweepIntervalSeconds());
    }

    @Test
    @DisplayName("The new name and the older one may both be set to the same value")
    void sameValue() {
      ServerConfig config = load(Map.of("AVATAR_STORAGE_SWEEP_GRACE_SECONDS", "120", "AVATAR_SWEEP_GRACE_SECONDS", "120"));
      assertEquals(120, config.storage().sweepGraceSeconds());
    }

    @Test
    @DisplayName("The new name and the older one set to different values: refused, naming both")
    void conflict() {
      String message = refusal(Map.of("AVATAR_DATABASE_URL", "postgresql://a@h/db", "AVATAR_DB_URL", "jdbc:h2:mem:x"));
      assertMentions(message, "database.url", "AVATAR_DATABASE_URL", "AVATAR_DB_URL", "different values");
    }
  }

  @Nested
  @DisplayName("Refusals")
  class Refusals {

    @Test
    @DisplayName("An unknown key in the file: refused, naming it and the file, with the likely intended key")
    void unknownKey() throws IOException {
      Path file = file("{\"upload\": {\"maxByte\": 5}}");
      assertMentions(refusal(Map.of()), "unknown setting upload.maxByte", "in " + file, "did you mean upload.maxBytes?");
    }

    @Test
    @DisplayName("A known key in the wrong section is unknown there; the message points to the right one")
    void wrongSection() throws IOException {
      file("{\"http\": {\"dataDir\": \"/x\"}}");
      assertMentions(refusal(Map.of()), "unknown setting http.dataDir", "did you mean storage.dataDir?");
    }

    @Test
    @DisplayName("An unknown section, and a section that is not an object: refused")
    void sections() throws IOException {
      file("{\"server\": {\"port\": 1}}");
      assertMentions(refusal(Map.of()), "unknown setting server");
      file("{\"http\": 8080}");
      assertMentions(refusal(Map.of()), "\"http\"", "must be an object of settings, was 8080");
    }

    @Test
    @DisplayName("A file that is not a JSON object: refused in one line")
    void notJson() throws IOException {
      Path file = file("{\"http\": {\"port\": 80,}\n}\n");
      assertMentions(refusal(Map.of()), file + " is not a JSON object");
      file("[1, 2]");
      assertMentions(refusal(Map.of()), "is not a JSON object");
    }

    @Test
    @DisplayName("An unknown AVATAR_ variable: refused with the likely intended one; AVATAR_CONFIG, AVATAR_LOG_LEVEL,"
      + " AVATAR_TEST_* and other prefixes are not settings and pass")
    void unknownVariable() {
      assertMentions(refusal(Map.of("AVATAR_UPLOAD_MAXBYTES", "5")),
        "unknown environment variable AVATAR_UPLOAD_MAXBYTES", "did you mean AVATAR_UPLOAD_MAX_BYTES?");
      assertMentions(refusal(Map.of("AVATAR_DATADIR", "/x")), "did you mean AVATAR_DATA_DIR?");
      assertMentions(refusal(Map.of("AVATAR_COLOUR", "blue")), "unknown environment variable AVATAR_COLOUR");
      Map<String, String> fine = new HashMap<>();
      fine.put("AVATAR_LOG_LEVEL", "DEBUG");
      fine.put("AVATAR_TEST_PG_URL", "postgresql://x/y");
      fine.put("AVATARS", "1");
      fine.put("PATH", "/bin");
      load(fine);
    }

    @Test
    @DisplayName("Out of range, from the file and from the environment: refused with key, source, value and range")
    void outOfRange() throws IOException {
      assertMentions(refusal(Map.of("AVATAR_HTTP_PORT", "70000")),
        "http.port = \"70000\" from environment variable AVATAR_HTTP_PORT", "a whole number from 0 to 65535");
      Path file = file("{\"upload\": {\"writeBufferBytes\": 100}}");
      assertMentions(refusal(Map.of()),
        "upload.writeBufferBytes = 100 from " + file, "a whole number from 512 to 8388608");
      file("{\"storage\": {\"minFreeBytes\": -1}}");
      assertMentions(refusal(Map.of()), "storage.minFreeBytes = -1", "a whole number ≥ 0");
      file("{\"storage\": {\"minFreeBytes\": 99999999999999999999}}");
      assertMentions(refusal(Map.of()), "storage.minFreeBytes = ");
    }

    @Test
    @DisplayName("Wrong types: text for a number (with a hint), a fraction, a number for a flag, a flag word the"
      + " server does not take, null")
    void wrongType() throws IOException {
      Path file = file("{\"http\": {\"port\": \"8080\"}}");
      assertMentions(refusal(Map.of()), "http.port = \"8080\" from " + file, "a whole number",
        "write it as a JSON number, without quotes");
      file("{\"http\": {\"port\": 80.5}}");
      assertMentions(refusal(Map.of()), "http.port = 80.5");
      file("{\"http\": {\"page\": 1}}");
      assertMentions(refusal(Map.of()), "http.page = 1", "true or false");
      file("{\"http\": {\"page\": \"false\"}}");
      assertMentions(refusal(Map.of()), "write it as a JSON boolean");
      file("{\"http\": {\"host\": null}}");
      assertMentions(refusal(Map.of()), "http.host = null");
      file("{\"http\": {\"host\": [\"a\"]}}");
      assertMentions(refusal(Map.of()), "http.host = [\"a\"]");
      Files.delete(file);
      assertMentions(refusal(Map.of("AVATAR_HTTP_PAGE", "yes")),
        "http.page = \"yes\" from environment variable AVATAR_HTTP_PAGE", "true or false");
      assertMentions(refusal(Map.of("AVATAR_HTTP_PORT", "eighty")), "http.port = \"eighty\"", "a whole number");
      // Whole values written as JSON fractions or exponents are whole numbers.
      file("{\"http\": {\"port\": 8000.0}, \"upload\": {\"maxBytes\": 1e6}}");
      assertEquals(8000, load(Map.of()).http().port());
      assertEquals(1_000_000, load(Map.of()).upload().maxBytes());
    }

    @Test
    @DisplayName("Text settings: the database URL's scheme, the secret's length (its value never shown), a URL's"
      + " password masked, a blank host")
    void text() throws IOException {
      assertMentions(refusal(Map.of("AVATAR_DB_URL", "mysql://root:hunter2@db/avatars")),
        "database.url = \"mysql://root:***@db/avatars\" from environment variable AVATAR_DB_URL", "jdbc:");
      String secret = "too-short-secret";
      String message = refusal(Map.of("AVATAR_AUTH_JWT_SECRET", secret));
      assertMentions(message, "auth.jwtSecret = (hidden)", "at least 32 bytes");
      assertFalse(message.contains(secret), message);
      file("{\"http\": {\"host\": \" \"}}");
      assertMentions(refusal(Map.of()), "http.host = \" \"", "non-empty");
    }

    @Test
    @DisplayName("upload.minBytes above upload.maxBytes: refused, naming both and where each came from")
    void minAboveMax() throws IOException {
      Path file = file("{\"upload\": {\"maxBytes\": 1000}}");
      assertMentions(refusal(Map.of("AVATAR_UPLOAD_MIN_BYTES", "2000")),
        "upload.minBytes = 2000 from environment variable AVATAR_UPLOAD_MIN_BYTES", "upload.maxBytes = 1000 from " + file);
    }

    @Test
    @DisplayName("ServerConfig.fromJson is as strict as the loader")
    void fromJson() {
      ConfigException e = assertThrows(ConfigException.class,
        () -> ServerConfig.fromJson(new JsonObject().put("limits", new JsonObject().put("maxUpload", 1))));
      assertMentions(e.getMessage(), "unknown setting limits.maxUpload", "did you mean limits.maxUploads?");
    }
  }
}
