package io.avatarserver;

import io.avatarserver.support.BlockedThreadWatch;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("The watch that fails tests on blocked event loops does see a blocked event loop")
class BlockedThreadWatchTest {

  @Test
  void blockedEventLoopIsSeen() throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions()
      .setBlockedThreadCheckInterval(20).setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
      .setMaxEventLoopExecuteTime(50).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
    try {
      vertx.runOnContext(v -> {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(400);
        while (System.nanoTime() < until) {
          Thread.onSpinWait(); // deliberately hog the event loop
        }
      });
      List<String> seen = List.of();
      for (int i = 0; i < 100 && seen.isEmpty(); i++) {
        Thread.sleep(20);
        seen = BlockedThreadWatch.drain();
      }
      assertFalse(seen.isEmpty(), "no blocked-thread warning recorded");
      assertTrue(seen.get(0).contains("has been blocked"), seen.toString());
    } finally {
      vertx.close().await();
      Thread.sleep(100);
      BlockedThreadWatch.drain(); // what this test provoked on purpose must not fail it
    }
  }
}
