package io.avatarserver.config;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the operator sees when {@code Main} refuses its configuration: one line, status 2. */
@DisplayName("A refused configuration stops serve and the commands with one line and exit status 2")
class StartupRefusalTest {

  @TempDir
  Path dir;

  private record Exit(int status, List<String> lines) {
  }

  /** Runs {@code io.avatarserver.Main args} in {@code dir} with only {@code env} of the AVATAR_ variables. */
  private Exit run(Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-Xmx64m", "-cp", System.getProperty("java.class.path"), "io.avatarserver.Main"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    builder.environment().keySet().removeIf(name -> name.startsWith("AVATAR_"));
    builder.environment().putAll(env);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "Main did not end");
    return new Exit(process.exitValue(), output.lines().toList());
  }

  @Test
  @DisplayName("serve: a value out of range in the environment")
  void serve() throws Exception {
    Exit exit = run(Map.of("AVATAR_HTTP_PORT", "70000", "AVATAR_STORAGE_DATA_DIR", dir.resolve("data").toString()));
    assertEquals(List.of("avatar-server: invalid configuration: http.port = \"70000\" from environment variable"
      + " AVATAR_HTTP_PORT is not allowed: it must be a whole number from 0 to 65535"), exit.lines());
    assertEquals(2, exit.status());
    assertTrue(Files.notExists(dir.resolve("data")), "nothing was started, so nothing was created");
  }

  @Test
  @DisplayName("token: an unknown key in the file named by AVATAR_CONFIG")
  void command() throws Exception {
    Path file = dir.resolve("config.json");
    Files.writeString(file, "{\"auth\": {\"tokenTTL\": 60}}");
    Exit exit = run(Map.of("AVATAR_CONFIG", file.toString()), "token", "--admin");
    assertEquals(List.of("avatar-server: invalid configuration: unknown setting auth.tokenTTL in " + file
      + "; did you mean auth.tokenTtlSeconds? (the settings are in the README's Configuration table)"), exit.lines());
    assertEquals(2, exit.status());
  }
}
