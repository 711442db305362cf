package io.avatarserver.storage;

import io.avatarserver.avatar.StagedObject;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
@DisplayName("Local directory storage: what publishing makes durable")
class LocalDirectoryStorageTest {

  @Test
  @DisplayName("Publishing into a new fan-out directory fsyncs the avatars directory that now names it, then the new directory")
  void newFanOutDirectoryIsMadeDurable(Vertx vertx, @TempDir Path data) throws Exception {
    Path avatars = data.resolve("avatars");
    List<Path> synced = new CopyOnWriteArrayList<>();
    LocalDirectoryStorage storage = new LocalDirectoryStorage(vertx, avatars, data.resolve("tmp"), dir -> {
      synced.add(dir);
      LocalDirectoryStorage.DirectorySync.FSYNC.sync(dir);
    });
    storage.init().await();

    String first = publish(storage, 0x1234);
    Path fanOut = avatars.resolve("34");
    assertTrue(Files.isRegularFile(avatars.resolve(first)));
    assertEquals(List.of(avatars, fanOut), synced, "the parent of a directory created by publish is fsynced");

    // The directory exists now: only the directory holding the new file is fsynced.
    synced.clear();
    String second = publish(storage, 0x34);
    assertTrue(Files.isRegularFile(avatars.resolve(second)));
    assertEquals(List.of(fanOut), synced);
  }

  private static String publish(LocalDirectoryStorage storage, long owner) {
    StagedObject staged = storage.stage(owner).await();
    staged.write(Buffer.buffer("bytes of " + owner)).await();
    staged.end().await();
    return staged.publish("png").await();
  }
}
