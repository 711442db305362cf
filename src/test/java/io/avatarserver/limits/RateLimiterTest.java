package io.avatarserver.limits;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The token bucket alone, on timestamps the test chooses (the limiter takes {@code nowNanos} from its
 * caller, so no clock is needed): {@code tryAcquire} answers 0 for allowed, else the seconds the
 * client is told to wait (Retry-After).
 */
@DisplayName("RateLimiter: token buckets by key")
class RateLimiterTest {

  private static final long SECOND = 1_000_000_000L;
  /** An arbitrary start: nothing may depend on time starting at 0. */
  private static final long T0 = 7 * SECOND + 123_456_789L;

  @Test
  @DisplayName("A burst of n is n requests at once, not n - 1 or n + 1")
  void burst() {
    RateLimiter limiter = new RateLimiter(1, 3);
    assertEquals(0, limiter.tryAcquire("k", T0));
    assertEquals(0, limiter.tryAcquire("k", T0));
    assertEquals(0, limiter.tryAcquire("k", T0));
    assertEquals(1, limiter.tryAcquire("k", T0));
  }

  @ParameterizedTest(name = "burst {0}")
  @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  @DisplayName("A burst below 1 still lets one request through, then limits")
  void burstBelowOne(int burst) {
    RateLimiter limiter = new RateLimiter(1, burst);
    assertEquals(0, limiter.tryAcquire("k", T0));
    assertEquals(1, limiter.tryAcquire("k", T0));
    assertEquals(0, limiter.tryAcquire("k", T0 + SECOND));
  }

  @Test
  @DisplayName("Tokens come back at the configured rate, to the nanosecond")
  void refill() {
    RateLimiter limiter = new RateLimiter(2, 1);
    assertEquals(0, limiter.tryAcquire("k", T0));
    assertEquals(1, limiter.tryAcquire("k", T0 + SECOND / 2 - 1));
    assertEquals(0, limiter.tryAcquire("k", T0 + SECOND / 2));
    assertEquals(1, limiter.tryAcquire("k", T0 + SECOND / 2));
  }

  @Test
  @DisplayName("Refused requests take no token: waiting the rest of the period is enough")
  void refusalsAreFree() {
    RateLimiter limiter = new RateLimiter(1, 1);
    assertEquals(0, limiter.tryAcquire("k", T0));
    for (int i = 1; i < 10; i++) {
      assertEquals(1, limiter.tryAcquire("k", T0 + i * SECOND / 10));
    }
    assertEquals(0, limiter.tryAcquire("k", T0 + SECOND));
  }

  @Test
  @DisplayName("A long idle time refills to the burst and no further")
  void refillIsCappedAtBurst() {
    RateLimiter limiter = new RateLimiter(1, 2);
    assertEquals(0, limiter.tryAcquire("k", T0));
    assertEquals(0, limiter.tryAcquire("k", T0));
    long later = T0 + 3_600 * SECOND;
    assertEquals(0, limiter.tryAcquire("k", later));
    assertEquals(0, limiter.tryAcquire("k", later));
    assertEquals(1, limiter.tryAcquire("k", later));
  }

  @Test
  @DisplayName("Each key has its own bucket; keys are compared by equals")
  void perKey() {
    RateLimiter limiter = new RateLimiter(1, 1);
    assertEquals(0, limiter.tryAcquire(Long.valueOf(1_000), T0));
    assertEquals(1, limiter.tryAcquire(Long.valueOf(1_000), T0), "an equal Long (not the same instance) is the same key");
    assertEquals(0, limiter.tryAcquire(Long.valueOf(1_001), T0));
    assertEquals(0, limiter.tryAcquire("1000", T0), "a String is not the Long of the same digits");
    assertEquals(0, limiter.tryAcquire("10.0.0.1", T0));
    assertEquals(1, limiter.tryAcquire("10.0.0.1", T0));
    assertEquals(1, limiter.tryAcquire(Long.valueOf(1_000), T0), "other keys' requests did not refill this one");
  }

  @Test
  @DisplayName("Retry-After: the whole seconds until the next token, rounded up, at least 1")
  void reportedWait() {
    RateLimiter perMinute = new RateLimiter(1 / 60.0, 1);
    assertEquals(0, perMinute.tryAcquire("k", T0));
    assertEquals(60, perMinute.tryAcquire("k", T0));
    assertEquals(45, perMinute.tryAcquire("k", T0 + 15 * SECOND));
    assertEquals(45, perMinute.tryAcquire("k", T0 + 15 * SECOND + 1), "a part of a second is rounded up");
    assertEquals(1, perMinute.tryAcquire("k", T0 + 60 * SECOND - 1));

    RateLimiter fast = new RateLimiter(10, 1);
    assertEquals(0, fast.tryAcquire("k", T0));
    assertEquals(1, fast.tryAcquire("k", T0), "0.1 s to wait is told as 1, never 0 (0 means allowed)");

    RateLimiter slow = new RateLimiter(0.3, 1);
    assertEquals(0, slow.tryAcquire("k", T0));
    assertEquals(4, slow.tryAcquire("k", T0), "3.33 s is told as 4");
  }

  @ParameterizedTest(name = "{0} per minute")
  @ValueSource(ints = {1, 2, 7, 13, 59, 60, 61, 119, 600, 6_000})
  @DisplayName("A client that waits exactly Retry-After is allowed; one second less is not enough")
  void reportedWaitIsHonestAndMinimal(int perMinute) {
    for (int burst : new int[] {1, 3}) {
      long wait = drained(perMinute, burst).tryAcquire("k", T0);
      assertTrue(wait >= 1, "wait " + wait);
      assertEquals(0, drained(perMinute, burst).tryAcquire("k", T0 + wait * SECOND),
        "allowed after the " + wait + " s told");
      if (wait > 1) {
        assertEquals(1, drained(perMinute, burst).tryAcquire("k", T0 + (wait - 1) * SECOND),
          "refused a second before the " + wait + " s told");
      }
    }
  }

