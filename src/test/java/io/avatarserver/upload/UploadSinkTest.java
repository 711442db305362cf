package io.avatarserver.upload;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.Failure;
import io.avatarserver.storage.LocalDirectoryStorage;
import io.avatarserver.avatar.StagedObject;
import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.upload.image.ImageLimits;
import io.avatarserver.upload.image.ImageType;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stages composed: a body fed chunk by chunk into an {@link UploadSink} over an in-memory staged
 * object, and once over a real staged file with backpressure, without HTTP.
 */
@DisplayName("UploadSink: the stages in order, from the chunk to the durable, hashed file")
class UploadSinkTest {

  private static final ImageLimits IMAGE = new ImageLimits(4096, 16_777_216L, true);

  private static UploadLimits limits(long maxBytes, int minBytes) {
    return new UploadLimits(maxBytes, minBytes, 64 * 1024, 256 * 1024, 0, 30, IMAGE);
  }

  private final FakeStagedObject staged = new FakeStagedObject();
  private final WriteBudget budget = new WriteBudget(1 << 20);
  private final AtomicLong received = new AtomicLong();
  private final UploadEvents events = new UploadEvents() {
    @Override
    public void received(long bytes) {
      received.addAndGet(bytes);
    }

    @Override
    public void finished(String outcome, long bytes, long durationNanos) {
    }
  };

  private UploadSink sink(ImageType type, UploadLimits limits) {
    return new UploadSink(staged, type, limits, 42, budget, events);
  }

  /** Feeds {@code body} in chunks of {@code chunk} bytes and ends; the first failure, or null. */
  private static Throwable feed(UploadSink sink, byte[] body, int chunk) {
    for (int at = 0; at < body.length; at += chunk) {
      Future<Void> write = sink.write(Buffer.buffer(Arrays.copyOfRange(body, at, Math.min(body.length, at + chunk))));
      if (write.failed()) {
        return write.cause();
      }
    }
    Future<Void> end = sink.end();
    assertTrue(end.isComplete(), "the in-memory staged object completes at once");
    return end.cause();
  }

  private static AvatarException refusal(Throwable failure, Failure expected) {
    AvatarException refused = assertInstanceOf(AvatarException.class, failure);
    assertEquals(expected, refused.failure(), refused.detail());
    return refused;
  }

  /** A JPEG carrying a comment, an EXIF block without orientation and IPTC: all three are stripped. */
  private static byte[] jpegWithMetadata() {
    return Images.jpegWith(Bodies.fixture("images/avatar-256.jpg"),
      new Images.Segment(0xFE, "a comment".getBytes()),
      new Images.Segment(0xE1, Images.exifPayload(Images.cameraTiff(true, 0))),
      new Images.Segment(0xED, "Photoshop 3.0\0 IPTC".getBytes()));
  }

  @Test
  @DisplayName("What is stored and hashed is the stripped image; sizes and dimensions are reported; no read-back without a patch")
  void storesAndHashesTheStrippedBytes() {
    byte[] image = jpegWithMetadata();
    byte[] expected = Images.stored(image);
    UploadSink sink = sink(ImageType.JPEG, limits(10 << 20, 100));
    assertNull(feed(sink, image, 1000));

    assertArrayEquals(expected, staged.bytes());
    assertTrue(staged.ended(), "made durable");
    assertEquals(Bodies.sha256(expected), sink.sha256());
    assertEquals(0, staged.sha256Reads());
    assertEquals(image.length, sink.size());
    assertEquals(image.length, received.get());
    assertEquals(expected.length, sink.storedSize());
    assertEquals(256, sink.width());
    assertEquals(256, sink.height());
    assertEquals(ImageType.JPEG, sink.type());
    assertEquals(0, budget.reserved());
  }

  @Test
  @DisplayName("The same file and hash whatever the chunk size, from one byte at a time to the whole body")
  void chunkBoundaries() {
    byte[] image = jpegWithMetadata();
    byte[] expected = Images.stored(image);
    for (int chunk : new int[] {1, 7, 11, 12, 13, 4096, image.length}) {
      FakeStagedObject file = new FakeStagedObject();
      UploadSink sink = new UploadSink(file, ImageType.JPEG, limits(10 << 20, 100), 42, budget, events);
      assertNull(feed(sink, image, chunk), "chunks of " + chunk);
      assertArrayEquals(expected, file.bytes(), "chunks of " + chunk);
      assertEquals(Bodies.sha256(expected), sink.sha256(), "chunks of " + chunk);
    }
  }

