package io.avatarserver.support;

import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * An S3 API server in the test JVM: s3proxy over a filesystem blob store, on 127.0.0.1 and a free port,
 * with AWS signatures checked against a test key pair (which the server's SDK finds in the {@code aws.*}
 * system properties, the default credentials chain). {@link #shared()} is this JVM's, started on first use;
 * a fault test starts its own ({@link #startNew()}) to stop and restart it. Each test server gets a bucket
 * of its own ({@link #newBucket()}). An object is a plain file, {@code dir/bucket/key}: what the tests
 * inspect, as they inspect the local backend's files.
 */
public final class TestS3 implements AutoCloseable {

  public static final String ACCESS_KEY = "avatar-test-access";
  public static final String SECRET_KEY = "avatar-test-secret-0123456789";

  /** The start of the line printed when this JVM's shared store starts; .ci/run can read it. */
  public static final String MARKER = "S3 for the tests: ";

  private static TestS3 shared;
  private static final java.util.Map<String, TestS3> BY_ENDPOINT = new java.util.concurrent.ConcurrentHashMap<>();

  private final Path dir;
  private final int port;
  private final FilesystemNio2BlobStore blobStore;
  /** With TLS only: the PKCS#12 key store of its certificate, and its password. */
  private final Path keyStore;
  private final String keyStorePassword;
  private S3Proxy proxy;

  private TestS3(Path dir, int port, Path keyStore, String keyStorePassword) {
    this.dir = dir;
    this.port = port;
    this.blobStore = new FilesystemNio2BlobStore(dir.toString());
    this.keyStore = keyStore;
    this.keyStorePassword = keyStorePassword;
  }

  /** This JVM's store, started on first use, stopped at exit. */
  public static synchronized TestS3 shared() {
    if (shared == null) {
      shared = startNew();
      System.out.println(MARKER + "s3proxy at " + shared.endpoint());
      TestS3 stopping = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(stopping::close));
    }
    return shared;
  }

  /** A store of its own (to stop and start again); close it. */
  public static TestS3 startNew() {
    return startNew(null, null);
  }

  /** The password of the key and trust stores of {@link #startNewTls}. */
  public static final String TLS_PASSWORD = "avatar-test-tls";

  /**
   * A store of its own answering HTTPS only, with a certificate for 127.0.0.1 made now (keytool) in
   * {@code dir}, where {@code trust.p12} is a trust store holding that certificate alone
   * ({@link #TLS_PASSWORD}); close it.
   */
  public static TestS3 startNewTls(Path dir) {
    Path keyStore = dir.resolve("store.p12");
    Path certificate = dir.resolve("store.pem");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    keytool(keytool, "-genkeypair", "-alias", "store", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
      "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-storetype", "PKCS12", "-keystore", keyStore.toString(),
      "-storepass", TLS_PASSWORD, "-keypass", TLS_PASSWORD);
    keytool(keytool, "-exportcert", "-rfc", "-alias", "store", "-keystore", keyStore.toString(), "-storepass", TLS_PASSWORD,
      "-file", certificate.toString());
    keytool(keytool, "-importcert", "-noprompt", "-alias", "store", "-file", certificate.toString(), "-storetype", "PKCS12",
      "-keystore", dir.resolve("trust.p12").toString(), "-storepass", TLS_PASSWORD);
    return startNew(keyStore, TLS_PASSWORD);
  }

  private static void keytool(String... command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (process.waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", command) + ":\n" + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static TestS3 startNew(Path keyStore, String password) {
    System.setProperty("aws.accessKeyId", ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", SECRET_KEY);
    try {
      TestS3 s3 = new TestS3(Files.createTempDirectory("avatar-s3-"), freePort(), keyStore, password);
      s3.start();
      BY_ENDPOINT.put(s3.endpoint(), s3);
      return s3;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** Starts (again) on the same port and directory: what was stored is still there. */
  public synchronized void start() {
    if (proxy != null) {
      return;
    }
    S3Proxy.Builder builder = S3Proxy.builder()
      .blobStore(blobStore)
      .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY);
    if (keyStore == null) {
      builder.endpoint(URI.create(endpoint()));
    } else {
      builder.secureEndpoint(URI.create(endpoint())).keyStore(keyStore.toString(), keyStorePassword);
    }
    S3Proxy started = builder.build();
    try {
      started.start();
      for (int i = 0; i < 500 && !"STARTED".equals(started.getState()); i++) {
        Thread.sleep(10);
      }
    } catch (Exception e) {
      throw new IllegalStateException("s3proxy did not start on port " + port, e);
    }
    proxy = started;
  }

  /** Stops answering: connections to the port are refused until {@link #start()}. */
  public synchronized void stop() {
    if (proxy == null) {
      return;
    }
    try {
      proxy.stop();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    proxy = null;
  }

  /** The store started here whose endpoint is {@code endpoint}. */
  public static TestS3 byEndpoint(String endpoint) {
    TestS3 s3 = BY_ENDPOINT.get(endpoint);
    if (s3 == null) {
      throw new IllegalArgumentException("no test store at " + endpoint);
    }
    return s3;
  }

  /** The storage settings of a server on {@code bucket} of this store. */
  public io.vertx.core.json.JsonObject settings(String bucket) {
    return new io.vertx.core.json.JsonObject().put("backend", "s3").put("s3Endpoint", endpoint())
      .put("s3Bucket", bucket).put("s3PathStyle", true).put("s3MaxAttempts", 2)
      .put("s3ApiTimeoutMillis", 5000).put("s3AttemptTimeoutMillis", 2000);
  }

  public String endpoint() {
    return (keyStore == null ? "http" : "https") + "://127.0.0.1:" + port;
  }

  /** A new, empty bucket. */
  public String newBucket() {
    String bucket = "avatars-" + UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    blobStore.createContainer(bucket);
    return bucket;
  }

  /** Where the object {@code name} of {@code bucket} is kept as a file. */
  public Path file(String bucket, String name) {
    return dir.resolve(bucket).resolve(name);
  }

  /** The objects of {@code bucket} whose names start with {@code prefix}, as files. */
  public List<Path> files(String bucket, String prefix) {
    Path root = dir.resolve(bucket);
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    for (int attempt = 1; ; attempt++) {
      try (Stream<Path> walk = Files.walk(root)) {
        return walk.filter(Files::isRegularFile)
          .filter(p -> root.relativize(p).toString().startsWith(prefix))
          .filter(p -> !p.getFileName().toString().startsWith("."))
          .sorted(Comparator.naturalOrder()).toList();
      } catch (UncheckedIOException | IOException e) {
        if (attempt == 10) {
          throw e instanceof UncheckedIOException u ? u : new UncheckedIOException((IOException) e);
        }
      }
    }
  }

  /** The object names of {@code bucket}. */
  public List<String> keys(String bucket) {
    Path root = dir.resolve(bucket);
    return files(bucket, "").stream().map(p -> root.relativize(p).toString()).toList();
  }

  @Override
  public synchronized void close() {
    stop();
    BY_ENDPOINT.remove(endpoint());
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // A temp directory.
    }
  }
}
