package io.avatarserver.storage.s3;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.AvatarStorage;
import io.avatarserver.avatar.Failure;
import io.avatarserver.avatar.ObjectMissingException;
import io.avatarserver.avatar.StagedObject;
import io.avatarserver.avatar.StoredContent;
import io.avatarserver.config.ServerConfig;
import io.avatarserver.support.TcpProxy;
import io.avatarserver.support.TestS3;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The object store backend against a real S3 API server (s3proxy in the test JVM), without HTTP in front. */
@ExtendWith(VertxExtension.class)
@DisplayName("S3 storage: checksums, no overwrite, streaming with backpressure, keys, listing")
class S3StorageTest {

  private static final String PREFIX = "tenant/";
  /**
   * More than two loopback sockets' kernel buffers can hold (the proxy's send side and this client's
   * receive side, at most 4 + 6 MiB with Linux's default autotuning limits) and far less than the object.
   */
  private static final long LOOPBACK_BUFFERS = 14L << 20;

  private TestS3 s3;
  private String bucket;
  private S3Storage storage;
  private Path tmp;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path data) {
    s3 = TestS3.shared();
    bucket = s3.newBucket();
    tmp = data.resolve("tmp");
    ServerConfig.S3 config = new ServerConfig.S3(s3.endpoint(), "us-east-1", bucket, PREFIX, true, "when_supported",
      2, 5000, 2000, 16, 0);
    storage = S3Storage.create(vertx, config, tmp);
    storage.init().await();
  }

  @AfterEach
  void stop() {
    storage.close().await();
  }

  @Test
  @DisplayName("publish PUTs the staged file under {prefix}avatars/{user}/{uuid}.{ext} with its type and Cache-Control, then deletes the staging file")
  void publishStoresTheObject() throws Exception {
    byte[] bytes = random(100_000);
    String key = publish(storage, 42, bytes, sha256(bytes));

    assertTrue(key.matches("avatars/42/[0-9a-f-]{36}\\.png"), key);
    assertEquals(List.of(PREFIX + key), s3.keys(bucket));
    assertArrayEquals(bytes, Files.readAllBytes(s3.file(bucket, PREFIX + key)));
    assertEquals(List.of(), staged(), "the staging file is deleted once the store acknowledged");
    assertArrayEquals(bytes, read(storage.open(key).await()));
  }

  @Test
  @DisplayName("storage.s3MaxPuts 1: twelve uploads finishing at once are PUT one after another, and all are stored")
  void putsWaitForAPermit(Vertx vertx, @TempDir Path other) {
    ServerConfig.S3 config = new ServerConfig.S3(s3.endpoint(), "us-east-1", bucket, PREFIX, true, "when_supported",
      2, 30_000, 10_000, 1, 0);
    S3Storage one = S3Storage.create(vertx, config, other.resolve("tmp"));
    try {
      one.init().await();
      List<StagedObject> staged = new java.util.ArrayList<>();
      List<byte[]> bodies = new java.util.ArrayList<>();
      for (int i = 0; i < 12; i++) {
        byte[] bytes = random(200_000 + i);
        StagedObject object = one.stage(50 + i).await();
        object.write(Buffer.buffer(bytes)).await();
        object.end().await();
        staged.add(object);
        bodies.add(bytes);
      }
      List<io.vertx.core.Future<String>> published = new java.util.ArrayList<>();
      for (int i = 0; i < staged.size(); i++) {
        published.add(staged.get(i).publish("png", sha256(bodies.get(i))));
      }
      assertEquals(1, one.putsInFlight());
      assertEquals(11, one.putsWaiting());
      for (int i = 0; i < published.size(); i++) {
        assertArrayEquals(bodies.get(i), Files.readAllBytes(s3.file(bucket, PREFIX + published.get(i).await())));
      }
      assertEquals(0, one.putsInFlight());
      assertEquals(12, s3.keys(bucket).size());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      one.close().await();
    }
  }

  @Test
  @DisplayName("A byte range is read from the store alone: the tail of 3 MB costs its own bytes, not the object's")
  void partReadsTheRangeAlone(Vertx vertx, @TempDir Path other) {
    byte[] bytes = random(3_000_000);
    String key = publish(storage, 43, bytes, sha256(bytes));
    try (TcpProxy proxy = new TcpProxy(new java.net.InetSocketAddress("127.0.0.1", java.net.URI.create(s3.endpoint()).getPort()))) {
      S3Storage through = S3Storage.create(vertx, new ServerConfig.S3("http://127.0.0.1:" + proxy.port(), "us-east-1",
        bucket, PREFIX, true, "when_supported", 2, 5000, 2000, 16, 0), other.resolve("tmp"));
      through.init().await();
      try {
        StoredContent.Streamed whole = (StoredContent.Streamed) through.open(key).await();
        assertEquals(0, whole.offset());
        assertEquals(bytes.length, whole.length());
        assertArrayEquals(bytes, read(whole));
        long before = proxy.bytesFromUpstream();
        StoredContent.Streamed tail = (StoredContent.Streamed) through.open(key, bytes.length - 1000, 1000).await();
        assertEquals(bytes.length - 1000, tail.offset());
        assertEquals(1000, tail.length());
        assertArrayEquals(java.util.Arrays.copyOfRange(bytes, bytes.length - 1000, bytes.length), read(tail));
        long sent = proxy.bytesFromUpstream() - before;
        assertTrue(sent < 1000 + 2000, "the store sent the range and its head, not the object: " + sent + " bytes");
        StoredContent.Streamed middle = (StoredContent.Streamed) through.open(key, 1_000_000, 65_537).await();
        assertEquals(1_000_000, middle.offset());
        assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 1_000_000, 1_065_537), read(middle));
      } finally {
        through.close().await();
      }
    }
  }

  @Test
  @DisplayName("The store verifies the SHA-256 sent with the PUT: a wrong one is refused, nothing is stored, nothing left staged")
  void wrongChecksumIsRefused() {
    byte[] bytes = random(10_000);
    String wrong = sha256(random(10));

    Throwable failure = assertThrows(Throwable.class, () -> publish(storage, 7, bytes, wrong));
    assertEquals(Failure.STORAGE_UNAVAILABLE, assertInstanceOf(AvatarException.class, failure).failure());
    assertEquals(List.of(), s3.keys(bucket), "the store kept nothing");
    assertEquals(List.of(), staged());
    // A refused checksum says nothing about the store's health: the next upload is not refused early.
    String key = publish(storage, 7, bytes, sha256(bytes));
    assertEquals(List.of(PREFIX + key), s3.keys(bucket));
  }

  @Test
  @DisplayName("With storage.s3Checksum when_required (stores that refuse the SDK's own checksums) the SHA-256 is still sent and verified")
  void checksumWhenRequired(Vertx vertx, @TempDir Path other) throws Exception {
    ServerConfig.S3 config = new ServerConfig.S3(s3.endpoint(), "us-east-1", bucket, "", true, "when_required",
      2, 5000, 2000, 16, 0);
    S3Storage required = S3Storage.create(vertx, config, other.resolve("tmp"));
    try {
      required.init().await();
      byte[] bytes = random(20_000);
      Throwable failure = assertThrows(Throwable.class, () -> publish(required, 8, bytes, sha256(random(11))));
      assertEquals(Failure.STORAGE_UNAVAILABLE, assertInstanceOf(AvatarException.class, failure).failure());
      assertEquals(List.of(), s3.keys(bucket));
      String key = publish(required, 8, bytes, sha256(bytes));
      assertArrayEquals(bytes, Files.readAllBytes(s3.file(bucket, key)));
    } finally {
      required.close().await();
    }
  }

  @Test
  @DisplayName("An HTTPS store whose certificate is not trusted is unreachable on the data path too: PUT and GET fail as"
    + " the store's unavailability, nothing stored")
  void untrustedCertificate(Vertx vertx, @TempDir Path other) throws Exception {
    try (TestS3 tls = TestS3.startNewTls(Files.createDirectories(other.resolve("tls")))) {
      String tlsBucket = tls.newBucket();
      S3Storage doubting = S3Storage.create(vertx, new ServerConfig.S3(tls.endpoint(), "us-east-1", tlsBucket, "", true,
        "when_supported", 1, 5000, 2000, 16, 0), other.resolve("tmp"));
      doubting.init().await();
      try {
        byte[] bytes = random(5000);
        Path file = Files.write(Files.createDirectories(tmp).resolve("tls"), bytes);
        Throwable put = assertThrows(Throwable.class,
          () -> doubting.putObject("avatars/1/tls.png", file, bytes.length, "image/png", sha256(bytes)).await());
        assertEquals(Failure.STORAGE_UNAVAILABLE, assertInstanceOf(AvatarException.class, put).failure());
        assertEquals(List.of(), tls.keys(tlsBucket));
        Throwable get = assertThrows(Throwable.class, () -> doubting.open("avatars/1/tls.png").await());
        assertEquals(Failure.STORAGE_UNAVAILABLE, assertInstanceOf(AvatarException.class, get).failure());
      } finally {
        doubting.close().await();
      }
    }
  }

  @Test
  @DisplayName("A GET piped on is handed on in batches of the client's 8 KiB pieces (one write each, about 64 KiB at most), not"
    + " piece by piece, and arrives whole")
  void pipedGetIsBatched(Vertx vertx) {
    byte[] bytes = random(2 << 20);
    String key = publish(storage, 44, bytes, sha256(bytes));
    List<Integer> writes = new java.util.concurrent.CopyOnWriteArrayList<>();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    Promise<Void> piped = Promise.promise();
    vertx.runOnContext(v -> storage.open(key).compose(content -> {
      StoredContent.Streamed streamed = (StoredContent.Streamed) content;
      return streamed.stream().pipeTo(new io.vertx.core.streams.WriteStream<Buffer>() {
        @Override
        public io.vertx.core.streams.WriteStream<Buffer> exceptionHandler(io.vertx.core.Handler<Throwable> handler) {
          return this;
        }

        @Override
        public Future<Void> write(Buffer data) {
          writes.add(data.length());
          synchronized (got) {
            got.writeBytes(data.getBytes());
          }
          return Future.succeededFuture();
        }

        @Override
        public Future<Void> end() {
          return Future.succeededFuture();
        }

        @Override
        public io.vertx.core.streams.WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
          return this;
        }

        @Override
        public boolean writeQueueFull() {
          return false;
        }

        @Override
        public io.vertx.core.streams.WriteStream<Buffer> drainHandler(io.vertx.core.Handler<Void> handler) {
          return this;
        }
      }).onComplete(ar -> content.close());
    }).onComplete(piped));
    piped.future().await();
    assertArrayEquals(bytes, got.toByteArray());
    assertTrue(writes.stream().allMatch(n -> n <= S3Http.BATCH_BYTES + 8192), "a batch over 64 KiB and a piece: " + writes);
    assertTrue(writes.size() < bytes.length / 8192 / 2,
      writes.size() + " writes for " + bytes.length / 8192 + " pieces of 8 KiB: " + writes);
  }

  @Test
  @DisplayName("A PUT never replaces an object: If-None-Match: * makes the store refuse an existing key (412)")
  void noOverwrite() throws Exception {
    byte[] first = random(5000);
    byte[] second = random(6000);
    Path a = Files.write(Files.createDirectories(tmp).resolve("a"), first);
    Path b = Files.write(tmp.resolve("b"), second);
    storage.putObject("avatars/1/fixed.png", a, first.length, "image/png", sha256(first)).await();

    Throwable failure = assertThrows(Throwable.class,
      () -> storage.putObject("avatars/1/fixed.png", b, second.length, "image/png", sha256(second)).await());
    assertEquals(Failure.STORAGE_UNAVAILABLE, assertInstanceOf(AvatarException.class, failure).failure());
    assertArrayEquals(first, Files.readAllBytes(s3.file(bucket, PREFIX + "avatars/1/fixed.png")));
  }

  @Test
  @DisplayName("A missing key opens as ObjectMissingException; delete of a missing key succeeds; absent names it")
  void missing() {
    Throwable failure = assertThrows(Throwable.class, () -> storage.open("avatars/1/none.png").await());
    assertInstanceOf(ObjectMissingException.class, failure);
    storage.delete("avatars/1/none.png").await();
    byte[] bytes = random(1000);
    String key = publish(storage, 3, bytes, sha256(bytes));
    assertEquals(List.of("avatars/1/none.png"), storage.absent(List.of(key, "avatars/1/none.png")).await());
    storage.delete(key).await();
    assertEquals(List.of(), s3.keys(bucket));
  }

  @Test
  @DisplayName("A slow reader of a large object: paused, or taking one buffer at a time, it makes the store wait; the object does not pile up on this side")
  void slowReaderIsBounded(Vertx vertx, @TempDir Path other) throws Exception {
    // Timeouts for a 48 MiB PUT on a busy machine (the others' 2 s try is for small objects).
    ServerConfig.S3 direct = new ServerConfig.S3(s3.endpoint(), "us-east-1", bucket, PREFIX, true, "when_supported",
      2, 120_000, 60_000, 16, 0);
    storage.close().await();
    storage = S3Storage.create(vertx, direct, other.resolve("tmp"));
    storage.init().await();
    byte[] big = random(48 << 20);
    Path file = Files.write(Files.createDirectories(tmp).resolve("big"), big);
    storage.putObject("avatars/9/big.png", file, big.length, "image/png", sha256(big)).await();
    Files.delete(file);

    // Read through a proxy that counts what the store sent.
    try (TcpProxy proxy = new TcpProxy(new java.net.InetSocketAddress("127.0.0.1", java.net.URI.create(s3.endpoint()).getPort()))) {
      S3Storage through = S3Storage.create(vertx, new ServerConfig.S3("http://127.0.0.1:" + proxy.port(), "us-east-1",
        bucket, PREFIX, true, "when_supported", 2, 120_000, 60_000, 16, 0), other.resolve("tmp2"));
      through.init().await();
      try {
        // Opened from an event loop, as the HTTP layer does.
        Promise<StoredContent> opened = Promise.promise();
        vertx.runOnContext(v -> through.open("avatars/9/big.png").onComplete(opened));
        StoredContent.Streamed content = (StoredContent.Streamed) opened.future().await();
        ReadStream<Buffer> stream = content.stream();
        assertEquals(big.length, content.length());

        ByteArrayOutputStream got = new ByteArrayOutputStream();
        Promise<Void> ended = Promise.promise();
        AtomicLong handed = new AtomicLong();
        vertx.runOnContext(v -> {
          stream.handler(chunk -> {
            handed.addAndGet(chunk.length());
            got.writeBytes(chunk.getBytes());
          });
          stream.endHandler(ended::complete);
          stream.exceptionHandler(ended::fail);
          stream.fetch(1);
        });
        // The reader took one buffer and stopped: give the store every chance to push more. What it
        // could send is what the sockets' kernel buffers and the client's small queue hold, not 48 MiB.
        long sent = 0;
        for (int i = 0; i < 50; i++) {
          Thread.sleep(20);
          sent = proxy.bytesFromUpstream();
        }
        assertTrue(sent < LOOPBACK_BUFFERS, "a paused reader of a 48 MiB object had " + sent + " bytes sent by the store");
        // Then one buffer at a time, slowly: the store stays that close ahead of the reader.
        for (int i = 0; i < 40; i++) {
          vertx.runOnContext(v -> stream.fetch(1));
          Thread.sleep(10);
          long ahead = proxy.bytesFromUpstream() - handed.get();
          assertTrue(ahead < LOOPBACK_BUFFERS, "sent by the store and not yet read: " + ahead + " bytes");
        }
        assertTrue(proxy.bytesFromUpstream() < big.length / 3, "sent " + proxy.bytesFromUpstream());

        vertx.runOnContext(v -> stream.resume());
        ended.future().await();
        assertArrayEquals(big, got.toByteArray());
        content.close();
      } finally {
        through.close().await();
      }
    }
  }

  @Test
  @DisplayName("The sweep's listing: every stored object before the cutoff, keys without the prefix, a page at a time")
  void scan() {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      byte[] bytes = random(100 + i);
      keys.add(publish(storage, 5, bytes, sha256(bytes)));
    }
    List<AvatarStorage.StoredObject> seen = new ArrayList<>();
    storage.scanStoredBefore(Instant.now().plusSeconds(60), page -> {
      seen.addAll(page);
      return Future.succeededFuture();
    }).await();
    assertEquals(keys.stream().sorted().toList(), seen.stream().map(AvatarStorage.StoredObject::key).sorted().toList());
    seen.clear();
    storage.scanStoredBefore(Instant.now().minusSeconds(3600), page -> {
      seen.addAll(page);
      return Future.succeededFuture();
    }).await();
    assertEquals(List.of(), seen);
  }

  @Test
  @DisplayName("The s3 backend without a bucket refuses to start, in one line naming the setting")
  void bucketRequired(Vertx vertx, @TempDir Path other) {
    ServerConfig.S3 config = new ServerConfig.S3(s3.endpoint(), "us-east-1", "", "", true, "when_supported", 2, 5000,
      2000, 16, 0);
    io.avatarserver.config.ConfigException refused = assertThrows(io.avatarserver.config.ConfigException.class,
      () -> S3Storage.create(vertx, config, other));
    assertTrue(refused.getMessage().contains("storage.s3Bucket"), refused.getMessage());
  }

  private List<Path> staged() {
    try (var files = Files.list(tmp)) {
      return files.toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String publish(S3Storage storage, long owner, byte[] bytes, String sha256) {
    StagedObject staged = storage.stage(owner).await();
    staged.write(Buffer.buffer(bytes)).await();
    staged.end().await();
    return staged.publish("png", sha256).await();
  }

  private static byte[] read(StoredContent content) {
    StoredContent.Streamed streamed = (StoredContent.Streamed) content;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Promise<Void> ended = Promise.promise();
    streamed.stream().handler(chunk -> out.writeBytes(chunk.getBytes()));
    streamed.stream().endHandler(ended::complete);
    streamed.stream().exceptionHandler(ended::fail);
    streamed.stream().resume();
    ended.future().await();
    content.close();
    return out.toByteArray();
  }

  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