  @Test
  @DisplayName("A body of exactly maxBytes is stored; with one byte more the crossing chunk, and all after it, fail AVATAR_TOO_LARGE")
  void capAtTheByte() {
    byte[] image = Bodies.png(50_000, 1);
    assertNull(feed(sink(ImageType.PNG, limits(image.length, 100)), image, 8192));
    assertArrayEquals(image, staged.bytes());

    FakeStagedObject file = new FakeStagedObject();
    UploadSink sink = new UploadSink(file, ImageType.PNG, limits(image.length - 1, 100), 42, budget, events);
    int chunk = 8192;
    int at = 0;
    for (; at + chunk < image.length; at += chunk) {
      assertTrue(sink.write(Buffer.buffer(Arrays.copyOfRange(image, at, at + chunk))).succeeded());
    }
    Future<Void> last = sink.write(Buffer.buffer(Arrays.copyOfRange(image, at, image.length)));
    AvatarException refused = refusal(last.cause(), Failure.AVATAR_TOO_LARGE);
    assertEquals("The avatar is larger than the limit of " + (image.length - 1) + " bytes", refused.detail());
    assertSame(refused, sink.write(Buffer.buffer("more")).cause());
    assertSame(refused, sink.end().cause());
    assertEquals(image.length, sink.size());
    assertTrue(file.bytes().length <= at, "the refused chunk is not written");
    assertEquals(0, budget.reserved());
  }

  @Test
  @DisplayName("A body below minBytes fails AVATAR_TOO_SMALL at the end; exactly minBytes is stored")
  void minimum() {
    byte[] image = Bodies.fixture("images/avatar-64.gif");
    AvatarException refused = refusal(feed(sink(ImageType.GIF, limits(10 << 20, image.length + 1)), image, 100),
      Failure.AVATAR_TOO_SMALL);
    assertEquals("The avatar has " + image.length + " bytes; the minimum is " + (image.length + 1), refused.detail());
    assertNull(feed(new UploadSink(new FakeStagedObject(), ImageType.GIF, limits(10 << 20, image.length), 42, budget,
      events), image, 100));
  }

  @Test
  @DisplayName("Content that is not the declared type fails at its first chunk and nothing reaches the file")
  void signatureMismatch() {
    byte[] png = Bodies.png(4096, 2);
    AvatarException refused = refusal(feed(sink(ImageType.GIF, limits(10 << 20, 100)), png, 1000),
      Failure.CONTENT_TYPE_MISMATCH);
    assertEquals("Declared image/gif but the content is image/png", refused.detail());
    assertEquals(List.of(), staged.writeSizes());
    assertEquals(1000, received.get(), "received bytes are counted, refused ones included");

    refusal(feed(new UploadSink(new FakeStagedObject(), ImageType.PNG, limits(10 << 20, 100), 42, budget, events),
      Bodies.fixture("hostile/random-bytes.bin"), 5), Failure.UNSUPPORTED_TYPE);
  }

  @Test
  @DisplayName("The parser's refusals fail the upload: data after the image, a truncated image, a pixel flood")
  void parserRefusals() {
    AvatarException polyglot = refusal(feed(sink(ImageType.JPEG, limits(10 << 20, 100)),
      Bodies.fixture("hostile/polyglot-jpeg-html.jpg"), 4096), Failure.INVALID_IMAGE);
    assertEquals("Data follows the end of the image; polyglot files are refused", polyglot.detail());

    AvatarException truncated = refusal(feed(new UploadSink(new FakeStagedObject(), ImageType.JPEG,
      limits(10 << 20, 100), 42, budget, events), Bodies.fixture("hostile/truncated.jpg"), 4096), Failure.INVALID_IMAGE);
    assertEquals("The image is truncated", truncated.detail());

    refusal(feed(new UploadSink(new FakeStagedObject(), ImageType.WEBP, limits(10 << 20, 100), 42, budget, events),
      Bodies.fixture("hostile/pixel-flood-16384.webp"), 4096), Failure.INVALID_IMAGE);
    assertEquals(0, budget.reserved());
  }

  @Test
  @DisplayName("A body shorter than the signature window (minBytes 0) is judged at the end")
  void shorterThanTheSignature() {
    byte[] signature = Arrays.copyOf(Bodies.png(4096, 1), 8);
    AvatarException truncated = refusal(feed(sink(ImageType.PNG, limits(10 << 20, 0)), signature, 3),
      Failure.INVALID_IMAGE);
    assertEquals("The image is truncated", truncated.detail());
    refusal(feed(new UploadSink(new FakeStagedObject(), ImageType.JPEG, limits(10 << 20, 0), 42, budget, events),
      signature, 3), Failure.CONTENT_TYPE_MISMATCH);
  }

  /** A WebP with an XMP chunk, and the same without it: the RIFF size and VP8X flags change at the end. */
  private static byte[][] webpWithXmp() {
    byte[] vp8 = Images.riffChunks(Bodies.fixture("images/avatar-200.webp")).get(0).data();
    byte[] with = Images.webp(List.of(new Images.Chunk("VP8X", Images.vp8x(0x04, 200, 200)),
      new Images.Chunk("VP8 ", vp8), new Images.Chunk("XMP ", "<x:xmpmeta>private</x:xmpmeta>".getBytes())));
    byte[] without = Images.webp(List.of(new Images.Chunk("VP8X", Images.vp8x(0, 200, 200)),
      new Images.Chunk("VP8 ", vp8)));
    return new byte[][] {with, without};
  }

