package io.avatarserver.limits;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.Failure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntToLongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The upload slots alone. Every check is by behaviour: a slot that leaked or was freed twice shows
 * as an acquire that succeeds or fails when it should not.
 */
@DisplayName("UploadSlots: uploads in flight, in the server and per user")
class UploadSlotsTest {

  @Test
  @DisplayName("The server-wide cap: n uploads, the next one is BUSY with Retry-After 1")
  void totalCap() {
    UploadSlots slots = new UploadSlots(3, 0);
    slots.acquire(1);
    slots.acquire(2);
    slots.acquire(3);
    AvatarException busy = assertThrows(AvatarException.class, () -> slots.acquire(4));
    assertEquals(Failure.BUSY, busy.failure());
    assertEquals(1, busy.retryAfterSeconds());
    assertEquals("The server has 3 uploads in flight; try again shortly", busy.detail());
  }

  @Test
  @DisplayName("The per-user cap: n uploads of one user, the next one is RATE_LIMITED; other users go on")
  void perUserCap() {
    UploadSlots slots = new UploadSlots(0, 2);
    slots.acquire(7);
    slots.acquire(7);
    AvatarException limited = assertThrows(AvatarException.class, () -> slots.acquire(7));
    assertEquals(Failure.RATE_LIMITED, limited.failure());
    assertEquals(1, limited.retryAfterSeconds());
    assertEquals("User 7 already has 2 uploads in flight", limited.detail());
    slots.acquire(8);
    slots.acquire(8);
    assertRefused(Failure.RATE_LIMITED, slots, 8);
  }

  @Test
  @DisplayName("Both caps at once: each counts on its own")
  void bothCaps() {
    UploadSlots slots = new UploadSlots(3, 2);
    slots.acquire(1);
    slots.acquire(1);
    assertRefused(Failure.RATE_LIMITED, slots, 1);
    slots.acquire(2);
    assertRefused(Failure.BUSY, slots, 3);
  }

  @Test
  @DisplayName("0 disables a bound")
  void disabled() {
    UploadSlots unbounded = new UploadSlots(0, 0);
    for (int i = 0; i < 10_000; i++) {
      unbounded.acquire(1);
    }
    UploadSlots perUserOnly = new UploadSlots(0, 1);
    for (long user = 0; user < 10_000; user++) {
      perUserOnly.acquire(user);
    }
    UploadSlots totalOnly = new UploadSlots(10_000, 0);
    for (int i = 0; i < 10_000; i++) {
      totalOnly.acquire(1);
    }
  }

  @Test
  @DisplayName("A release frees exactly one slot, of the server and of its user")
  void release() {
    UploadSlots slots = new UploadSlots(2, 1);
    Runnable first = slots.acquire(1);
    slots.acquire(2);
    assertRefused(Failure.BUSY, slots, 3);
    assertRefused(Failure.BUSY, slots, 1);
    first.run();
    slots.acquire(1);
    assertRefused(Failure.BUSY, slots, 3);
  }

  @Test
  @DisplayName("A user's release frees that user's slot, not another's")
  void releaseIsPerUser() {
    UploadSlots slots = new UploadSlots(0, 1);
    Runnable one = slots.acquire(1);
    slots.acquire(2);
    one.run();
    assertRefused(Failure.RATE_LIMITED, slots, 2);
    slots.acquire(1);
    assertRefused(Failure.RATE_LIMITED, slots, 1);
  }

  @Test
  @DisplayName("Releasing twice frees one slot, not two (the end handler and a failure may both release)")
  void releaseIsIdempotent() {
    UploadSlots total = new UploadSlots(2, 0);
    Runnable first = total.acquire(1);
    total.acquire(2);
    first.run();
    first.run();
    total.acquire(3);
    assertRefused(Failure.BUSY, total, 4);

    UploadSlots perUser = new UploadSlots(0, 2);
    Runnable mine = perUser.acquire(1);
    perUser.acquire(1);
    mine.run();
    mine.run();
    perUser.acquire(1);
    assertRefused(Failure.RATE_LIMITED, perUser, 1);
  }

  @Test
  @DisplayName("A BUSY refusal holds no slot: after the release, exactly one upload gets in")
  void busyRefusalsLeakNothing() {
    UploadSlots slots = new UploadSlots(1, 0);
    Runnable only = slots.acquire(1);
    for (long user = 2; user < 100; user++) {
      assertRefused(Failure.BUSY, slots, user);
    }
    only.run();
    slots.acquire(2);
    assertRefused(Failure.BUSY, slots, 3);
  }

  @Test
  @DisplayName("A RATE_LIMITED refusal gives back the server-wide slot it had counted")
  void perUserRefusalsLeakNothing() {
    UploadSlots slots = new UploadSlots(2, 1);
    slots.acquire(1);
    for (int i = 0; i < 100; i++) {
      assertRefused(Failure.RATE_LIMITED, slots, 1);
    }
    slots.acquire(2);
    assertRefused(Failure.BUSY, slots, 3);
  }

  @Test
  @DisplayName("Threads racing for slots get exactly the caps between them")
  void concurrentAcquires() throws Exception {
    assertEquals(50, grantedInRace(new UploadSlots(50, 0), thread -> thread * 1_000L));
    assertEquals(3, grantedInRace(new UploadSlots(0, 3), thread -> 42L));
    assertEquals(8, grantedInRace(new UploadSlots(100, 1), thread -> thread));
  }

  @Test
  @DisplayName("Threads acquiring and releasing leave every slot free")
  void concurrentReleases() throws Exception {
    UploadSlots slots = new UploadSlots(4, 2);
    race(8, thread -> {
      int granted = 0;
      for (int i = 0; i < 2_000; i++) {
        try {
          Runnable release = slots.acquire(thread % 3);
          granted++;
          release.run();
          release.run();
        } catch (AvatarException refused) {
          assertTrue(refused.failure() == Failure.BUSY || refused.failure() == Failure.RATE_LIMITED,
            refused.failure().toString());
        }
      }
      return granted;
    });
    slots.acquire(1);
    slots.acquire(1);
    slots.acquire(2);
    slots.acquire(2);
    assertRefused(Failure.BUSY, slots, 3);
  }

  /** Each of 8 threads tries 500 acquires, without releasing, for the user {@code userOf} its index. */
  private static int grantedInRace(UploadSlots slots, IntToLongFunction userOf) throws Exception {
    return race(8, thread -> {
      int granted = 0;
      for (int i = 0; i < 500; i++) {
        try {
          slots.acquire(userOf.applyAsLong(thread));
          granted++;
        } catch (AvatarException refused) {
          // counted by omission
        }
      }
      return granted;
    });
  }

  private interface Worker {
    int run(int thread) throws Exception;
  }

  /** Runs {@code worker} on {@code threads} threads started together; the sum of what they return. */
  private static int race(int threads, Worker worker) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        Callable<Integer> task = () -> {
          start.await();
          return worker.run(thread);
        };
        results.add(pool.submit(task));
      }
      start.countDown();
      int sum = 0;
      for (Future<Integer> result : results) {
        sum += result.get(30, TimeUnit.SECONDS);
      }
      return sum;
    } finally {
      pool.shutdownNow();
    }
  }

  private static void assertRefused(Failure expected, UploadSlots slots, long user) {
    AvatarException refused = assertThrows(AvatarException.class, () -> slots.acquire(user));
    assertEquals(expected, refused.failure(), refused.detail());
    assertEquals(1, refused.retryAfterSeconds());
  }
}
