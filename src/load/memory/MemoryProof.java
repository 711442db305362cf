import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Bounded-memory proof: the server with {@code -Xmx64m} and its default limits takes N (1,000) concurrent
 * 5 MiB uploads from slow clients, all in flight at once, and every one completes.
 *
 * <pre>
 *   mvn -q -DskipTests package
 *   java src/load/memory/MemoryProof.java [--uploads 1000] [--size-mib 5] [--rate-kib 64] [--xmx 64m] [--jar target/avatar-server.jar]
 *       [--backend local|s3] [--renders 2] [--engine java|vips] [--worst-side 4096] [--after-seconds 20]
 * </pre>
 *
 * Run from the project root, with PostgreSQL on 127.0.0.1:5432 (database {@code test}); it creates the
 * database {@code avatar_memory} for the run. One NIO thread drives all the clients: each sends its
 * head, then its body at {@code --rate-kib} KiB/s. It samples the server's RSS (/proc) and heap
 * (/metrics) every half second, checks that all uploads were in flight at the same time
 * ({@code avatar_uploads_in_flight}), and prints peak heap, peak RSS, the RSS before the uploads, and the
 * per-upload overhead: (peak RSS − RSS before) ÷ uploads. Exit status 0 only when every upload got 201.
 *
 * <p>{@code --backend s3}: the avatars go to an object store, s3proxy over a filesystem blob store,
 * started as a child process from {@code src/load/s3/StoreServer.java} on the test classpath (as
 * {@code src/load/s3/bench_s3.py} does; {@code mvn -o dependency:build-classpath} must work offline).
 *
 * <p>{@code --renders N}: while the uploads run, N clients (one render each at a time, so N renders at
 * once with the default {@code variants.workers} 2) keep asking for new variants of the worst originals
 * the upload limits let in, made by {@code io.avatarserver.support.WorstCaseImages} (run {@code mvn -o
 * test-compile} first): a 4096×4096 animated GIF of 5 frames (the most that keeps its animation under
 * {@code variants.maxAnimationSourcePixels}), an interlaced 16-bit RGBA PNG, a progressive 4:4:4 JPEG and
 * a lossless WebP, all 4096×4096 ({@code --worst-side 2047}: of that side instead, where no integer
 * subsampling gets a 1024 px variant down to 1024 px, so the interlaced PNG is decoded whole). Each round a client re-uploads its original (a new version, so every
 * variant is a real render) and asks for it at 1024 and 256 px as WebP and PNG; the clients go on for
 * {@code --after-seconds} after the uploads have ended. The proof then passes only when, besides the
 * uploads, every render answered 200 with a rendered ({@code max-age=300}) image of the asked format and
 * size, the server is still alive ({@code -XX:+ExitOnOutOfMemoryError}), and (java engine) two 1024 px
 * renders held their share of the heap at once at some point (the server's gauge
 * {@code avatar_variant_render_heap_reserved_bytes}, sampled every half second, at 2 × 1024² × 12 bytes
 * or more): while the uploads fill the heap, the large renders take turns, and two run at once after.
 */
public final class MemoryProof {

  static final String SECRET = "memory-proof-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
  static final int PORT = 18070;

