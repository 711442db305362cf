package io.avatarserver.cli;

import io.avatarserver.auth.JwtSecret;
import io.avatarserver.auth.Tokens;
import io.avatarserver.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * The commands besides {@code serve}, for people and load tests:
 * <pre>
 *   token --user ID [--admin] [--ttl SECONDS]      print a token signed with the server's secret
 *   token --admin [--ttl SECONDS]                  print an admin token
 *   users create --count N --tokens FILE --url URL create N users through the running server,
 *                                                  write one "id token" line per user to FILE
 * </pre>
 * They read the same configuration (conf/config.json, environment) as the server, so they sign
 * with the same secret. They run on the main thread: blocking here blocks no event loop.
 */
public final class Cli {

  static final String USAGE = """
    usage: java -jar avatar-server.jar [serve]
           java -jar avatar-server.jar token --user ID [--admin] [--ttl SECONDS]
           java -jar avatar-server.jar token --admin [--ttl SECONDS]
           java -jar avatar-server.jar users create --count N --tokens FILE --url BASE_URL [--ttl SECONDS]""";

  private final ServerConfig config;
  private final PrintStream out;
  private final PrintStream err;

  public Cli(ServerConfig config, PrintStream out, PrintStream err) {
    this.config = config;
    this.out = out;
    this.err = err;
  }

  /** Runs a command other than serve; returns the process exit code. */
  public int run(List<String> args) {
    try {
      if (args.isEmpty()) {
        return usage("no command");
      }
      return switch (args.get(0)) {
        case "token" -> token(options(args.subList(1, args.size()), "--admin"));
        case "users" -> args.size() > 1 && args.get(1).equals("create")
          ? createUsers(options(args.subList(2, args.size())))
          : usage("unknown users command");
        default -> usage("unknown command " + args.get(0));
      };
    } catch (IllegalArgumentException e) {
      return usage(e.getMessage());
    }
  }

  private int token(Map<String, String> options) {
    boolean admin = options.containsKey("--admin");
    long user = options.containsKey("--user") ? positive(options, "--user") : 0;
    if (user == 0 && !admin) {
      return usage("token needs --user ID or --admin");
    }
    int ttl = options.containsKey("--ttl") ? (int) positive(options, "--ttl") : config.auth().tokenTtlSeconds();
    String token = withTokens(tokens -> tokens.mint(user, admin, ttl));
    out.println(token);
    return 0;
  }

  private int createUsers(Map<String, String> options) {
    int count = (int) positive(options, "--count");
    Path file = Path.of(required(options, "--tokens"));
    String base = required(options, "--url").replaceAll("/+$", "");
    int ttl = options.containsKey("--ttl") ? (int) positive(options, "--ttl") : config.auth().tokenTtlSeconds();
    List<String> lines = withTokens(tokens -> {
      String admin = tokens.mint(0, true, 3600);
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
      // Sixteen requests in flight: quick for thousands of users, gentle on the server.
      Semaphore inFlight = new Semaphore(16);
      List<CompletableFuture<String>> created = new ArrayList<>();
      for (int i = 1; i <= count; i++) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/users"))
          .timeout(Duration.ofSeconds(30))
          .header("Authorization", "Bearer " + admin)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("name", "load-user-" + i).encode()))
          .build();
        inFlight.acquireUninterruptibly();
        created.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
          .whenComplete((r, e) -> inFlight.release())
          .thenApply(response -> {
            if (response.statusCode() != 201) {
              throw new IllegalStateException("POST /users answered " + response.statusCode() + ": " + response.body());
            }
            long id = new JsonObject(response.body()).getLong("id");
            return id + " " + tokens.mint(id, false, ttl);
          }));
      }
      return created.stream().map(CompletableFuture::join).toList();
    });
    try (PrintWriter writer = new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8))) {
      lines.forEach(writer::println);
    } catch (IOException e) {
      err.println("cannot write " + file + ": " + e.getMessage());
      return 1;
    }
    err.println("created " + lines.size() + " users; tokens in " + file);
    return 0;
  }

  private <T> T withTokens(java.util.function.Function<Tokens, T> action) {
    byte[] secret = JwtSecret.resolve(config.auth().jwtSecret(), config.storage().dataDir());
    Vertx vertx = Vertx.vertx();
    try {
      return action.apply(new Tokens(vertx, secret));
    } finally {
      vertx.close();
    }
  }

  private int usage(String problem) {
    err.println(problem);
    err.println(USAGE);
    return 2;
  }

  /** {@code --name value} pairs; names in {@code flags} take no value. */
  private static Map<String, String> options(List<String> args, String... flags) {
    Map<String, String> options = new HashMap<>();
    List<String> flagList = List.of(flags);
    for (int i = 0; i < args.size(); i++) {
      String name = args.get(i);
      if (!name.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + name);
      }
      if (flagList.contains(name)) {
        options.put(name, "true");
      } else if (i + 1 < args.size()) {
        options.put(name, args.get(++i));
      } else {
        throw new IllegalArgumentException(name + " needs a value");
      }
    }
    return options;
  }

  private static String required(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("missing " + name);
    }
    return value;
  }

  private static long positive(Map<String, String> options, String name) {
    String value = required(options, name);
    try {
      long n = Long.parseLong(value);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // Refused below.
    }
    throw new IllegalArgumentException(name + " must be a positive integer, was " + value);
  }
}
