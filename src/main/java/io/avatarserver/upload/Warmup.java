package io.avatarserver.upload;

import io.avatarserver.avatar.StagedObject;
import io.avatarserver.upload.image.ImageLimits;
import io.avatarserver.upload.image.ImageType;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.Adler32;
import java.util.zip.CRC32;

/**
 * Runs synthetic PNG uploads through the upload pipeline ({@link UploadSink}: size cap, signature, the
 * PNG parser, SHA-256, the gathering writer) into a staged object that keeps nothing, before the
 * listener opens. Why: until C2 has compiled it, SHA-256 runs without its CPU intrinsic at about ten
 * times the cost (measured with C1 only: 14 ms per 1 MiB upload against 3), and the first seconds of
 * load after a start ran at a third of the steady rate. Call it on a thread that is not an event loop.
 */
public final class Warmup {

  private static final int CHUNK = 16 * 1024;

  private Warmup() {
  }

  /** Pushes about {@code bytes} through the pipeline; returns the bytes pushed. */
  public static long run(long bytes) {
    byte[] body = png(1 << 20);
    UploadLimits limits = new UploadLimits(body.length, 0, 256 * 1024, Integer.MAX_VALUE, 0, 1,
      new ImageLimits(4096, 1L << 24, true));
    WriteBudget budget = new WriteBudget(1 << 20);
    UploadEvents events = new UploadEvents() {
      @Override
      public void received(long n) {
      }

      @Override
      public void finished(String outcome, long n, long durationNanos) {
      }
    };
    long pushed = 0;
    while (pushed < bytes) {
      UploadSink sink = new UploadSink(new Discarding(), ImageType.PNG, limits, 0, budget, events);
      for (int at = 0; at < body.length; at += CHUNK) {
        sink.write(Buffer.buffer(Arrays.copyOfRange(body, at, Math.min(body.length, at + CHUNK))));
      }
      Future<Void> end = sink.end();
      if (!end.succeeded()) {
        throw new IllegalStateException("the warm-up upload failed", end.cause());
      }
      pushed += body.length;
    }
    return pushed;
  }

  /**
   * A decodable PNG of exactly {@code size} bytes: greyscale rows of random pixels in stored deflate
   * blocks, sized with empty stored blocks and split IDAT chunks (the tests' {@code Bodies.png}).
   */
  static byte[] png(int size) {
    int width = Math.max(1, Math.min(4096, size / 64));
    int fixed = 8 + 25 + 12 + 12 + 2 + 4;
    for (int height = Math.min(4096, (size - fixed) / (width + 1)); height >= 1; height--) {
      long raw = (long) height * (width + 1);
      long rest = size - fixed - raw - 5 * ((raw + 65_534) / 65_535);
      for (int splits = 0; splits <= 4 && rest >= 0; splits++) {
        long padding = rest - 12L * splits;
        if (padding >= 0 && padding % 5 == 0) {
          return grey(width, height, (int) (padding / 5), splits + 1);
        }
      }
    }
    throw new IllegalArgumentException("no PNG of exactly " + size + " bytes");
  }

  private static byte[] grey(int width, int height, int emptyBlocks, int idats) {
    byte[] raw = new byte[height * (width + 1)];
    new Random(1).nextBytes(raw);
    for (int row = 0; row < height; row++) {
      raw[row * (width + 1)] = 0;
    }
    ByteArrayOutputStream zlib = new ByteArrayOutputStream();
    zlib.write(0x78);
    zlib.write(0x01);
    for (int i = 0; i < emptyBlocks; i++) {
      zlib.writeBytes(new byte[] {0, 0, 0, (byte) 0xFF, (byte) 0xFF});
    }
    for (int at = 0; at < raw.length; at += 65_535) {
      int n = Math.min(65_535, raw.length - at);
      zlib.write(at + n == raw.length ? 1 : 0);
      zlib.writeBytes(new byte[] {(byte) n, (byte) (n >> 8), (byte) ~n, (byte) (~n >> 8)});
      zlib.write(raw, at, n);
    }
    Adler32 adler = new Adler32();
    adler.update(raw);
    zlib.writeBytes(ByteBuffer.allocate(4).putInt((int) adler.getValue()).array());
    byte[] data = zlib.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0).array());
    int piece = data.length / idats;
    for (int i = 0; i < idats; i++) {
      int from = i * piece;
      chunk(out, "IDAT", Arrays.copyOfRange(data, from, i == idats - 1 ? data.length : from + piece));
    }
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] name = type.getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(name);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(name);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  /** A staged object that keeps nothing: every write succeeds at once. */
  private static final class Discarding implements StagedObject {

    @Override
    public Future<Void> write(Buffer data) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> overwrite(long position, Buffer bytes) {
      return Future.succeededFuture();
    }

    @Override
    public Future<String> sha256() {
      return Future.failedFuture(new UnsupportedOperationException("nothing is kept"));
    }

    @Override
    public Future<Void> end() {
      return Future.succeededFuture();
    }

    @Override
    public Future<String> publish(String extension) {
      return Future.failedFuture(new UnsupportedOperationException("nothing is kept"));
    }

    @Override
    public Future<Void> discard() {
      return Future.succeededFuture();
    }

    @Override
    public StagedObject exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public StagedObject setWriteQueueMaxSize(int maxSize) {
      return this;
    }

    @Override
    public boolean writeQueueFull() {
      return false;
    }

    @Override
    public StagedObject drainHandler(Handler<Void> handler) {
      return this;
    }
  }
}
