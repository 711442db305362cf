package io.avatarserver.storage.s3;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
@DisplayName("PUT permits: at most max in flight, the rest wait in order and start as permits come free")
class PutPermitsTest {

  @Test
  @DisplayName("Two permits, five PUTs: two start, the others wait; each finish (success or failure) starts the next, in order")
  void boundsAndOrders(Vertx vertx) {
    PutPermits permits = new PutPermits(2);
    Context context = vertx.getOrCreateContext();
    List<Promise<String>> sends = new CopyOnWriteArrayList<>();
    List<Integer> started = new CopyOnWriteArrayList<>();
    List<Future<String>> results = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      int n = i;
      results.add(permits.run(context, () -> {
        started.add(n);
        Promise<String> send = Promise.promise();
        sends.add(send);
        return send.future();
      }));
    }
    assertEquals(List.of(0, 1), started);
    assertEquals(2, permits.inFlight());
    assertEquals(3, permits.waiting());

    sends.get(0).complete("a");
    await(() -> started.size() == 3);
    assertEquals(List.of(0, 1, 2), started);
    sends.get(1).fail(new IllegalStateException("store down"));
    await(() -> started.size() == 4);
    sends.get(2).complete("c");
    await(() -> started.size() == 5);
    assertEquals(List.of(0, 1, 2, 3, 4), started);
    assertEquals(2, permits.inFlight());
    assertEquals(0, permits.waiting());
    sends.get(3).complete("d");
    sends.get(4).complete("e");
    await(() -> permits.inFlight() == 0);

    assertEquals("a", results.get(0).await());
    assertTrue(results.get(1).failed());
    assertEquals("e", results.get(4).await());
  }

  @Test
  @DisplayName("A PUT that throws instead of failing its future frees its permit too")
  void throwingPutFreesItsPermit(Vertx vertx) {
    PutPermits permits = new PutPermits(1);
    Context context = vertx.getOrCreateContext();
    Future<String> thrown = permits.run(context, () -> {
      throw new IllegalStateException("no client");
    });
    Future<String> next = permits.run(context, () -> Future.succeededFuture("next"));
    assertEquals("next", next.await());
    assertTrue(thrown.failed());
    assertEquals(0, permits.inFlight());
  }

  private static void await(java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out");
      Thread.onSpinWait();
    }
  }
}
