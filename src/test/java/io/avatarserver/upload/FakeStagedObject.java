package io.avatarserver.upload;

import io.avatarserver.avatar.StagedObject;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A staged object in memory, for the pipeline's stages without a file system: it records each write
 * (its bytes are copied at once) and either completes it at once or, when held, leaves it in flight
 * until the test completes it, so that a test decides when the "disk" is done.
 */
final class FakeStagedObject implements StagedObject {

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final List<Integer> writeSizes = new ArrayList<>();
  private final List<Buffer> written = new ArrayList<>();
  private final Deque<Promise<Void>> inFlight = new ArrayDeque<>();
  private boolean hold;
  private byte[] patched;
  private boolean ended;
  private int sha256Reads;

  /** Writes stay in flight until {@link #complete()} or {@link #failNext}. */
  FakeStagedObject holdWrites() {
    hold = true;
    return this;
  }

  @Override
  public Future<Void> write(Buffer data) {
    if (ended) {
      throw new IllegalStateException("write after end");
    }
    writeSizes.add(data.length());
    written.add(data);
    bytes.writeBytes(data.getBytes());
    if (!hold) {
      return Future.succeededFuture();
    }
    Promise<Void> promise = Promise.promise();
    inFlight.add(promise);
    return promise.future();
  }

  /** Completes the oldest write in flight. */
  void complete() {
    inFlight.remove().complete();
  }

  /** Fails the oldest write in flight. */
  void failNext(Throwable cause) {
    inFlight.remove().fail(cause);
  }

  int inFlight() {
    return inFlight.size();
  }

  /** The size of each write, in order. */
  List<Integer> writeSizes() {
    return writeSizes;
  }

  /** The buffers written, as given. */
  List<Buffer> written() {
    return written;
  }

  /** All bytes written, patches applied. */
  byte[] bytes() {
    byte[] out = bytes.toByteArray();
    if (patched != null) {
      System.arraycopy(patched, 0, out, 0, patched.length);
    }
    return out;
  }

  boolean ended() {
    return ended;
  }

  int sha256Reads() {
    return sha256Reads;
  }

  @Override
  public Future<Void> overwrite(long position, Buffer data) {
    byte[] now = bytes();
    if (position + data.length() > now.length) {
      return Future.failedFuture(new IllegalArgumentException("range not written"));
    }
    data.getBytes(0, data.length(), now, (int) position);
    patched = now;
    return Future.succeededFuture();
  }

  @Override
  public Future<String> sha256() {
    sha256Reads++;
    return Future.succeededFuture(io.avatarserver.support.Bodies.sha256(bytes()));
  }

  @Override
  public Future<Void> end() {
    ended = true;
    return Future.succeededFuture();
  }

  @Override
  public Future<String> publish(String extension) {
    throw new UnsupportedOperationException();
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
