package io.avatarserver.db;

import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.NewAvatar;
import io.avatarserver.support.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Migration 2 on a database written by schema version 1: avatar versions keep growing from where they were. */
@ExtendWith(VertxExtension.class)
@DisplayName("Avatar versions survive the upgrade and deletions: a version names one image for good")
class AvatarVersionMigrationTest {

  private static final String SHA = "0".repeat(64);

  @Test
  void versionsContinueAfterTheUpgrade(Vertx vertx, @TempDir Path dataDir) {
    try (TestDatabase database = TestDatabase.create(vertx, dataDir)) {
      database.execute(SqlQueries.CREATE_SCHEMA_VERSION);
      database.execute(SqlQueries.MIGRATIONS.get(0).toArray(String[]::new));
      database.execute(
        "INSERT INTO schema_version (version, applied_at) VALUES (1, CURRENT_TIMESTAMP)",
        "INSERT INTO users (id, name, created_at) VALUES (1, 'had three', CURRENT_TIMESTAMP)",
        "INSERT INTO users (id, name, created_at) VALUES (2, 'had none', CURRENT_TIMESTAMP)",
        "INSERT INTO avatars (user_id, storage_key, content_type, size_bytes, sha256, width, height, version, updated_at)"
          + " VALUES (1, '01/1-third.png', 'image/png', 10, '" + SHA + "', 1, 1, 3, CURRENT_TIMESTAMP)");
      AvatarRepository repository = database.isPostgres()
        ? PgAvatarRepository.create(vertx, database.serverUrl(), 2)
        : JdbcAvatarRepository.create(vertx, database.serverUrl(), 2);
      try {
        repository.migrate().await();
        // Deleted first: only the migrated users.avatar_version remembers version 3.
        assertEquals(3, repository.deleteAvatar(1).await().version());
        assertEquals(4, repository.saveAvatar(1, avatar("01/1-fourth.png")).await().current().version());
        assertEquals(5, repository.saveAvatar(1, avatar("01/1-fifth.png")).await().current().version());
        repository.deleteAvatar(1).await();
        assertEquals(6, repository.saveAvatar(1, avatar("01/1-sixth.png")).await().current().version());
        assertEquals(1, repository.saveAvatar(2, avatar("02/2-first.png")).await().current().version());
      } finally {
        repository.close().await();
      }
    }
  }

  private static NewAvatar avatar(String key) {
    return new NewAvatar(key, "image/png", 10, SHA, 1, 1);
  }
}