  @Test
  @DisplayName("The parser's patches (RIFF size, VP8X flags) are written over the file before it is ended, and the hash is read back")
  void patchedAndReadBack() {
    byte[][] webp = webpWithXmp();
    UploadSink sink = sink(ImageType.WEBP, limits(10 << 20, 100));
    assertNull(feed(sink, webp[0], 333));
    assertArrayEquals(webp[1], staged.bytes());
    assertEquals(1, staged.sha256Reads());
    assertEquals(Bodies.sha256(webp[1]), sink.sha256());
    assertEquals(200, sink.width());
  }

  @Test
  @DisplayName("A DEBUG progress line each time the body crosses a multiple of progressLogBytes")
  void progressLog() {
    Logger logger = (Logger) LoggerFactory.getLogger(UploadSink.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      byte[] image = Bodies.png(5000, 4);
      UploadSink sink = new UploadSink(staged, ImageType.PNG, new UploadLimits(10 << 20, 100, 64 * 1024, 1000, 0, 30,
        IMAGE), 4242, budget, events);
      assertNull(feed(sink, image, 700));
      List<String> lines = appender.list.stream().map(ILoggingEvent::getFormattedMessage)
        .filter(line -> line.startsWith("upload user=4242 ")).toList();
      assertEquals(List.of("upload user=4242 received=1400 bytes", "upload user=4242 received=2100 bytes",
        "upload user=4242 received=3500 bytes", "upload user=4242 received=4200 bytes",
        "upload user=4242 received=5000 bytes"), lines);
    } finally {
      logger.detachAppender(appender);
    }
  }

  /**
   * Pushes {@code body} into the sink in chunks as a pipe does: pausing while its queue is full,
   * resuming on drain; ends it, and counts the pauses.
   */
  private static Future<Void> push(UploadSink sink, byte[] body, int chunk, AtomicInteger pauses) {
    Promise<Void> done = Promise.promise();
    new Object() {
      int at;

      void resume() {
        while (at < body.length) {
          int n = Math.min(chunk, body.length - at);
          Future<Void> write = sink.write(Buffer.buffer(Arrays.copyOfRange(body, at, at + n)));
          at += n;
          if (write.failed()) {
            done.fail(write.cause());
            return;
          }
          if (sink.writeQueueFull()) {
            pauses.incrementAndGet();
            sink.drainHandler(v -> resume());
            return;
          }
        }
        sink.end().onComplete(done);
      }
    }.resume();
    return done.future();
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("Against a real staged file: the pipe pauses and resumes, every byte lands once, the patched file is read back")
  void realStagedFile(@TempDir Path dir) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      LocalDirectoryStorage storage = new LocalDirectoryStorage(vertx, dir.resolve("avatars"), dir.resolve("tmp"));
      byte[] body = Bodies.png(3 * 1024 * 1024, 9);
      byte[][] webp = webpWithXmp();
      AtomicInteger pauses = new AtomicInteger();
      List<UploadSink> sinks = new ArrayList<>();
      List<StagedObject> files = new ArrayList<>();
      Promise<Void> done = Promise.promise();
      vertx.getOrCreateContext().runOnContext(v -> storage.init()
        .compose(x -> storage.stage(1))
        .compose(file -> {
          files.add(file);
          UploadSink sink = new UploadSink(file, ImageType.PNG, limits(10 << 20, 100), 1, budget, events);
          sinks.add(sink);
          return push(sink, body, 8192, pauses);
        })
        .compose(x -> storage.stage(2))
        .compose(file -> {
          files.add(file);
          UploadSink sink = new UploadSink(file, ImageType.WEBP, limits(10 << 20, 100), 2, budget, events);
          sinks.add(sink);
          return push(sink, webp[0], 100, new AtomicInteger());
        })
        .onComplete(done));
      await(done.future());

      assertTrue(pauses.get() > 0, "the sink paused the pipe at least once");
      assertEquals(Bodies.sha256(body), sinks.get(0).sha256());
      assertEquals(Bodies.sha256(body), await(files.get(0).sha256()), "the file holds the body");
      assertEquals(Bodies.sha256(webp[1]), sinks.get(1).sha256());
      assertEquals(Bodies.sha256(webp[1]), await(files.get(1).sha256()), "the file holds the patched WebP");
      assertEquals(0, budget.reserved());
      for (StagedObject file : files) {
        await(file.discard());
      }
      try (var left = Files.list(dir.resolve("tmp"))) {
        assertEquals(0, left.count());
      }
    } finally {
      await(vertx.close());
    }
  }
}
