package io.avatarserver.storage;

import io.avatarserver.avatar.StagedObject;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A staged upload in {@code tmp/}: a {@link FileChannel} opened with create-new, written at positions
 * on worker threads. Its own channel (not a Vert.x {@code AsyncFile}) so that each step that ends an
 * upload is one blocking task, one hand-off to a worker and back: {@link #end()} is fsync and close
 * together (an {@code AsyncFile} takes one task for its flush and another for its close), and
 * {@link #discard()} is close and delete together.
 *
 * <p>Used from one event loop (the upload's), like the {@code AsyncFile} it replaces: the fields are
 * touched only there; the workers touch the channel alone.
 */
public final class LocalStagedObject implements StagedObject {

  /** Bytes in flight above which {@link #writeQueueFull()} says so (an {@code AsyncFile}'s default). */
  private static final int DEFAULT_MAX_WRITES = 128 * 1024;

  private final Vertx vertx;
  private final LocalDirectoryStorage storage;
  private final long ownerId;
  private final Path path;
  private final FileChannel channel;
  private long writePos;
  private long outstanding;
  private int maxWrites = DEFAULT_MAX_WRITES;
  private boolean overflow;
  private Handler<Void> drainHandler;
  private Handler<Throwable> exceptionHandler;
  /** Waits for the writes in flight to complete before the channel is closed. */
  private Promise<Void> idle;
  private boolean durable;
  private Future<Void> closed;
  private Future<Void> discarded;
  private boolean published;

  LocalStagedObject(Vertx vertx, LocalDirectoryStorage storage, long ownerId, Path path, FileChannel channel) {
    this.vertx = vertx;
    this.storage = storage;
    this.ownerId = ownerId;
    this.path = path;
    this.channel = channel;
  }

  /** The staging file, for a backend that sends it on rather than renaming it (the object store's). */
  public Path path() {
    return path;
  }

  /** Bytes written so far: the file's length (overwrites stay within it). */
  public long size() {
    return writePos;
  }

  @Override
  public Future<Void> write(Buffer data) {
    long position = writePos;
    writePos += data.length();
    return writeAt(data, position);
  }

  @Override
  public Future<Void> overwrite(long position, Buffer bytes) {
    if (position < 0 || position + bytes.length() > writePos) {
      return Future.failedFuture(new IllegalArgumentException("overwrite of bytes not written: " + position + "+"
        + bytes.length() + " past " + writePos));
    }
    return writeAt(bytes, position);
  }

  private Future<Void> writeAt(Buffer data, long position) {
    if (closed != null) {
      return Future.failedFuture(new IllegalStateException("staged file is closed"));
    }
    int length = data.length();
    outstanding += length;
    overflow |= outstanding >= maxWrites;
    // The buffer's own memory, no copy here (a heap buffer is copied by the JDK into a direct one).
    ByteBuffer bytes = ((BufferInternal) data).getByteBuf().nioBuffer();
    Future<Void> written = vertx.executeBlocking(() -> {
      long at = position;
      while (bytes.hasRemaining()) {
        at += channel.write(bytes, at);
      }
      return null;
    }, false);
    return written.transform(ar -> {
      outstanding -= length;
      if (overflow && outstanding <= maxWrites / 2) {
        overflow = false;
        Handler<Void> drain = drainHandler;
        if (drain != null) {
          drain.handle(null);
        }
      }
      Promise<Void> waiting = idle;
      if (waiting != null && outstanding == 0) {
        idle = null;
        waiting.complete();
      }
      if (ar.failed()) {
        Throwable cause = StorageFailures.translate(ar.cause());
        Handler<Throwable> handler = exceptionHandler;
        if (handler != null) {
          handler.handle(cause);
        }
        return Future.failedFuture(cause);
      }
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<String> sha256() {
    return storage.sha256(path);
  }

  @Override
  public Future<Void> end() {
    return end(true);
  }

  /**
   * Ends the writes: with {@code sync}, fsync then close in one task (only after the fsync are the bytes
   * durable); without, close alone, for a file that is only read back by this process and never
   * outlives it (the object store's staging, durable once the store acknowledged its PUT).
   */
  public Future<Void> end(boolean sync) {
    if (closed != null) {
      return Future.failedFuture(new IllegalStateException("staged file is closed"));
    }
    closed = whenWritten().compose(v -> vertx.executeBlocking(() -> {
      try (FileChannel c = channel) {
        if (sync) {
          c.force(false);
        }
      }
      return null;
    }, false));
    // Marked durable in the chain, not by a listener beside it: whoever sees the returned future
    // complete (an await on another thread too) then sees the object durable.
    return closed.transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(StorageFailures.translate(ar.cause()));
      }
      durable = true;
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<String> publish(String extension) {
    if (!durable || discarded != null || published) {
      return Future.failedFuture(new IllegalStateException("staged object is not durable or already settled"));
    }
    published = true;
    return storage.publish(path, ownerId, extension)
      .recover(err -> discardFile().transform(ignored -> Future.failedFuture(err)));
  }

  @Override
  public Future<Void> discard() {
    if (published) {
      return Future.succeededFuture();
    }
    return discardFile();
  }

  private Future<Void> discardFile() {
    if (discarded == null) {
      // After the writes in flight, so nothing recreates the file after the delete (or after end()'s
      // close); then close and delete in one task.
      boolean open = closed == null;
      Future<Void> before = open ? whenWritten() : closed.otherwiseEmpty();
      if (open) {
        closed = before; // no write, no end() from here on
      }
      discarded = before.transform(ignored -> vertx.executeBlocking(() -> {
        if (open) {
          channel.close();
        }
        Files.deleteIfExists(path);
        return null;
      }, false));
    }
    return discarded;
  }

  /** Succeeds once no write is in flight. */
  private Future<Void> whenWritten() {
    if (outstanding == 0) {
      return Future.succeededFuture();
    }
    if (idle == null) {
      idle = Promise.promise();
    }
    return idle.future();
  }

  @Override
  public StagedObject exceptionHandler(Handler<Throwable> handler) {
    exceptionHandler = handler;
    return this;
  }

  @Override
  public StagedObject setWriteQueueMaxSize(int maxSize) {
    maxWrites = maxSize;
    return this;
  }

  @Override
  public boolean writeQueueFull() {
    return overflow;
  }

  @Override
  public StagedObject drainHandler(Handler<Void> handler) {
    drainHandler = handler;
    return this;
  }
}
