package io.avatarserver.storage;

import io.avatarserver.avatar.StagedObject;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The staged file on its own channel: writes land in order at their positions, the end makes it
 * durable and closed in one step, a patch may only cover written bytes, and a discard waits for the
 * writes in flight, so no write recreates the file after its delete. Driven from one event loop, as
 * an upload drives it.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Staged file: positions, end, patches and discard on its own FileChannel")
class LocalStagedObjectTest {

  private static <T> T onLoop(Vertx vertx, java.util.function.Supplier<Future<T>> work) throws Exception {
    Promise<T> done = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> work.get().onComplete(done));
    return done.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("Many writes in flight at once land at their positions; a patch over written bytes lands; the end closes it")
  void writesPatchEnd(Vertx vertx, @TempDir Path data) throws Exception {
    LocalDirectoryStorage storage = new LocalDirectoryStorage(vertx, data.resolve("avatars"), data.resolve("tmp"));
    storage.init().await();
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      expected.append("chunk ").append(i).append(';');
    }
    String key = onLoop(vertx, () -> storage.stage(7).compose(staged -> {
      List<Future<Void>> writes = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        writes.add(staged.write(Buffer.buffer("chunk " + i + ";")));
      }
      return Future.all(writes)
        .compose(v -> staged.overwrite(0, Buffer.buffer("CHUNK")))
        .compose(v -> staged.end())
        .compose(v -> staged.publish("txt"));
    }));
    expected.replace(0, 5, "CHUNK");
    assertEquals(expected.toString(), Files.readString(data.resolve("avatars").resolve(key), StandardCharsets.US_ASCII));
    try (var left = Files.list(data.resolve("tmp"))) {
      assertEquals(0, left.count(), "the staged file was moved, not copied");
    }
  }

  @Test
  @DisplayName("A patch past the bytes written is refused, and nothing more is written after the end")
  void patchOutsideAndWriteAfterEndRefused(Vertx vertx, @TempDir Path data) throws Exception {
    LocalDirectoryStorage storage = new LocalDirectoryStorage(vertx, data.resolve("avatars"), data.resolve("tmp"));
    storage.init().await();
    List<Boolean> refused = onLoop(vertx, () -> storage.stage(8).compose(staged -> {
      List<Boolean> outcomes = new ArrayList<>();
      return staged.write(Buffer.buffer("0123456789"))
        .compose(v -> staged.overwrite(8, Buffer.buffer("abc")).transform(patch -> {
          outcomes.add(patch.failed());
          return staged.end();
        }))
        .compose(v -> staged.write(Buffer.buffer("late")).transform(late -> {
          outcomes.add(late.failed());
          return staged.discard();
        }))
        .map(v -> outcomes);
    }));
    assertEquals(List.of(true, true), refused);
    try (var left = Files.list(data.resolve("tmp"))) {
      assertEquals(0, left.count(), "discarded after the end: no file left");
    }
  }

  @Test
  @DisplayName("A discard while writes are in flight waits for them: no file is left, none recreated")
  void discardWaitsForWrites(Vertx vertx, @TempDir Path data) throws Exception {
    LocalDirectoryStorage storage = new LocalDirectoryStorage(vertx, data.resolve("avatars"), data.resolve("tmp"));
    storage.init().await();
    Boolean done = onLoop(vertx, () -> storage.stage(9).compose(staged -> {
      for (int i = 0; i < 64; i++) {
        staged.write(Buffer.buffer(new byte[64 * 1024]));
      }
      return staged.discard().compose(v -> staged.end().transform(end -> Future.succeededFuture(end.failed())));
    }));
    assertTrue(done, "an end after the discard must fail");
    try (var left = Files.list(data.resolve("tmp"))) {
      assertEquals(0, left.count());
    }
  }
}
