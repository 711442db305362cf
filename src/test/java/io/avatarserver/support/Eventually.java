package io.avatarserver.support;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Polls for a state the server reaches asynchronously, with a generous bound: not a timing assertion. */
public final class Eventually {

  private Eventually() {
  }

  public static <T> T await(Supplier<T> probe, Predicate<T> done, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    T value = probe.get();
    while (!done.test(value) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return value;
      }
      value = probe.get();
    }
    return value;
  }
}
