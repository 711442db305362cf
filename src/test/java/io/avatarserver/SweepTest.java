package io.avatarserver;

import io.avatarserver.config.ConfigLoader;
import io.avatarserver.config.ServerConfig;
import io.avatarserver.recovery.Sweeper;
import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Recovery sweep: old temporary files and old unreferenced avatar files go; nothing referenced, nothing young")
class SweepTest extends ServerTestBase {

  private static final long GRACE = 600;

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx, new JsonObject().put("storage", new JsonObject().put("sweepGraceSeconds", GRACE)
      .put("sweepIntervalSeconds", 0)));
  }

  private static Path file(Path path, int size, long ageSeconds) throws Exception {
    Files.createDirectories(path.getParent());
    Files.write(path, new byte[size]);
    Files.setLastModifiedTime(path, FileTime.from(Instant.now().minusSeconds(ageSeconds)));
    return path;
  }

  @Test
  void sweep() throws Exception {
    long user = server.createUser("swept");
    byte[] avatar = Bodies.fixture("images/avatar-256.jpg");
    assertEquals(201, server.put(user, "image/jpeg", avatar).statusCode());
    Path referenced = server.avatarFiles(user).get(0);
    // Referenced and old (as after a long time): kept.
    Files.setLastModifiedTime(referenced, FileTime.from(Instant.now().minusSeconds(10 * GRACE)));

    Path oldTmp = file(server.tmpDir().resolve("9-abandoned.part"), 1000, 2 * GRACE);
    Path youngTmp = file(server.tmpDir().resolve("9-in-flight.part"), 10, GRACE / 2);
    Path oldOrphan = file(server.avatarsDir().resolve("09/9-crashed-before-commit.png"), 2000, 2 * GRACE);
    Path oldOrphan2 = file(server.avatarsDir().resolve("ff/255-replaced-not-deleted.jpg"), 3000, 3 * GRACE);
    Path youngOrphan = file(server.avatarsDir().resolve("09/9-about-to-commit.png"), 20, GRACE / 2);
    Sweeper sweeper = server.server().sweeper();
    long stagedBefore = sweeper.stagedRemoved();
    long unreferencedBefore = sweeper.unreferencedRemoved();
    long bytesBefore = sweeper.bytesRemoved();
    try {
      Sweeper.Report report = sweeper.sweep().await();

      assertEquals(1, report.staged().objects());
      assertEquals(1000, report.staged().bytes());
      assertEquals(2, report.unreferenced().objects());
      assertEquals(5000, report.unreferenced().bytes());
      assertFalse(Files.exists(oldTmp));
      assertFalse(Files.exists(oldOrphan));
      assertFalse(Files.exists(oldOrphan2));
      assertTrue(Files.exists(youngTmp), "a young temporary file may be an upload in flight");
      assertTrue(Files.exists(youngOrphan), "a young stored file may be about to be committed");
      assertTrue(Files.exists(referenced), "a referenced file is never deleted");
      assertArrayEquals(avatar, server.get("/users/" + user + "/avatar").body());
      assertEquals(stagedBefore + 1, sweeper.stagedRemoved(), "counted");
      assertEquals(unreferencedBefore + 2, sweeper.unreferencedRemoved());
      assertEquals(bytesBefore + 6000, sweeper.bytesRemoved());
    } finally {
      Files.deleteIfExists(youngTmp);
      Files.deleteIfExists(youngOrphan);
    }
  }

  @Test
  @DisplayName("Many unreferenced files in many directories, beside many referenced ones: exactly the unreferenced go")
  void pages() throws Exception {
    long[] users = new long[30];
    for (int i = 0; i < users.length; i++) {
      users[i] = server.createUser("paged-" + i);
      assertEquals(201, server.put(users[i], "image/gif", Bodies.fixture("images/avatar-64.gif")).statusCode());
    }
    for (Path p : server.avatarFiles()) {
      Files.setLastModifiedTime(p, FileTime.from(Instant.now().minusSeconds(2 * GRACE)));
    }
    List<Path> referenced = server.avatarFiles();
    for (int i = 0; i < 1200; i++) {
      file(server.avatarsDir().resolve(String.format("%02x/%d-orphan-%d.gif", i % 7, i % 7, i)), 1, 2 * GRACE);
    }

    Sweeper.Report report = server.server().sweeper().sweep().await();

    assertEquals(1200, report.unreferenced().objects());
    assertEquals(referenced, server.avatarFiles());
  }

  @Test
  @DisplayName("AVATAR_SWEEP_GRACE_SECONDS and AVATAR_SWEEP_INTERVAL_SECONDS override the config")
  void environment() {
    ServerConfig config = ConfigLoader.load(Map.of("AVATAR_SWEEP_GRACE_SECONDS", "120", "AVATAR_SWEEP_INTERVAL_SECONDS", "30"));
    assertEquals(120, config.storage().sweepGraceSeconds());
    assertEquals(30, config.storage().sweepIntervalSeconds());
    ServerConfig defaults = ServerConfig.fromJson(new JsonObject());
    assertEquals(3600, defaults.storage().sweepGraceSeconds());
    assertEquals(900, defaults.storage().sweepIntervalSeconds());
  }
}
