package io.avatarserver.upload;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("WriteBudget: shares are granted while they fit, never beyond the capacity, and come back on release")
class WriteBudgetTest {

  @Test
  @DisplayName("Reservations fit exactly up to the capacity; one more byte is refused until a release")
  void reserveAndRelease() {
    WriteBudget budget = new WriteBudget(1000);
    assertEquals(1000, budget.capacity());
    assertTrue(budget.tryReserve(600));
    assertTrue(budget.tryReserve(400));
    assertEquals(1000, budget.reserved());
    assertFalse(budget.tryReserve(1));
    budget.release(400);
    assertEquals(600, budget.reserved());
    assertFalse(budget.tryReserve(401), "a refused reservation takes nothing");
    assertEquals(600, budget.reserved());
    assertTrue(budget.tryReserve(400));
    budget.release(1000);
    assertEquals(0, budget.reserved());
  }

  @Test
  @DisplayName("A budget of a quarter of the heap")
  void ofHeap() {
    assertEquals(Runtime.getRuntime().maxMemory() / 4, WriteBudget.ofHeap().capacity());
  }

  @Test
  @DisplayName("Threads reserving and releasing at once never hold more than the capacity together")
  void concurrent() throws InterruptedException {
    WriteBudget budget = new WriteBudget(10 * 64);
    AtomicBoolean exceeded = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread thread = new Thread(() -> {
        for (int i = 0; i < 20_000; i++) {
          if (budget.tryReserve(64)) {
            if (budget.reserved() > budget.capacity()) {
              exceeded.set(true);
            }
            budget.release(64);
          }
        }
      });
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    assertFalse(exceeded.get());
    assertEquals(0, budget.reserved());
  }
}
