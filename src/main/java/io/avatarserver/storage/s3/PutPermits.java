package io.avatarserver.storage.s3;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;

/**
 * At most {@code max} PUTs to the store in flight at once (storage.s3MaxPuts). A PUT holds up to 256 KiB
 * of the heap while it sends (file reads of 64 KiB piped to its connection); a thousand uploads
 * finishing together would otherwise start a thousand PUTs and run a small heap out. Those beyond wait
 * in arrival order, their bytes on the staging disk; nothing blocks: a waiter is a promise, completed on
 * its own context when a permit comes free. Safe from any thread.
 */
final class PutPermits {

  private final int max;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int inFlight;

  PutPermits(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max " + max);
    }
    this.max = max;
  }

  /** Runs {@code put} once a permit is free, on {@code context}, and frees the permit when it has finished. */
  <T> Future<T> run(Context context, java.util.function.Supplier<Future<T>> put) {
    Promise<Void> admitted = Promise.promise();
    synchronized (this) {
      if (inFlight < max) {
        inFlight++;
        admitted.complete();
      } else {
        waiting.add(() -> context.runOnContext(v -> admitted.complete()));
      }
    }
    return admitted.future().compose(v -> {
      Future<T> sent;
      try {
        sent = put.get();
      } catch (RuntimeException e) {
        sent = Future.failedFuture(e);
      }
      return sent.andThen(done -> release());
    });
  }

  private void release() {
    Runnable next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) {
        inFlight--;
      }
    }
    // The permit passes straight to the next waiter.
    if (next != null) {
      next.run();
    }
  }

  /** PUTs in flight now. */
  synchronized int inFlight() {
    return inFlight;
  }

  /** PUTs waiting for a permit now. */
  synchronized int waiting() {
    return waiting.size();
  }
}