  public static void main(String[] args) throws Exception {
    int uploads = intArg(args, "--uploads", 1000);
    int sizeMib = intArg(args, "--size-mib", 5);
    int rateKib = intArg(args, "--rate-kib", 64);
    String xmx = stringArg(args, "--xmx", "64m");
    String jar = stringArg(args, "--jar", "target/avatar-server.jar");
    String backend = stringArg(args, "--backend", "local");
    int renders = intArg(args, "--renders", 0);
    String engine = stringArg(args, "--engine", "java");
    String worstSide = stringArg(args, "--worst-side", "4096");
    int afterSeconds = intArg(args, "--after-seconds", 20);

    run("psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", "DROP DATABASE IF EXISTS avatar_memory");
    run("psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", "CREATE DATABASE avatar_memory");
    Path work = Files.createTempDirectory(Path.of("/var/tmp"), "avatar-memory-");
    List<Process> children = new ArrayList<>();
    String classpath = backend.equals("s3") || renders > 0 ? testClasspath(work) : null;
    String storage = "{\"dataDir\":\"" + work.resolve("data") + "\"}";
    if (backend.equals("s3")) {
      storage = "{\"dataDir\":\"" + work.resolve("data") + "\",\"backend\":\"s3\",\"s3Endpoint\":\""
        + startStore(work, classpath, children) + "\",\"s3Bucket\":\"" + BUCKET + "\",\"s3PathStyle\":true}";
    } else if (!backend.equals("local")) {
      throw new IllegalArgumentException("--backend local or s3");
    }
    Path config = work.resolve("config.json");
    // Default limits; only the port, the storage, the database, the secret (and the engine) are set.
    Files.writeString(config, "{\"http\":{\"host\":\"127.0.0.1\",\"port\":" + PORT + "},\"storage\":" + storage
      + ",\"database\":{\"url\":\"postgresql://postgres@127.0.0.1:5432/avatar_memory\"},"
      + "\"auth\":{\"jwtSecret\":\"" + SECRET + "\"},\"variants\":{\"engine\":\"" + engine + "\"}}");
    // On running out of heap: a dump in the kept directory, then the exit; the GC's log there too.
    ProcessBuilder builder = new ProcessBuilder("java", "-Xmx" + xmx, "-XX:+HeapDumpOnOutOfMemoryError",
      "-XX:HeapDumpPath=" + work.resolve("server.hprof"), "-XX:+ExitOnOutOfMemoryError",
      "-Xlog:gc*:file=" + work.resolve("gc.log") + ":uptime", "-jar", jar)
      .redirectErrorStream(true).redirectOutput(work.resolve("server.log").toFile());
    builder.environment().put("AVATAR_CONFIG", config.toString());
    builder.environment().put("AVATAR_LOG_LEVEL", "WARN");
    builder.environment().put("AWS_ACCESS_KEY_ID", "memory");
    builder.environment().put("AWS_SECRET_ACCESS_KEY", "memory-secret");
    Process server = builder.start();
    int exit = 1;
    try {
      awaitReady();
      Path tokens = work.resolve("tokens.txt");
      int renderUsers = renders * Renders.KINDS.size();
      ProcessBuilder create = new ProcessBuilder("java", "-jar", "target/avatar-server.jar", "users", "create",
        "--count", String.valueOf(uploads + renderUsers), "--tokens", tokens.toString(), "--url",
        "http://127.0.0.1:" + PORT).inheritIO();
      create.environment().put("AVATAR_CONFIG", config.toString());
      if (create.start().waitFor() != 0) {
        throw new IllegalStateException("users create failed");
      }
      List<String[]> all = Files.readAllLines(tokens).stream().map(l -> l.split(" ")).toList();
      List<String[]> users = all.subList(0, uploads);
      byte[] body = png(sizeMib * 1024 * 1024);
      Renders renderers = renders > 0 ? new Renders(worstCases(work, classpath, worstSide), all.subList(uploads, all.size()), renders)
        : null;

      Thread.sleep(2000);
      long rssBefore = rss(server.pid());
      Sampler sampler = new Sampler(server.pid(), uploads);
      sampler.start();
      long started = System.nanoTime();
      if (renderers != null) {
        renderers.start();
      }
      Result result = drive(users, body, rateKib * 1024, sampler);
      double uploadSeconds = (System.nanoTime() - started) / 1e9;
      if (renderers != null) {
        // Then the renders go on alone for a while: with the uploads' heap given back, two large ones run at once.
        Thread.sleep(afterSeconds * 1000L);
        renderers.stop();
      }
      sampler.done = true;
      sampler.join();

      System.out.printf("%n%d uploads of %d MiB at %d KiB/s each, server -Xmx%s, default limits, PostgreSQL, %s backend%n",
        uploads, sizeMib, rateKib, xmx, backend);
      System.out.printf("completed with 201: %d of %d (other answers: %s) in %.0f s%n", result.created, uploads,
        result.others, uploadSeconds);
      System.out.printf("uploads in flight at once (server gauge, peak): %.0f%n", sampler.inFlightPeak);
      System.out.printf("heap used, peak: %.1f MiB%n", sampler.heapPeak / 1048576.0);
      System.out.printf("direct buffers, peak: %.1f MiB (their limit is the heap's maximum)%n", sampler.directPeak / 1048576.0);
      System.out.printf("RSS before: %.1f MiB, peak: %.1f MiB%n", rssBefore / 1048576.0, sampler.rssPeak / 1048576.0);
      System.out.printf("per-upload overhead: (peak RSS - RSS before) / uploads = %.1f KiB%n",
        (sampler.rssPeak - rssBefore) / 1024.0 / uploads);
      exit = result.created == uploads && sampler.inFlightPeak >= uploads ? 0 : 1;
      if (exit != 0) {
        System.out.println("FAILED: not every upload completed, or they were not all in flight at once");
      }
      if (renderers != null) {
        System.out.printf("worst-case originals (%s engine, %d clients): %s%n", engine, renders, renderers.originals());
        System.out.print(renderers.report());
        if (engine.equals("java")) {
          // What the renders had reserved of the heap at once (the server's gauge), while nine in ten
          // uploads or more were in flight, and in the renders' time alone after them.
          System.out.printf("heap reserved by renders at once, peak: %.1f MiB with the uploads in flight, %.1f MiB in the %d s after them%n",
            sampler.reservedPeakUploading / 1048576.0, sampler.reservedPeakAfter / 1048576.0, afterSeconds);
          if (sampler.reservedPeakAfter < 2 * TWO_AT_ONCE_EACH) {
            System.out.println("FAILED: two 1024 px renders never held their share of the heap at once");
            exit = 1;
          }
        }
        if (!renderers.passed()) {
          System.out.println("FAILED: not every render answered 200 with a rendered image of the asked size");
          exit = 1;
        }
      }
      if (!server.isAlive()) {
        System.out.println("FAILED: the server died (exit status " + server.exitValue() + ")");
        exit = 1;
      }
    } finally {
      server.destroy();
      if (!server.waitFor(60, TimeUnit.SECONDS)) {
        server.destroyForcibly(); // a server that ran out of heap may not act on SIGTERM
      }
      for (Process child : children) {
        child.getOutputStream().close(); // the store stops when its input closes
        if (!child.waitFor(30, TimeUnit.SECONDS)) {
          child.destroyForcibly();
        }
      }
      if (exit != 0) {
        System.out.println("kept for a look: " + work + " (server.log)");
      } else try (Stream<Path> walk = Files.walk(work)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    System.exit(exit);
  }

  static final String BUCKET = "memory";

  /** The test classpath (dependencies, then the compiled classes), as bench_s3.py gets it. */
  static String testClasspath(Path work) throws Exception {
    Path file = work.resolve("cp.txt");
    run("mvn", "-q", "-o", "dependency:build-classpath", "-Dmdep.outputFile=" + file, "-Dmdep.includeScope=test");
    return "target/test-classes:target/classes:" + Files.readString(file).strip();
  }

  /** s3proxy over a directory (src/load/s3/StoreServer.java), until its input closes: its endpoint. */
  static String startStore(Path work, String classpath, List<Process> children) throws Exception {
    int port = PORT + 1;
    Path logback = work.resolve("logback.xml");
    Files.writeString(logback, "<configuration><root level=\"WARN\"/></configuration>\n");
    Process store = new ProcessBuilder("java", "-Xmx512m", "-Dlogback.configurationFile=" + logback, "-cp", classpath,
      "src/load/s3/StoreServer.java", String.valueOf(port), work.resolve("store").toString(), BUCKET)
      .redirectError(work.resolve("store.log").toFile()).start();
    children.add(store);
    String first = new java.io.BufferedReader(new java.io.InputStreamReader(store.getInputStream())).readLine();
    if (!"ready".equals(first)) {
      throw new IllegalStateException("s3proxy did not start (see " + work.resolve("store.log") + ")");
    }
    return "http://127.0.0.1:" + port;
  }

  /** The worst originals, written by the tests' WorstCaseImages: name → file. */
  static List<Path> worstCases(Path work, String classpath, String side) throws Exception {
    Path dir = work.resolve("worst");
    run("java", "-cp", classpath, "io.avatarserver.support.WorstCaseImages", dir.toString(), side, "5");
    return Renders.KINDS.stream().map(dir::resolve).toList();
  }

  /**
   * Clients that each, in a loop until stopped, re-upload one of their worst originals and ask for its
   * 1024 and 256 px WebP and PNG variants, one request at a time: every answer is checked and timed.
   */
  static final class Renders {
    static final List<String> KINDS = List.of("worst.gif", "worst.png", "worst.jpg", "worst.webp");
    static final String[][] VARIANTS = {{"1024", "webp"}, {"1024", "png"}, {"256", "webp"}, {"256", "png"}};

    final List<Path> files;
    final List<String[]> users;
    final List<Thread> threads = new ArrayList<>();
    final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    final List<long[]> times = Collections.synchronizedList(new ArrayList<>()); // kind, size, nanos
    final java.util.concurrent.atomic.AtomicInteger uploads = new java.util.concurrent.atomic.AtomicInteger();
    volatile boolean stopping;

    Renders(List<Path> files, List<String[]> users, int clients) {
      this.files = files;
      this.users = users;
      for (int c = 0; c < clients; c++) {
        int client = c;
        Thread t = new Thread(() -> loop(client), "render-" + c);
        t.setDaemon(true);
        threads.add(t);
      }
    }

    void start() {
      threads.forEach(Thread::start);
    }

    void stop() throws InterruptedException {
      stopping = true;
      for (Thread t : threads) {
        t.join();
      }
    }

    String originals() throws IOException {
      List<String> out = new ArrayList<>();
      for (Path f : files) {
        out.add(f.getFileName() + " " + Files.size(f) / 1024 + " KiB");
      }
      return String.join(", ", out);
    }

    private void loop(int client) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      // Staggered: the clients do not start on the same kind.
      for (int round = client; !stopping; round++) {
        int kind = round % KINDS.size();
        String[] user = users.get(client * KINDS.size() + kind);
        try {
          HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + "/users/"
              + user[0] + "/avatar")).timeout(java.time.Duration.ofSeconds(300)).header("Authorization", "Bearer " + user[1])
            .header("Content-Type", KINDS.get(kind).endsWith(".jpg") ? "image/jpeg"
              : "image/" + KINDS.get(kind).substring(6))
            .PUT(HttpRequest.BodyPublishers.ofFile(files.get(kind))).build(), HttpResponse.BodyHandlers.ofString());
          if (put.statusCode() != 201 && put.statusCode() != 200) {
            failures.add("PUT " + KINDS.get(kind) + ": " + put.statusCode() + " " + put.body());
            continue;
          }
          uploads.incrementAndGet();
          for (String[] v : VARIANTS) {
            if (stopping) {
              break;
            }
            long t0 = System.nanoTime();
            HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + "/users/"
                + user[0] + "/avatar?size=" + v[0] + "&format=" + v[1])).timeout(java.time.Duration.ofSeconds(300)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
            long nanos = System.nanoTime() - t0;
            String problem = check(got, Integer.parseInt(v[0]), v[1]);
            if (problem != null) {
              failures.add(KINDS.get(kind) + " " + v[0] + " " + v[1] + ": " + problem);
            }
            times.add(new long[] {kind, Integer.parseInt(v[0]), nanos});
          }
        } catch (Exception e) {
          failures.add(KINDS.get(kind) + ": " + e);
          if (stopping) {
            return;
          }
        }
      }
    }

    /** Null when the answer is a rendered image of the format and size asked, else what is wrong. */
    static String check(HttpResponse<byte[]> got, int size, String format) {
      if (got.statusCode() != 200) {
        return "status " + got.statusCode() + " " + new String(got.body(), StandardCharsets.UTF_8);
      }
      String type = got.headers().firstValue("Content-Type").orElse("");
      String cache = got.headers().firstValue("Cache-Control").orElse("");
      if (!type.equals("image/" + format) || !cache.equals("public, max-age=300")) {
        return "not a rendered " + format + " (" + type + ", " + cache + ")";
      }
      byte[] b = got.body();
      int[] dims = format.equals("png") ? pngSize(b) : webpSize(b);
      if (dims == null || dims[0] != size || dims[1] != size) {
        return "not " + size + "x" + size + " (" + (dims == null ? "unreadable" : dims[0] + "x" + dims[1]) + ")";
      }
      return null;
    }

    static int[] pngSize(byte[] b) {
      if (b.length < 24 || (b[0] & 0xff) != 0x89 || b[12] != 'I' || b[13] != 'H') {
        return null;
      }
      ByteBuffer bb = ByteBuffer.wrap(b);
      return new int[] {bb.getInt(16), bb.getInt(20)};
    }

    static int[] webpSize(byte[] b) {
      if (b.length < 30 || b[0] != 'R' || b[8] != 'W') {
        return null;
      }
      String chunk = new String(b, 12, 4, StandardCharsets.US_ASCII);
      return switch (chunk) {
        case "VP8X" -> new int[] {1 + le(b, 24, 3), 1 + le(b, 27, 3)};
        case "VP8 " -> new int[] {le(b, 26, 2) & 0x3fff, le(b, 28, 2) & 0x3fff};
        case "VP8L" -> new int[] {1 + (le(b, 21, 4) & 0x3fff), 1 + (le(b, 21, 4) >>> 14 & 0x3fff)};
        default -> null;
      };
    }

    static int le(byte[] b, int at, int n) {
      int v = 0;
      for (int i = n - 1; i >= 0; i--) {
        v = v << 8 | (b[at + i] & 0xff);
      }
      return v;
    }

    boolean passed() {
      return failures.isEmpty() && !times.isEmpty();
    }

    /** Per original and size: count, median, 99th percentile and maximum latency; then the failures. */
    String report() {
      StringBuilder out = new StringBuilder();
      out.append(String.format("renders: %d (%d re-uploads of the originals), failures: %d%n", times.size(),
        uploads.get(), failures.size()));
      for (int kind = 0; kind < KINDS.size(); kind++) {
        for (int size : new int[] {1024, 256}) {
          int k = kind;
          List<Long> ms = new ArrayList<>();
          synchronized (times) {
            for (long[] t : times) {
              if (t[0] == k && t[1] == size) {
                ms.add(t[2] / 1_000_000);
              }
            }
          }
          if (ms.isEmpty()) {
            continue;
          }
          Collections.sort(ms);
          out.append(String.format("  %-10s %4d px: %3d renders, p50 %5d ms, p99 %5d ms, max %5d ms%n", KINDS.get(kind),
            size, ms.size(), ms.get(ms.size() / 2), ms.get(Math.min(ms.size() - 1, (int) Math.ceil(ms.size() * 0.99) - 1)),
            ms.get(ms.size() - 1)));
        }
      }
      synchronized (failures) {
        failures.stream().limit(20).forEach(f -> out.append("  ! ").append(f).append('\n'));
      }
      return out.toString();
    }
  }

  record Result(int created, List<Integer> others) {
  }

  /** One selector thread: connect everyone, send every head and a first slice, then pace the bodies. */
  static Result drive(List<String[]> users, byte[] body, int bytesPerSecond, Sampler sampler) throws IOException {
    final class Client {
      final SocketChannel channel;
      final ByteBuffer head;
      long sent;
      final StringBuilder answer = new StringBuilder();
      int status;

      Client(SocketChannel channel, ByteBuffer head) {
        this.channel = channel;
        this.head = head;
      }
    }
    Selector selector = Selector.open();
    List<Client> clients = new ArrayList<>();
    for (String[] user : users) {
      SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", PORT));
      channel.configureBlocking(false);
      String head = "PUT /users/" + user[0] + "/avatar HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + user[1]
        + "\r\nContent-Type: image/png\r\nContent-Length: " + body.length + "\r\n\r\n";
      Client client = new Client(channel, ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
      channel.register(selector, SelectionKey.OP_READ, client);
      clients.add(client);
    }
    int slice = Math.max(1024, bytesPerSecond / 10);
    long start = System.nanoTime();
    int finished = 0;
    ByteBuffer read = ByteBuffer.allocate(4096);
    while (finished < clients.size()) {
      double elapsed = (System.nanoTime() - start) / 1e9;
      long allowed = (long) (elapsed * bytesPerSecond) + slice;
      for (Client c : clients) {
        if (c.status != 0) {
          continue;
        }
        try {
          if (c.head.hasRemaining()) {
            c.channel.write(c.head);
          }
          while (!c.head.hasRemaining() && c.sent < body.length && c.sent < allowed) {
            int n = (int) Math.min(Math.min(slice, body.length - c.sent), allowed - c.sent);
            int written = c.channel.write(ByteBuffer.wrap(body, (int) c.sent, n));
            c.sent += written;
            if (written < n) {
              break; // the socket is full: the server is pushing back; try again next round
            }
          }
        } catch (IOException reset) {
          // The server closed this connection before the body was sent: a failed upload, read below.
          c.sent = body.length;
        }
      }
      selector.select(100);
      for (SelectionKey key : selector.selectedKeys()) {
        Client c = (Client) key.attachment();
        read.clear();
        int n;
        try {
          n = c.channel.read(read);
        } catch (IOException reset) {
          n = -1; // a reset is an answer too: this upload failed
        }
        if (n > 0) {
          c.answer.append(new String(read.array(), 0, n, StandardCharsets.ISO_8859_1));
        }
        Matcher m = STATUS.matcher(c.answer);
        if ((m.find() || n < 0) && c.status == 0) {
          c.status = m.find(0) ? Integer.parseInt(m.group(1)) : -1;
          finished++;
          key.cancel();
          c.channel.close();
        }
      }
      selector.selectedKeys().clear();
    }
    int created = 0;
    List<Integer> others = new ArrayList<>();
    for (Client c : clients) {
      if (c.status == 201) {
        created++;
      } else {
        others.add(c.status);
      }
    }
    return new Result(created, others);
  }

  static final Pattern STATUS = Pattern.compile("^HTTP/1\\.1 (\\d{3})");

  static final Pattern HEAP = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"[^}]*\\} (\\S+)");
  static final Pattern DIRECT = Pattern.compile("(?m)^jvm_buffer_memory_used_bytes\\{id=\"direct\"[^}]*\\} (\\S+)");
  static final Pattern IN_FLIGHT = Pattern.compile("(?m)^avatar_uploads_in_flight (\\S+)");
  static final Pattern RESERVED = Pattern.compile("(?m)^avatar_variant_render_heap_reserved_bytes (\\S+)");

  /** The sum of the samples of one metric in Prometheus text (heap: one per memory pool). */
  static double sum(String text, Pattern metric) {
    double sum = 0;
    Matcher m = metric.matcher(text);
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
    }
    return sum;
  }

  /** The least a 1024 px render of the worst originals reserves: 1024² decoded pixels at 12 bytes. */
  static final long TWO_AT_ONCE_EACH = 1024L * 1024 * 12;

  static final class Sampler extends Thread {
    final long pid;
    volatile boolean done;
    long rssPeak;
    double heapPeak;
    double directPeak;
    double inFlightPeak;
    double reservedPeakUploading;
    double reservedPeakAfter;
    /** Whether nine in ten uploads or more have been in flight at once (so an empty gauge after means they ended). */
    private boolean uploadsBegan;

    final int uploads;

    Sampler(long pid, int uploads) {
      this.pid = pid;
      this.uploads = uploads;
      setDaemon(true);
    }

    @Override
    public void run() {
      HttpClient http = HttpClient.newHttpClient();
      while (!done) {
        rssPeak = Math.max(rssPeak, rss(pid));
        try {
          String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
          heapPeak = Math.max(heapPeak, sum(text, HEAP));
          directPeak = Math.max(directPeak, sum(text, DIRECT));
          double inFlight = sum(text, IN_FLIGHT);
          inFlightPeak = Math.max(inFlightPeak, inFlight);
          double reserved = sum(text, RESERVED);
          if (inFlight >= 0.9 * uploads) {
            uploadsBegan = true;
            reservedPeakUploading = Math.max(reservedPeakUploading, reserved);
          } else if (uploadsBegan && inFlight == 0) {
            reservedPeakAfter = Math.max(reservedPeakAfter, reserved);
          }
          Thread.sleep(500);
        } catch (Exception e) {
          // The server is busy: sample again.
        }
      }
    }
  }

  static long rss(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return 0;
  }

  static void awaitReady() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (int i = 0; i < 120; i++) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + "/health/ready")).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("the server did not become ready");
  }

  /**
   * A decodable PNG of exactly {@code size} bytes: 8-bit greyscale rows of seeded random pixels, stored
   * uncompressed (deflate stored blocks); the exact size comes from empty stored blocks (5 bytes each)
   * and from splitting the image data over up to five IDAT chunks. Only chunks the server stores are
   * used (it drops private ones), so what is sent is what is stored, byte for byte. The same
   * construction as the tests' {@code Bodies.png(size, seed)}.
   */
  static byte[] png(int size) throws IOException {
    int width = Math.max(1, Math.min(4096, size / 64));
    int fixed = 8 + 25 + 12 + 12 + 2 + 4; // signature, IHDR, IEND, one IDAT's frame, zlib header and Adler-32
    for (int height = Math.min(4096, (size - fixed) / (width + 1)); height >= 1; height--) {
      long raw = (long) height * (width + 1);
      long rest = size - fixed - raw - 5 * ((raw + 65_534) / 65_535);
      for (int splits = 0; splits <= 4 && rest >= 0; splits++) {
        long padding = rest - 12L * splits;
        if (padding >= 0 && padding % 5 == 0) {
          return grey(size, width, height, (int) (padding / 5), splits + 1);
        }
      }
    }
    throw new IllegalArgumentException("no PNG of exactly " + size + " bytes here");
  }

  private static byte[] grey(int size, int width, int height, int emptyBlocks, int idats) {
    Random random = new Random(1);
    byte[] raw = new byte[height * (width + 1)];
    random.nextBytes(raw);
    for (int row = 0; row < height; row++) {
      raw[row * (width + 1)] = 0; // filter: none
    }
    ByteBuffer zlib = ByteBuffer.allocate(size);
    zlib.put((byte) 0x78).put((byte) 0x01);
    for (int i = 0; i < emptyBlocks; i++) {
      zlib.put(new byte[] {0, 0, 0, (byte) 0xFF, (byte) 0xFF}); // a non-final stored block of 0 bytes
    }
    for (int at = 0; at < raw.length; at += 65_535) {
      int n = Math.min(65_535, raw.length - at);
      zlib.put((byte) (at + n == raw.length ? 1 : 0));
      zlib.put(new byte[] {(byte) n, (byte) (n >> 8), (byte) ~n, (byte) (~n >> 8)});
      zlib.put(raw, at, n);
    }
    java.util.zip.Adler32 adler = new java.util.zip.Adler32();
    adler.update(raw);
    zlib.putInt((int) adler.getValue());
    byte[] data = java.util.Arrays.copyOf(zlib.array(), zlib.position());
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0).array());
    int piece = data.length / idats;
    for (int i = 0; i < idats; i++) {
      int from = i * piece;
      chunk(out, "IDAT", java.util.Arrays.copyOfRange(data, from, i == idats - 1 ? data.length : from + piece));
    }
    chunk(out, "IEND", new byte[0]);
    if (out.position() != size) {
      throw new IllegalStateException("built " + out.position() + " bytes, not " + size);
    }
    return out.array();
  }

  static void chunk(ByteBuffer out, String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.putInt(data.length).put(t).put(data).putInt((int) crc.getValue());
  }

  static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (InputStream in = p.getInputStream()) {
      in.transferTo(System.err);
    }
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed");
    }
  }

  static int intArg(String[] args, String name, int fallback) {
    return Integer.parseInt(stringArg(args, name, String.valueOf(fallback)));
  }

  static String stringArg(String[] args, String name, String fallback) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }
}
