package io.avatarserver.upload;

import io.avatarserver.avatar.StagedObject;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * The writing stage: writes the stored bytes to the {@link StagedObject}, one write in flight at a
 * time, and tells the pipe when to pause.
 *
 * <p>Chunks are gathered into writes of {@code writeBufferBytes} (the last one shorter) in a pooled
 * off-heap buffer: a share of the {@link WriteBudget} shared by all uploads. Each file write is a
 * hand-off to a worker thread and back; writing each chunk as it came whenever no write was in flight
 * (a write to the page cache ends before the next socket read) made about 60 writes of a 1 MiB upload,
 * 120 thread switches, where gathering makes 4. With a write in flight and a full buffer,
 * {@link #writeQueueFull()} is true and the pipe pauses the request: memory per upload stays below
 * about {@code 2 × writeBufferBytes} whatever the body's size. Without a share (thousands of uploads
 * in flight), an upload writes chunk by chunk, keeps one waiting chunk and pauses its client, so the
 * heap bounds them all. A share is held until its buffer is written: for a slow client, as long as
 * it takes to send {@code writeBufferBytes}; the budget bounds the total.
 *
 * <p>Once failed (a write failed, or {@link #fail} was called for a refusal), nothing more is written:
 * what waits is dropped when the write in flight completes, and its share returned.
 */
final class CoalescingWriter {

  private static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;
  /**
   * Room in a coalescing buffer past {@code writeBufferBytes}: for the chunk that crosses that mark
   * plus one more already on its way when the pipe pauses (a body chunk is at most 8 KiB). Without
   * it, crossing the mark made the pooled buffer double its capacity, copying all it held, in about a
   * third of the writes that filled it.
   */
  static final int COALESCING_HEADROOM = 16 * 1024;

  private final StagedObject staged;
  private final int writeBufferBytes;
  private final WriteBudget budget;
  private Buffer pending;
  private boolean pendingOwned;
  /**
   * The pooled off-heap memory behind {@link #pending} when it coalesces; non-null exactly when this
   * upload holds a share ({@link #shareBytes()}) of the budget.
   */
  private ByteBuf pendingDirect;
  private boolean writing;
  private Throwable failure;
  private Handler<Void> drainHandler;
  private Promise<Void> idle;

  CoalescingWriter(StagedObject staged, int writeBufferBytes, WriteBudget budget) {
    this.staged = staged;
    this.writeBufferBytes = writeBufferBytes;
    this.budget = budget;
  }

  /**
   * Gathers {@code chunk} into the next write, which starts once no write is in flight and the buffer
   * is full (without a share: at once). Not after a failure.
   */
  void write(Buffer chunk) {
    enqueue(chunk);
    if (!writing && ready()) {
      flush();
    }
  }

  /**
   * What waits is to be written now: a full gathering buffer, a chunk without a share, or anything
   * once the end of the body waits ({@link #whenIdle()}).
   */
  private boolean ready() {
    return pending != null && (pendingDirect == null || pending.length() >= writeBufferBytes || idle != null);
  }

  private void enqueue(Buffer chunk) {
    if (pending == null) {
      if (chunk.length() < writeBufferBytes && budget.tryReserve(shareBytes())) {
        // Gather chunks into one larger write.
        // Off-heap and pooled: the file write needs no copy into a temporary direct buffer, and the
        // memory goes back to the pool (not to the garbage collector) once written.
        // (Vert.x wraps it as unreleasable: the raw ByteBuf is kept to release it.)
        pendingDirect = ALLOCATOR.directBuffer(shareBytes());
        pending = BufferInternal.buffer(pendingDirect).appendBuffer(chunk);
        pendingOwned = true;
      } else {
        // Written next as it is; without a share of the budget, writeQueueFull() pauses the client now.
        pending = chunk;
        pendingOwned = false;
      }
      return;
    }
    if (!pendingOwned) {
      // Only the chunk or two already on their way when the pipe paused: an exact-size buffer.
      pending = Buffer.buffer(pending.length() + chunk.length()).appendBuffer(pending);
      pendingOwned = true;
    }
    pending.appendBuffer(chunk);
  }

  private void flush() {
    Buffer out = pending;
    ByteBuf written = pendingDirect;
    pending = null;
    pendingDirect = null;
    writing = true;
    staged.write(out).onComplete(ar -> {
      writing = false;
      returnShare(written);
      if (ar.failed()) {
        failure = failure == null ? ar.cause() : failure;
      }
      if (failure != null) {
        // Nothing more is written: what waits is dropped, and its share returned.
        dropPending();
      } else if (ready()) {
        flush();
      }
      settle();
    });
  }

  private void dropPending() {
    returnShare(pendingDirect);
    pendingDirect = null;
    pending = null;
  }

  /** The size of a coalescing buffer, and of the budget share it takes. */
  private int shareBytes() {
    return writeBufferBytes + COALESCING_HEADROOM;
  }

  /** Gives a coalescing buffer back to the pool and its share back to the budget; null: nothing held. */
  private void returnShare(ByteBuf direct) {
    if (direct != null) {
      direct.release();
      budget.release(shareBytes());
    }
  }

  /** After a write completes: wake a paused pipe once there is room, and a {@link #whenIdle()} once idle. */
  private void settle() {
    Handler<Void> drain = drainHandler;
    if (drain != null && !writeQueueFull()) {
      drainHandler = null;
      drain.handle(null);
    }
    Promise<Void> waiting = idle;
    if (waiting != null && (!writing || failure != null)) {
      idle = null;
      if (failure != null) {
        waiting.fail(failure);
      } else {
        waiting.complete();
      }
    }
  }

  /**
   * Succeeds once everything given to {@link #write} is written; fails with the failure if there is
   * one. At most one caller waits at a time (the end of the body).
   */
  Future<Void> whenIdle() {
    if (pending != null && !writing) {
      flush();
    }
    if (!writing) {
      return failure == null ? Future.succeededFuture() : Future.failedFuture(failure);
    }
    idle = Promise.promise();
    return idle.future();
  }

  /**
   * Stops writing for {@code cause} (a refusal, or the body's failure); the first failure is the one
   * kept. What waits is dropped, and its share returned: now, or when the write in flight completes.
   */
  void fail(Throwable cause) {
    if (failure == null) {
      failure = cause;
    }
    if (!writing) {
      dropPending();
    }
  }

  /** Why this writer stopped (a failed write or a refusal), or null. */
  Throwable failure() {
    return failure;
  }

  boolean writeQueueFull() {
    return writing && pending != null && (pendingDirect == null || pending.length() >= writeBufferBytes);
  }

  /** Called once, after a write completes, when {@link #writeQueueFull()} is no longer true. */
  void drainHandler(Handler<Void> handler) {
    this.drainHandler = handler;
  }
}
