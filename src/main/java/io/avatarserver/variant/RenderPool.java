package io.avatarserver.variant;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded worker pool renders run on: {@code workers} threads of their own (a Vert.x
 * {@link WorkerExecutor}, so renders never take the shared worker pool's threads from file opens and
 * JDBC calls, nor an event loop), and at most {@code queue} renders waiting for one. A render is
 * admitted by {@link #tryAcquire} before any of its work starts and holds its place until
 * {@link #release}; when none is free the caller serves something else at once instead of queueing.
 */
public final class RenderPool {

  private final WorkerExecutor executor;
  private final int capacity;
  private final AtomicInteger admitted = new AtomicInteger();

  public RenderPool(Vertx vertx, int workers, int queue) {
    this.executor = vertx.createSharedWorkerExecutor("avatar-render", workers);
    this.capacity = workers + queue;
  }

  /** Takes a place for one render, or returns false when {@code workers + queue} are taken. */
  public boolean tryAcquire() {
    if (admitted.incrementAndGet() > capacity) {
      admitted.decrementAndGet();
      return false;
    }
    return true;
  }

  /** Gives back the place {@link #tryAcquire} took. */
  public void release() {
    admitted.decrementAndGet();
  }

  /** Renders admitted and not yet released. */
  public int admitted() {
    return admitted.get();
  }

  /** Runs blocking work on the pool's threads; for admitted renders (or small bounded work). */
  public <T> Future<T> execute(Callable<T> task) {
    return executor.executeBlocking(task, false);
  }

  public Future<Void> close() {
    return executor.close();
  }
}