  private static RateLimiter drained(int perMinute, int burst) {
    RateLimiter limiter = new RateLimiter(perMinute / 60.0, burst);
    for (int i = 0; i < burst; i++) {
      assertEquals(0, limiter.tryAcquire("k", T0));
    }
    return limiter;
  }

  @Test
  @DisplayName("The highest configurable rate: a token every microsecond")
  void fastestRate() {
    RateLimiter limiter = new RateLimiter(1_000_000, 1);
    assertEquals(0, limiter.tryAcquire("k", T0));
    assertEquals(1, limiter.tryAcquire("k", T0 + 999));
    assertEquals(0, limiter.tryAcquire("k", T0 + 1_000));
  }

  @ParameterizedTest(name = "{0} per second")
  @ValueSource(doubles = {1e-12, Double.MIN_VALUE})
  @DisplayName("A rate too slow to count in nanoseconds still limits, with a positive wait")
  void slowestRate(double perSecond) {
    RateLimiter limiter = new RateLimiter(perSecond, 1);
    assertEquals(0, limiter.tryAcquire("k", T0));
    long wait = limiter.tryAcquire("k", T0 + 365L * 86_400 * SECOND);
    assertTrue(wait > 365L * 86_400, "wait " + wait);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(doubles = {-1, -Double.MIN_VALUE, Double.NaN, Double.NEGATIVE_INFINITY})
  @DisplayName("A negative or undefined rate is a programming error, not a disabled limiter")
  void invalidRate(double perSecond) {
    assertThrows(IllegalArgumentException.class, () -> new RateLimiter(perSecond, 1));
  }

  @Test
  @DisplayName("A rate of 0 disables the limiter and keeps no buckets")
  void disabled() {
    RateLimiter limiter = new RateLimiter(0, 1);
    for (int i = 0; i < 1_000; i++) {
      assertEquals(0, limiter.tryAcquire("k", T0));
      assertEquals(0, limiter.tryAcquire(i, T0));
    }
    limiter.evictIdle(T0);
    assertEquals(0, limiter.size());
  }

  @Test
  @DisplayName("evictIdle drops the buckets that time has refilled, even without a request since")
  void evictIdleDropsFullBuckets() {
    RateLimiter limiter = new RateLimiter(1, 2);
    for (long key = 0; key < 100; key++) {
      assertEquals(0, limiter.tryAcquire(key, T0));
    }
    assertEquals(100, limiter.size());
    limiter.evictIdle(T0 + SECOND - 1);
    assertEquals(100, limiter.size(), "a token short of full: kept");
    limiter.evictIdle(T0 + SECOND);
    assertEquals(0, limiter.size());
  }

  @Test
  @DisplayName("evictIdle keeps a bucket that is not full, with its state: the key stays limited")
  void evictIdleKeepsPartialBuckets() {
    RateLimiter limiter = new RateLimiter(1, 2);
    assertEquals(0, limiter.tryAcquire("busy", T0));
    assertEquals(0, limiter.tryAcquire("busy", T0));
    assertEquals(0, limiter.tryAcquire("idle", T0));
    limiter.evictIdle(T0 + SECOND);
    assertEquals(1, limiter.size(), "idle is full again and dropped; busy has 1 of 2 tokens");
    assertEquals(0, limiter.tryAcquire("busy", T0 + SECOND));
    assertEquals(1, limiter.tryAcquire("busy", T0 + SECOND), "an evicted bucket would have come back with 2");
  }

  @Test
  @DisplayName("A timestamp earlier than the last one refills nothing and loses nothing")
  void timeGoingBackwards() {
    RateLimiter limiter = new RateLimiter(1, 1);
    assertEquals(0, limiter.tryAcquire("k", T0));
    assertTrue(limiter.tryAcquire("k", T0 - 5 * SECOND) > 0);
    limiter.evictIdle(T0 - 10 * SECOND);
    assertEquals(1, limiter.size());
    assertEquals(0, limiter.tryAcquire("k", T0 + SECOND));
  }

  @Test
  @DisplayName("Timestamps are System.nanoTime values: elapsed time is right across its overflow")
  void nanoTimeOverflow() {
    RateLimiter limiter = new RateLimiter(1, 1);
    long before = Long.MAX_VALUE - SECOND / 2;
    assertEquals(0, limiter.tryAcquire("k", before));
    assertEquals(1, limiter.tryAcquire("k", before + SECOND / 4));
    assertEquals(0, limiter.tryAcquire("k", before + SECOND), "one second later, past Long.MAX_VALUE");
    limiter.evictIdle(before + 2 * SECOND);
    assertEquals(0, limiter.size());
  }

  @Test
  @DisplayName("Threads racing for one key get exactly the burst between them")
  void concurrentAcquires() throws Exception {
    int burst = 100;
    RateLimiter limiter = new RateLimiter(1, burst);
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Callable<Integer>> tasks = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        tasks.add(() -> {
          start.await();
          int granted = 0;
          for (int i = 0; i < 500; i++) {
            if (limiter.tryAcquire("shared", T0) == 0) {
              granted++;
            }
          }
          return granted;
        });
      }
      List<Future<Integer>> results = new ArrayList<>();
      for (Callable<Integer> task : tasks) {
        results.add(pool.submit(task));
      }
      start.countDown();
      int granted = 0;
      for (Future<Integer> result : results) {
        granted += result.get(30, TimeUnit.SECONDS);
      }
      assertEquals(burst, granted);
    } finally {
      pool.shutdownNow();
    }
  }
}
