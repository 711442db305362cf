package io.avatarserver.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.util.LinuxUtils;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The PostgreSQL server the PostgreSQL tests run on, chosen once per JVM: {@code AVATAR_TEST_PG_URL}
 * when set; else the local server when one answers on {@code AVATAR_TEST_PG_LOCAL} (default
 * {@code 127.0.0.1:5432}, database {@code test}); else an embedded PostgreSQL (zonky's binaries),
 * started on first use on 127.0.0.1 and a free port, and stopped by a shutdown hook. Each test class
 * still gets its own schema ({@link TestDatabase}). When the embedded server cannot start, every
 * PostgreSQL test fails with one line that says why and how to point {@code AVATAR_TEST_PG_URL}.
 */
public final class TestPostgres {

  public static final String URL_ENV = "AVATAR_TEST_PG_URL";
  /** Where the local PostgreSQL is looked for, {@code host:port}; CI points it at a closed port. */
  public static final String LOCAL_ENV = "AVATAR_TEST_PG_LOCAL";
  public static final String DEFAULT_LOCAL = "127.0.0.1:5432";
  /** The start of the line, printed once per JVM, that names the server chosen; .ci/run reads it. */
  public static final String MARKER = "PostgreSQL for the tests: ";
  /** How that line starts when the server is the embedded one. */
  public static final String EMBEDDED_MARKER = MARKER + "embedded";

  private static String baseUrl;
  private static IllegalStateException failure;

  private TestPostgres() {
  }

  /** The base {@code postgresql://} URL of this JVM's PostgreSQL, chosen (and started) on first call. */
  public static synchronized String baseUrl() {
    if (failure != null) {
      throw new IllegalStateException(failure.getMessage(), failure.getCause());
    }
    if (baseUrl == null) {
      try {
        baseUrl = choose(System.getenv(), TestPostgres::startEmbedded, line -> System.out.println(MARKER + line));
      } catch (IllegalStateException e) {
        failure = e;
        System.err.println(e.getMessage());
        throw e;
      }
    }
    return baseUrl;
  }

  /**
   * The choice itself: the URL from {@code env}, else the local server if it answers (told to
   * {@code announce}), else {@code embedded.get()}; a failure of the latter becomes one line that says
   * what to do.
   */
  static String choose(Map<String, String> env, Supplier<String> embedded, Consumer<String> announce) {
    String url = env.get(URL_ENV);
    if (url != null && !url.isBlank()) {
      announce.accept("the one at " + URL_ENV);
      return url;
    }
    String local = env.getOrDefault(LOCAL_ENV, DEFAULT_LOCAL);
    InetSocketAddress at = address(local);
    if (answers(at)) {
      String localUrl = "postgresql://postgres@" + at.getHostString() + ":" + at.getPort() + "/test";
      announce.accept("local " + localUrl);
      return localUrl;
    }
    try {
      return embedded.get();
    } catch (RuntimeException | Error e) {
      throw new IllegalStateException("No PostgreSQL for the tests: none answers on " + local
        + " and the embedded one did not start (" + reason(e) + "); start one there, or set " + URL_ENV
        + "=postgresql://USER@HOST:PORT/DATABASE", e);
    }
  }

  /** True when a PostgreSQL server answers at {@code at}: its reply to an SSLRequest is 'S' or 'N'. */
  static boolean answers(InetSocketAddress at) {
    if (at.isUnresolved()) {
      return false;
    }
    try (Socket socket = new Socket()) {
      socket.connect(at, 1_000);
      socket.setSoTimeout(2_000);
      OutputStream out = socket.getOutputStream();
      out.write(ByteBuffer.allocate(8).putInt(8).putInt(80877103).array());
      out.flush();
      InputStream in = socket.getInputStream();
      int reply = in.read();
      return reply == 'S' || reply == 'N';
    } catch (IOException e) {
      return false;
    }
  }

  static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(LOCAL_ENV + " must be host:port, was " + hostPort);
    }
    return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  /** Starts this JVM's embedded server, stopped (and its data deleted) by zonky's shutdown hook. */
  private static String startEmbedded() {
    long start = System.nanoTime();
    Embedded embedded = Embedded.start();
    System.out.printf(Locale.ROOT, "%s %s at %s, started in %.1f s%n", EMBEDDED_MARKER, embedded.version(), embedded.url(),
      (System.nanoTime() - start) / 1e9);
    return embedded.url();
  }

  /** An embedded PostgreSQL on 127.0.0.1, its database {@code postgres} reached as superuser {@code postgres}. */
  static final class Embedded implements AutoCloseable {
    private final EmbeddedPostgres postgres;
    private final String version;

    private Embedded(EmbeddedPostgres postgres, String version) {
      this.postgres = postgres;
      this.version = version;
    }

    static Embedded start() {
      EmbeddedPostgres postgres;
      Path data = null;
      try {
        data = Files.createTempDirectory("avatar-test-pg");
        postgres = EmbeddedPostgres.builder()
          .setDataDirectory(data)
          .setServerConfig("listen_addresses", "127.0.0.1")
          // A scratch server: nothing in it must outlive a crash, so its writes need not reach the disk.
          .setServerConfig("fsync", "off")
          .start();
      } catch (IOException | RuntimeException e) {
        // Closing deletes the data directory; a server that never started leaves it to us.
        if (data != null) {
          deleteTree(data, e);
        }
        throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
      }
      try (Connection conn = postgres.getPostgresDatabase().getConnection(); Statement st = conn.createStatement();
           ResultSet rs = st.executeQuery("SHOW server_version")) {
        rs.next();
        return new Embedded(postgres, "PostgreSQL " + rs.getString(1));
      } catch (Exception e) {
        try {
          postgres.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw new IllegalStateException(e);
      }
    }

    private static void deleteTree(Path dir, Exception failure) {
      try (Stream<Path> paths = Files.walk(dir)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(path);
        }
      } catch (IOException | UncheckedIOException e) {
        failure.addSuppressed(e);
      }
    }

    String url() {
      return "postgresql://postgres@127.0.0.1:" + postgres.getPort() + "/postgres";
    }

    String version() {
      return version;
    }

    int port() {
      return postgres.getPort();
    }

    @Override
    public void close() throws IOException {
      postgres.close();
    }
  }

  /** Why the embedded server did not start, in a few words; root without user namespaces is the usual case. */
  private static String reason(Throwable e) {
    if (isRoot() && !LinuxUtils.isUnshareAvailable()) {
      return "running as root, which PostgreSQL refuses, and 'unshare -U' (a user namespace to run it as nobody) is not available";
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return message.replaceAll("\\s+", " ").trim();
  }

  private static boolean isRoot() {
    try {
      return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    } catch (Throwable notUnix) {
      return false;
    }
  }
}
