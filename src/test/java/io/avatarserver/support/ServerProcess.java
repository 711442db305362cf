package io.avatarserver.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server as its own process ({@code io.avatarserver.Main}, this test run's classpath), for what
 * only a process can show: SIGKILL and SIGTERM. Its output is kept in memory and copied to
 * {@code log}, for the test's report.
 */
public final class ServerProcess implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("listening on http://localhost:(\\d+)");

  private final Process process;
  private final List<String> output = new CopyOnWriteArrayList<>();
  private final int port;
  private final Thread reader;

  private ServerProcess(Process process, Path log) {
    this.process = process;
    this.reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          output.add(line);
          Files.writeString(log, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
      } catch (IOException ignored) {
        // The process is gone.
      }
    }, "server-process-output");
    reader.setDaemon(true);
    reader.start();
    String line = awaitLine(LISTENING, Duration.ofSeconds(60));
    Matcher m = LISTENING.matcher(line);
    if (!m.find()) {
      throw new IllegalStateException("the server did not start:\n" + String.join("\n", output));
    }
    this.port = Integer.parseInt(m.group(1));
  }

  /** Starts {@code Main} with the config file {@code config} and extra environment. */
  public static ServerProcess start(Path config, Map<String, String> env, Path log) {
    List<String> command = new ArrayList<>(List.of(
      Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-Xmx256m", "-cp", System.getProperty("java.class.path"), "io.avatarserver.Main"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> environment = new HashMap<>(env);
    environment.put("AVATAR_CONFIG", config.toString());
    // The listener's warm-up runs, but briefly: a start takes seconds less.
    environment.putIfAbsent("AVATAR_HTTP_WARMUP_REQUESTS", "40");
    builder.environment().putAll(environment);
    try {
      return new ServerProcess(builder.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process.pid();
  }

  /** Waits for an output line matching {@code pattern}; returns it, or "" at the bound. */
  public String awaitLine(Pattern pattern, Duration bound) {
    return Eventually.await(() -> output.stream().filter(l -> pattern.matcher(l).find()).findFirst().orElse(""),
      l -> !l.isEmpty() || !process.isAlive(), bound);
  }

  public List<String> output() {
    return List.copyOf(output);
  }

  /** SIGKILL: no cleanup of any kind. */
  public void kill() {
    // Through the handle: Process.destroy* would also close our end of its output, losing its last lines.
    process.toHandle().destroyForcibly();
    waitFor(Duration.ofSeconds(30));
  }

  /** SIGTERM: a graceful shutdown. */
  public void terminate() {
    process.toHandle().destroy();
  }

  /** Waits for the exit; returns the exit status, or -1 when it is still running at the bound. */
  public int waitFor(Duration bound) {
    try {
      if (!process.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
        return -1;
      }
      reader.join(10_000); // the rest of its output
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      waitFor(Duration.ofSeconds(30));
    }
  }
}
