package io.avatarserver.db;

import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.NewAvatar;
import io.avatarserver.avatar.SavedAvatar;
import io.avatarserver.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Saves of one user's avatar at once, on the repository itself (both dialects; on PostgreSQL the save
 * pipelines its lock and its write): each save is told the previous row exactly, that is the one the
 * save before it in commit order wrote. A stale previous (a row read before the lock was held) would
 * name a key already replaced, and the file of the key really replaced would never be deleted.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Saves of one user at once: versions 1..n, each told the row it replaced")
class ConcurrentSaveTest {

  private static final int SAVES = 48;

  @Test
  @DisplayName("48 saves in flight for one user: versions 1..48, and each previous is the row of the version before")
  void eachSaveIsToldTheRowItReplaced(Vertx vertx, @TempDir Path dataDir) {
    try (TestDatabase database = TestDatabase.create(vertx, dataDir)) {
      AvatarRepository repository = database.isPostgres()
        ? PgAvatarRepository.create(vertx, database.serverUrl(), 8)
        : JdbcAvatarRepository.create(vertx, database.serverUrl(), 8);
      try {
        repository.migrate().await();
        long user = repository.createUser("concurrent").await().id();
        for (int round = 0; round < 3; round++) {
          List<Future<SavedAvatar>> saves = new ArrayList<>();
          for (int i = 0; i < SAVES; i++) {
            saves.add(repository.saveAvatar(user, new NewAvatar("0" + round + "/" + user + "-" + i + ".png",
              "image/png", 100 + i, "%064x".formatted(i), 2, 2)));
          }
          Future.all(saves).await();
          Map<Long, SavedAvatar> byVersion = new HashMap<>();
          for (Future<SavedAvatar> save : saves) {
            SavedAvatar saved = save.result();
            assertNull(byVersion.put(saved.current().version(), saved), "a version given twice");
          }
          long first = round * SAVES + 1;
          for (long version = first; version < first + SAVES; version++) {
            SavedAvatar saved = byVersion.get(version);
            assertNotNull(saved, "no save got version " + version);
            if (version == 1) {
              assertNull(saved.previous(), "the first save replaced something");
              continue;
            }
            assertNotNull(saved.previous(), "version " + version + " replaced nothing");
            SavedAvatar before = byVersion.containsKey(version - 1) ? byVersion.get(version - 1) : null;
            long previousVersion = version - 1;
            assertEquals(previousVersion, saved.previous().version(), "version " + version + " replaced a stale row");
            if (before != null) {
              assertEquals(before.current().storageKey(), saved.previous().storageKey(),
                "version " + version + " was told another row than the one it replaced");
            }
          }
          assertEquals(first + SAVES - 1, repository.findAvatar(user).await().version());
        }
      } finally {
        repository.close().await();
      }
    }
  }
}
