package io.avatarserver.db;

import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.NewAvatar;
import io.avatarserver.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Several instances started at once over one empty database (an orchestrator rolling out a deployment)
 * all migrate it: every start succeeds, each step is applied once, and the schema works.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Instances starting at once over one new database all migrate it, each step once")
class ConcurrentMigrationTest {

  private static final int INSTANCES = 6;

  @RepeatedTest(3)
  void instancesStartingTogetherAllSucceed(Vertx vertx, @TempDir Path dataDir) {
    try (TestDatabase database = TestDatabase.create(vertx, dataDir)) {
      List<AvatarRepository> repositories = new ArrayList<>();
      for (int i = 0; i < INSTANCES; i++) {
        repositories.add(database.isPostgres()
          ? PgAvatarRepository.create(vertx, database.serverUrl(), 2)
          : JdbcAvatarRepository.create(vertx, database.serverUrl(), 2));
      }
      try {
        List<Future<Void>> starts = new ArrayList<>();
        for (AvatarRepository repository : repositories) {
          starts.add(repository.migrate());
        }
        for (Future<Void> start : starts) {
          start.await();
        }
        assertEquals(SqlQueries.MIGRATIONS.size(), database.queryLong("SELECT COUNT(*) FROM schema_version"));
        assertEquals(SqlQueries.MIGRATIONS.size(), database.queryLong("SELECT MAX(version) FROM schema_version"));
        AvatarRepository any = repositories.get(INSTANCES - 1);
        long user = any.createUser("after the rollout").await().id();
        String sha = "0".repeat(64);
        assertEquals(1, any.saveAvatar(user, new NewAvatar("01/x.png", "image/png", 10, sha, 1, 1))
          .await().current().version());
      } finally {
        for (AvatarRepository repository : repositories) {
          repository.close().await();
        }
      }
    }
  }
}
