package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real full disk: the storage directory is a 4 MiB tmpfs mounted for this class (which needs root,
 * as in CI; elsewhere the test fails and says so rather than pretend), filled with a ballast file.
 */
@DisplayName("Disk full: 507, the temporary file deleted, the previous avatar intact, serving goes on")
class DiskFullTest extends ServerTestBase {

  private static Path mount;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    mount = Files.createTempDirectory("avatar-tmpfs-");
    Process process = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount.toString())
      .redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      fail("this test mounts a small tmpfs and needs root (CI runs as root): mount said: " + output);
    }
    startServer(vertx, new JsonObject().put("storage", new JsonObject().put("dataDir", mount.toString())
      .put("minFreeBytes", 256 * 1024)));
  }

  @AfterAll
  static void unmount() throws Exception {
    stopServer();
    if (mount != null) {
      new ProcessBuilder("umount", mount.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
      Files.deleteIfExists(mount);
    }
  }

  /** Fills the filesystem until a write fails; returns the ballast file. */
  private static Path fill() throws IOException {
    Path ballast = mount.resolve("ballast");
    byte[] block = new byte[16 * 1024];
    try (OutputStream out = Files.newOutputStream(ballast)) {
      while (true) {
        out.write(block);
        out.flush();
      }
    } catch (IOException full) {
      assertTrue(String.valueOf(full.getMessage()).contains("No space left"), full.toString());
    }
    return ballast;
  }

  @Test
  void diskFull() throws Exception {
    long user = server.createUser("disk-full");
    byte[] first = Bodies.png(300 * 1024, 1);
    assertEquals(201, server.put(user, "image/png", first).statusCode());
    assertEquals(200, server.get("/health/ready").statusCode());

    Path ballast = fill();
    try {
      HttpResponse<byte[]> put = server.put(user, "image/png", Bodies.png(1024 * 1024, 2));
      assertRefused(put, 507, "insufficient-storage");
      assertEquals(List.of(), server.awaitNoStagedFiles(), "the temporary file is deleted");
      assertEquals(1, server.avatarFiles(user).size());
      assertArrayEquals(first, server.get("/users/" + user + "/avatar").body(), "the previous avatar is intact");
      assertEquals(1L, TestServer.json(server.get("/users/" + user + "/avatar/info")).getLong("version"));
      HttpResponse<byte[]> ready = server.get("/health/ready");
      assertEquals(503, ready.statusCode());
      assertTrue(new String(ready.body()).contains("below the minimum"), new String(ready.body()));
    } finally {
      Files.delete(ballast);
    }

    byte[] second = Bodies.png(1024 * 1024, 3);
    assertEquals(200, server.put(user, "image/png", second).statusCode());
    assertArrayEquals(second, server.get("/users/" + user + "/avatar").body());
    assertEquals(200, server.get("/health/ready").statusCode());
  }
}
