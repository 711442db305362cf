package io.avatarserver.upload;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory all uploads together may hold in coalescing buffers. An upload that gets a share
 * coalesces the chunks that arrive during a file write into one larger write (fast clients, few
 * large writes); one that does not, because thousands of uploads are in flight, writes chunk by
 * chunk and pauses its client sooner. Either way memory stays bounded: per upload by
 * {@code writeBufferBytes}, in total by this budget.
 */
public final class WriteBudget {

  private final long capacity;
  private final AtomicLong available;

  public WriteBudget(long bytes) {
    this.capacity = bytes;
    this.available = new AtomicLong(bytes);
  }

  /** A quarter of the heap the JVM may grow to. */
  public static WriteBudget ofHeap() {
    return new WriteBudget(Runtime.getRuntime().maxMemory() / 4);
  }

  public boolean tryReserve(int bytes) {
    while (true) {
      long now = available.get();
      if (now < bytes) {
        return false;
      }
      if (available.compareAndSet(now, now - bytes)) {
        return true;
      }
    }
  }

  public void release(int bytes) {
    available.addAndGet(bytes);
  }

  /** Bytes reserved now; for metrics and tests. */
  public long reserved() {
    return capacity - available.get();
  }

  public long capacity() {
    return capacity;
  }
}
