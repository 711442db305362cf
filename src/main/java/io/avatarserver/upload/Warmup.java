package io.avatarserver.upload;

import io.avatarserver.avatar.StagedObject;
import io.avatarserver.upload.image.ImageLimits;
import io.avatarserver.upload.image.ImageType;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

import java.util.Arrays;

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

  /** A decodable PNG of exactly {@code size} bytes, the same each time. */
  static byte[] png(int size) {
    return io.avatarserver.upload.image.SyntheticPng.png(size, 1);
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
