package io.avatarserver.storage;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
@DisplayName("Deletes of stored objects in batches: each completes once its file is gone")
class BatchedDeleteTest {

  @Test
  @DisplayName("300 deletes asked at once from two event loops all complete, on their own context; every file is gone; a missing one is fine")
  void manyDeletesAtOnce(Vertx vertx, @TempDir Path data) throws Exception {
    Path avatars = data.resolve("avatars");
    LocalDirectoryStorage storage = new LocalDirectoryStorage(vertx, avatars, data.resolve("tmp"));
    storage.init().await();
    Files.createDirectories(avatars.resolve("01"));
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      String key = "01/1-" + i + ".png";
      Files.writeString(avatars.resolve(key), "x" + i);
      keys.add(key);
    }
    keys.add("01/never-there.png");
    List<CompletableFuture<Boolean>> results = new ArrayList<>();
    for (int half = 0; half < 2; half++) {
      var context = vertx.getOrCreateContext();
      List<String> mine = keys.subList(half * keys.size() / 2, (half + 1) * keys.size() / 2);
      CompletableFuture<Boolean> result = new CompletableFuture<>();
      results.add(result);
      context.runOnContext(v -> {
        List<Future<Void>> deletes = new ArrayList<>();
        List<Boolean> onContext = new ArrayList<>();
        for (String key : mine) {
          deletes.add(storage.delete(key).onSuccess(x -> onContext.add(Vertx.currentContext() == context)));
        }
        Future.all(deletes).onComplete(ar -> result.complete(ar.succeeded() && !onContext.contains(false)
          && onContext.size() == mine.size()));
      });
    }
    for (CompletableFuture<Boolean> result : results) {
      assertTrue(result.get(30, TimeUnit.SECONDS), "a delete failed or completed off its context");
    }
    try (var left = Files.list(avatars.resolve("01"))) {
      assertEquals(0, left.count());
    }
    assertTrue(storage.delete("../escape").failed(), "a key outside the avatars directory");
  }
}
